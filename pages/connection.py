"""Connection: the MailerLite account (API key or sandbox), its test, the default group, the sources and their
webhooks. Secrets are saved at once (encrypted) and never shown again (a generated one once, when it is made);
the page says only when each was saved. The saved API key is used only with the address it was saved for. The
rest is part of the configuration and saved as a new version with the Save button."""

from __future__ import annotations

import secrets

import streamlit as st
from pydantic import ValidationError

from pages import alert_settings, draft, ui, widgets
from sync_core.domain.config import ConnectionSettings
from sync_core.domain.events import DODO_PAYMENTS, MAILERLITE, PARTNERO, RECORDS, SOURCE_LABELS
from sync_core.domain.messages import plain_message
from sync_core.domain.public_address import unreachable_reason
from sync_core.engine.account_checks import create_groups, interactive_client
from sync_core.engine.mailerlite_webhook import WebhookSetupError, register_mailerlite_webhook, webhook_state
from sync_core.engine.rule_counts import last_received
from sync_core.engine.workspace import KeyAddressError
from sync_core.live.test_event import send_test_event, test_event_status
from sync_core.mailerlite import MailerLiteSettings
from sync_core.mailerlite.errors import NotFound
from sync_core.settings import get_settings

SOURCE_HELP = {
    DODO_PAYMENTS: "Payments and subscriptions. Every Dodo Payments event is about a customer.",
    PARTNERO: "Partners of your affiliate program and the customers they referred.",
    RECORDS: "CSV or JSON Lines files of partners or customers (e.g. a backfill), on the Run sync page.",
}


# --- callbacks (they run before the page is drawn, so they may clear the secret inputs) -----------------------------


def _save_api_key(ws) -> None:
    value = (st.session_state.get("cn_api_key") or "").strip()
    st.session_state["cn_api_key"] = ""  # the key stays in the session no longer than this
    if not value:
        widgets.flash("error", "Paste the API key into the field first.")
        return
    try:
        MailerLiteSettings(api_key=value)
    except ValidationError as exc:
        reasons = "; ".join(str(error.get("msg", "")).removeprefix("Value error, ") for error in exc.errors())
        widgets.flash("error", f"That API key cannot be used: {reasons}.")
        return
    try:
        ws.set_api_key(value, address=ws.base_url(draft.working_connection(ws)))  # the address being edited
    except Exception as exc:  # noqa: BLE001
        widgets.flash("error", f"The key could not be saved: {plain_message(exc)}.")
        return
    ui.refresh_account()
    widgets.flash("success", "The API key is saved, encrypted. Press **Test connection** to check it.")


def _remove_api_key(ws) -> None:
    ws.clear_api_key()
    ui.refresh_account()
    widgets.flash("info", "The stored API key was removed. Until you save another one, the sandbox is used.")


def _save_webhook_secret(ws, source: str) -> None:
    key = f"cn_secret_{source}"
    value = (st.session_state.get(key) or "").strip()
    st.session_state[key] = ""
    label = SOURCE_LABELS[source]
    if not value:
        widgets.flash("error", f"Paste the {label} signing secret into the field first.")
        return
    if source == DODO_PAYMENTS and not value.startswith("whsec_"):
        widgets.flash(
            "error",
            "A Dodo Payments signing secret starts with whsec_. Copy it from Dodo Payments "
            "(Developer → Webhooks → your endpoint → Signing secret).",
        )
        return
    if any(ord(ch) < 33 for ch in value):
        widgets.flash("error", "The secret contains spaces or line breaks; copy it again.")
        return
    ws.set_webhook_secret(source, value)
    widgets.flash("success", f"The {label} signing secret is saved, encrypted.")


def _generate_partnero_secret(ws) -> None:
    value = secrets.token_urlsafe(24)
    ws.set_webhook_secret(PARTNERO, value, generated=True)
    # Shown once, on the next run only, so that it can be copied into Partnero.
    st.session_state["cn_generated_secret"] = value


def _register_mailerlite_webhook(ws) -> None:
    url = ui.webhook_url(MAILERLITE)
    try:
        client = interactive_client(ws, draft.working_connection(ws))
    except KeyAddressError as exc:  # the key was saved for another address: said in plain words
        widgets.flash("error", f"The webhook could not be registered. {exc}")
        return
    except Exception:  # noqa: BLE001 - e.g. a stored key that cannot be read: said where the key is shown
        widgets.flash("error", "The webhook could not be registered: the account's settings cannot be used.")
        return
    try:
        registration = register_mailerlite_webhook(ws, client, url)
    except WebhookSetupError as exc:
        widgets.flash("error", f"The webhook could not be registered: {exc}.")
        return
    except Exception as exc:  # noqa: BLE001
        widgets.flash("error", f"The webhook could not be registered: {plain_message(exc)}.")
        return
    finally:
        client.close()
    st.session_state["cn_ml_webhook"] = registration.state
    widgets.flash("success", registration.summary())


