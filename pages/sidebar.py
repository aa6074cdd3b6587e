"""The sidebar every page shows: which MailerLite account is connected, its health, whether the live sync is
stuck, and the configuration version in force (with a word when the draft has unsaved changes).

Not a page (it is not listed in the navigation); dashboard.py draws it after the page, so that it shows what
the page just changed.
"""

from __future__ import annotations

import streamlit as st

from pages import draft
from pages.ui import connection_report, refresh_account
from pages.widgets import when
from sync_core.domain.messages import plain_message
from sync_core.engine.workspace import Workspace
from sync_core.live.queue_status import queue_status


def draw(ws: Workspace) -> None:
    """Which account is connected, its health, and the configuration version in force."""
    current = ws.active_config()
    config = current.config
    st.markdown("**MailerLite account**")
    try:
        status = ws.api_key_status()
        key_words, has_key = status.words(), status.source is not None
        sandbox = ws.uses_sandbox(config.connection)
    except Exception as exc:  # noqa: BLE001
        key_words, sandbox, has_key = "—", config.connection.sandbox, False
        st.error(f"The stored API key cannot be read: {plain_message(exc)}.")
    if sandbox:
        st.badge("Sandbox", icon=":material/science:", color="orange")
        why = "switched on" if config.connection.sandbox and has_key else "no MailerLite API key is set"
        st.caption(f"The built-in sandbox account answers like MailerLite ({why}); nothing reaches MailerLite.")
    else:
        st.badge("MailerLite", icon=":material/mail:", color="green")
        st.caption(f"API key {key_words}")
    report = connection_report(ws, config.connection)
    if report.ok:
        st.markdown(
            f":green[:material/check_circle: Connected] · {report.subscriber_count or 0:,} subscribers, "
            f"{len(report.groups)} groups, {len(report.fields)} fields"
        )
    else:
        st.markdown(f":red[:material/error: Not connected]  \n{report.problem}")
    st.button(
        "Check again", icon=":material/refresh:", key="ui_sidebar_refresh", on_click=refresh_account, type="tertiary"
    )
    live = queue_status(ws.database)
    if live.stalled:
        st.markdown(f":red[:material/error: Syncing is stuck]  \n{live.stall_reason()} The **Monitor** page says why.")
    st.divider()
    st.markdown("**Configuration in force**")
    if current.version_id is None:
        st.caption("Nothing saved yet: an empty configuration is in force.")
    elif current.problem:
        st.markdown(f":red[:material/error: Version {current.version_id} cannot be read]")
    else:
        latest = ws.configs.get(current.version_id)
        saved = f" · saved {when(latest.created_at)}" if latest else ""
        by = f" by {latest.author}" if latest and latest.author else ""
        name = f" — {config.name}" if config.name else ""
        st.caption(f"Version {current.version_id}{name}{saved}{by}")
    if draft.is_dirty():
        sections = draft.dirty_sections()
        st.markdown(
            ":orange-badge[:material/edit: Unsaved changes]" + (f"  \n{', '.join(sections)}" if sections else "")
        )
