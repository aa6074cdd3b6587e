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
from pages import monitor_charts as charts
from sync_core.domain.access import Permission
from sync_core.domain.events import SENDER_LABELS, SOURCE_LABELS
from sync_core.domain.messages import as_sentence, plain_message
from sync_core.domain.outcome_words import event_status_label, outcome_label, run_status_label, trigger_label
from sync_core.engine.account_checks import interactive_client
from sync_core.engine.accounts import account_identity, run_account_label
from sync_core.engine.exports import audit_csv, items_csv
from sync_core.engine.forget import WHAT_HAPPENS, ForgetError, forget_contact, who_asks
from sync_core.engine.run import SyncEngine, SyncError
from sync_core.engine.workspace import PROBLEMS, SUCCESS, ItemFilter, ItemOutcome
from sync_core.live.queue_status import queue_status, worker_words

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
        why = (
            f" The live sync says: {plain_message(alive[0].detail.split(' — next try')[0])}."
            if alive and alive[0].detail
            else ""
        )
        st.error(
            f"Syncing is stuck. {status.stall_reason()}{why} Check the connection on the **Connection** page; "
            "the events are kept and are synced as soon as MailerLite accepts them.",
            icon=":material/error:",
        )
    elif alive:
        words, level = worker_words(alive[0].state)
        show = st.success if level == "ok" else st.warning
        said = plain_message(alive[0].detail.split(" — next try")[0], "") if level != "ok" else ""
        detail = f" {said[:1].upper()}{said[1:]}." if said else ""
        show(f"{words}{detail}", icon=":material/sync:" if level == "ok" else ":material/sync_problem:")
        with st.expander("Advanced: the sync worker", key="monitor_worker_advanced"):
            st.caption(f"{alive[0].name}: {alive[0].state} — {alive[0].detail or ''}")
    else:
        st.warning(
            "No sync worker is running: webhooks are stored but not synced. The worker starts with the "
            "dashboard (`streamlit run dashboard.py`) or alone with `python -m sync_core worker`.",
            icon=":material/sync_disabled:",
        )

totals = monitor.totals(since)
# Each count walks the status index for its own status only: the synced millions are never counted here.
queue = {status: events.count(status) for status in ("pending", "failed", "dead", "invalid", "rejected")}
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
    f" · failed for good: {queue.get('dead', 0):,} · cannot be synced as they are: "
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
        charts.over_time(monitor.by_day(since), since, date.today())
    with by_type:
        charts.by_category(monitor.by_event_type(since), "Event type", "outcome")
    with by_group:
        rows = monitor.by_group(since)
        if rows:
            charts.by_category(rows, "Group", "change")
        else:
            st.caption("No group changes in this period.")


ITEM_COLUMNS = ["item", "Run", "When (UTC)", "Email", "Outcome", "Event", "Why", "Kind"]
#: The item id identifies a row (to retry it) but is not for reading: kept in the data, not shown.
HIDDEN = {"item": None}


def item_table(items) -> pd.DataFrame:  # noqa: ANN001
    return pd.DataFrame(
        [
            {
                "item": item.id,
                "Run": item.run_id,
                "When (UTC)": item.created_at.strftime("%Y-%m-%d %H:%M:%S"),
                "Email": item.email,
                "Outcome": outcome_label(item.outcome),
                "Event": item.event_type or "",
                "Why": item.reason,
                "Kind": "Dry run" if item.dry_run else "Sync",
            }
            for item in items
        ],
        columns=ITEM_COLUMNS,
    )


def show_items(items, **options) -> None:  # noqa: ANN001, ANN003
    st.dataframe(item_table(items), hide_index=True, width="stretch", column_config=HIDDEN, **options)


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
#: ``?view=`` in a link (an alert's, a guide's) opens the tab that explains it.
VIEWS = {"failing": "Needs attention", "runs": "Runs", "worker": "Runs", "contact": "Contact lookup"}
wanted = VIEWS.get(str(st.query_params.get("view", "")))
runs_tab, items_tab, failed_tab, contact_tab, *admin_tabs = st.tabs(tab_names, default=wanted)

with runs_tab:
    recent = runs.recent(limit=20)
    if not recent:
        st.caption("No run yet.")
    else:
        st.dataframe(
            pd.DataFrame(
                [
                    {
                        "Run": run.id,
                        "Started (UTC)": run.started_at.strftime("%Y-%m-%d %H:%M:%S"),
                        "How it went": run_status_label(run.status),
                        "Kind": "Dry run" if run.dry_run else "Sync",
                        "Started by": trigger_label(run.trigger),
                        "Account": run_account_label(run.account, run.account_label),
                        "Created": run.created,
                        "Updated": run.updated,
                        "Unsubscribed": run.unsubscribed,
                        "Deleted": run.deleted,
                        "Up to date": run.unchanged,
                        "Failed": run.failed + run.dead,
                        "Cannot be synced": run.invalid,
                        "Ignored": run.ignored,
                        "Forgotten": run.forgotten,
                        "Requests": run.requests,
                        "Seconds": round(run.duration_seconds, 1),
                        "Notes": plain_message(run.error, "") if run.error else run.notes,
                    }
                    for run in recent
                ]
            ),
            hide_index=True,
            width="stretch",
        )
        ids = [run.id for run in recent]
        chosen = st.session_state.get("monitor_run")
        run_id = st.selectbox(
            "Contacts of run",
            ids,
            index=ids.index(chosen) if chosen in ids else 0,
            key="monitor_run",
            format_func=lambda number: f"Run {number}",
        )
        show_items(paged_items(f"run{run_id}", ItemFilter(run_id=run_id)))
        if next((run.dry_run for run in recent if run.id == run_id), False):
            dry_run_changes.show(ws, run_id)

