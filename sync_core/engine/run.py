"""The sync engine: stored events → plans → MailerLite → history, safe to kill at any moment.

The events pending when a run starts are taken a chunk of contacts at a time, in the order each contact was first
heard from, each contact with all of its events: a contact gets one plan (one request) per run, however far apart
its events arrived. Each MailerLite batch is answered before its contacts are recorded, and one transaction records
them all at once: their items, their new states and their events. A process killed between the answer and the commit
leaves those events pending; the next run plans them again and sends the same upserts, which MailerLite applies
idempotently. So no event is lost and no contact is counted twice. One engine per account at a time (AccountLease).

MailerLite's own events (its webhooks: unsubscribed, deleted, ...) are not sent: they are applied to the contacts'
memory first (``engine/mailerlite_events``), at the start of the run and in the chunk of any that arrive meanwhile,
so that planning already knows a contact is suppressed, back, or gone.

Which events a run takes: the pending ones (webhooks, the live queue) and, when a person started it (the Run sync
page, ``python -m sync_core sync``), the staged ones too (an imported file's rows, which wait for a person). A run
can be cancelled: it sends no batch after that, records the answers of those already sent, and what it did not
record stays staged or pending.

Several batches wait on MailerLite at once (``SYNC_STUDIO_BATCHES_IN_FLIGHT``, see ``Sender``), within the account's
one request budget; their answers are recorded here, one batch at a time, in the order they went out.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any, TypeVar

from storage.forgotten import FORGOTTEN_CONTACT
from storage.locks import AccountBusy, AccountLease
from storage.statuses import EventStatus, ItemOutcome, RunStatus
from storage.tables import ReceivedEvent, SyncRun
from sync_core.domain.access import Permission
from sync_core.domain.config import SyncConfig
from sync_core.domain.events import MAILERLITE, PARTNER, NormalizedEvent, RejectedInput
from sync_core.domain.planning import ContactPlan, Planner, SkippedEvent, SkipStatus
from sync_core.domain.sources import normalize_input
from sync_core.domain.state import ContactState
from sync_core.engine.accounts import account_identity
from sync_core.engine.alerts import alert_after_run
from sync_core.engine.forget import forget_contact
from sync_core.engine.mailerlite_events import apply_mailerlite_events, planning_states
from sync_core.engine.sender import (
    RECORDED_OUTCOMES,
    STOPPING_ERRORS,
    ContactResult,
    MailerLiteUnavailable,
    Patience,
    Preparation,
    Sender,
    encodes_as_json,
    name_groups,
    prepare_account,
)
from sync_core.engine.suppression import RecheckSummary, recheck_suppressed
from sync_core.engine.workspace import Workspace
from sync_core.mailerlite import MailerLiteClient
from sync_core.mailerlite.errors import MailerLiteError
from sync_core.mailerlite.models import MAX_BATCH_REQUESTS
from sync_core.settings import get_settings

T = TypeVar("T")

#: Contacts planned together by default: 40 whole batches of one upsert each (a batch holds 49 besides the read that
#: keeps it a batch), so that only a run's last batch goes out partly full.
CHUNK_CONTACTS = 40 * (MAX_BATCH_REQUESTS - 1)
#: A contact whose sends failed this many times becomes "dead": it waits for a person, not for the next run.
MAX_ATTEMPTS = 3
#: The status a skipped input's events are stored with (a duplicate is ignored: its first copy is synced).
_SKIPPED_EVENT_STATUSES = {
    SkipStatus.IGNORED: EventStatus.IGNORED,
    SkipStatus.INVALID: EventStatus.INVALID,
    SkipStatus.DUPLICATE: EventStatus.IGNORED,
    SkipStatus.REJECTED: EventStatus.REJECTED,
}


#: The statuses of the events a run takes: the live queue only (the worker), or staged imports too.
LIVE_ONLY: tuple[str, ...] = (EventStatus.PENDING,)
STAGED_TOO: tuple[str, ...] = (EventStatus.PENDING, EventStatus.STAGED)


class SyncError(RuntimeError):
    """A run that cannot start or had to stop; the message says why in plain words."""


class _Cancelled(Exception):
    """A person asked the run to stop (seen between two batches)."""


@dataclass(slots=True)
class RunProgress:
    run_id: int
    contacts: int  # contacts recorded so far
    pending_at_start: int  # events waiting when the run began (an upper bound for the progress bar)
    events: int  # events handled so far
    counts: dict[str, int] = field(default_factory=dict)
    requests: int = 0


class SyncEngine:
    def __init__(
        self,
        workspace: Workspace,
        *,
        client: MailerLiteClient | None = None,
        config: SyncConfig | None = None,
        chunk_size: int = CHUNK_CONTACTS,
        lease_seconds: float = 180,
        patience_seconds: float | None = None,
        resume_seconds: float = 60,
        batches_in_flight: int | None = None,
        clock: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], None] = time.sleep,
    ):
        self.workspace = workspace
        self.database = workspace.database
        self.events, self.contacts, self.runs = workspace.events, workspace.contacts, workspace.runs
        self._client = client
        self._config = config
        self.chunk_size = chunk_size  # contacts planned together (each with all of its events)
        self.lease_seconds = lease_seconds
        # How long a run waits out MailerLite's trouble before it ends with the events waiting, and how long
        # after that the next try should come (``resume_at``, read by the worker).
        if patience_seconds is None:
            patience_seconds = get_settings().patience_seconds
        self.patience = Patience(patience_seconds, resume_seconds, clock=clock, sleep=sleep)
        # Batches waiting on MailerLite's answer at once, within the account's one budget (see ``Sender``).
        self.batches_in_flight = batches_in_flight or get_settings().batches_in_flight
        self.resume_at: datetime | None = None

    # --- public ---------------------------------------------------------------------------------------------

    def run(
        self,
        *,
        dry_run: bool = False,
        limit: int | None = None,
        trigger: str = "manual",
        progress: Callable[[RunProgress], None] | None = None,
        staged: bool = True,
        cancelled: Callable[[], bool] | None = None,
        on_start: Callable[[SyncRun], None] | None = None,
    ) -> SyncRun:
        """Sync every pending event (or the first ``limit`` contacts'); a dry run sends and changes nothing.
        ``staged``: imported rows waiting for a person too (the worker passes False: it syncs webhooks only).
        ``cancelled`` is asked between batches; when it says True no other batch goes out, those in flight are
        recorded, and the run stops, recorded as cancelled.
        ``on_start`` is told the run as soon as it exists (to show its progress elsewhere)."""
        statuses = STAGED_TOO if staged else LIVE_ONLY

        def work(run: _Run) -> SyncRun:
            counts = self.events.counts()
            run.progress.pending_at_start = sum(counts.get(status, 0) for status in statuses)
            run.statuses = statuses
            # MailerLite's own events (an unsubscribe...) in a chunk are applied before its contacts are planned.
            chunks = (run._apply_mailerlite(rows) for rows in run._chunks(limit))
            return run.execute(chunks, run._process)

        return self._with_run(work, dry_run, trigger, limit, progress, cancelled, on_start)

    def repair(
        self,
        drifts: Iterable[list[T]],
        plan_for: Callable[[T, ContactState | None, Mapping[str, str]], ContactPlan | None],
        *,
        contacts: int = 0,
        dry_run: bool = False,
        trigger: str = "repair",
        progress: Callable[[RunProgress], None] | None = None,
        cancelled: Callable[[], bool] | None = None,
        on_start: Callable[[SyncRun], None] | None = None,
    ) -> SyncRun:
        """A run of its own that sends plans made apart from events (a drift repair, ``engine/drift.py``):
        ``drifts`` come a chunk at a time and ``plan_for`` turns each, with the contact's state and the account's
        group ids, into a plan (None: nothing to do); they are sent and recorded as a sync's are, dry run too."""

        def work(run: _Run) -> SyncRun:
            run.progress.pending_at_start = contacts

            def process(chunk: list[T]) -> None:
                emails = {str(getattr(item, "email", "")) for item in chunk}
                states = run._states(emails)
                plans = []
                for item in chunk:
                    plan = plan_for(item, states.get(str(getattr(item, "email", ""))), run.preparation.group_ids)
                    if plan is not None:
                        plans.append(plan)
                run._send_plans(plans, {}, states)

            return run.execute(iter(drifts), process)

        return self._with_run(work, dry_run, trigger, None, progress, cancelled, on_start)

    def _with_run(
        self,
        work: Callable[[_Run], SyncRun],
        dry_run: bool,
        trigger: str,
        limit: int | None,
        progress: Callable[[RunProgress], None] | None,
        cancelled: Callable[[], bool] | None,
        on_start: Callable[[SyncRun], None] | None,
    ) -> SyncRun:
        """Take the account's lease, start the run's record, do ``work``, let the lease go."""
        self.resume_at = None
        active = self.workspace.active_config()
        if active.problem and self._config is None:
            raise SyncError(f"the saved configuration cannot be used: {active.problem}")
        config = self._config or active.config
        client = self._client or self.workspace.client(config)
        account = account_identity(self.workspace, config)
        lease = self._take_lease(account.key)
        try:
            self._close_interrupted_runs()
            self.contacts.claim_unassigned(account.key)  # memory kept from before accounts were recorded
            if not dry_run:  # what MailerLite said comes before any contact is planned (a dry run: per chunk)
                apply_mailerlite_events(self.workspace, account.key, config)
            run = self.runs.start(
                trigger=trigger,
                dry_run=dry_run,
                contact_limit=limit,
                holder=lease.holder,
                config_version_id=None if self._config else active.version_id,
                account=account.key,
                account_label=account.label,
            )
            if on_start is not None:
                on_start(run)
            running = _Run(self, run, config, client, lease, dry_run, progress, 0)
            running.cancelled = cancelled
            finished = work(running)
        finally:
            lease.release()
        alert_after_run(self.workspace, finished)  # whichever process recorded a failure tells it (never raises)
        return finished

    def retry(
        self, *, item_ids: Sequence[int] | None = None, progress: Callable[[RunProgress], None] | None = None
    ) -> SyncRun:
        """Put the events of failed items back in the queue (the given items, dead or invalid ones included; or
        every failed one) and sync them."""
        self.workspace.require(Permission.RETRY)
        self.workspace.audit("retry_requested", "all failed" if item_ids is None else f"{len(item_ids)} items")
        if item_ids is None:
            requeued = self.events.requeue(statuses=(EventStatus.FAILED,))
        else:
            items = self.runs.items(ids=list(item_ids), limit=len(item_ids))
            missing = sorted(set(item_ids) - {item.id for item in items})
            if missing:
                raise SyncError(f"no sync item with id {', '.join(map(str, missing))}")
            event_ids = [event_id for item in items for event_id in item.event_ids]
            requeued = self.events.requeue(
                statuses=(EventStatus.FAILED, EventStatus.DEAD, EventStatus.INVALID), event_ids=event_ids
            )
        if not requeued:
            raise SyncError(
                "nothing to retry: the items' events are not failed (they may have been retried and synced already)"
            )
        return self.run(trigger="retry", progress=progress, staged=False)

    def recheck_suppressed(self, *, now: datetime | None = None, limit: int = 500) -> RecheckSummary:
        """Ask MailerLite again about the suppressed contacts not asked about for a day (see
        ``engine/suppression.py``), holding the account's lease like a run: those active again have their
        waiting events put back in the queue."""
        config = self._config or self.workspace.active_config().config
        client = self._client or self.workspace.client(config)
        account = account_identity(self.workspace, config)
        lease = self._take_lease(account.key)
        try:
            return recheck_suppressed(
                client,
                account.key,
                contacts=self.contacts,
                events=self.events,
                runs=self.runs,
                now=now or datetime.now(UTC),
                limit=limit,
                call=self.patience.call,
            )
        finally:
            lease.release()
            if self._client is None:
                client.close()

    # --- helpers for _Run -----------------------------------------------------------------------------------

    def _take_lease(self, account: str) -> AccountLease:
        """The account's lease (one sync at a time per account), or a SyncError saying who holds it."""
        lease = AccountLease(self.database, account, seconds=self.lease_seconds)
        try:
            lease.acquire()
        except AccountBusy as exc:
            raise SyncError(str(exc)) from None
        return lease

    def _close_interrupted_runs(self) -> None:
        """Runs left "running" by a process that is gone (killed, crashed) are marked interrupted."""
        self.runs.close_interrupted(
            error="the process stopped before the run finished; the next run picked up its events"
        )


class _Run:
    """One run's work (kept apart so that SyncEngine holds no per-run state)."""

    def __init__(
        self,
        engine: SyncEngine,
        run: SyncRun,
        config: SyncConfig,
        client: MailerLiteClient,
        lease: AccountLease,
        dry_run: bool,
        progress: Callable[[RunProgress], None] | None,
        pending: int,
    ):
        self.engine, self.run, self.config, self.client, self.lease = engine, run, config, client, lease
        self.dry_run = dry_run
        self.on_progress = progress
        self.planner = Planner(config)
        self.sender = Sender(client, patience=engine.patience, in_flight=engine.batches_in_flight)
        assert run.id is not None  # the store gives a run its id when it starts it
        self.run_id: int = run.id
        self.progress = RunProgress(self.run_id, 0, pending, 0)
        self.dry_states: dict[str, ContactState] = {}  # a dry run remembers its own plans, not the database
        self.preparation = Preparation({})
        self.statuses: tuple[str, ...] = LIVE_ONLY
        self.cancelled: Callable[[], bool] | None = None
        self._cancel_asked = False
        self._stopping = False  # something stopped the run: the sender sends no other batch

    def _cancel_requested(self) -> bool:
        """Whether a person asked the run to stop (once asked, it stays asked)."""
        if not self._cancel_asked and self.cancelled is not None and self.cancelled():
            self._cancel_asked = True
        return self._cancel_asked

    def _check_cancelled(self) -> None:
        if self._cancel_requested():
            raise _Cancelled

    def execute(self, chunks: Iterator[list[Any]], process: Callable[[list[Any]], None]) -> SyncRun:
        """``process`` each chunk (a sync's events, a repair's contacts), then record how the run ended."""
        started = time.monotonic()
        status, error = RunStatus.FINISHED, ""
        try:
            prepared = False
            for rows in chunks:
                self._check_cancelled()
                if not prepared and rows:  # only when there is something to sync: an idle run sends no request
                    self.preparation, prepared = self._prepare(), True
                process(rows)
                self.lease.renew()
        except _Cancelled:
            status = RunStatus.CANCELLED
            error = f"cancelled after {self.progress.contacts:,} contact(s); the rest were not " + (
                "looked at" if self.dry_run else "sent and still wait"
            )
        except STOPPING_ERRORS as exc:
            status, error = RunStatus.FAILED, f"{exc} Nothing was lost: the events wait for the next run."
        except MailerLiteUnavailable as exc:
            self.engine.resume_at = exc.resume_at
            counts = self.engine.events.counts()
            waiting = sum(counts.get(status, 0) for status in self.statuses)
            status, error = (
                RunStatus.FAILED,
                (
                    f"{waiting:,} event{'' if waiting == 1 else 's'} wait: MailerLite did not answer ({exc.reason}); "
                    f"nothing was lost, the next try is at {exc.resume_at:%H:%M}."
                ),
            )
        except MailerLiteError as exc:
            status, error = RunStatus.FAILED, f"{exc} The events not recorded yet wait for the next run."
        except AccountBusy as exc:
            status, error = RunStatus.FAILED, str(exc)
        except BaseException as exc:  # an unexpected error: record it in plain words, then let it surface
            self.engine.runs.finish(
                self.run_id,
                status=RunStatus.FAILED,
                error=f"unexpected error: {exc!r}",
                duration_seconds=time.monotonic() - started,
            )
            raise
        notes = self.preparation.warnings[:]
        groups, fields = self.preparation.created_groups, self.preparation.created_fields
        if groups or fields:
            made = ([f"{', '.join(groups)} (groups)"] if groups else []) + (
                [f"{', '.join(fields)} (fields)"] if fields else []
            )
            notes.insert(0, "created in MailerLite: " + "; ".join(made))
        return self.engine.runs.finish(
            self.run_id,
            status=status,
            error=error,
            notes="; ".join(notes),
            duration_seconds=time.monotonic() - started,
        )

    def _prepare(self) -> Preparation:
        """Made again from what the account has at each try, so a retry never creates a group twice."""
        if not self.dry_run:
            return self.engine.patience.call(lambda: prepare_account(self.client, self.config))
        try:
            return prepare_account(self.client, self.config, create=False)
        except STOPPING_ERRORS:
            raise
        except MailerLiteError:
            return Preparation({})  # a dry run can show group names instead of ids

    def _chunks(self, limit: int | None) -> Iterator[list[ReceivedEvent]]:
        """The run's contacts, ``chunk_size`` at a time, each with all of its pending events: one plan per
        contact however its events are spread. A dry run leaves its events pending, so it tells the store which
        contacts it has seen."""
        seen: set[str] | None = set() if self.dry_run else None
        return self.engine.events.pending_by_contact(
            contacts=self.engine.chunk_size, limit=limit, seen=seen, statuses=self.statuses
        )

    # --- one chunk ------------------------------------------------------------------------------------------

    def _apply_mailerlite(self, rows: list[ReceivedEvent]) -> list[ReceivedEvent]:
        """The chunk's MailerLite events (arrived during the run, or left pending by a dry run) applied to their
        contacts before the contacts are planned; the rest of the chunk, to plan."""
        said = [row for row in rows if row.source == MAILERLITE]
        if not said:
            return rows
        states = apply_mailerlite_events(
            self.engine.workspace, self.run.account, self.config, rows=said, record=not self.dry_run,
            known=self.dry_states,
        )  # fmt: skip
        if self.dry_run:
            self.dry_states.update(states)
        self.progress.events += len(said)
        return [row for row in rows if row.source != MAILERLITE]

    def _without_forgotten(self, rows: list[ReceivedEvent]) -> list[ReceivedEvent]:
        """The chunk without the events of forgotten contacts from before their forget (stored before the forget
        was seen): they are never planned, and a real run deletes them."""
        covered = set(self.engine.workspace.forgotten.covered(rows))
        if not covered:
            return rows
        if not self.dry_run:
            self.engine.workspace.forgotten.drop(sorted(covered))
        return [row for row in rows if row.id not in covered]

    def _process(self, rows: list[ReceivedEvent]) -> None:
        rows = self._without_forgotten(rows)
        if not rows:
            return
        by_event_id: dict[str, list[ReceivedEvent]] = {}
        items = []
        for row in rows:
            by_event_id.setdefault(row.event_id, []).append(row)
            items.append(_normalize(row))
        emails = {item.email for item in items if isinstance(item, NormalizedEvent) and item.email}
        states = self._states(emails)
        plans: list[ContactPlan] = []
        skipped: list[SkippedEvent] = []
        for result in self.planner.iter_plan(items, states, group_ids=self.preparation.group_ids):
            if isinstance(result, ContactPlan):
                plans.append(result)
            else:
                skipped.append(result)
        self._record_skipped(skipped, by_event_id)
        self.progress.events += len(rows)
        self._send_plans(plans, by_event_id, states)

    def _send_plans(
        self, plans: list[ContactPlan], by_event_id: dict[str, list[ReceivedEvent]], states: dict[str, ContactState]
    ) -> None:
        """Send the plans (a dry run records them instead) and record each batch as it is answered."""
        if self.dry_run:
            self._record_dry(plans, by_event_id)
            return
        self.engine.patience.call(lambda: name_groups(self.client, self.preparation, plans))
        quiet = [plan for plan in plans if not plan.operations]
        if quiet:
            self._commit([_quiet_result(plan) for plan in quiet], by_event_id, states)
        answers = self.sender.send([plan for plan in plans if plan.operations], stop=self._no_more_batches)
        self._record_answers(
            answers, lambda results, requests: self._commit(results, by_event_id, states, requests=requests)
        )

    def _no_more_batches(self) -> bool:
        """Asked by the sender before each batch it would send next."""
        return self._stopping or self._cancel_requested()

    def _record_answers(
        self, answers: Iterator[list[ContactResult]], record: Callable[[list[ContactResult], int], None]
    ) -> None:
        """Record each batch as the sender hands it back. Whatever stops the run meanwhile (Ctrl-C, an error), no
        other batch goes out and the batches already sent are still answered and recorded before it stops, so
        that the next run does not send them again; a cancel stops the run once they are recorded."""
        sent_before = self.sender.requests_sent
        try:
            for results in answers:
                requests = self.sender.requests_sent - sent_before
                sent_before = self.sender.requests_sent
                record(results, requests)
                self.lease.renew()
        except BaseException:
            self._stopping = True
            while True:
                try:
                    results = next(answers)
                except BaseException:  # the end, or the sender's own failure: the first one is what stops the run
                    break
                requests = self.sender.requests_sent - sent_before
                sent_before = self.sender.requests_sent
                try:
                    record(results, requests)
                except BaseException:  # recorded or not, the first trouble is the one to raise
                    continue
            raise
        self._check_cancelled()

    def _states(self, emails: set[str]) -> dict[str, ContactState]:
        states = planning_states(self.engine.contacts, self.run.account, emails)
        if self.dry_run:
            states.update({email: state for email, state in self.dry_states.items() if email in emails})
        return states

    def _record_skipped(self, skipped: list[SkippedEvent], by_event_id: dict[str, list[ReceivedEvent]]) -> None:
        if not skipped:
            return
        counts: dict[str, int] = {}
        items: list[dict] = []
        statuses: dict[tuple[str, str, bool], list[int]] = {}
        for entry in skipped:
            rows = by_event_id.get(entry.event_id or "", [])
            # A dry run shows why each contact would be left out, an ignored one too (a real run only counts
            # those: the event's status keeps the reason).
            if entry.status == SkipStatus.INVALID or (self.dry_run and entry.status == SkipStatus.IGNORED):
                items.append(
                    {
                        "email": entry.email
                        or ("(no valid email)" if entry.status == SkipStatus.INVALID else "(no email)"),
                        "outcome": ItemOutcome.INVALID if entry.status == SkipStatus.INVALID else ItemOutcome.IGNORED,
                        "reason": entry.reason,
                        "event_type": entry.event_type,
                        "event_ids": [row.id for row in rows],
                        "dry_run": self.dry_run,
                    }
                )
            else:
                counts[entry.status] = counts.get(entry.status, 0) + 1
            status = _SKIPPED_EVENT_STATUSES[entry.status]
            statuses.setdefault((status, entry.reason, False), []).extend(row.id for row in rows)  # type: ignore
        with self.engine.database.session() as session:
            if not self.dry_run:
                self.engine.events.set_statuses(session, statuses, run_id=self.run_id)
            self.engine.runs.record(session, self.run_id, items, extra_counts=counts)
        for name, number in counts.items():
            self.progress.counts[name] = self.progress.counts.get(name, 0) + number
        for item in items:
            self.progress.counts[item["outcome"]] = self.progress.counts.get(item["outcome"], 0) + 1

    def _record_dry(self, plans: list[ContactPlan], by_event_id: dict[str, list[ReceivedEvent]]) -> None:
        """Record what each plan would do. Plans that depend on what the account holds read it first (lookups
        only, which change nothing), so the dry run says what the sync would really do."""
        planned = [
            ContactResult(
                plan,
                RECORDED_OUTCOMES[plan.outcome],
                plan.reason,
                [operation.as_request() for operation in plan.operations],
            )
            for plan in plans
            if not plan.reads_first
        ]
        self._commit_dry(planned, by_event_id)
        answers = self.sender.rehearse([plan for plan in plans if plan.reads_first], stop=self._no_more_batches)
        self._record_answers(
            answers, lambda results, requests: self._commit_dry(results, by_event_id, requests=requests)
        )

    def _commit_dry(
        self, results: list[ContactResult], by_event_id: dict[str, list[ReceivedEvent]], *, requests: int = 0
    ) -> None:
        for result in results:
            if result.outcome in (ItemOutcome.CREATED, ItemOutcome.UPDATED, ItemOutcome.UNCHANGED):
                self.dry_states[result.plan.email] = result.plan.new_state
        if results:
            self._commit(results, by_event_id, {}, requests=requests)

    def _commit(
        self,
        results: list[ContactResult],
        by_event_id: dict[str, list[ReceivedEvent]],
        states: dict[str, ContactState],
        *,
        requests: int = 0,
    ) -> None:
        """Record a batch of contacts in one transaction: items, group changes, states, events, run counters."""
        items: list[dict] = []
        groups: dict[int, list[tuple[str, str]]] = {}
        contacts: list[dict] = []
        statuses: dict[tuple[str, str, bool], list[int]] = {}
        forgotten: list[ContactResult] = []  # erased once their batch is recorded
        for result in results:
            plan = result.plan
            rows = [row for event_id in plan.event_ids for row in by_event_id.get(event_id, [])]
            row_ids = [row.id for row in rows]
            outcome, reason = result.outcome, result.reason
            attempts = max((row.attempts for row in rows), default=0) + 1
            if outcome == ItemOutcome.FAILED and attempts >= MAX_ATTEMPTS:
                outcome = ItemOutcome.DEAD
                reason = f"{reason} (gave up after {attempts} attempts; retry it from the Monitor page)"
            if not self.dry_run:
                contact = self._contact_row(result, outcome, states)
                if contact is not None:
                    contacts.append(contact)
                if outcome == ItemOutcome.FAILED:
                    key = (EventStatus.FAILED, reason, True)
                elif outcome == ItemOutcome.DEAD:
                    key = (EventStatus.DEAD, reason, True)
                else:
                    key = (EventStatus.SYNCED, reason, False)
                statuses.setdefault(key, []).extend(row_ids)  # type: ignore[arg-type]
            erased = outcome == ItemOutcome.FORGOTTEN and not self.dry_run
            if erased:
                forgotten.append(result)
            items.append(
                {
                    "email": FORGOTTEN_CONTACT if erased else plan.email,
                    "outcome": outcome,
                    "reason": reason,
                    "event_type": rows[0].event_type if rows else None,
                    "event_ids": [] if erased else row_ids,
                    "requests": [] if erased else result.requests,
                    "response_code": result.response_code,
                    "changes": {
                        key: [_storable(before), _storable(after)] for key, (before, after) in plan.changes.items()
                    },
                    "attempts": attempts,
                    "dry_run": self.dry_run,
                }
            )
            if outcome in (ItemOutcome.CREATED, ItemOutcome.UPDATED):
                changes = [(g, "added") for g in plan.groups_added] + [(g, "removed") for g in plan.groups_removed]
                if changes:
                    groups[len(items) - 1] = changes
        with self.engine.database.session() as session:
            self.engine.contacts.save_many(session, self.run.account, contacts)
            self.engine.events.set_statuses(session, statuses, run_id=self.run_id)
            self.engine.runs.record(session, self.run_id, items, groups, requests=requests)
        for result in forgotten:
            names = ", ".join(repr(name) for name in result.plan.triggers) or "a trigger"
            forget_contact(
                self.engine.workspace,
                result.plan.email,
                requested_by=f"the trigger {names} (sync run {self.run_id})",
                origin="trigger",
                asked=f"{result.reason[0].upper()}{result.reason[1:]}.",
            )
        self.progress.contacts += len(items)
        self.progress.requests += requests
        for item in items:
            self.progress.counts[item["outcome"]] = self.progress.counts.get(item["outcome"], 0) + 1
        if self.on_progress is not None:
            self.on_progress(self.progress)

    @staticmethod
    def _contact_row(result: ContactResult, outcome: ItemOutcome, states: dict[str, ContactState]) -> dict | None:
        """The contact as it stands after this result, or None when nothing about it changed."""
        plan = result.plan
        if outcome == ItemOutcome.DELETED:  # known as not in MailerLite: the next upsert creates them again
            state = plan.new_state
            return {"email": plan.email, "subscriber_id": None, "status": state.status, "state": state.to_dict()}
        if outcome in (ItemOutcome.CREATED, ItemOutcome.UPDATED, ItemOutcome.UNSUBSCRIBED, ItemOutcome.UNCHANGED):
            state = plan.new_state
            return {
                "email": plan.email,
                "subscriber_id": result.subscriber_id or state.subscriber_id,
                "status": result.status or state.status,
                "state": state.to_dict(),
                "created": outcome == ItemOutcome.CREATED,
                "changed": outcome in (ItemOutcome.CREATED, ItemOutcome.UPDATED),
            }
        if (
            outcome == ItemOutcome.SUPPRESSED
            and result.requests
            and result.response_code
            and result.response_code < 300
        ):
            state = plan.new_state  # the upsert was applied; MailerLite only kept them unsubscribed
            return {
                "email": plan.email,
                "subscriber_id": result.subscriber_id or state.subscriber_id,
                "status": result.status,
                "state": state.to_dict(),
            }
        if outcome == ItemOutcome.SUPPRESSED:  # what MailerLite has is what it had: only the status is new
            before = states.get(plan.email) or ContactState(plan.email)
            return {
                "email": plan.email,
                "subscriber_id": result.subscriber_id or before.subscriber_id,
                "status": result.status or before.status or "unsubscribed",
                "state": before.to_dict(),
            }
        return None  # skipped (not in MailerLite), failed or dead: nothing was applied


def _storable(value: Any) -> Any:
    """A value as the history can keep it: one that cannot be written as JSON (NaN, a lone surrogate, an
    integer thousands of digits long) is kept as a short description instead, so recording never fails."""
    if encodes_as_json(value):
        return value
    if isinstance(value, float):
        return str(value)  # "nan", "inf"
    if isinstance(value, int):
        return "(a number over 4,300 digits long)"
    if isinstance(value, str):
        return value.encode("utf-8", "replace").decode("utf-8")
    return f"({type(value).__name__} value that cannot be stored)"


def _quiet_result(plan: ContactPlan) -> ContactResult:
    """A plan with nothing to send: unchanged, or suppressed before anything was sent."""
    return ContactResult(
        plan,
        RECORDED_OUTCOMES[plan.outcome],
        plan.reason,
        subscriber_id=plan.new_state.subscriber_id,
        status=plan.new_state.status,
    )


def _normalize(row: ReceivedEvent) -> NormalizedEvent | RejectedInput:
    """A stored event read again (after a configuration change it maps differently, which is why the raw body
    is kept). It keeps the id it was stored under, whatever its body would give today; its size was checked
    when it came in."""
    if row.status == EventStatus.REJECTED or row.body is None:
        return RejectedInput(row.source, row.reason or "the input could not be read", id=row.event_id)
    return normalize_input(
        row.body,
        row.source,
        kind=row.kind or PARTNER,
        event_id=row.event_id,
        received_at=row.received_at or datetime.now(UTC),
        position=row.origin or "stored",
        limit=None,
    )
