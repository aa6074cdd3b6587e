"""Received events: stored once (unique by source + event id), then taken in order by the sync."""

from __future__ import annotations

import hashlib
import re
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING, Any, cast

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql, sqlite
from sqlmodel import Session, col, select

from storage.db import Database
from storage.statuses import EventStatus
from storage.tables import ReceivedEvent, SyncRun, utcnow

if TYPE_CHECKING:
    from storage.forgotten import ForgetStore

# SQLModel sets ``__table__`` when it builds the class; its type stubs do not declare it.
_TABLE: sa.Table = ReceivedEvent.__table__  # type: ignore[attr-defined]
#: The statuses an event leaves the queue with for good (a failed one is put back when MailerLite answers).
HANDLED = (EventStatus.SYNCED, EventStatus.IGNORED, EventStatus.INVALID, EventStatus.REJECTED, EventStatus.DEAD)


@dataclass(slots=True)
class NewEvent:
    source: str
    event_id: str
    body: bytes | None
    event_type: str | None = None
    email: str | None = None
    occurred_at: datetime | None = None
    kind: str | None = None
    origin: str = ""
    status: str = EventStatus.PENDING
    reason: str = ""


_UNSTORABLE = re.compile("[\x00\ud800-\udfff]")


def storable_text(value: str | None) -> str | None:
    """Text every database takes: a lone surrogate (SQLite's UTF-8 and PostgreSQL refuse it) or a NUL character
    (PostgreSQL refuses it) becomes U+FFFD, so that one odd value cannot fail the transaction of others."""
    if value is None or (value.isascii() and "\x00" not in value):
        return value
    return _UNSTORABLE.sub("\ufffd", value)


def _fitted(name: str, value: str | None) -> str | None:
    """``value`` within its column's length (PostgreSQL refuses longer text; SQLite would keep it). An id too
    long keeps its start and a digest of the whole, so that two long ids still differ."""
    value = storable_text(value)
    limit = getattr(_TABLE.c[name].type, "length", None)
    if value is None or limit is None or len(value) <= limit:
        return value
    if name == "event_id":
        digest = hashlib.sha256(value.encode("utf-8", "replace")).hexdigest()
        return f"{value[: limit - len(digest) - 1]}~{digest}"
    return value[: limit - 1] + "…"


