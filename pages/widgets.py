"""Small things every page draws the same way: messages (now, or once on the next run), lists of problems,
unexpected failures in plain words, and moments in time.

Not a page (it is not listed in the navigation).
"""

from __future__ import annotations

import logging
from collections.abc import Iterable
from datetime import UTC, datetime

import streamlit as st

from sync_core.domain.messages import plain_message

log = logging.getLogger("sync_studio.dashboard")

_FLASH = "ui_flash"


def flash(level: str, message: str) -> None:
    """A message shown once, on the next run (for callbacks, which run before the page is drawn)."""
    st.session_state.setdefault(_FLASH, []).append((level, message))


def show_flash() -> None:
    for level, message in st.session_state.pop(_FLASH, []):
        {"success": st.success, "error": st.error, "warning": st.warning}.get(level, st.info)(message)


def show_problems(title: str, problems: Iterable[str], *, level: str = "error") -> None:
    items = [p for p in problems if p]
    text = title + ("\n" + "\n".join(f"- {p}" for p in items) if items else "")
    (st.error if level == "error" else st.warning)(text)


def plain_error(action: str, exc: BaseException) -> None:
    """An unexpected failure of ``action`` in plain words (the details go to the log, never to the page)."""
    log.exception("dashboard action failed: %s", action)
    st.error(f"Could not {action}: {plain_message(exc)}.")


def when(moment: datetime | None) -> str:
    if moment is None:
        return "—"
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    seconds = (datetime.now(UTC) - moment).total_seconds()
    if seconds < 60:
        ago = "just now"
    elif seconds < 3600:
        ago = f"{int(seconds // 60)} min ago"
    elif seconds < 86400:
        ago = f"{int(seconds // 3600)} h ago"
    else:
        ago = f"{int(seconds // 86400)} days ago"
    return f"{moment:%Y-%m-%d %H:%M} UTC ({ago})"
