"""The Connection page's "Alerts" section: where alerts go (email addresses and their mail server, a
Slack-compatible incoming webhook), the success-rate level, on/off, *Send a test alert*, and the recent alerts.

Not a page (it is not listed in the navigation): ``pages/connection.py`` calls ``draw(ws)``. Admins only; the
workspace refuses the others below the widgets too (``sync_core.engine.alerts``). The webhook address and the mail
server's address are secrets: saved encrypted, never shown back (only their host).
"""

from __future__ import annotations

import streamlit as st

from pages import widgets
from sync_core.domain.access import NotAllowed, Permission
from sync_core.domain.alerts import kind_label
from sync_core.engine.alerts import (
    AlertSettingsError,
    alert_setup,
    recent_alerts,
    save_alert_settings,
    send_test_alert,
)

_RESULTS = "al_test_results"


def _save(ws) -> None:  # noqa: ANN001 - a Workspace
    webhook = (st.session_state.get("al_webhook") or "").strip()
    smtp = (st.session_state.get("al_smtp") or "").strip()
    st.session_state["al_webhook"] = st.session_state["al_smtp"] = ""  # secrets stay in the session no longer
    try:
        save_alert_settings(
            ws,
            enabled=bool(st.session_state.get("al_enabled", True)),
            threshold=float(st.session_state.get("al_threshold", 90)) / 100,
            emails=st.session_state.get("al_emails") or "",
            webhook_url=webhook or None,
            smtp_url=smtp or None,
        )
    except (AlertSettingsError, NotAllowed) as exc:
        widgets.flash("error", f"The alert settings were not saved: {exc}")
        return
    widgets.flash("success", "The alert settings are saved. Press **Send a test alert** to check them.")


def _remove(ws, which: str) -> None:  # noqa: ANN001
    setup = alert_setup(ws)
    try:
        save_alert_settings(
            ws,
            enabled=setup.enabled,
            threshold=setup.threshold,
            emails=", ".join(setup.emails) if setup.emails_source == "stored" else "",
            **{which: ""},
        )
    except NotAllowed as exc:
        widgets.flash("error", str(exc))
        return
    widgets.flash("info", "Removed.")


def _test(ws) -> None:  # noqa: ANN001
    try:
        deliveries = send_test_alert(ws)
    except NotAllowed as exc:
        widgets.flash("error", str(exc))
        return
    st.session_state[_RESULTS] = deliveries


def draw(ws) -> None:  # noqa: ANN001 - a Workspace
    st.subheader("Alerts", divider="gray")
    if not ws.actor.may(Permission.MANAGE_SECRETS):
        st.info("Only an admin can see and change where alerts go.")
        return
    setup = alert_setup(ws)
    st.caption(
        "The studio tells you when contacts fail to sync, when the sync worker stops or gets stuck, and when "
        "the share of contacts that sync well falls under your level: by email and to a Slack (or Mattermost, "
        "Teams…) incoming webhook. Each problem is told at most once an hour, with a link to the Monitor."
    )
    st.session_state.setdefault("al_enabled", setup.enabled)
    st.session_state.setdefault("al_threshold", int(round(setup.threshold * 100)))
    if setup.emails_source != "environment":
        st.session_state.setdefault("al_emails", ", ".join(setup.emails))
    st.toggle("Send alerts", key="al_enabled")
    if setup.emails_source == "environment":
        st.markdown(f"Email to: {', '.join(setup.emails)} (from SYNC_STUDIO_ALERT_EMAIL)")
    else:
        st.text_input("Email alerts to", key="al_emails", placeholder="you@example.com, team@example.com")
    st.markdown(f"Mail server: {setup.mail_server}")
    st.text_input(
        "Mail server (SMTP address)",
        key="al_smtp",
        type="password",
        placeholder="smtp://user:password@mail.example.com:587?starttls=1",
        help="smtp:// (add ?starttls=1 for a secure connection) or smtps://; ?from=address sets the sender.",
    )
    st.markdown(f"Slack-compatible webhook: {setup.webhook}")
    st.text_input(
        "Slack-compatible webhook address",
        key="al_webhook",
        type="password",
        placeholder="https://hooks.slack.com/services/…",
    )
    st.slider(
        "Alert when under this share of contacts sync well (last 10 runs)",
        min_value=0,
        max_value=100,
        step=1,
        format="%d%%",
        key="al_threshold",
    )
    save, test, remove_mail, remove_hook = st.columns(4)
    save.button("Save alert settings", key="al_save", on_click=_save, args=(ws,), type="primary")
    test.button("Send a test alert", key="al_test", on_click=_test, args=(ws,), disabled=not setup.ready)
    if setup.mail_server_set and "from SYNC_STUDIO" not in setup.mail_server:
        remove_mail.button("Remove the mail server", key="al_remove_smtp", on_click=_remove, args=(ws, "smtp_url"))
    if setup.webhook_set and "from SYNC_STUDIO" not in setup.webhook:
        remove_hook.button("Remove the webhook", key="al_remove_webhook", on_click=_remove, args=(ws, "webhook_url"))
    if not setup.ready:
        st.caption("Alerts have nowhere to go yet: add email addresses and a mail server, or a webhook.")
    for delivery in st.session_state.pop(_RESULTS, []):
        (st.success if delivery.delivered else st.error)(delivery.words())
    _recent(ws)


def _recent(ws) -> None:  # noqa: ANN001
    alerts = recent_alerts(ws, limit=10)
    if not alerts:
        st.caption("No alert sent yet.")
        return
    st.markdown("**Recent alerts**")
    rows = []
    for alert in alerts:
        delivered = [d for d in alert.deliveries if d.get("delivered")]
        missed = [d for d in alert.deliveries if not d.get("delivered")]
        outcome = f"delivered to {len(delivered)} of {len(alert.deliveries)}"
        if missed:
            outcome += ": " + "; ".join(str(d.get("reason", "")) for d in missed)
        rows.append(
            {
                "When": widgets.when(alert.at),
                "What": kind_label(alert.kind),
                "How many": alert.count or None,
                "Sent": outcome,
            }
        )
    st.dataframe(rows, hide_index=True, width="stretch")
