"""Monitor: how syncs went (totals, charts), runs and their items, failures to retry, one contact's history.

Everything shown comes from daily rollups or from one page of items, so the page costs the same with a
thousand items in the history or a million.
"""

from __future__ import annotations

import json
from datetime import UTC, date, datetime, timedelta

import pandas as pd
import streamlit as st

from pages import draft, dry_run_changes, ui, widgets
from pages import monitor_attention as attention
from sync_core.domain.access import Permission
from sync_core.domain.events import SOURCE_LABELS
from sync_core.engine.accounts import account_identity, run_account_label
from sync_core.engine.exports import audit_csv, items_csv
from sync_core.engine.forget import WHAT_HAPPENS, ForgetError, forget_contact, who_asks
from sync_core.engine.run import SyncEngine, SyncError
from sync_core.engine.workspace import PROBLEMS, SUCCESS, ItemFilter, ItemOutcome
from sync_core.live.queue_status import queue_status

ui.page_guard("pages/monitor.py")
st.title("Monitor")
ws = ui.workspace()
if ws is None:
    st.stop()
widgets.show_flash()
monitor, runs, events = ws.monitor, ws.runs, ws.events
PAGE = 50
OUTCOMES = [str(outcome) for outcome in (*SUCCESS, *PROBLEMS)]


def _age(moment: datetime) -> str:
    seconds = max(0, int((datetime.now(UTC) - moment).total_seconds()))
    if seconds < 120:
        return f"{seconds} s"
    if seconds < 7200:
        return f"{seconds // 60} min"
    return f"{seconds // 3600} h" if seconds < 172_800 else f"{seconds // 86_400} days"


periods = {"Today": 0, "7 days": 6, "30 days": 29, "All time": None}
period = st.segmented_control("Period", list(periods), default="30 days", key="monitor_period") or "30 days"
since = None if periods[period] is None else date.today() - timedelta(days=periods[period])

with st.container(border=True):  # live sync: webhooks waiting, and whether a worker is syncing them
    status = queue_status(ws.database)
    cells = st.columns(4)
    cells[0].metric("Events waiting", f"{status.waiting:,}")
    oldest = status.oldest_waiting_at
    cells[1].metric("Oldest waiting", "—" if oldest is None else _age(oldest))
    for cell, source in zip(cells[2:], ("dodo_payments", "partnero")):
        received = status.last_received.get(source)
        cell.metric(f"Last {SOURCE_LABELS[source]} event", "never" if received is None else _age(received) + " ago")
    alive = [worker for worker in status.workers if worker.alive]
    if status.stalled:
        why = f" The worker says: {alive[0].detail}" if alive and alive[0].detail else ""
        st.error(
            f"Syncing is stuck. {status.stall_reason()}{why} Check the connection on the **Connection** page; "
            "the events are kept and are synced as soon as MailerLite accepts them.",
            icon=":material/error:",
        )
    elif alive:
        st.success(
            f"Sync worker alive: {alive[0].state}" + (f" — {alive[0].detail}" if alive[0].detail else ""),
            icon=":material/sync:",
        )
    else:
        st.warning(
            "No sync worker is running: webhooks are stored but not synced. The worker starts with the "
            "dashboard (`streamlit run dashboard.py`) or alone with `python -m sync_core worker`.",
            icon=":material/sync_disabled:",
        )

