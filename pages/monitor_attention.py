"""Monitor's *Needs attention*: the rows and events that cannot be synced as they are (an invalid email, a value
that does not fit its field, a row that cannot be read), with where each one is and how to fix it."""

from __future__ import annotations

import pandas as pd
import streamlit as st

from pages import widgets
from sync_core.domain.fixes import how_to_fix, where_from
from sync_core.domain.outcome_words import event_status_label
from sync_core.engine.workspace import EventStatus, Workspace

PAGE = 50


def show(ws: Workspace) -> bool:
    """Draw the list (a page at a time); True when there is something in it."""
    stack = st.session_state.setdefault("attention_pages", [None])
    rows, next_before = ws.monitor.needs_attention(before_id=stack[-1], limit=PAGE)
    if not rows and len(stack) == 1:
        return False
    st.markdown("**Rows that cannot be synced as they are**: nothing was sent for them.")
    st.dataframe(
        pd.DataFrame(
            [
                {
                    "Where": where_from(row.origin),
                    "Email": row.email or "",
                    "Where it stands": event_status_label(row.status),
                    "Problem": row.reason or "no reason recorded",
                    "How to fix it": how_to_fix(row.status, row.reason, row.origin),
                    "Received (UTC)": row.received_at.strftime("%Y-%m-%d %H:%M:%S"),
                }
                for row in rows
            ],
            columns=["Where", "Email", "Where it stands", "Problem", "How to fix it", "Received (UTC)"],
        ),
        hide_index=True,
        width="stretch",
    )
    left, middle, right = st.columns([1, 3, 1])
    if left.button("Newer", key="attention_newer", disabled=len(stack) == 1):
        stack.pop()
        st.rerun()
    middle.caption(f"Page {len(stack)}")
    if right.button("Older", key="attention_older", disabled=next_before is None):
        stack.append(next_before)
        st.rerun()
    if st.button(
        "Check the invalid rows again",
        key="attention_requeue",
        icon=":material/replay:",
        help="After a change on Field mapping: the invalid rows go back in the queue and the next sync reads "
        "them with the current configuration.",
    ):
        count = ws.events.requeue(statuses=(EventStatus.INVALID,))
        widgets.flash("success", f"{count:,} row(s) are back in the queue: start a sync on the Run sync page.")
        st.session_state["attention_pages"] = [None]
        st.rerun()
    return True