class EventStore:
    """``forgotten``: the tombstones new events are screened against (events of a forgotten contact from before
    the forget are stored anonymous and ignored); without it, events are stored as they come."""

    def __init__(self, database: Database, *, forgotten: ForgetStore | None = None):
        self.database = database
        self.forgotten = forgotten

    def add_many(self, events: Sequence[NewEvent]) -> int:
        """Store events, skipping any already stored (same source and id); returns how many were new."""
        if not events:
            return 0
        now = utcnow()
        rows = [
            {
                "source": e.source,
                "event_id": _fitted("event_id", e.event_id),
                "body": e.body,
                "event_type": _fitted("event_type", e.event_type),
                "email": _fitted("email", e.email),
                "occurred_at": e.occurred_at,
                "kind": e.kind,
                "origin": _fitted("origin", e.origin),
                "status": e.status,
                "reason": storable_text(e.reason),
                "received_at": now,
                "attempts": 0,
            }
            for e in events
        ]
        dialect = postgresql if self.database.kind == "postgresql" else sqlite
        statement = (
            dialect.insert(ReceivedEvent)
            .on_conflict_do_nothing(index_elements=["source", "event_id"])
            .returning(col(ReceivedEvent.id))
        )  # rowcount is not reliable for batched inserts: count rows
        with self.database.engine.begin() as connection:
            if self.forgotten is not None:
                rows = self.forgotten.screen(connection, rows)
            return len(connection.execute(statement, rows).all())

    def pending_rows(
        self,
        *,
        after_id: int = 0,
        limit: int = 1000,
        statuses: Sequence[str] = (EventStatus.PENDING,),
        source: str | None = None,
    ) -> list[ReceivedEvent]:
        """The next pending events in arrival order (``statuses``: staged ones too, for a run a person started;
        ``source``: that source's only)."""
        query = (
            select(ReceivedEvent)
            .where(col(ReceivedEvent.status).in_(list(statuses)))
            .where(col(ReceivedEvent.id) > after_id)
            .order_by(col(ReceivedEvent.id))
            .limit(limit)
        )
        if source is not None:
            query = query.where(col(ReceivedEvent.source) == source)
        with self.database.session() as session:
            return list(session.exec(query))

    def pending_by_contact(
        self,
        *,
        contacts: int = 1000,
        limit: int | None = None,
        seen: set[str] | None = None,
        statuses: Sequence[str] = (EventStatus.PENDING,),
    ) -> Iterator[list[ReceivedEvent]]:
        """The events pending when the walk starts, ``contacts`` contacts at a time in the order each contact's
        first event arrived, each chunk holding every pending event of its contacts (in arrival order), so that
        a contact is planned once however far apart its events came. An event without an email counts as a
        contact of its own, but not towards ``limit`` (the first ``limit`` contacts with an email).

        Nothing is kept per contact between chunks: the walk goes on in arrival order from where the last chunk
        was found, and the caller gives each chunk's events another status before it asks for the next, so that
        they are not pending any more. A caller that leaves them pending (a dry run) passes ``seen``, which the
        walk fills with the emails it has given out and skips afterwards. ``statuses``: which events count as
        waiting (a run a person starts takes the staged rows of imported files too)."""
        statuses = list(statuses)
        up_to = self._last_pending_id(statuses)
        page_size = max(2 * contacts, 500)
        after, taken, done = 0, 0, up_to is None
        while not done and (limit is None or taken < limit):
            emails: dict[str, None] = {}
            lone: list[int] = []  # events without an email
            full = False
            while not (full or done):
                page = self._pending_emails(after, cast(int, up_to), page_size, statuses)
                for event_id, email in page:
                    after = event_id
                    if email is None:
                        lone.append(event_id)
                    elif email not in emails and (seen is None or email not in seen):
                        emails[email] = None
                        taken += 1
                    full = len(emails) + len(lone) >= contacts or (limit is not None and taken >= limit)
                    if full:
                        break
                done = not full and len(page) < page_size  # the walk reached the run's last event
            if seen is not None:
                seen.update(emails)
            if emails or lone:
                yield self._pending_of(list(emails), lone, cast(int, up_to), statuses)

    def _last_pending_id(self, statuses: list[str]) -> int | None:
        """The id of the newest waiting event, along ``ix_received_event_status_id``: where a run stops."""
        newest = None
        with self.database.engine.connect() as connection:
            for status in statuses:
                query = sa.select(_TABLE.c.id).where(_TABLE.c.status == status).order_by(_TABLE.c.id.desc())
                found = connection.execute(query.limit(1)).scalar()
                if found is not None and (newest is None or found > newest):
                    newest = found
        return newest

    def _pending_emails(
        self, after_id: int, up_to_id: int, limit: int, statuses: list[str]
    ) -> list[tuple[int, str | None]]:
        """(id, email) of the next waiting events in arrival order: ids and emails only, no bodies."""
        query = (
            sa.select(_TABLE.c.id, _TABLE.c.email)
            .where(_TABLE.c.status.in_(statuses), _TABLE.c.id > after_id, _TABLE.c.id <= up_to_id)
            .order_by(_TABLE.c.id)
            .limit(limit)
        )
        with self.database.engine.connect() as connection:
            return [(row[0], row[1]) for row in connection.execute(query)]

    def _pending_of(
        self, emails: list[str], event_ids: list[int], up_to_id: int, statuses: list[str]
    ) -> list[ReceivedEvent]:
        """Every pending event of these contacts and these events, up to ``up_to_id``, in arrival order (asked
        500 at a time, well within every database's limit on parameters)."""
        rows: list[ReceivedEvent] = []
        pending = (col(ReceivedEvent.status).in_(statuses), col(ReceivedEvent.id) <= up_to_id)
        with self.database.session() as session:
            for start in range(0, len(emails), 500):
                part = col(ReceivedEvent.email).in_(emails[start : start + 500])
                rows.extend(session.exec(select(ReceivedEvent).where(*pending, part)))
            for start in range(0, len(event_ids), 500):
                part = col(ReceivedEvent.id).in_(event_ids[start : start + 500])
                rows.extend(session.exec(select(ReceivedEvent).where(*pending, part)))
        rows.sort(key=lambda row: row.id or 0)
        return rows

    def set_status(
        self,
        session: Session,
        event_ids: Sequence[int],
        status: str,
        *,
        reason: str = "",
        run_id: int | None = None,
        count_attempt: bool = False,
    ) -> None:
        """Part of the caller's transaction, so that events and the items recording them commit together."""
        if not event_ids:
            return
        values: dict = {"status": status, "reason": reason, "processed_at": utcnow()}
        if run_id is not None:
            values["run_id"] = run_id
        if count_attempt:
            values["attempts"] = col(ReceivedEvent.attempts) + 1
        session.exec(sa.update(ReceivedEvent).where(col(ReceivedEvent.id).in_(event_ids)).values(**values))

    def set_statuses(
        self, session: Session, updates: dict[tuple[str, str, bool], list[int]], *, run_id: int | None = None
    ) -> None:
        """Many ``set_status`` at once: (status, reason, count an attempt) → event ids; one UPDATE each."""
        for (status, reason, count_attempt), ids in updates.items():
            for start in range(0, len(ids), 500):
                self.set_status(
                    session, ids[start : start + 500], status, reason=reason, run_id=run_id, count_attempt=count_attempt
                )

    def requeue(
        self, *, statuses: Sequence[str] = (EventStatus.FAILED,), event_ids: Sequence[int] | None = None
    ) -> int:
        """Put events back in the queue (a retry); returns how many."""
        query = sa.update(ReceivedEvent).where(col(ReceivedEvent.status).in_(list(statuses)))
        if event_ids is not None:
            query = query.where(col(ReceivedEvent.id).in_(list(event_ids)))
        with self.database.engine.begin() as connection:
            return connection.execute(query.values(status=EventStatus.PENDING)).rowcount

    def requeue_for_account(self, keys: Sequence[tuple[str, str]], account: str) -> int:
        """Events (source, id) last synced by a run to another account wait again (staged, for a person's dry
        run or sync), so that this account gets them too (a file imported once more after switching accounts);
        returns how many."""
        elsewhere = select(col(SyncRun.id)).where(col(SyncRun.account) != account)
        by_source: dict[str, list[str]] = {}
        for source, event_id in keys:
            by_source.setdefault(source, []).append(event_id)
        requeued = 0
        with self.database.engine.begin() as connection:
            for source, ids in by_source.items():
                for start in range(0, len(ids), 500):
                    requeued += connection.execute(
                        sa.update(ReceivedEvent)
                        .where(col(ReceivedEvent.source) == source)
                        .where(col(ReceivedEvent.event_id).in_(ids[start : start + 500]))
                        .where(col(ReceivedEvent.status) == EventStatus.SYNCED)
                        .where(col(ReceivedEvent.run_id).in_(elsewhere))
                        .values(status=EventStatus.STAGED, reason="", attempts=0)
                    ).rowcount
        return requeued

    def contacts_among(self, statuses: Sequence[str]) -> int:
        """How many contacts (distinct emails; the events without one count as one) have events of these
        statuses: what a run that takes them has to do, for its progress bar."""
        query = sa.select(sa.func.count(sa.distinct(sa.func.coalesce(_TABLE.c.email, "")))).where(
            _TABLE.c.status.in_(list(statuses))
        )
        with self.database.engine.connect() as connection:
            return int(connection.execute(query).scalar() or 0)

    def counts(self) -> dict[str, int]:
        """Events per status, every status of the history: it reads the whole status index (about 0.1 s with
        a million events), so a page or a run that needs a few statuses asks ``count`` for each of them."""
        with self.database.session() as session:
            rows = session.exec(select(col(ReceivedEvent.status), sa.func.count()).group_by(col(ReceivedEvent.status)))
            return {status: count for status, count in rows}

    def find(self, source: str, event_id: str) -> ReceivedEvent | None:
        """The stored event with this source and id (as ``add_many`` stored it), or ``None``."""
        with self.database.session() as session:
            return session.exec(
                select(ReceivedEvent).where(
                    col(ReceivedEvent.source) == source, col(ReceivedEvent.event_id) == _fitted("event_id", event_id)
                )
            ).first()

    def for_email(self, email: str, limit: int = 200) -> list[ReceivedEvent]:
        with self.database.session() as session:
            return list(
                session.exec(
                    select(ReceivedEvent)
                    .where(col(ReceivedEvent.email) == email)
                    .order_by(col(ReceivedEvent.id).desc())
                    .limit(limit)
                )
            )

    def count(self, status: str, *, cap: int | None = None) -> int:
        """How many events have ``status`` (at most ``cap`` counted), along ``ix_received_event_status_id``: the
        cost follows those events, not the size of the history."""
        with self.database.engine.connect() as connection:
            return int(connection.execute(_count(status, cap)).scalar() or 0)

    def waiting(self, *, cap: int | None = None) -> tuple[int, datetime | None]:
        """How many events are pending (at most ``cap`` counted) and when the oldest of them arrived, read
        together so that the two agree. Both walk ``ix_received_event_status_id`` and stop early."""
        oldest = (
            sa.select(_TABLE.c.received_at).where(_TABLE.c.status == EventStatus.PENDING).order_by(_TABLE.c.id).limit(1)
        )
        with self.database.engine.connect() as connection:
            count = connection.execute(_count(EventStatus.PENDING, cap)).scalar() or 0
            return int(count), connection.execute(oldest).scalar()

    def last_handled_at(self) -> datetime | None:
        """When an event last left the queue for good (synced, ignored, invalid, rejected or dead; a failed one
        comes back): one step along ``ix_received_event_status_processed`` per status."""
        newest: datetime | None = None
        with self.database.engine.connect() as connection:
            for status in HANDLED:
                when = connection.execute(
                    sa.select(sa.func.max(_TABLE.c.processed_at)).where(_TABLE.c.status == status)
                ).scalar()
                if when is not None and (newest is None or when > newest):
                    newest = when
        return newest

    def last_received(self, sources: Iterable[str]) -> dict[str, datetime | None]:
        """Source → when its newest event was stored (``None``: never). One step along
        ``ix_received_event_source_id`` per source, whatever the size of the history."""
        out: dict[str, datetime | None] = {}
        with self.database.engine.connect() as connection:
            for source in sources:
                newest = (
                    sa.select(_TABLE.c.received_at)
                    .where(_TABLE.c.source == source)
                    .order_by(_TABLE.c.id.desc())
                    .limit(1)
                )
                out[source] = connection.execute(newest).scalar()
        return out

    def newest_per_contact(
        self, limit: int, *, sources: Sequence[str] | None = None
    ) -> list[tuple[str, bytes, str | None, datetime | None]]:
        """(source, body, kind, received_at) of the newest event with a body of up to ``limit`` contacts, those
        heard from most recently, so that a sample of the contacts stands for all of them (``sources``: only
        events of these)."""
        where = [_TABLE.c.email.is_not(None), _TABLE.c.body.is_not(None)]
        if sources is not None:
            where.append(_TABLE.c.source.in_(list(sources)))
        newest = (
            sa.select(sa.func.max(_TABLE.c.id).label("id"))
            .where(*where)
            .group_by(_TABLE.c.email)
            .order_by(sa.func.max(_TABLE.c.id).desc())
            .limit(limit)
            .subquery()
        )
        query = sa.select(_TABLE.c.source, _TABLE.c.body, _TABLE.c.kind, _TABLE.c.received_at).join(
            newest, _TABLE.c.id == newest.c.id
        )
        with self.database.engine.connect() as connection:
            return [(row[0], row[1], row[2], row[3]) for row in connection.execute(query)]


def _count(status: str, cap: int | None) -> sa.Select[Any]:
    ids = sa.select(_TABLE.c.id).where(_TABLE.c.status == status)
    if cap is not None:
        ids = ids.limit(cap)
    return sa.select(sa.func.count()).select_from(ids.subquery())