totals = monitor.totals(since)
queue = events.counts()
cells = st.columns(5)
cells[0].metric(
    "Contacts synced",
    f"{monitor.contacts_synced(since):,}",
    help="Each contact once, however many times it was synced in the period.",
)
cells[1].metric(
    "Created",
    f"{monitor.contacts_created(since):,}",
    help="Contacts the studio created in MailerLite in the period.",
)
cells[2].metric(
    "Updated",
    f"{monitor.contacts_updated(since):,}",
    help="Contacts whose data the studio last changed in MailerLite in the period, each counted once.",
)
cells[3].metric(
    "Contacts failing",
    f"{monitor.contacts_failing():,}",
    help="Contacts MailerLite did not take, waiting for a retry now (see *Failed and dead*).",
)
rate = totals.success_rate
cells[4].metric(
    "Success rate",
    "—" if rate is None else f"{rate:.1%}",
    help="The share of the period's sync attempts that ended well.",
)
st.caption(
    f"Events waiting: {queue.get('pending', 0):,} · failed, waiting for a retry: {queue.get('failed', 0):,}"
    f" · dead: {queue.get('dead', 0):,} · cannot be synced as they are: "
    f"{queue.get('invalid', 0) + queue.get('rejected', 0):,} (see *Needs attention*)"
)

if totals.items == 0:
    st.info(
        "No sync yet. Import a file and run a sync on the **Run sync** page; results appear here.",
        icon=":material/info:",
    )
else:
    by_day, by_type, by_group = st.tabs(["Over time", "By event type", "By group"])
    with by_day:
        frame = pd.DataFrame(monitor.by_day(since), columns=["day", "outcome", "contacts"])
        st.bar_chart(frame, x="day", y="contacts", color="outcome", stack=True)
    with by_type:
        frame = pd.DataFrame(monitor.by_event_type(since), columns=["event type", "outcome", "contacts"])
        st.bar_chart(frame, x="event type", y="contacts", color="outcome", stack=True, horizontal=True)
    with by_group:
        rows = monitor.by_group(since)
        if rows:
            frame = pd.DataFrame(rows, columns=["group", "change", "contacts"])
            st.bar_chart(frame, x="group", y="contacts", color="change", stack=True, horizontal=True)
        else:
            st.caption("No group changes in this period.")


def item_table(items) -> pd.DataFrame:  # noqa: ANN001
    return pd.DataFrame(
        [
            {
                "item": item.id,
                "run": item.run_id,
                "when (UTC)": item.created_at.strftime("%Y-%m-%d %H:%M:%S"),
                "email": item.email,
                "outcome": item.outcome,
                "event type": item.event_type or "",
                "reason": item.reason,
                "code": item.response_code,
                "dry run": item.dry_run,
            }
            for item in items
        ]
    )


def paged_items(key: str, where: ItemFilter) -> list:
    """One page of items with Newer / Older buttons (keyset pages: as fast on page 1,000 as on page 1)."""
    stack = st.session_state.setdefault(f"{key}_pages", [None])
    items, next_before = monitor.items(where, before_id=stack[-1], limit=PAGE)
    left, middle, right = st.columns([1, 3, 1])
    if left.button("Newer", key=f"{key}_newer", disabled=len(stack) == 1):
        stack.pop()
        st.rerun()
    middle.caption(f"Page {len(stack)}")
    if right.button("Older", key=f"{key}_older", disabled=next_before is None):
        stack.append(next_before)
        st.rerun()
    return items


tab_names = ["Runs", "Items", "Needs attention", "Contact lookup"]
if ui.may(Permission.VIEW_AUDIT):
    tab_names.append("Audit log")
runs_tab, items_tab, failed_tab, contact_tab, *admin_tabs = st.tabs(tab_names)

