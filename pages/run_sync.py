"""Run sync: bring in a file or take the waiting events, then sync them (or a dry run), with live progress.

The page never runs the sync itself: it records a request, which the sync worker carries out (or, when no worker
runs, a background thread of the dashboard's server), and it shows the progress from the database, so a reload
or another tab sees the same run; the run can be cancelled between two batches."""

from __future__ import annotations

import streamlit as st
from streamlit.runtime.uploaded_file_manager import UploadedFile

from pages import dry_run_changes, ui, widgets
from sync_core.domain.config import SyncConfig
from sync_core.domain.messages import as_sentence, plain_message
from sync_core.engine import run_requests
from sync_core.engine.accounts import account_in_use
from sync_core.engine.file_import import import_file, preview_file
from sync_core.engine.workspace import EventStatus, ItemOutcome, RunStatus, Workspace
from sync_core.live.queue_status import worker_states


def _show_preview(uploaded: UploadedFile, kind: str | None, config: SyncConfig) -> str | None:
    """What importing the chosen file would do, before anything is stored: its columns and what each becomes in
    MailerLite, its first rows, the email column (a person can choose it) and the rows it would reject, which
    can be downloaded. Returns the email column chosen (None: the one the studio detects)."""
    st.markdown("**Before importing: what the file holds**")
    try:
        uploaded.seek(0)
        preview = preview_file(uploaded, name=uploaded.name, kind=kind, config=config)
        chosen: str | None = None
        if preview.columns and preview.file_format == "csv":
            options = preview.columns
            default = preview.email_column or (preview.email_candidates or [None])[0]
            chosen = st.selectbox(
                "The column that holds the email addresses",
                options,
                index=options.index(default) if default in options else None,
                placeholder="Choose the email column",
                key=f"run_email_column_{uploaded.name}",
            )
            if chosen is not None and chosen != preview.email_column:
                uploaded.seek(0)
                preview = preview_file(uploaded, name=uploaded.name, kind=kind, config=config, email_column=chosen)
    except ValueError as exc:
        st.error(as_sentence(plain_message(exc)))
        return None
    finally:
        uploaded.seek(0)
    if preview.problem:
        st.warning(f"This file cannot be imported yet: {preview.problem}.", icon=":material/warning:")
    else:
        st.info(preview.describe().splitlines()[0] + ".", icon=":material/preview:")
    if preview.mapping:
        st.dataframe(
            [
                {"Column": use.column, "Sent to MailerLite as": use.in_words(), "For example": ", ".join(use.examples)}
                for use in preview.mapping
            ],
            hide_index=True,
            width="stretch",
        )
    if preview.rows:
        st.caption(f"The first {len(preview.rows)} row(s) of the file:")
        st.dataframe(preview.rows, hide_index=True, width="stretch")
    if preview.rejected:
        st.markdown(f"**Rows that would be rejected ({preview.rejected_count:,})**")
        st.dataframe(
            [{"Row": row.row, "Why": row.reason} for row in preview.rejected],
            hide_index=True,
            width="stretch",
        )
        st.download_button(
            "Download the rejected rows (CSV)",
            preview.rejected_csv(),
            file_name=f"rejected-{uploaded.name.rsplit('.', 1)[0]}.csv",
            mime="text/csv",
            icon=":material/download:",
            key="run_rejected_download",
        )
    return chosen


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
    "JSON Lines. Rows are stored first and wait for you: nothing is sent until you start a dry run or a sync."
)
uploaded = st.file_uploader(
    "File", type=["csv", "jsonl", "ndjson", "json"], key="run_upload", label_visibility="collapsed"
)
kinds = {"Told by the columns": None, "Partners": "partner", "Customers": "customer"}
kind = st.radio("The records are", list(kinds), horizontal=True, key="run_kind")
email_column: str | None = None
if uploaded is not None:
    email_column = _show_preview(uploaded, kinds[kind], active.config)
if st.button("Import the file", disabled=uploaded is None, icon=":material/upload:"):
    try:
        in_use = account_in_use(ws)
        uploaded.seek(0)
        summary = import_file(
            events,
            uploaded,
            name=uploaded.name,
            kind=kinds[kind],
            account=in_use.key if in_use else None,
            config=active.config,
            email_column=email_column,
        )
    except ValueError as exc:
        st.error(as_sentence(plain_message(exc)))
    else:
        message = summary.describe().splitlines()[0] + "."
        if summary.with_problems:
            widgets.show_problems(message + " What to fix:", summary.problems, level="warning")
        else:
            st.success(message + " They wait for you to start a dry run or a sync below.")

counts = events.counts()
staged = counts.get(EventStatus.STAGED, 0)
waiting, failed = counts.get(EventStatus.PENDING, 0), counts.get(EventStatus.FAILED, 0)
left, middle, right = st.columns(3)
left.metric("Imported rows waiting for you", f"{staged:,}", help="They are sent only when you start a sync.")
middle.metric("Events waiting to sync", f"{waiting:,}", help="Webhook events; the sync worker takes them at once.")
right.metric("Failed, waiting for a retry", f"{failed:,}", help="Retry them from the Monitor page.")
if staged:
    st.info(
        f"{staged:,} imported row{'' if staged == 1 else 's'} wait{'s' if staged == 1 else ''} for you to start a dry run or a sync.",
        icon=":material/hourglass_top:",
    )

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

