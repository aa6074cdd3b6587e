"""Received events: stored once (unique by source + event id), then taken in order by the sync."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql, sqlite
from sqlmodel import Session, select

from storage.db import Database
from storage.statuses import EventStatus
from storage.tables import ReceivedEvent, utcnow


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


class EventStore:
    def __init__(self, database: Database):
        self.database = database

    def add_many(self, events: Sequence[NewEvent]) -> int:
        """Store events, skipping any already stored (same source and id); returns how many were new."""
        if not events:
            return 0
        now = utcnow()
        rows = [
            {
                "source": e.source,
                "event_id": e.event_id,
                "body": e.body,
                "event_type": e.event_type,
                "email": e.email,
                "occurred_at": e.occurred_at,
                "kind": e.kind,
                "origin": e.origin[:300],
                "status": e.status,
                "reason": e.reason,
                "received_at": now,
                "attempts": 0,
            }
            for e in events
        ]
        dialect = postgresql if self.database.kind == "postgresql" else sqlite
        statement = (
            dialect.insert(ReceivedEvent)
            .on_conflict_do_nothing(index_elements=["source", "event_id"])
            .returning(ReceivedEvent.id)
        )  # rowcount is not reliable for batched inserts: count rows
        with self.database.engine.begin() as connection:
            return len(connection.execute(statement, rows).all())

    def pending_rows(self, *, after_id: int = 0, limit: int = 1000) -> list[ReceivedEvent]:
        """The next pending events in arrival order."""
        query = (
            select(ReceivedEvent)
            .where(ReceivedEvent.status == EventStatus.PENDING)
            .where(ReceivedEvent.id > after_id)
            .order_by(ReceivedEvent.id)
            .limit(limit)
        )
        with self.database.session() as session:
            return list(session.exec(query))

    def pending_emails(self, *, after_id: int = 0, limit: int | None = None) -> list[tuple[int, str | None]]:
        """(id, email) of pending events in arrival order, from ``after_id`` on."""
        query = (
            select(ReceivedEvent.id, ReceivedEvent.email)
            .where(ReceivedEvent.status == EventStatus.PENDING)
            .where(ReceivedEvent.id > after_id)
            .order_by(ReceivedEvent.id)
        )
        if limit:
            query = query.limit(limit)
        with self.database.session() as session:
            return [(row[0], row[1]) for row in session.exec(query)]

    def pending_for(self, emails: Iterable[str | None], up_to_id: int | None = None) -> list[ReceivedEvent]:
        """Every pending event of these contacts (up to ``up_to_id`` when given; events without an email
        included when ``None`` is among the emails)."""
        emails = list(emails)
        known = [e for e in emails if e is not None]
        condition = ReceivedEvent.email.in_(known) if known else sa.false()
        if None in emails:
            condition = sa.or_(condition, ReceivedEvent.email.is_(None))
        query = select(ReceivedEvent).where(ReceivedEvent.status == EventStatus.PENDING).where(condition)
        if up_to_id is not None:
            query = query.where(ReceivedEvent.id <= up_to_id)
        query = query.order_by(ReceivedEvent.id)
        with self.database.session() as session:
            return list(session.exec(query))

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
            values["attempts"] = ReceivedEvent.attempts + 1
        session.exec(sa.update(ReceivedEvent).where(ReceivedEvent.id.in_(event_ids)).values(**values))

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
        query = sa.update(ReceivedEvent).where(ReceivedEvent.status.in_(list(statuses)))
        if event_ids is not None:
            query = query.where(ReceivedEvent.id.in_(list(event_ids)))
        with self.database.engine.begin() as connection:
            return connection.execute(query.values(status=EventStatus.PENDING)).rowcount

    def counts(self) -> dict[str, int]:
        with self.database.session() as session:
            rows = session.exec(select(ReceivedEvent.status, sa.func.count()).group_by(ReceivedEvent.status))
            return {status: count for status, count in rows}

    def for_email(self, email: str, limit: int = 200) -> list[ReceivedEvent]:
        with self.database.session() as session:
            return list(
                session.exec(
                    select(ReceivedEvent)
                    .where(ReceivedEvent.email == email)
                    .order_by(ReceivedEvent.id.desc())
                    .limit(limit)
                )
            )
