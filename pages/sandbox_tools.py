"""Sandbox tools: do to a sandbox subscriber what a MailerLite user would (unsubscribe, bounce, report spam, sign
up again, delete, change groups, edit a field), and see the webhooks registered in the sandbox with their last
delivery, so that the loop back into the studio can be tried with no MailerLite account.

The actions are the sandbox's own (``SandboxAccount.unsubscribe`` and its siblings, the same the ``sandbox`` CLI
commands call); this page only finds the subscriber and draws buttons.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

import streamlit as st

from pages import ui, widgets
from sync_core.domain.messages import plain_message
from sync_core.sandbox import NO_SUBSCRIBER, SandboxAccount, SandboxActionError

log = logging.getLogger("sync_studio.dashboard")

STATUS_WORDS = {
    "active": "Active",
    "unsubscribed": "Unsubscribed",
    "bounced": "Bounced",
    "junk": "Junk (reported spam)",
    "unconfirmed": "Unconfirmed",
}
_EMAIL = "sbt_email"


def _act(action: Callable[[], str]) -> None:
    """A button's callback: do it, and say what happened on the next run."""
    try:
        widgets.flash("success", action())
    except SandboxActionError as refused:
        widgets.flash("error", str(refused))
    except Exception as exc:  # noqa: BLE001 - said in plain words, details in the log
        log.exception("a sandbox action failed")
        widgets.flash("error", f"The sandbox could not do that: {plain_message(exc)}. Try again.")


def _reactivate(account: SandboxAccount, email: str) -> str:
    if not account.resubscribe(email):
        raise SandboxActionError(NO_SUBSCRIBER)
    return f"{email} is active again."


def _find() -> None:
    st.session_state[_EMAIL] = (st.session_state.get("sbt_email_input") or "").strip().lower()


def subscriber_section(account: SandboxAccount) -> None:
    st.subheader("A subscriber", divider="gray")
    left, right = st.columns([4, 1], vertical_alignment="bottom")
    left.text_input("Subscriber's email", key="sbt_email_input", placeholder="someone@example.com")
    right.button("Find", on_click=_find, use_container_width=True)
    email = st.session_state.get(_EMAIL)
    if not email:
        st.caption("Find a subscriber of the sandbox by their email to act on them.")
        return
    subscriber = account.find(email)
    if subscriber is None:
        st.warning(NO_SUBSCRIBER, icon=":material/person_off:")
        return
    email = subscriber["email"]
    groups = [g["name"] for g in subscriber.get("groups", [])]
    values = {key: value for key, value in subscriber["fields"].items() if value not in (None, "")}
    st.markdown(
        f"**{email}** · {STATUS_WORDS.get(subscriber['status'], subscriber['status'])}  \n"
        f"Groups: {', '.join(groups) if groups else 'none'}  \n"
        f"Fields: {', '.join(f'{key} = {value}' for key, value in values.items()) if values else 'none set'}"
    )

    st.markdown("**As the subscriber or MailerLite would**")
    buttons = st.columns(5)
    actions: list[tuple[str, Callable[[], str]]] = [
        ("Unsubscribe", lambda: account.unsubscribe(email)),
        ("Bounce", lambda: account.bounce(email)),
        ("Mark as spam", lambda: account.report_spam(email)),
        ("Reactivate", lambda: _reactivate(account, email)),
        ("Delete", lambda: account.delete_subscriber(email)),
    ]
    for column, (label, action) in zip(buttons, actions, strict=True):
        column.button(label, on_click=_act, args=(action,), use_container_width=True)

    names = [g["name"] for g in account.groups()]
    if names:
        group_column, add, remove = st.columns([3, 1, 1], vertical_alignment="bottom")
        group = group_column.selectbox("Group", names, key="sbt_group")
        chosen = lambda: st.session_state.get("sbt_group") or group  # noqa: E731 - read when clicked
        add.button("Add to group", on_click=_act, args=(lambda: account.add_to_group(email, chosen()),))
        remove.button("Remove from group", on_click=_act, args=(lambda: account.remove_from_group(email, chosen()),))
    else:
        st.caption("The sandbox has no groups yet.")

    field_column, value_column, save = st.columns([2, 2, 1], vertical_alignment="bottom")
    field_column.selectbox("Field", [f["name"] for f in account.fields()], key="sbt_field")
    value_column.text_input("New value", key="sbt_value", help="Leave it empty to clear the field.")

    def save_value() -> str:  # the widgets' values when the button is clicked
        return account.set_field(email, st.session_state.get("sbt_field") or "", st.session_state.get("sbt_value"))

    save.button("Save the value", on_click=_act, args=(save_value,))

    with st.expander("Advanced: the subscriber as the API returns them"):
        st.code(json.dumps(subscriber, indent=2), language="json")


def _last_delivery(webhook: dict[str, Any]) -> str:
    if webhook["last_fired_at"] is None:
        return "Nothing sent yet."
    moment = datetime.strptime(webhook["last_fired_at"], "%Y-%m-%d %H:%M:%S").replace(tzinfo=UTC)
    answer = "no answer" if webhook["response_code"] is None else f"answered {webhook['response_code']}"
    return f"Last delivery {widgets.when(moment)}: {answer}."


def webhooks_section(account: SandboxAccount) -> None:
    st.subheader("Webhooks registered in the sandbox", divider="gray")
    webhooks = account.webhooks()
    if not webhooks:
        st.caption(
            "No webhook is registered yet. *Register MailerLite webhook* on the Connection page registers the "
            "studio's own, as it would with MailerLite; the sandbox then tells it when its subscribers change."
        )
        return
    for webhook in webhooks:
        state = "on" if webhook["enabled"] else "off"
        kind = "events batched" if webhook["batchable"] else "one event per delivery"
        st.markdown(
            f"**{webhook['name'] or 'Unnamed webhook'}** ({state}, {kind}) → `{webhook['url']}`  \n"
            f"{_last_delivery(webhook)}"
        )
        st.caption("Events: " + ", ".join(webhook["events"]))
    waiting = account.pending_deliveries()
    if waiting:
        st.info(f"{waiting} delivery(ies) waiting to be sent or tried again.", icon=":material/schedule_send:")


def main() -> None:
    st.title("Sandbox tools")
    st.caption(
        "Act on the built-in sandbox as a MailerLite user would, and see what its webhooks were sent. The same "
        "actions are on the command line: python -m sync_core sandbox unsubscribe EMAIL (and bounce, spam, "
        "reactivate, delete, add-to-group, remove-from-group, set-field)."
    )
    ws = ui.workspace()
    if ws is None:
        return
    if not ws.uses_sandbox():
        st.info(
            "These tools work only while the sandbox is the account in use. The studio now talks to your "
            "MailerLite account; switch the sandbox on in Connection to try things here.",
            icon=":material/science:",
        )
        return
    account = ws.sandbox()
    widgets.show_flash()
    subscriber_section(account)
    # Deliveries are sent after the action that caused them: while any is owed, the list draws itself again.
    st.fragment(run_every=2.0 if account.pending_deliveries() else None)(webhooks_section)(account)


ui.page_guard("pages/sandbox_tools.py")
main()