def _send_test_event(ws, source: str) -> None:
    with st.spinner("Sending a test event…"):
        st.session_state[f"cn_test_event_{source}"] = send_test_event(ws, source, ui.own_server_url())


def test_event_result(ws, source: str) -> None:
    """The last test event of ``source``: arrived or not, what it does, and where it stands now."""
    result = st.session_state.get(f"cn_test_event_{source}")
    if result is None:
        return
    if result.arrived:
        st.success(result.headline, icon=":material/check_circle:")
        now = test_event_status(ws, result)
        details = [now] if now else []
        details += [line for line in result.details[1:]]
        for line in details:
            st.markdown(f"- {line}")
    else:
        st.error(result.headline, icon=":material/error:")
    with st.expander("Advanced: the test event", key=f"cn_test_event_advanced_{source}"):
        st.caption(f"Event id: {result.event_id or '—'} · answer {result.status_code or '—'}")
        st.code(result.answer or "(no answer)", language=None)


def public_address_notice(ws) -> None:
    """Whether the senders can reach the addresses shown: they send from the internet."""
    configured = get_settings().public_url
    base = ui.public_base_url()
    reason = unreachable_reason(base)
    if reason is None:
        if configured:
            st.caption(f":material/public: Senders reach the studio at {base} (SYNC_STUDIO_PUBLIC_URL).")
        return
    where = "SYNC_STUDIO_PUBLIC_URL is" if configured else "the address your browser uses is"
    sandbox = (
        " The sandbox does not need it: its events come from this computer."
        if ws.uses_sandbox(draft.working_connection(ws))
        else ""
    )
    st.warning(
        f"Dodo Payments, Partnero and MailerLite cannot reach these addresses: {where} {base}, and {reason}. "
        "Set SYNC_STUDIO_PUBLIC_URL to the studio's address on the internet (for example the address of a "
        "reverse proxy or a tunnel in front of it), then give the senders the addresses shown here." + sandbox,
        icon=":material/public_off:",
    )


def _forget_mailerlite_webhook_state() -> None:
    st.session_state.pop("cn_ml_webhook", None)


def _create_group(ws) -> None:
    name = (st.session_state.get("cn_new_group") or "").strip()
    if not name:
        widgets.flash("error", "Type the name of the group to create.")
        return
    try:
        connection = draft.working_connection(ws)
        with interactive_client(ws, connection) as client:
            result = create_groups(client, [name])
    except Exception as exc:  # noqa: BLE001
        widgets.flash("error", f"The group could not be created: {plain_message(exc)}.")
        return
    if result.problems:
        widgets.flash("error", "The group could not be created: " + "; ".join(result.problems))
        return
    ui.refresh_account()
    st.session_state["cn_new_group"] = ""
    st.session_state[draft.key("cn_default_group")] = name
    draft.document(ws).setdefault("connection", {})["default_group"] = name
    widgets.flash(
        "success", f"The group “{name}” exists in the account and is now the default group (save to keep it)."
    )


def secret_words(status, unset: str = "") -> str:  # noqa: ANN001 - a SecretStatus
    """Where a signing secret comes from and when it was saved, and what a rotation still accepts."""
    if status.source is None:
        return f"Signing secret: :orange[not set] {unset}".rstrip()
    words = f"Signing secret {status.words()}."
    if status.grace_words():
        words += f" {status.grace_words()[:1].upper()}{status.grace_words()[1:]}, so that the sender can be updated."
    return words


# --- sections ------------------------------------------------------------------------------------------------------


