"""Compare with MailerLite, and repair: the account read page by page against what the studio decided for it.

``check`` lists the account's subscribers (``GET /subscribers?include=groups``, cursor pages of up to 1000),
compares each page in bulk with the states the studio keeps for those emails (``domain/drift.py``), and stores
the contacts that differ as it goes; the contacts it never saw are the ones deleted in MailerLite, found with a
query (``storage/drift.py``). So a check of any size holds one page in memory. ``repair`` sends what the last
check found through the sync's own sender, as a run of its own (trigger ``repair``, dry run first), leaving
suppressed subscribers alone and deleted ones deleted unless a person chooses to recreate them.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from storage.drift import FAILED, FINISHED, DriftStore
from storage.locks import AccountBusy, AccountLease
from storage.tables import DriftCheck, SyncRun
from sync_core.domain.drift import (
    ContactDrift,
    Difference,
    Scope,
    compare,
    deleted,
    repair_plan,
    summary,
)
from sync_core.domain.planning import ContactPlan
from sync_core.domain.state import ContactState
from sync_core.engine.accounts import account_identity, account_in_use
from sync_core.engine.run import SyncEngine, SyncError
from sync_core.engine.workspace import Workspace
from sync_core.mailerlite import MailerLiteClient
from sync_core.mailerlite.errors import MailerLiteError
from sync_core.settings import get_settings

#: Subscribers read per request: the most MailerLite's listings take.
PAGE_SIZE = 1000
#: Differing contacts repaired together (each chunk is planned, sent and recorded like a sync's).
REPAIR_CHUNK = 1000


class DriftError(RuntimeError):
    """A check or a repair that cannot be done; the message says why in plain words."""


@dataclass(slots=True)
class CheckProgress:
    read: int  # subscribers read so far
    total: int  # subscribers MailerLite counts
    requests: int


def check(
    workspace: Workspace,
    *,
    client: MailerLiteClient | None = None,
    trigger: str = "manual",
    page_size: int = PAGE_SIZE,
    progress: Callable[[CheckProgress], None] | None = None,
) -> DriftCheck:
    """Compare the account in use with what the studio decided for it; the check is stored and returned (a
    failed one too, with its error in plain words). Raises ``DriftError`` when it cannot start."""
    active = workspace.active_config()
    if active.problem:
        raise DriftError(f"the saved configuration cannot be used: {active.problem}")
    config = active.config
    account = account_identity(workspace, config)
    store = DriftStore(workspace.database)
    lease = AccountLease(workspace.database, f"drift-check:{account.key}"[:100], seconds=600)
    try:
        lease.acquire()
    except AccountBusy:
        raise DriftError("another comparison of this account is running; wait for it to finish") from None
    own_client = client is None
    client = client or workspace.client(config)
    try:
        store.close_abandoned(account.key, "the comparison stopped before it finished (the studio was restarted?)")
        started = store.start(account=account.key, account_label=account.label, trigger=trigger)
        assert started.id is not None
        check_id = started.id
        scope = Scope.of(config)
        figures = CheckProgress(0, 0, 0)
        compared = differ = 0
        counts: dict[str, int] = {}

        def keep(drifts: list[ContactDrift]) -> list[dict]:
            nonlocal differ
            differ += len(drifts)
            for item in drifts:
                for kind in item.kinds:
                    counts[kind] = counts.get(kind, 0) + 1
            return [
                {
                    "email": item.email,
                    "subscriber_id": item.subscriber_id,
                    "kinds": [str(kind) for kind in item.kinds],
                    "differences": [d.to_json() for d in item.differences],
                }
                for item in drifts
            ]

        try:
            figures.total = client.count_subscribers()
            figures.requests += 1
            for page in client.iter_subscriber_pages(page_size=page_size, include_groups=True):
                figures.requests += 1
                emails = [subscriber.email.strip().lower() for subscriber in page.items]
                rows = workspace.contacts.states(account.key, emails)
                found: list[ContactDrift] = []
                for subscriber, email in zip(page.items, emails):
                    row = rows.get(email)
                    if row is None:
                        continue  # a subscriber the studio never synced: not its business
                    compared += 1
                    differences = compare(_state(row), subscriber.model_dump(), scope)
                    if differences:
                        found.append(ContactDrift(email, subscriber.id, differences))
                store.add_page(check_id, keep(found), emails)
                figures.read += len(page.items)
                if progress is not None:
                    progress(figures)
                lease.renew()
            after = ""
            while missing := store.unseen_contacts(check_id, account.key, before=started.started_at, after_email=after):
                gone = [ContactDrift(row.email, row.subscriber_id, [deleted(_state(row))]) for row in missing]
                compared += len(gone)
                store.add_page(check_id, keep(gone), ())
                after = missing[-1].email
        except MailerLiteError as exc:
            return store.finish(
                check_id,
                status=FAILED,
                error=f"MailerLite could not be read to the end: {exc} Try again in a while.",
                subscribers_read=figures.read,
                requests=figures.requests,
            )
        except BaseException as exc:  # recorded in plain words, then let through (a bug, an interrupt)
            store.finish(
                check_id,
                status=FAILED,
                error=f"the comparison stopped on an unexpected error: {exc!r}",
                requests=figures.requests,
            )
            raise
        return store.finish(
            check_id,
            subscribers_read=figures.read,
            contacts_compared=compared,
            contacts_differ=differ,
            counts=counts,
            requests=figures.requests,
        )
    finally:
        lease.release()
        if own_client:
            client.close()


def _state(row) -> ContactState:  # noqa: ANN001 - a storage Contact row
    state = ContactState.from_dict(row.state) if row.state else ContactState(row.email)
    state.subscriber_id, state.status = row.subscriber_id, row.status
    return state


def latest(workspace: Workspace) -> DriftCheck | None:
    """The last finished check of the account in use."""
    account = account_in_use(workspace)
    return None if account is None else DriftStore(workspace.database).latest(account.key)


def last_check(workspace: Workspace) -> DriftCheck | None:
    """The last check of the account in use that ended, finished or failed (what the page shows)."""
    account = account_in_use(workspace)
    if account is None:
        return None
    return DriftStore(workspace.database).latest(account.key, statuses=(FINISHED, FAILED))


def iter_drifts(workspace: Workspace, check_id: int, *, page: int = 1000) -> Iterator[ContactDrift]:
    """A check's differing contacts in the order they were found, a page at a time."""
    store = DriftStore(workspace.database)
    after = 0
    while rows := store.contacts(check_id, after_id=after, limit=page):
        for row in rows:
            yield ContactDrift(row.email, row.subscriber_id, [Difference.from_json(d) for d in row.differences])
        after = rows[-1].id or after
        if len(rows) < page:
            return