with runs_tab:
    recent = runs.recent(limit=20)
    if not recent:
        st.caption("No run yet.")
    else:
        st.dataframe(
            pd.DataFrame(
                [
                    {
                        "run": run.id,
                        "started (UTC)": run.started_at.strftime("%Y-%m-%d %H:%M:%S"),
                        "status": run.status,
                        "dry run": run.dry_run,
                        "trigger": run.trigger,
                        "account": run_account_label(run.account, run.account_label),
                        ItemOutcome.CREATED: run.created,
                        ItemOutcome.UPDATED: run.updated,
                        ItemOutcome.UNSUBSCRIBED: run.unsubscribed,
                        ItemOutcome.DELETED: run.deleted,
                        ItemOutcome.UNCHANGED: run.unchanged,
                        ItemOutcome.FAILED: run.failed + run.dead,
                        ItemOutcome.INVALID: run.invalid,
                        ItemOutcome.IGNORED: run.ignored,
                        ItemOutcome.FORGOTTEN: run.forgotten,
                        "requests": run.requests,
                        "seconds": round(run.duration_seconds, 1),
                        "notes": run.error or run.notes,
                    }
                    for run in recent
                ]
            ),
            hide_index=True,
            width="stretch",
        )
        ids = [run.id for run in recent]
        chosen = st.session_state.get("monitor_run")
        run_id = st.selectbox("Items of run", ids, index=ids.index(chosen) if chosen in ids else 0, key="monitor_run")
        st.dataframe(
            item_table(paged_items(f"run{run_id}", ItemFilter(run_id=run_id))), hide_index=True, width="stretch"
        )
        if next((run.dry_run for run in recent if run.id == run_id), False):
            dry_run_changes.show(ws, run_id)

with items_tab:
    chosen = st.multiselect("Outcomes", OUTCOMES, key="monitor_outcomes")
    where = ItemFilter(outcomes=chosen or None)
    st.dataframe(item_table(paged_items("items" + ",".join(chosen), where)), hide_index=True, width="stretch")
    st.download_button(
        "Export these items as CSV",
        data=lambda: "".join(items_csv(ws, where)),
        file_name="sync-items.csv",
        mime="text/csv",
        icon=":material/download:",
    )

with failed_tab:
    unsyncable = attention.show(ws)
    failures = paged_items("failed", ItemFilter(outcomes=[ItemOutcome.FAILED, ItemOutcome.DEAD]))
    if not failures and not unsyncable:
        st.success("Nothing needs attention.")
    elif failures:
        st.markdown("**Failed and dead**: MailerLite did not take these contacts; retry them.")
        table = item_table(failures)
        table.insert(0, "retry", False)
        edited = st.data_editor(
            table,
            hide_index=True,
            width="stretch",
            key="monitor_failed_editor",
            disabled=[c for c in table.columns if c != "retry"],
        )
        selected = [int(i) for i in edited.loc[edited["retry"], "item"]]
        left, right = st.columns(2)
        engine = SyncEngine(ws)
        if not ui.may(Permission.RETRY):
            st.caption("An editor or an admin can retry them.")
        elif left.button(f"Retry selected ({len(selected)})", disabled=not selected, icon=":material/replay:"):
            try:
                run = engine.retry(item_ids=selected)
                widgets.flash(
                    "success",
                    f"Retried in run {run.id}: {run.created + run.updated} synced, "
                    f"{run.failed + run.dead} still failing.",
                )
            except SyncError as exc:
                widgets.flash("error", str(exc))
            st.rerun()
        if ui.may(Permission.RETRY) and right.button("Retry all failed", icon=":material/replay:"):
            try:
                run = engine.retry()
                widgets.flash(
                    "success",
                    f"Retried in run {run.id}: {run.created + run.updated} synced, "
                    f"{run.failed + run.dead} still failing.",
                )
            except SyncError as exc:
                widgets.flash("error", str(exc))
            st.rerun()
        detail = st.selectbox("Details of item", [item.id for item in failures], key="monitor_failed_detail")
        item = next(item for item in failures if item.id == detail)
        st.error(item.reason or "no reason recorded")
        if ui.may(Permission.EXPORT_BODIES):
            st.caption("The request sent to MailerLite (secrets are never recorded):")
            st.code(json.dumps(item.requests, indent=2, ensure_ascii=False) or "[]", language="json")