def account_section(ws, doc: dict) -> None:
    st.subheader("MailerLite account", divider="gray")
    connection = doc.setdefault("connection", {})
    key_status = ws.api_key_status()  # where the key comes from and when it was saved: nothing is decrypted
    try:
        has_key = bool(ws.api_key())
    except Exception as exc:  # noqa: BLE001 - a key that cannot be decrypted
        has_key = False
        st.error(f"The stored API key cannot be read: {plain_message(exc)}.", icon=":material/key_off:")

    draft.seed(draft.key("cn_sandbox"), bool(connection.get("sandbox", True)))
    connection["sandbox"] = st.toggle(
        "Use the sandbox",
        key=draft.key("cn_sandbox"),
        help="The built-in sandbox answers like a MailerLite account, so you can try everything safely. "
        "Turn it off to sync with your real MailerLite account.",
    )
    # The address is drawn after the key form (in the expander below), but the form must know it now: the value
    # the person is editing, as the draft holds it after this run's widgets.
    draft.seed(draft.key("cn_base_url"), connection.get("base_url") or ConnectionSettings().base_url)
    editing = (st.session_state.get(draft.key("cn_base_url")) or "").strip() or ConnectionSettings().base_url
    try:
        refusal = ws.key_refusal(draft.working_connection(ws).model_copy(update={"base_url": editing}))
    except Exception:  # noqa: BLE001 - an unreadable key is said above
        refusal = None
    left, right = st.columns([3, 2])
    with left:
        if key_status.source == "environment":
            st.info(
                f"The API key comes from the {key_status.variable} environment variable. Change it there.",
                icon=":material/key:",
            )
            if refusal:
                st.warning(refusal, icon=":material/key_off:")
        else:
            stored = key_status.source == "stored"
            if refusal:
                st.warning(refusal, icon=":material/key_off:")
            elif stored:
                st.markdown(f"API key {key_status.words()}.")
            else:
                st.markdown("No API key saved yet.")
            with st.form("cn_key_form", border=False, enter_to_submit=True):
                st.text_input(
                    "Enter the API key for this address" if refusal else "MailerLite API key",
                    type="password",
                    key="cn_api_key",
                    autocomplete="off",
                    placeholder="Paste a new key" if stored else "Paste your key",
                    help="In MailerLite: Integrations → API → Generate new token. It is stored "
                    "encrypted, for the API address below only, and never shown again.",
                )
                st.form_submit_button(
                    "Replace key" if stored else "Save key",
                    icon=":material/key:",
                    on_click=_save_api_key,
                    args=(ws,),
                )
            if stored:
                st.button(
                    "Remove the saved key",
                    key="cn_remove_key",
                    on_click=_remove_api_key,
                    args=(ws,),
                    type="tertiary",
                    icon=":material/delete:",
                )
    with right:
        if connection["sandbox"]:
            st.info(
                "The **sandbox** is switched on: nothing reaches MailerLite."
                + (" Turn it off and save to use your key." if has_key else ""),
                icon=":material/science:",
            )
        elif not has_key:
            st.warning(
                "The sandbox is off but no API key is saved, so the sandbox is still used. Save a key.",
                icon=":material/key_off:",
            )
        else:
            st.info("Syncs go to your MailerLite account with the saved key.", icon=":material/mail:")

    with st.expander("Advanced: API address", key="cn_advanced"):
        connection["base_url"] = st.text_input(
            "MailerLite API base URL",
            key=draft.key("cn_base_url"),
            help="Leave as it is unless MailerLite tells you otherwise. MAILERLITE_BASE_URL overrides it. The "
            "saved API key is sent only to the address it was saved for: another address needs its key again.",
        )

    st.markdown("#### Test connection")
    pressed = st.button("Test connection", icon=":material/network_check:", type="primary", key="cn_test")
    with st.spinner("Asking the account…"):
        report = ui.account_report(ws, refresh=pressed)
    settings = draft.working_connection(ws)
    account = "the sandbox" if ws.uses_sandbox(settings) else "MailerLite"
    if report.ok:
        st.success(f"{report.summary()} (tested: {account})", icon=":material/check_circle:")
        cols = st.columns(4)
        cols[0].metric("Subscribers", f"{report.subscriber_count or 0:,}")
        cols[1].metric("Groups", len(report.groups))
        cols[2].metric("Fields", len(report.fields))
        left_text = "—" if report.rate_limit_remaining is None else f"{report.rate_limit_remaining}/{report.rate_limit}"
        cols[3].metric("Requests left this minute", left_text)
        with st.expander("Groups and fields in the account", key="cn_account_details"):
            g, f = st.columns(2)
            g.dataframe(
                [{"Group": x.name, "Active subscribers": x.active_count} for x in report.groups],
                hide_index=True,
                width="stretch",
            )
            f.dataframe(
                [{"Field": x.name, "Key": x.key, "Type": x.type} for x in report.fields],
                hide_index=True,
                width="stretch",
            )
    else:
        st.error(f"{report.summary()} (tested: {account})", icon=":material/error:")
        if report.detail:
            with st.expander("Advanced: what was answered", key="cn_report_advanced"):
                st.code(report.detail, language=None)
    if pressed:
        st.caption("Checked just now.")
    else:
        st.caption("Checked in the last few minutes; press the button to check again.")


