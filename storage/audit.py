"""The audit log: who signed in (or failed to), changed a secret, the key, a mapping or a rule, started or
retried a sync, exported or forgot data. Rows are only ever added."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlmodel import col, select

from storage.db import Database
from storage.tables import AuditEntry, utcnow

_TABLE: sa.Table = AuditEntry.__table__  # type: ignore[attr-defined]


@dataclass(frozen=True, slots=True)
class AuditRow:
    id: int
    at: datetime
    actor: str
    role: str
    action: str
    subject: str
    address: str
    detail: dict[str, Any] = field(default_factory=dict)


def _row(entry: AuditEntry) -> AuditRow:
    return AuditRow(
        int(entry.id or 0),
        entry.at,
        entry.actor,
        entry.role,
        entry.action,
        entry.subject,
        entry.address,
        dict(entry.detail or {}),
    )


class AuditStore:
    def __init__(self, database: Database):
        self.database = database

    def record(
        self,
        action: str,
        *,
        actor: str = "",
        role: str = "",
        subject: str = "",
        address: str = "",
        detail: dict[str, Any] | None = None,
    ) -> None:
        with self.database.session() as session:
            session.add(
                AuditEntry(
                    actor=actor[:200],
                    role=role[:20],
                    action=action[:60],
                    subject=subject[:500],
                    address=(address or "")[:64],
                    detail=detail or {},
                )
            )

    def recent(self, *, limit: int = 100, offset: int = 0, action: str | None = None) -> list[AuditRow]:
        """The newest entries first."""
        query = select(AuditEntry).order_by(col(AuditEntry.id).desc())
        if action:
            query = query.where(AuditEntry.action == action)
        with self.database.session() as session:
            return [_row(entry) for entry in session.exec(query.offset(offset).limit(limit))]

    def count(self) -> int:
        with self.database.session() as session:
            return int(session.exec(select(sa.func.count()).select_from(AuditEntry)).one())

    def iter_all(self, chunk: int = 1000) -> Iterator[AuditRow]:
        """Every entry, oldest first, a chunk at a time (for an export)."""
        last = 0
        while True:
            query = select(AuditEntry).where(col(AuditEntry.id) > last).order_by(col(AuditEntry.id)).limit(chunk)
            with self.database.session() as session:
                rows = [_row(entry) for entry in session.exec(query)]
            if not rows:
                return
            yield from rows
            last = rows[-1].id

    def failures(self, action: str, *, actor: str, address: str, since: datetime) -> int:
        """How many ``action`` entries (failed sign-ins) name this person or come from this address since then."""
        who = _TABLE.c.actor == actor
        if address:
            who = sa.or_(who, _TABLE.c.address == address)
        query = sa.select(sa.func.count()).where(_TABLE.c.action == action, _TABLE.c.at >= since, who)
        with self.database.session() as session:
            return int(session.execute(query).scalar_one())

    def last(self, action: str, *, actor: str) -> datetime | None:
        query = sa.select(sa.func.max(_TABLE.c.at)).where(_TABLE.c.action == action, _TABLE.c.actor == actor)
        with self.database.session() as session:
            return session.execute(query).scalar_one()


__all__ = ["AuditRow", "AuditStore", "utcnow"]
