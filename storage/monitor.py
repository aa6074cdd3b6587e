"""What the Monitor page and exports read. Every query costs the same whatever the size of the history:
totals and charts come from the daily rollups, lists are pages taken along an index (keyset pagination, no
OFFSET scans, no full counts), exports stream in pages."""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, replace
from datetime import UTC, date, datetime, time
from typing import TypeVar

import sqlalchemy as sa
from sqlalchemy.orm import defer
from sqlmodel import col, select

from storage.db import Database
from storage.statuses import EventStatus, ItemOutcome
from storage.tables import CONTACT_UPDATED, Contact, DailyGroup, DailyOutcome, ReceivedEvent, SyncItem

_Row = TypeVar("_Row", SyncItem, ReceivedEvent)
SUCCESS = (
    ItemOutcome.CREATED,
    ItemOutcome.UPDATED,
    ItemOutcome.UNSUBSCRIBED,
    ItemOutcome.DELETED,
    ItemOutcome.UNCHANGED,
    ItemOutcome.SUPPRESSED,
    ItemOutcome.SKIPPED,
)
PROBLEMS = (ItemOutcome.INVALID, ItemOutcome.FAILED, ItemOutcome.DEAD)
#: Events that wait for a person: rows and events that cannot be synced as they are.
UNSYNCABLE = (EventStatus.INVALID, EventStatus.REJECTED)
EXPORT_COLUMNS = (
    "id",
    "run_id",
    "created_at",
    "email",
    "outcome",
    "reason",
    "event_type",
    "response_code",
    "attempts",
    "dry_run",
    "event_ids",
    "requests",
    "changes",
)


@dataclass(slots=True)
class Totals:
    by_outcome: dict[str, int]

    @property
    def items(self) -> int:
        """Items recorded (a contact synced in three runs is three items; ``contacts_synced`` counts it once)."""
        return sum(self.by_outcome.values())

    @property
    def success_rate(self) -> float | None:
        """Share of the items that ended well (None when nothing was synced yet)."""
        good = sum(self.by_outcome.get(name, 0) for name in SUCCESS)
        bad = sum(self.by_outcome.get(name, 0) for name in PROBLEMS)
        return good / (good + bad) if good + bad else None


@dataclass(slots=True)
class ItemFilter:
    outcomes: Sequence[str] | None = None
    email: str | None = None
    run_id: int | None = None
    event_type: str | None = None
    include_dry_runs: bool = False

    def apply(self, query):  # noqa: ANN001, ANN201
        if self.outcomes:
            query = query.where(col(SyncItem.outcome).in_(list(self.outcomes)))
        if self.email:
            query = query.where(col(SyncItem.email) == self.email.strip().lower())
        if self.run_id is not None:
            query = query.where(col(SyncItem.run_id) == self.run_id)
        if self.event_type:
            query = query.where(col(SyncItem.event_type) == self.event_type)
        if not self.include_dry_runs and self.run_id is None:
            query = query.where(col(SyncItem.dry_run) == sa.false())
        return query