def default_group_section(ws, doc: dict) -> None:
    st.subheader("Default group", divider="gray")
    st.caption("Every new subscriber the studio creates joins this group.")
    connection = doc.setdefault("connection", {})
    report = ui.account_report(ws)
    names = [group.name for group in report.groups] if report.ok else []
    current = connection.get("default_group") or None
    options: list[str | None] = [None, *names]
    if current and current not in options:
        options.append(current)
    if st.session_state.get(draft.key("cn_default_group")) not in options:
        st.session_state.pop(draft.key("cn_default_group"), None)
    draft.seed(draft.key("cn_default_group"), current)

    def label(value: str | None) -> str:
        if value is None:
            return "— no default group —"
        return value if value in names or not report.ok else f"{value} (not in the account yet)"

    left, right = st.columns([2, 1], vertical_alignment="bottom")
    connection["default_group"] = left.selectbox(
        "Default group", options, key=draft.key("cn_default_group"), format_func=label, placeholder="No default group"
    )
    with right.popover("Create a group", icon=":material/group_add:", disabled=not report.ok):
        with st.form("cn_group_form", border=False, enter_to_submit=True):
            st.text_input("Name of the new group", key="cn_new_group", placeholder="e.g. Customers")
            st.form_submit_button("Create group", type="primary", on_click=_create_group, args=(ws,))
    if not report.ok:
        st.caption("The account's groups appear here once the connection works.")


def sources_section(doc: dict) -> None:
    st.subheader("Sources", divider="gray")
    sources = doc.setdefault("sources", {})
    for column, source in zip(st.columns(3), (DODO_PAYMENTS, PARTNERO, RECORDS)):
        settings = sources.setdefault(source, {"enabled": True, "sync_partners": True, "sync_customers": True})
        with column.container(border=True):
            st.markdown(f"**{SOURCE_LABELS[source]}**")
            st.caption(SOURCE_HELP[source])
            for name, text in (
                ("enabled", "Enabled"),
                ("sync_partners", "Sync partners"),
                ("sync_customers", "Sync customers"),
            ):
                key = draft.key(f"cn_{source}_{name}")
                draft.seed(key, bool(settings.get(name, True)))
                off = name != "enabled" and not settings.get("enabled", True)
                settings[name] = st.toggle(text, key=key, disabled=off)


def webhooks_section(ws) -> None:
    st.subheader("Webhooks", divider="gray")
    st.caption(
        "Give these addresses to Dodo Payments and Partnero so that they send events as they happen; MailerLite's "
        "own webhook is registered below in one click. "
        "Each sender signs its events with a secret; the studio refuses events whose signature is wrong."
    )
    public_address_notice(ws)
    try:
        received = last_received(ws)
    except Exception:  # noqa: BLE001 - the page still works without it
        received = {}
    generated = st.session_state.pop("cn_generated_secret", None)
    for column, source in zip(st.columns(2), (DODO_PAYMENTS, PARTNERO)):
        label = SOURCE_LABELS[source]
        with column.container(border=True):
            st.markdown(f"**{label}**")
            st.caption("Webhook URL")
            st.code(ui.webhook_url(source), language=None)
            status = ws.webhook_secret_status(source)
            st.markdown(secret_words(status))
            if source == DODO_PAYMENTS:
                st.caption(
                    "Dodo Payments gives you the secret (it starts with **whsec_**) when you add this URL "
                    "under Developer → Webhooks. Paste it here."
                )
            else:
                st.caption(
                    "Paste the signature value of your Partnero webhook, or generate one here and copy it "
                    "into Partnero."
                )
            with st.form(f"cn_secret_form_{source}", border=False, enter_to_submit=True):
                st.text_input(
                    f"{label} signing secret",
                    type="password",
                    key=f"cn_secret_{source}",
                    autocomplete="off",
                    placeholder="whsec_…" if source == DODO_PAYMENTS else "",
                )
                st.form_submit_button(
                    "Rotate secret" if status.source == "stored" else "Save secret",
                    icon=":material/lock:",
                    on_click=_save_webhook_secret,
                    args=(ws, source),
                )
            if source == PARTNERO:
                st.button(
                    "Generate a secret",
                    key="cn_generate_partnero",
                    icon=":material/casino:",
                    on_click=_generate_partnero_secret,
                    args=(ws,),
                )
                if generated:
                    st.success("New secret saved. Copy it into Partnero's webhook settings now: it is not shown again.")
                    st.code(generated, language=None)
            when = received.get(source)
            if when:
                st.caption(f"Last event received {widgets.when(when)}.")
            else:
                st.caption(f"No event has arrived from {label} yet. Send a test event to check the way in.")
            st.button(
                "Send a test event",
                key=f"cn_send_test_{source}",
                icon=":material/send:",
                on_click=_send_test_event,
                args=(ws, source),
                disabled=status.source is None,
                help=f"Signs a sample {label} event with the saved secret and sends it to this studio's own "
                "webhook address, to show that it arrives and what the sync does with it.",
            )
            test_event_result(ws, source)
    mailerlite_webhook_section(ws)


