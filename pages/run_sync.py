"""Run sync: bring in a file or take the waiting events, then sync them (or a dry run), with live progress."""

from __future__ import annotations

import streamlit as st

from pages import dry_run_changes, ui, widgets
from sync_core.engine.accounts import account_in_use
from sync_core.engine.file_import import import_file
from sync_core.engine.run import RunProgress, SyncEngine, SyncError
from sync_core.engine.workspace import EventStatus, ItemOutcome, RunStatus

ui.page_guard("pages/run_sync.py")
st.title("Run sync")
ws = ui.workspace()
if ws is None:
    st.stop()
active = ws.active_config()
if active.problem:
    widgets.show_problems(
        "The saved configuration cannot be used; open Field mapping to load a preset or fix it.", [active.problem]
    )
    st.stop()
if not active.config.triggers:
    st.warning(
        "No trigger is set up yet, so every event would be ignored. Start from a preset on the **Field mapping** page.",
        icon=":material/warning:",
    )
widgets.show_flash()
events = ws.events

st.subheader("1. Bring in data")
st.caption(
    "A CSV or JSON Lines file of partners or customers (a backfill), or webhook events saved as JSON or "
    "JSON Lines. Rows are stored first; nothing is sent until you sync."
)
uploaded = st.file_uploader(
    "File", type=["csv", "jsonl", "ndjson", "json"], key="run_upload", label_visibility="collapsed"
)
kinds = {"Told by the columns": None, "Partners": "partner", "Customers": "customer"}
kind = st.radio("The records are", list(kinds), horizontal=True, key="run_kind")
if st.button("Import the file", disabled=uploaded is None, icon=":material/upload:"):
    try:
        in_use = account_in_use(ws)
        summary = import_file(
            events,
            uploaded,
            name=uploaded.name,
            kind=kinds[kind],
            account=in_use.key if in_use else None,
            config=active.config,
        )
    except ValueError as exc:
        st.error(str(exc))
    else:
        message = summary.describe().splitlines()[0] + "."
        if summary.with_problems:
            widgets.show_problems(message + " What to fix:", summary.problems, level="warning")
        else:
            st.success(message)

counts = events.counts()
waiting, failed = counts.get(EventStatus.PENDING, 0), counts.get(EventStatus.FAILED, 0)
left, right = st.columns(2)
left.metric("Events waiting to sync", f"{waiting:,}")
right.metric("Failed, waiting for a retry", f"{failed:,}", help="Retry them from the Monitor page.")

st.subheader("2. Sync")
account = "the **sandbox** account" if ws.uses_sandbox(active.config) else "your **MailerLite** account"
st.caption(
    f"Sends to {account}, within MailerLite's limit of 120 requests per minute, up to 50 changes per "
    "request. Contacts whose data did not change cost nothing."
)
dry_run = st.toggle("Dry run: record what would be sent, send nothing", value=True, key="run_dry")
careful = st.checkbox("First contacts only (a careful start)", key="run_careful")
limit = st.number_input("How many contacts", min_value=1, value=10, step=10, key="run_limit", disabled=not careful)
label = "Start the dry run" if dry_run else "Start the sync"
if st.button(label, type="primary", disabled=waiting == 0, icon=":material/play_arrow:"):
    bar = st.progress(0.0, text="Starting…")
    live = st.empty()

    def show(progress: RunProgress) -> None:
        share = min(progress.events / max(progress.pending_at_start, 1), 1.0)
        bar.progress(
            share,
            text=f"{progress.contacts:,} contacts recorded, {progress.events:,} of "
            f"{progress.pending_at_start:,} events, {progress.requests:,} requests",
        )
        live.write(" · ".join(f"{name} {number:,}" for name, number in sorted(progress.counts.items())))

    try:
        run = SyncEngine(ws).run(
            dry_run=dry_run, limit=int(limit) if careful else None, trigger="dashboard", progress=show
        )
    except SyncError as exc:
        st.error(str(exc))
    except Exception as exc:  # noqa: BLE001 - a page never shows a traceback
        widgets.plain_error("run the sync", exc)
    else:
        bar.progress(1.0, text="Done")
        if not run.dry_run:
            ui.refresh_account()  # the sidebar's subscriber and group counts changed
        st.session_state["last_run_id"] = run.id
        st.session_state["monitor_run"] = run.id

last = st.session_state.get("last_run_id")
if last is not None:
    run = ws.runs.get(last)
    if run is not None:
        kind_of_run = "Dry run" if run.dry_run else "Run"
        outcome = {RunStatus.FINISHED: st.success, RunStatus.FAILED: st.error}.get(run.status, st.info)
        outcome(
            f"{kind_of_run} {run.id} {run.status} in {run.duration_seconds:.1f} s with "
            f"{run.requests:,} request(s) to MailerLite."
        )
        if run.error:
            st.error(run.error)
        if run.notes:
            st.info(run.notes)
        numbers = {str(name): getattr(run, name) for name in ItemOutcome if name != ItemOutcome.REJECTED}
        columns = st.columns(len(numbers))
        for column, (name, number) in zip(columns, numbers.items()):
            column.metric(name.capitalize(), f"{number:,}")
        if run.dry_run and run.id is not None:
            dry_run_changes.show(ws, run.id)
        st.page_link("pages/monitor.py", label=f"See run {run.id} in Monitor", icon=":material/monitoring:")