class MonitorQueries:
    def __init__(self, database: Database):
        self.database = database

    def totals(self, since: date | None = None) -> Totals:
        query = select(col(DailyOutcome.outcome), sa.func.sum(col(DailyOutcome.count))).group_by(
            col(DailyOutcome.outcome)
        )
        if since is not None:
            query = query.where(col(DailyOutcome.day) >= since)
        with self.database.session() as session:
            return Totals({outcome: int(count) for outcome, count in session.exec(query)})

    def contacts_synced(self, since: date | None = None) -> int:
        """Distinct contacts synced (their state saved: created, updated, unchanged or suppressed) since the
        start of ``since`` (UTC), along ``ix_contact_updated_at``."""
        query = select(sa.func.count()).select_from(Contact)
        if since is not None:
            query = query.where(col(Contact.updated_at) >= datetime.combine(since, time(), tzinfo=UTC))
        with self.database.session() as session:
            return int(session.exec(query).one())

    def contacts_created(self, since: date | None = None) -> int:
        """Distinct contacts MailerLite created for the studio since the start of ``since`` (UTC)."""
        return self._contacts_since(col(Contact.created_at), since)

    def contacts_updated(self, since: date | None = None) -> int:
        """Distinct contacts the studio last updated in MailerLite since ``since`` (one created and then
        updated counts here too; one only created does not), along the partial ``ix_contact_updated_changed``."""
        query = select(sa.func.count()).select_from(Contact).where(sa.text(CONTACT_UPDATED))
        if since is not None:
            query = query.where(col(Contact.changed_at) >= datetime.combine(since, time(), tzinfo=UTC))
        with self.database.session() as session:
            return int(session.exec(query).one())

    def contacts_failing(self) -> int:
        """Distinct contacts with events MailerLite did not take that wait for a retry (failed or dead), now,
        along ``ix_received_event_status_email``."""
        query = select(sa.func.count(sa.distinct(col(ReceivedEvent.email)))).where(
            col(ReceivedEvent.status).in_([EventStatus.FAILED, EventStatus.DEAD])
        )
        with self.database.session() as session:
            return int(session.exec(query).one())

    def _contacts_since(self, column, since: date | None) -> int:  # noqa: ANN001 - a column of Contact
        query = select(sa.func.count()).select_from(Contact).where(column.is_not(None))
        if since is not None:
            query = query.where(column >= datetime.combine(since, time(), tzinfo=UTC))
        with self.database.session() as session:
            return int(session.exec(query).one())

    def needs_attention(
        self, *, before_id: int | None = None, limit: int = 50
    ) -> tuple[list[ReceivedEvent], int | None]:
        """A page of the events that cannot be synced as they are (invalid, rejected), newest first, without
        their bodies, and the id to pass as ``before_id`` for the next page (or None). Each status is read
        along ``ix_received_event_status_id``, one page at most, then merged."""
        rows: list[ReceivedEvent] = []
        with self.database.session() as session:
            for status in UNSYNCABLE:
                query = select(ReceivedEvent).where(col(ReceivedEvent.status) == status)
                if before_id is not None:
                    query = query.where(col(ReceivedEvent.id) < before_id)
                query = query.options(defer(ReceivedEvent.body))  # type: ignore[arg-type]
                rows.extend(session.exec(query.order_by(col(ReceivedEvent.id).desc()).limit(limit + 1)))
        return _newest_page(rows, limit)

    def by_day(self, since: date | None = None) -> list[tuple[date, str, int]]:
        query = (
            select(col(DailyOutcome.day), col(DailyOutcome.outcome), sa.func.sum(col(DailyOutcome.count)))
            .group_by(col(DailyOutcome.day), col(DailyOutcome.outcome))
            .order_by(col(DailyOutcome.day))
        )
        if since is not None:
            query = query.where(col(DailyOutcome.day) >= since)
        with self.database.session() as session:
            return [(day, outcome, int(count)) for day, outcome, count in session.exec(query)]

    def by_event_type(self, since: date | None = None) -> list[tuple[str, str, int]]:
        query = select(
            col(DailyOutcome.event_type), col(DailyOutcome.outcome), sa.func.sum(col(DailyOutcome.count))
        ).group_by(col(DailyOutcome.event_type), col(DailyOutcome.outcome))
        if since is not None:
            query = query.where(col(DailyOutcome.day) >= since)
        with self.database.session() as session:
            return [(event_type or "(none)", outcome, int(count)) for event_type, outcome, count in session.exec(query)]

    def by_group(self, since: date | None = None) -> list[tuple[str, str, int]]:
        query = select(col(DailyGroup.group), col(DailyGroup.action), sa.func.sum(col(DailyGroup.count))).group_by(
            col(DailyGroup.group), col(DailyGroup.action)
        )
        if since is not None:
            query = query.where(col(DailyGroup.day) >= since)
        with self.database.session() as session:
            return [(group, action, int(count)) for group, action, count in session.exec(query)]

    def items(
        self, where: ItemFilter | None = None, *, before_id: int | None = None, limit: int = 50
    ) -> tuple[list[SyncItem], int | None]:
        """A page of items, newest first, and the id to pass as ``before_id`` for the next page (or None).

        With several outcomes asked, each outcome's newest items are read along ``ix_sync_item_outcome_dry_id``
        (one page at most each) and merged: a single ``outcome IN (...)`` query would sort every matching
        item of the history to return one page."""
        where = where or ItemFilter()
        outcomes: list[str | None] = [*dict.fromkeys(where.outcomes or ())] or [None]
        rows: list[SyncItem] = []
        with self.database.session() as session:
            for outcome in outcomes:
                one = where if outcome is None else replace(where, outcomes=[outcome])
                query = one.apply(select(SyncItem))
                if before_id is not None:
                    query = query.where(col(SyncItem.id) < before_id)
                rows.extend(session.exec(query.order_by(col(SyncItem.id).desc()).limit(limit + 1)))
        return _newest_page(rows, limit)

    def emails_like(self, fragment: str, *, limit: int = 20) -> list[str]:
        """Known emails containing ``fragment`` (a part of an address, any case), for the contact lookup: from
        the contacts synced and the events received, at most ``limit``, in order."""
        pattern = "%" + fragment.strip().lower().replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%"
        found: set[str] = set()
        with self.database.session() as session:
            for column in (col(Contact.email), col(ReceivedEvent.email)):
                query = (
                    select(column)
                    .where(column.is_not(None), sa.func.lower(column).like(pattern, escape="\\"))
                    .distinct()
                    .limit(limit)
                )
                found.update(email for email in session.exec(query) if email)
        return sorted(found)[:limit]

    def export_csv(
        self,
        where: ItemFilter | None = None,
        *,
        page: int = 5000,
        columns: Sequence[str] = EXPORT_COLUMNS,
        headers: Sequence[str] | None = None,
    ) -> Iterator[str]:
        """The items as CSV text, a page at a time (for a download that never holds the whole history); the
        first line is ``headers`` (the column names when not given)."""
        buffer = io.StringIO()
        writer = csv.writer(buffer)
        writer.writerow(headers or columns)
        before: int | None = None
        while True:
            rows, before = self.items(where, before_id=before, limit=page)
            for row in rows:
                writer.writerow([_cell(getattr(row, column)) for column in columns])
            yield buffer.getvalue()
            buffer.seek(0)
            buffer.truncate()
            if before is None:
                return


def _newest_page(rows: list[_Row], limit: int) -> tuple[list[_Row], int | None]:
    """The newest ``limit`` of ``rows`` (pages read along different index ranges), and the id to pass as
    ``before_id`` for the next page (None when there is none)."""
    rows = sorted(rows, key=_row_id, reverse=True)
    more = len(rows) > limit
    rows = rows[:limit]
    return rows, (_row_id(rows[-1]) if more and rows else None)


def _row_id(row: SyncItem | ReceivedEvent) -> int:
    return row.id or 0


def _cell(value: object) -> object:
    if isinstance(value, (list, dict)):
        return json.dumps(value, ensure_ascii=False, default=str)
    return value
