"""A person's run, asked for on the Run sync page and carried out elsewhere: by the worker, or (when no worker
runs) by a background thread of the dashboard's server. Never in the page's own thread, so a large backfill does
not hold a browser tab, and its progress lives in the database, so any page view shows it, even after a reload.

``request_run`` records the request; ``carry_out`` takes one and runs it (a dry run or a real one, with its contact
limit, staged imports included: a person started it), writing progress after each recorded batch and stopping
between batches when the person cancels.
"""

from __future__ import annotations

import logging
import math
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime

from storage.locks import new_holder
from storage.run_requests import RunRequestStore
from storage.statuses import EventStatus, RequestStatus
from storage.tables import RunRequest, SyncRun
from sync_core.domain.access import Permission
from sync_core.engine import drift
from sync_core.engine.run import STAGED_TOO, RunProgress, SyncEngine, SyncError
from sync_core.engine.workspace import Workspace
from sync_core.mailerlite import MailerLiteClient, MailerLiteSettings
from sync_core.mailerlite.models import MAX_BATCH_REQUESTS

log = logging.getLogger("sync_core.engine.run_requests")

#: The requests of the Compare with MailerLite page: a comparison, a repair (dry run or not), a repair that
#: recreates the contacts deleted in MailerLite.
DRIFT_CHECK, REPAIR, REPAIR_RECREATE = "drift-check", "repair", "repair-recreate"
DRIFT_TRIGGERS = (DRIFT_CHECK, REPAIR, REPAIR_RECREATE)

#: How long the dashboard's own runner waits for an account another sync holds before it gives up.
BUSY_PATIENCE_SECONDS = 120.0
#: What a run can do at most: the account's requests a minute, and a batch's contacts (one slot kept for the read
#: that keeps a batch of upserts an ordinary batch).
REQUESTS_PER_MINUTE: int = MailerLiteSettings.model_fields["rate_limit"].default
CONTACTS_PER_REQUEST = MAX_BATCH_REQUESTS - 1


class AccountBusyNow(RuntimeError):
    """The account is being synced by someone else; the request went back to the queue."""


@dataclass(slots=True, frozen=True)
class RequestView:
    """A request as the page shows it: where it stands, and its progress in figures."""

    id: int
    status: str
    dry_run: bool
    runner: str
    contacts_total: int
    contacts_done: int
    requests: int
    run_id: int | None
    error: str
    cancel_requested: bool
    seconds_left: float | None  # an estimate from the pace so far; None until there is a pace
    trigger: str = "dashboard"  # what it is: a sync, or a comparison or repair (DRIFT_TRIGGERS)

    @property
    def done(self) -> bool:
        return self.status == RequestStatus.DONE


def request_run(workspace: Workspace, *, dry_run: bool, limit: int | None, trigger: str = "dashboard") -> int:
    """Record a request for a run; returns its id."""
    workspace.require(Permission.RUN_SYNC)
    request = RunRequestStore(workspace.database).create(dry_run=dry_run, contact_limit=limit, trigger=trigger)
    assert request.id is not None
    workspace.audit("sync_requested", trigger, dry_run=dry_run, request=request.id)
    return request.id


def cancel_run(workspace: Workspace, request_id: int) -> None:
    workspace.require(Permission.RUN_SYNC)
    RunRequestStore(workspace.database).cancel(request_id)


def staged_rows(workspace: Workspace) -> int:
    """Imported rows waiting for a person to start a dry run or a sync of them."""
    return workspace.events.count(EventStatus.STAGED)


_ABANDONED = (
    "the process running it stopped before it finished (the studio was restarted?); nothing was lost: what it "
    "did not record still waits, start it again"
)


def view(workspace: Workspace, request_id: int, *, now: datetime | None = None) -> RequestView | None:
    store = RunRequestStore(workspace.database)
    store.close_abandoned(_ABANDONED)
    request = store.get(request_id)
    return None if request is None else _view(request, now or datetime.now(UTC))


def unfinished(workspace: Workspace, *, drift: bool = False) -> int | None:
    """The id of the oldest request not done yet (what a reloaded page shows), or None: a sync's (Run sync), or
    with ``drift`` a comparison's or a repair's (Compare with MailerLite)."""
    store = RunRequestStore(workspace.database)
    store.close_abandoned(_ABANDONED)
    request = store.unfinished(DRIFT_TRIGGERS) if drift else store.unfinished(other_than=DRIFT_TRIGGERS)
    return None if request is None else request.id


def expected_in_words(workspace: Workspace, request: RequestView) -> str:
    """What a queued run will take once it starts, from the contacts waiting and the account's limit: " 300
    contacts to go through, less than a minute once it starts at MailerLite's limit"."""
    contacts = workspace.events.contacts_among(STAGED_TOO)
    if not contacts:
        return ""
    minutes = math.ceil(contacts / CONTACTS_PER_REQUEST) / REQUESTS_PER_MINUTE
    took = "less than a minute" if minutes < 1 else f"about {math.ceil(minutes):,} min"
    return f" {contacts:,} contacts to go through, {took} once it starts at MailerLite's limit"


def _view(request: RunRequest, now: datetime) -> RequestView:
    left = None
    if request.status == RequestStatus.RUNNING and request.started_at and request.contacts_done:
        elapsed = (now - request.started_at).total_seconds()
        remaining = max(request.contacts_total - request.contacts_done, 0)
        left = elapsed / request.contacts_done * remaining
    assert request.id is not None
    return RequestView(
        request.id,
        request.status,
        request.dry_run,
        request.runner,
        request.contacts_total,
        request.contacts_done,
        request.requests,
        request.run_id,
        request.error,
        request.cancel_requested,
        left,
        request.trigger,
    )