def describe(check: DriftCheck) -> str:
    """The check in a marketer's words."""
    if check.status == FAILED:
        return check.error or "The comparison did not finish."
    return summary(check.contacts_differ, check.counts or {})


def _chunks(workspace: Workspace, check_id: int) -> Iterator[list[ContactDrift]]:
    chunk: list[ContactDrift] = []
    for item in iter_drifts(workspace, check_id):
        chunk.append(item)
        if len(chunk) >= REPAIR_CHUNK:
            yield chunk
            chunk = []
    if chunk:
        yield chunk


def repair(
    workspace: Workspace,
    *,
    dry_run: bool = False,
    recreate_deleted: bool = False,
    client: MailerLiteClient | None = None,
    trigger: str = "repair",
    progress: Callable | None = None,
    cancelled: Callable[[], bool] | None = None,
    on_start: Callable[[SyncRun], None] | None = None,
) -> SyncRun:
    """Send what the last check found (a dry run records what would be sent): each differing contact gets the
    studio's decision again. Raises ``DriftError`` when there is no check to repair from, or the account is
    busy."""
    last = latest(workspace)
    if last is None or last.id is None:
        raise DriftError("there is nothing to repair yet: Compare with MailerLite first, then repair what it finds")
    check_id = last.id

    def plan_for(item: ContactDrift, state: ContactState | None, group_ids: Mapping[str, str]) -> ContactPlan | None:
        if state is None:
            return None  # forgotten since the check
        return repair_plan(item, state, group_ids=group_ids, recreate_deleted=recreate_deleted)

    engine = SyncEngine(workspace, client=client)
    try:
        run = engine.repair(
            _chunks(workspace, check_id),
            plan_for,
            contacts=last.contacts_differ,
            dry_run=dry_run,
            trigger=trigger,
            progress=progress,
            cancelled=cancelled,
            on_start=on_start,
        )
    except SyncError as exc:
        raise DriftError(str(exc)) from None
    if not dry_run:
        DriftStore(workspace.database).finish(check_id, repair_run_id=run.id)
    return run


# --- the schedule -------------------------------------------------------------------------------------------------


def set_daily_check(workspace: Workspace, on: bool, *, author: str = "") -> int:
    """Switch the worker's daily check on or off (a new configuration version); returns its number."""
    config = workspace.config()
    changed = config.model_copy(update={"drift": config.drift.model_copy(update={"daily_check": on})})
    return workspace.save_config(
        changed, author=author, comment=f"daily comparison with MailerLite {'on' if on else 'off'}"
    )


def check_due(workspace: Workspace, *, now: datetime | None = None) -> bool:
    """Whether the worker should compare the account now: the daily check is on, something was synced, and the
    last check (or, before any, the first sync) is older than the interval (``SYNC_STUDIO_DRIFT_CHECK_SECONDS``)."""
    active = workspace.active_config()
    if active.problem or not active.config.drift.daily_check:
        return False
    now = now or datetime.now(UTC)
    interval = timedelta(seconds=get_settings().drift_check_seconds)
    last = DriftStore(workspace.database).latest_started_at()
    if last is not None:
        return now - last >= interval
    first = workspace.runs.first_finished_at()
    return first is not None and now - first >= interval


def describe_schedule(workspace: Workspace) -> str:
    seconds = get_settings().drift_check_seconds
    every = "day" if seconds == 86400 else (f"{seconds / 3600:g} hours" if seconds >= 3600 else f"{seconds:g} s")
    return f"every {every}"


__all__ = [
    "CheckProgress",
    "DriftError",
    "check",
    "check_due",
    "describe",
    "iter_drifts",
    "last_check",
    "latest",
    "repair",
    "set_daily_check",
]