# The request shown: one still in progress (this tab's, a reload's or another tab's: one run at a time), else
# this session's newest, to show its result.
request_id = run_requests.unfinished(ws) or st.session_state.get("run_request_id")
if request_id is not None:
    st.session_state["run_request_id"] = request_id  # kept once it ends, to show its result
shown = run_requests.view(ws, request_id) if request_id else None
in_progress = shown is not None and not shown.done


def _worker_alive(ws: Workspace) -> bool:
    return any(worker.alive for worker in worker_states(ws.database))


if shown is not None and shown.status == "queued" and not _worker_alive(ws):
    run_requests.carry_out_in_background(ws, shown.id)  # the worker it waited for is gone: the dashboard runs it
if st.button(label, type="primary", disabled=in_progress or waiting + staged == 0, icon=":material/play_arrow:"):
    request_id = run_requests.request_run(ws, dry_run=dry_run, limit=int(limit) if careful else None)
    if not _worker_alive(ws):
        run_requests.carry_out_in_background(ws, request_id)
    st.session_state["run_request_id"] = request_id
    st.session_state["run_request_watched"] = request_id  # until the page has seen it end
    st.rerun()
if in_progress:
    st.session_state["run_request_watched"] = request_id
elif shown is not None and st.session_state.get("run_request_watched") == shown.id:
    st.session_state.pop("run_request_watched")
    if not shown.dry_run:
        ui.refresh_account()  # the sidebar's subscriber and group counts changed


def _time_left(seconds: float | None) -> str:
    if seconds is None:
        return ""
    if seconds < 60:
        return ", less than a minute left"
    return f", about {seconds / 60:.0f} min left"


def _show_result(ws: Workspace, request: run_requests.RequestView) -> None:
    """What the run did (or why it did not run)."""
    run = ws.runs.get(request.run_id) if request.run_id is not None else None
    if run is None:
        (st.info if request.cancel_requested else st.error)(request.error or "The run did not start.")
        return
    if request.error:
        st.warning(request.error)
    kind_of_run = "Dry run" if run.dry_run else "Run"
    outcome = {RunStatus.FINISHED: st.success, RunStatus.FAILED: st.error, RunStatus.CANCELLED: st.warning}
    outcome.get(run.status, st.info)(
        f"{kind_of_run} {run.id} {run.status} in {run.duration_seconds:.1f} s with "
        f"{run.requests:,} request(s) to MailerLite."
    )
    if run.error:
        (st.warning if run.status == RunStatus.CANCELLED else st.error)(as_sentence(plain_message(run.error)))
    if run.notes:
        st.info(run.notes)
    numbers = {
        str(name): getattr(run, name)
        for name in ItemOutcome
        if name != ItemOutcome.REJECTED and (name != ItemOutcome.FORGOTTEN or run.forgotten)
    }
    columns = st.columns(len(numbers))
    for column, (name, number) in zip(columns, numbers.items()):
        column.metric(name.capitalize(), f"{number:,}")
    st.session_state["monitor_run"] = run.id
    if run.dry_run and run.id is not None:
        dry_run_changes.show(ws, run.id)
    st.page_link("pages/monitor.py", label=f"See run {run.id} in Monitor", icon=":material/monitoring:")


def _show_request(ws: Workspace, request_id: int) -> None:
    """The request's progress, read from the database at each refresh; its result once it is done."""
    request = run_requests.view(ws, request_id)
    if request is None:
        return
    if request.done:
        if st.session_state.get("run_request_watched") == request_id:
            st.rerun()  # the whole page: the counts above and the sidebar changed, and the refreshing stops
        _show_result(ws, request)
        return
    what = "dry run" if request.dry_run else "sync"
    if request.status == "queued":
        st.progress(
            0.0, text=f"The {what} waits for the sync worker to start it…{run_requests.expected_in_words(ws, request)}"
        )
    else:
        total = max(request.contacts_total, request.contacts_done, 1)
        st.progress(
            min(request.contacts_done / total, 1.0),
            text=f"{request.contacts_done:,} of {request.contacts_total:,} contacts, "
            f"{request.requests:,} request(s) to MailerLite{_time_left(request.seconds_left)}",
        )
    if request.runner == "dashboard":
        st.caption(
            "No sync worker is running, so the dashboard runs this one in the background: keep the studio's "
            "server running until it ends. You can leave or reload this page."
        )
    elif request.runner == "worker":
        st.caption("The sync worker runs it: you can leave or reload this page.")
    if request.cancel_requested:
        st.caption("Stopping after the batch in flight…")
    else:
        st.button(
            f"Cancel the {what}",
            key=f"run_cancel_{request_id}",
            icon=":material/stop:",
            on_click=run_requests.cancel_run,
            args=(ws, request_id),
        )


if request_id is not None:
    st.fragment(run_every=1.0 if in_progress else None)(_show_request)(ws, request_id)