with items_tab:
    chosen = st.multiselect("Outcomes", OUTCOMES, key="monitor_outcomes", format_func=outcome_label)
    where = ItemFilter(outcomes=chosen or None)
    show_items(paged_items("items" + ",".join(chosen), where))
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
            column_config={**HIDDEN, "retry": st.column_config.CheckboxColumn("Retry")},
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
                widgets.flash("error", as_sentence(plain_message(exc)))
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
                widgets.flash("error", as_sentence(plain_message(exc)))
            st.rerun()
        by_id = {item.id: item for item in failures}
        detail = st.selectbox(
            "Why did this contact fail?",
            list(by_id),
            key="monitor_failed_detail",
            format_func=lambda number: f"{by_id[number].email or '(no email)'} · run {by_id[number].run_id}",
        )
        item = by_id[detail]
        st.error(as_sentence(plain_message(item.reason, "no reason was recorded")))
        with st.expander("Advanced: what was sent and answered", key="monitor_failed_advanced"):
            st.caption(f"Item {item.id} · MailerLite's answer code: {item.response_code or 'none (no answer)'}")
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


def _field_names() -> dict[str, str]:
    """The account's field key → how to call it: its name in MailerLite, made readable when the name is only
    the key again (``partner_key`` → "Partner key")."""
    report = ui.account_report(ws)
    known = {field.key: field.name for field in report.fields} if report.ok else {}

    class Names(dict):
        def __missing__(self, key: str) -> str:
            return key.replace("_", " ").capitalize()

    return Names({k: (v if v != k else k.replace("_", " ").capitalize()) for k, v in known.items()})


def in_mailerlite(email: str) -> None:
    """The subscriber as MailerLite has it now: status, groups and fields (asked once per email and visit)."""
    answers = st.session_state.setdefault("monitor_ml_answers", {})
    if email not in answers or st.button("Ask MailerLite again", key="monitor_ml_again", type="tertiary"):
        try:
            with interactive_client(ws, ws.config().connection) as client:
                answers[email] = client.find_subscriber(email)
        except Exception as exc:  # noqa: BLE001 - the history below is shown all the same
            answers[email] = plain_message(exc)
    answer = answers[email]
    if isinstance(answer, str):
        st.warning(f"MailerLite could not be asked about {email}: {answer}", icon=":material/cloud_off:")
        return
    if answer is None:
        st.info(f"MailerLite has no subscriber {email} (the account in use).", icon=":material/person_off:")
        return
    groups = ", ".join(group.name for group in answer.groups or []) or "no group"
    st.markdown(f"**In MailerLite now:** {answer.status} · groups: {groups}")
    names = _field_names()
    values = [
        {"Field": names[key], "Value": "" if value is None else str(value)}
        for key, value in sorted(answer.fields.items())
        if value not in (None, "")
    ]
    if values:
        st.dataframe(pd.DataFrame(values), hide_index=True, width="stretch")
    with st.expander("Advanced: MailerLite's ids", key="monitor_ml_ids"):
        st.caption(f"Subscriber id {answer.id}; groups: {', '.join(g.id for g in answer.groups or []) or '—'}")


with contact_tab:
    typed = (
        st.text_input(
            "Email address, or a part of it",
            key="monitor_email",
            placeholder="ada@example.com, or ada, or example.com",
        )
        .strip()
        .lower()
    )
    email = ""
    if typed:
        matches = monitor.emails_like(typed, limit=20)
        if typed in matches or (not matches and "@" in typed):
            email = typed
        elif len(matches) == 1:
            email = matches[0]
        elif matches:
            email = st.selectbox(
                f"{len(matches)} contacts match" + (" (the first 20)" if len(matches) == 20 else ""),
                matches,
                key="monitor_email_pick",
            )
        else:
            st.info(f"No contact's email address contains “{typed}”.")
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
            st.subheader(email)
            in_mailerlite(email)
            if contact is not None:
                st.markdown(
                    f"In the account in use ({account.label if account else '—'}): the studio knows them as "
                    f"status **{contact.status or 'unknown'}**"
                    + ("" if contact.subscriber_id else ", not created in MailerLite yet")
                    + "."
                )
                with st.expander("Advanced: the studio's record", key="monitor_contact_ids"):
                    st.caption(f"MailerLite subscriber id: {contact.subscriber_id or '—'}")
                fields = (contact.state or {}).get("fields", {})
                if fields:
                    names = _field_names()
                    st.caption(f"What the studio last sent ({account.label if account else 'the account in use'})")
                    st.dataframe(
                        pd.DataFrame(
                            [
                                {
                                    "Field": names[k],
                                    "Value sent": "" if v[0] is None else str(v[0]),
                                    "From the event of (UTC)": str(v[1] or "")[:19].replace("T", " "),
                                }
                                for k, v in fields.items()
                            ]
                        ),
                        hide_index=True,
                        width="stretch",
                    )
            st.caption("Events received")
            st.dataframe(
                pd.DataFrame(
                    [
                        {
                            "Received (UTC)": e.received_at.strftime("%Y-%m-%d %H:%M:%S"),
                            "From": SENDER_LABELS.get(e.source, e.source),
                            "Event": e.event_type or "",
                            "Where it stands": event_status_label(e.status),
                            "Why": e.reason,
                        }
                        for e in history
                    ],
                    columns=["Received (UTC)", "From", "Event", "Where it stands", "Why"],
                ),
                hide_index=True,
                width="stretch",
            )
            st.caption("Syncs of this contact")
            show_items(items)
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
