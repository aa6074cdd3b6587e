"""Heartbeats of the long-running processes (sync workers): who runs where, doing what, last seen when.

The dashboard reads them to tell whether a worker is alive: a worker writes its row every few seconds, and a
row not written for a while means the worker is gone (killed, crashed, machine down) even if it never said so.
One row per worker process; a worker that stops cleanly marks its row "stopped".
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql, sqlite

from storage.db import Database
from storage.tables import WorkerHeartbeat, utcnow

# SQLModel sets ``__table__`` when it builds the class; its type stubs do not declare it.
TABLE: sa.Table = WorkerHeartbeat.__table__  # type: ignore[attr-defined]


@dataclass(slots=True, frozen=True)
class Heartbeat:
    name: str
    role: str
    state: str
    detail: str
    started_at: datetime
    beat_at: datetime
    last_run_id: int | None

    def age_seconds(self, now: datetime | None = None) -> float:
        return ((now or utcnow()) - self.beat_at).total_seconds()


class HeartbeatStore:
    def __init__(self, database: Database):
        self.database = database

    def beat(
        self,
        name: str,
        *,
        role: str = "worker",
        state: str,
        detail: str = "",
        started_at: datetime | None = None,
        last_run_id: int | None = None,
    ) -> None:
        """Write this process's row (insert or replace), with the time of now."""
        now = utcnow()
        values = {
            "name": name[:200],
            "role": role[:20],
            "state": state[:20],
            "detail": detail[:2000],
            "started_at": started_at or now,
            "beat_at": now,
            "last_run_id": last_run_id,
        }
        dialect = postgresql if self.database.kind == "postgresql" else sqlite
        statement = dialect.insert(TABLE).values(**values)
        statement = statement.on_conflict_do_update(
            index_elements=["name"],
            set_={
                column: statement.excluded[column] for column in ("role", "state", "detail", "beat_at", "last_run_id")
            },
        )
        with self.database.engine.begin() as connection:
            connection.execute(statement)

    def recent(
        self, *, role: str | None = None, within: timedelta = timedelta(days=1), limit: int = 50
    ) -> list[Heartbeat]:
        """Rows written within ``within``, newest first."""
        query = sa.select(TABLE).where(TABLE.c.beat_at >= utcnow() - within)
        if role is not None:
            query = query.where(TABLE.c.role == role)
        query = query.order_by(TABLE.c.beat_at.desc()).limit(limit)
        with self.database.engine.connect() as connection:
            rows = connection.execute(query).mappings().all()
        return [
            Heartbeat(
                row["name"],
                row["role"],
                row["state"],
                row["detail"],
                row["started_at"],
                row["beat_at"],
                row["last_run_id"],
            )
            for row in rows
        ]

    def prune(self, older_than: timedelta = timedelta(days=7)) -> int:
        """Forget processes not heard of for ``older_than``; returns how many rows went."""
        with self.database.engine.begin() as connection:
            return connection.execute(sa.delete(TABLE).where(TABLE.c.beat_at < utcnow() - older_than)).rowcount


__all__ = ["Heartbeat", "HeartbeatStore", "WorkerHeartbeat"]
