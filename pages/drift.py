"""Compare with MailerLite: find where the account no longer holds what the studio decided (a field edited by
hand, a subscriber taken out of a group, one deleted or unsubscribed), then preview the repair and send it.

Like Run sync, the page never does the work itself: it records a request that the sync worker carries out (or,
when no worker runs, a background thread of the dashboard's server), and shows its progress from the database."""

from __future__ import annotations

import itertools

import pandas as pd
import streamlit as st

from pages import dry_run_changes, ui, widgets
from sync_core.domain.drift import KIND_LABELS, TABLE_COLUMNS, DriftKind, drift_csv, matches, table_rows
from sync_core.engine import drift, run_requests
from sync_core.engine.workspace import RunStatus, Workspace
from sync_core.live.queue_status import worker_states

#: The most contacts the page reads for the table (``python -m sync_core drift check --json`` lists any number).
MOST = 20_000
#: The most table rows drawn at once (the download has every filtered one).
SHOWN = 2_000

ui.page_guard("pages/drift.py")
st.title("Compare with MailerLite")
ws = ui.workspace()
if ws is None:
    st.stop()
active = ws.active_config()
if active.problem:
    widgets.show_problems(
        "The saved configuration cannot be used; open Field mapping to load a preset or fix it.", [active.problem]
    )
    st.stop()
widgets.show_flash()
account = "the **sandbox** account" if ws.uses_sandbox(active.config) else "your **MailerLite** account"
st.caption(
    f"Reads every subscriber of {account} and compares them with what the studio decided: fields changed in "
    "MailerLite, subscribers taken out of (or put into) the groups your rules manage by hand, contacts deleted in "
    "MailerLite, and people who unsubscribed or bounced. Nothing is sent until you repair."
)


def _worker_alive(ws: Workspace) -> bool:
    return any(worker.alive for worker in worker_states(ws.database))


def _hand_over(ws: Workspace, trigger: str, *, dry_run: bool = False) -> None:
    request_id = run_requests.request_run(ws, dry_run=dry_run, limit=None, trigger=trigger)
    if not _worker_alive(ws):
        run_requests.carry_out_in_background(ws, request_id)
    st.session_state["drift_request_id"] = request_id
    st.session_state["drift_request_watched"] = request_id
    st.rerun()


daily = st.toggle(
    f"Compare every day ({drift.describe_schedule(ws)}, by the sync worker)",
    value=active.config.drift.daily_check,
    key="drift_daily",
    help="The worker compares the account when no event waits; each comparison is kept here like one you start.",
)
if daily != active.config.drift.daily_check:
    drift.set_daily_check(ws, daily, author="dashboard")
    widgets.flash("success", "The daily comparison is " + ("on." if daily else "off."))
    st.rerun()

request_id = st.session_state.get("drift_request_id") or run_requests.unfinished(ws, drift=True)
if request_id is not None:
    st.session_state["drift_request_id"] = request_id
shown = run_requests.view(ws, request_id) if request_id else None
in_progress = shown is not None and not shown.done
if shown is not None and shown.status == "queued" and not _worker_alive(ws):
    run_requests.carry_out_in_background(ws, shown.id)
if in_progress:
    st.session_state["drift_request_watched"] = request_id
elif shown is not None and st.session_state.get("drift_request_watched") == shown.id:
    st.session_state.pop("drift_request_watched")

if st.button("Compare with MailerLite", type="primary", disabled=in_progress, icon=":material/compare_arrows:"):
    _hand_over(ws, run_requests.DRIFT_CHECK)


def _show_progress(ws: Workspace, request_id: int) -> None:
    request = run_requests.view(ws, request_id)
    if request is None:
        return
    if request.done:
        if st.session_state.get("drift_request_watched") == request_id:
            st.rerun()  # the whole page: the report below changed
        if request.error and request.run_id is None:
            (st.info if request.cancel_requested else st.error)(request.error)
        return
    if request.status == "queued":
        st.progress(0.0, text="Waiting for the sync worker to start it…")
    else:
        total = max(request.contacts_total, request.contacts_done, 1)
        noun = "subscribers read" if request.trigger == run_requests.DRIFT_CHECK else "contacts repaired"
        st.progress(
            min(request.contacts_done / total, 1.0),
            text=f"{request.contacts_done:,} of {request.contacts_total:,} {noun}, "
            f"{request.requests:,} request(s) to MailerLite",
        )
    if request.runner == "dashboard":
        st.caption("No sync worker is running, so the dashboard does it in the background: you can leave this page.")


if request_id is not None:
    st.fragment(run_every=1.0 if in_progress else None)(_show_progress)(ws, request_id)

check = drift.last_check(ws)
if check is None:
    st.info("No comparison yet: press **Compare with MailerLite** to read the account.", icon=":material/info:")
    st.stop()