def carry_out(
    workspace: Workspace,
    request_id: int,
    *,
    runner: str,
    holder: str | None = None,
    client: MailerLiteClient | None = None,
    on_run: Callable[[SyncRun], None] | None = None,
) -> SyncRun | None:
    """Take the request and run it; None when someone else took it first (or it was cancelled before it
    started). Raises ``AccountBusyNow`` when another sync holds the account: the request is queued again."""
    store = RunRequestStore(workspace.database)
    if not store.claim(request_id, holder=holder or new_holder(), runner=runner):
        return None
    request = store.get(request_id)
    assert request is not None
    if request.trigger in DRIFT_TRIGGERS:
        return _carry_out_drift(workspace, store, request, client=client, on_run=on_run)
    total = workspace.events.contacts_among(STAGED_TOO)
    if request.contact_limit is not None:
        total = min(total, request.contact_limit)
    store.update(request_id, contacts_total=total)
    last_write = [0.0]
    latest: list[RunProgress] = []

    def write(figures: RunProgress) -> None:
        store.update(
            request_id,
            contacts_done=figures.contacts,
            events_done=figures.events,
            requests=figures.requests,
            contacts_total=max(total, figures.contacts),
        )

    def progress(figures: RunProgress) -> None:
        latest[:] = [figures]
        now = time.monotonic()
        if now - last_write[0] >= 0.25:  # a write per batch, at most a few times a second
            last_write[0] = now
            write(figures)

    engine = SyncEngine(workspace, client=client)
    try:
        run = engine.run(
            dry_run=request.dry_run,
            limit=request.contact_limit,
            trigger=request.trigger,
            progress=progress,
            staged=True,
            cancelled=lambda: store.cancel_requested(request_id),
            on_start=lambda started: store.update(request_id, run_id=started.id),
        )
    except SyncError as exc:
        if "another sync is running" in str(exc):
            store.give_back(request_id)
            raise AccountBusyNow(str(exc)) from None
        store.finish(request_id, error=str(exc))
        return None
    except Exception as exc:
        log.exception("run request %s failed", request_id)
        store.finish(request_id, error=f"the run stopped on an unexpected error: {exc}")
        raise
    if latest:
        write(latest[0])
    store.finish(request_id, run_id=run.id)
    if on_run is not None:
        on_run(run)
    return run


def _carry_out_drift(
    workspace: Workspace,
    store: RunRequestStore,
    request: RunRequest,
    *,
    client: MailerLiteClient | None,
    on_run: Callable[[SyncRun], None] | None,
) -> SyncRun | None:
    """A comparison with MailerLite (its progress: subscribers read of those counted) or a repair (contacts
    sent, as a sync's), asked for on the Compare with MailerLite page."""
    assert request.id is not None
    request_id = request.id
    if request.trigger == DRIFT_CHECK:

        def read(figures: drift.CheckProgress) -> None:
            store.update(
                request_id,
                contacts_total=max(figures.total, figures.read),
                contacts_done=figures.read,
                requests=figures.requests,
            )

        try:
            check = drift.check(workspace, client=client, trigger="dashboard", progress=read)
        except drift.DriftError as exc:
            store.finish(request_id, error=str(exc))
            return None
        except Exception as exc:
            log.exception("drift check request %s failed", request_id)
            store.finish(request_id, error=f"the comparison stopped on an unexpected error: {exc}")
            raise
        store.finish(request_id, error=check.error)
        return None
    last = drift.latest(workspace)
    store.update(request_id, contacts_total=last.contacts_differ if last else 0)

    def sent(figures: RunProgress) -> None:
        store.update(request_id, contacts_done=figures.contacts, requests=figures.requests)

    try:
        run = drift.repair(
            workspace,
            dry_run=request.dry_run,
            recreate_deleted=request.trigger == REPAIR_RECREATE,
            client=client,
            progress=sent,
            cancelled=lambda: store.cancel_requested(request_id),
            on_start=lambda started: store.update(request_id, run_id=started.id),
        )
    except drift.DriftError as exc:
        if "another sync is running" in str(exc):
            store.give_back(request_id)
            raise AccountBusyNow(str(exc)) from None
        store.finish(request_id, error=str(exc))
        return None
    except Exception as exc:
        log.exception("repair request %s failed", request_id)
        store.finish(request_id, error=f"the repair stopped on an unexpected error: {exc}")
        raise
    store.finish(request_id, run_id=run.id)
    if on_run is not None:
        on_run(run)
    return run


def carry_out_in_background(workspace: Workspace, request_id: int) -> threading.Thread:
    """When no worker runs: the request is run by a thread of this process (the dashboard's server), waiting
    for the account while another sync holds it."""

    def work() -> None:
        deadline = time.monotonic() + BUSY_PATIENCE_SECONDS
        while True:
            try:
                carry_out(workspace, request_id, runner="dashboard")
                return
            except AccountBusyNow as exc:
                if time.monotonic() > deadline:
                    store = RunRequestStore(workspace.database)
                    if store.claim(request_id, holder=new_holder(), runner="dashboard"):
                        store.finish(request_id, error=str(exc))
                    return
                time.sleep(1.0)
            except Exception:  # noqa: BLE001 - recorded on the request by carry_out; the thread just ends
                return

    thread = threading.Thread(target=work, name=f"run-request-{request_id}", daemon=True)
    thread.start()
    return thread


__all__ = [
    "DRIFT_CHECK",
    "REPAIR",
    "REPAIR_RECREATE",
    "AccountBusyNow",
    "RequestView",
    "cancel_run",
    "carry_out",
    "carry_out_in_background",
    "request_run",
    "staged_rows",
    "unfinished",
    "view",
]