def _forget(email: str) -> None:
    """The forget button's callback: it runs before the page is drawn again, which then shows what is left."""
    st.session_state["monitor_forget_confirm"] = False
    try:
        result = forget_contact(
            ws,
            email,
            requested_by=who_asks("dashboard", ws.actor.name if ws.actor.kind == "user" else draft.author()),
            origin="dashboard",
        )
    except ForgetError as exc:
        widgets.flash("error", f"Not forgotten: {exc}.")
        return
    except Exception:  # noqa: BLE001 - said in plain words; the details go to the log
        widgets.log.exception("forgetting a contact failed")
        widgets.flash("error", "Not forgotten: the store could not be changed. Try again in a moment.")
        return
    if result.ok:
        widgets.flash("success", "Forgotten. " + result.in_words())
    else:
        widgets.flash("warning", "Not completely forgotten. " + result.in_words())


def forget_action(email: str) -> None:
    with st.expander("Forget this contact (GDPR)", icon=":material/person_remove:"):
        st.warning(WHAT_HAPPENS, icon=":material/warning:")
        confirmed = st.checkbox(f"I understand: forget {email} for good", key="monitor_forget_confirm")
        st.button(
            "Forget this contact",
            type="primary",
            disabled=not confirmed,
            key="monitor_forget",
            on_click=_forget,
            args=(email,),
        )


with contact_tab:
    email = st.text_input("Email address", key="monitor_email", placeholder="ada@example.com").strip().lower()
    if email:
        try:
            account = account_identity(ws, ws.config())
        except Exception:  # noqa: BLE001 - the stored key cannot be read: the history is still shown
            account = None
        contact = ws.contacts.get(account.key, email) if account is not None else None
        history = events.for_email(email, limit=100)
        items, _ = monitor.items(ItemFilter(email=email, include_dry_runs=True), limit=100)
        if contact is None and not history and not items:
            st.info(f"Nothing is known about {email}: no event mentions this address.")
        else:
            if contact is not None:
                status = contact.status or "unknown"
                st.write(
                    f"In the account in use ({account.label if account else '—'}): MailerLite subscriber "
                    f"**{contact.subscriber_id or 'not created yet'}**, status **{status}**."
                )
                fields = (contact.state or {}).get("fields", {})
                if fields:
                    st.dataframe(
                        pd.DataFrame([{"field": k, "value": v[0], "set by event at": v[1]} for k, v in fields.items()]),
                        hide_index=True,
                    )
            st.caption("Events received")
            st.dataframe(
                pd.DataFrame(
                    [
                        {
                            "event": e.id,
                            "received (UTC)": e.received_at.strftime("%Y-%m-%d %H:%M:%S"),
                            "source": e.source,
                            "type": e.event_type,
                            "status": e.status,
                            "reason": e.reason,
                        }
                        for e in history
                    ]
                ),
                hide_index=True,
                width="stretch",
            )
            st.caption("Sync items")
            st.dataframe(item_table(items), hide_index=True, width="stretch")
            if ui.may(Permission.FORGET):
                forget_action(email)

for audit_tab in admin_tabs:
    with audit_tab:
        st.caption(
            "Who signed in (and who failed to), changed a secret, the key, the mapping or the rules, started or "
            "retried a sync, exported or forgot data. Newest first."
        )
        entries = ws.audit_log.recent(limit=200)
        if not entries:
            st.info("Nothing recorded yet.")
        else:
            st.dataframe(
                pd.DataFrame(
                    [
                        {
                            "When (UTC)": entry.at.strftime("%Y-%m-%d %H:%M:%S"),
                            "Who": entry.actor,
                            "Role": entry.role,
                            "What": entry.action.replace("_", " "),
                            "About": entry.subject,
                            "From": entry.address,
                        }
                        for entry in entries
                    ]
                ),
                hide_index=True,
                width="stretch",
            )
        st.download_button(
            "Export the audit log as CSV",
            data=lambda: "".join(audit_csv(ws)),
            file_name="audit-log.csv",
            mime="text/csv",
            icon=":material/download:",
            key="monitor_audit_export",
        )
