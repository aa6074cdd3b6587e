"""A finished dry run's changes, contact by contact: a table with filters and a CSV download (Run sync's result
area). The changes are read from what the run recorded (``sync_core.engine.run_changes``)."""

from __future__ import annotations

import itertools

import pandas as pd
import streamlit as st

from sync_core.domain.changes import (
    OUTCOME_WORDS,
    TABLE_COLUMNS,
    changes_csv,
    count_outcomes,
    matches,
    table_rows,
)
from sync_core.engine.run_changes import iter_run_changes
from sync_core.engine.workspace import Workspace

#: The most contacts the page reads for the table (the CLI's ``sync --dry-run --json`` lists any number).
MOST = 20_000
#: The most table rows drawn at once (the download has every filtered one).
SHOWN = 2_000


def show(ws: Workspace, run_id: int) -> None:
    """What the dry run ``run_id`` would change, with filters by outcome and on the email."""
    changes = list(itertools.islice(iter_run_changes(ws.runs, run_id), MOST + 1))
    st.subheader("What would change")
    if not changes:
        st.caption("This dry run had no contact to plan: nothing would be sent.")
        return
    if len(changes) > MOST:
        changes = changes[:MOST]
        st.caption(
            f"The first {MOST:,} contacts are shown; `python -m sync_core sync --dry-run --json` lists them all."
        )
    counts = count_outcomes(changes)
    st.caption(" · ".join(f"{OUTCOME_WORDS.get(name, name)}: {number:,}" for name, number in counts.items()))
    left, right = st.columns([2, 3])
    chosen = left.multiselect(
        "What would happen",
        list(counts),
        format_func=lambda name: OUTCOME_WORDS.get(name, name),
        key=f"dry_changes_outcomes_{run_id}",
        placeholder="Every outcome",
    )
    search = right.text_input("Email contains", key=f"dry_changes_email_{run_id}", placeholder="ada@ or example.com")
    picked = [change for change in changes if matches(change, chosen, search)]
    if not picked:
        st.info("No contact matches these filters.", icon=":material/filter_alt_off:")
        return
    rows = table_rows(picked)
    st.dataframe(
        pd.DataFrame(rows[:SHOWN], columns=list(TABLE_COLUMNS)),
        hide_index=True,
        width="stretch",
    )
    note = f"{len(picked):,} contact{'' if len(picked) == 1 else 's'}, one row per field that would change"
    if len(rows) > SHOWN:
        note += f"; the first {SHOWN:,} rows are shown, the download has all {len(rows):,}"
    st.caption(note + ". *Before* is what the studio knows MailerLite holds (empty: no value known).")
    st.download_button(
        "Download these changes as CSV",
        data=changes_csv(picked),
        file_name=f"dry-run-{run_id}-changes.csv",
        mime="text/csv",
        icon=":material/download:",
        key=f"dry_changes_download_{run_id}",
    )