assert check.id is not None
text = drift.describe(check)
if check.status != "finished":
    st.error(text)
elif check.contacts_differ:
    st.warning(text, icon=":material/difference:")
else:
    st.success(text, icon=":material/check_circle:")
how = {"schedule": "the daily check", "cli": "the command line"}.get(check.trigger, "a person, from this page")
st.caption(
    f"Compared at {check.started_at:%Y-%m-%d %H:%M} UTC by {how}: {check.subscribers_read:,} subscribers read, "
    f"{check.contacts_compared:,} of the studio's contacts compared, {check.requests:,} request(s) to MailerLite."
    + (f" Repaired by run {check.repair_run_id}: compare again to confirm." if check.repair_run_id else "")
)
if check.status != "finished" or not check.contacts_differ:
    st.stop()

recreate = st.checkbox(
    "Recreate deleted contacts",
    value=False,
    key="drift_recreate",
    help="Off: contacts deleted in MailerLite stay deleted (someone may have meant it). On: the repair adds them "
    "back with every field and group the studio decided.",
)
drifts = list(itertools.islice(drift.iter_drifts(ws, check.id), MOST + 1))
if len(drifts) > MOST:
    drifts = drifts[:MOST]
    st.caption(f"The first {MOST:,} contacts are shown; `python -m sync_core drift check --json` lists them all.")
left, right = st.columns([2, 3])
present = [kind for kind in DriftKind if any(kind in item.kinds for item in drifts)]
chosen = left.multiselect(
    "Difference",
    [str(kind) for kind in present],
    format_func=lambda name: KIND_LABELS[DriftKind(name)],
    key=f"drift_kinds_{check.id}",
    placeholder="Every difference",
)
search = right.text_input("Email contains", key=f"drift_email_{check.id}", placeholder="ada@ or example.com")
picked = [item for item in drifts if matches(item, chosen, search)]
if picked:
    rows = table_rows(picked, recreate_deleted=recreate)
    st.dataframe(pd.DataFrame(rows[:SHOWN], columns=list(TABLE_COLUMNS)), hide_index=True, width="stretch")
    note = f"{len(picked):,} contact{'' if len(picked) == 1 else 's'}, one row per difference"
    if len(rows) > SHOWN:
        note += f"; the first {SHOWN:,} rows are shown, the download has all {len(rows):,}"
    st.caption(note + ".")
    st.download_button(
        "Download these differences as CSV",
        data=drift_csv(picked, recreate_deleted=recreate),
        file_name=f"mailerlite-differences-{check.id}.csv",
        mime="text/csv",
        icon=":material/download:",
        key=f"drift_download_{check.id}",
    )
else:
    st.info("No contact matches these filters.", icon=":material/filter_alt_off:")

st.subheader("Repair")
st.caption(
    "Sends the studio's decision again for each contact that differs, through the normal sync (within MailerLite's "
    "limits), recorded as a run of its own in the Monitor. People who unsubscribed, bounced or were marked junk are "
    "never re-added. Preview the repair first: it records what would be sent, and sends nothing."
)
trigger = run_requests.REPAIR_RECREATE if recreate else run_requests.REPAIR
previewed = st.session_state.get("drift_previewed") == (check.id, recreate)
left, right = st.columns(2)
if left.button("Preview the repair", disabled=in_progress, icon=":material/preview:"):
    st.session_state["drift_previewed"] = (check.id, recreate)
    _hand_over(ws, trigger, dry_run=True)
if right.button(
    "Repair",
    type="primary",
    disabled=in_progress or not previewed,
    icon=":material/build:",
    help=None if previewed else "Preview the repair first (with the same choice about deleted contacts).",
):
    _hand_over(ws, trigger)

if shown is not None and shown.done and shown.run_id is not None:
    run = ws.runs.get(shown.run_id)
    if run is not None and run.trigger == "repair":
        kind = "Dry run" if run.dry_run else "Run"
        outcome = {RunStatus.FINISHED: st.success, RunStatus.FAILED: st.error, RunStatus.CANCELLED: st.warning}
        counts = ", ".join(
            f"{getattr(run, name):,} {name}"
            for name in ("created", "updated", "suppressed", "skipped", "failed", "dead")
            if getattr(run, name)
        )
        outcome.get(run.status, st.info)(
            f"{kind} {run.id} {run.status}: {counts or 'nothing to send'}; {run.requests:,} request(s) to MailerLite."
        )
        if run.error:
            st.error(run.error)
        if run.dry_run and run.id is not None:
            dry_run_changes.show(ws, run.id)
        st.page_link("pages/monitor.py", label=f"See run {run.id} in Monitor", icon=":material/monitoring:")