def _mailerlite_webhook_state(ws, url: str):  # noqa: ANN202 - a WebhookState, or the reason there is none
    """What the account says about the studio's webhook, asked once per visit (and after each registration)."""
    state = st.session_state.get("cn_ml_webhook")
    if state is not None and state.url == url:
        return state
    try:
        client = interactive_client(ws, draft.working_connection(ws))
    except Exception:  # noqa: BLE001
        return "the account's settings cannot be used (see above)"
    try:
        state = webhook_state(client, url)
    except NotFound:
        return "the account in use does not answer webhook requests, so no webhook can be registered with it"
    except Exception as exc:  # noqa: BLE001
        return f"MailerLite could not be asked about its webhooks: {plain_message(exc)}"
    finally:
        client.close()
    st.session_state["cn_ml_webhook"] = state
    return state


def mailerlite_webhook_section(ws) -> None:
    with st.container(border=True):
        st.markdown("**MailerLite** (unsubscribes, bounces, deletes and edits made in MailerLite)")
        st.caption(
            "MailerLite tells the studio when a subscriber unsubscribes, bounces, reports spam, comes back, is "
            "deleted or edited, so that nothing is sent to someone who left. One click registers the webhook "
            "in the account (or repairs it) and saves its signing secret, encrypted."
        )
        url = ui.webhook_url(MAILERLITE)
        st.caption("Webhook URL")
        st.code(url, language=None)
        if not get_settings().public_url and not ws.uses_sandbox(draft.working_connection(ws)):
            st.caption(
                ":orange[MailerLite must reach this address from the internet. If the address your browser uses "
                "is not public, set SYNC_STUDIO_PUBLIC_URL to the studio's public address before registering.]"
            )
        st.markdown(secret_words(ws.webhook_secret_status(MAILERLITE), unset="(registering saves it)"))
        left, right = st.columns([1, 1])
        left.button(
            "Register MailerLite webhook",
            key="cn_register_mailerlite",
            icon=":material/webhook:",
            type="primary",
            on_click=_register_mailerlite_webhook,
            args=(ws,),
        )
        right.button(
            "Check its state",
            key="cn_check_mailerlite",
            icon=":material/refresh:",
            on_click=_forget_mailerlite_webhook_state,
            type="tertiary",
        )
        state = _mailerlite_webhook_state(ws, url)
        if isinstance(state, str):
            st.info(f"The webhook's state is not known: {state}.", icon=":material/help:")
            return
        words = " ".join(state.sentences())
        if state.healthy:
            st.success(words, icon=":material/check_circle:")
        else:
            st.warning(words, icon=":material/warning:")
        with st.expander("Advanced: the webhook as MailerLite has it", key="cn_ml_advanced"):
            st.json(state.details())


def main() -> None:
    st.title("Connection")
    st.caption(
        "Connect the MailerLite account, choose what syncs, and set up the webhooks. Keys and secrets "
        "are stored encrypted and never shown again."
    )
    ws = ui.workspace()
    if ws is None:
        return
    widgets.show_flash()
    draft.config_problem(ws, "connection")
    doc = draft.document(ws)
    account_section(ws, doc)
    default_group_section(ws, doc)
    sources_section(doc)
    webhooks_section(ws)
    draft.save_bar(ws, "connection")
    alert_settings.draw(ws)  # saved on its own, apart from the configuration's save bar


ui.page_guard("pages/connection.py")
main()
