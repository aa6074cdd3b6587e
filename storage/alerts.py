"""Alerts: where they go (the settings row), the last time each problem was told, and what was sent.

``claim`` is how processes agree that a problem is told once per interval: one ``INSERT … ON CONFLICT DO UPDATE
… WHERE sent_at <= cutoff`` statement, which only one of two processes racing for the same problem can win (on
SQLite the write lock, on PostgreSQL the row lock, serializes them; the loser's condition no longer holds).
The secret destinations (a webhook address, a mail server's address with its password) are not stored here:
the caller keeps them in the secret store.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql, sqlite
from sqlmodel import col, select

from storage.db import Database
from storage.tables import AlertClaim, AlertSent, AlertSettings, utcnow

# SQLModel sets ``__table__`` when it builds the class; its type stubs do not declare it.
CLAIMS: sa.Table = AlertClaim.__table__  # type: ignore[attr-defined]


@dataclass(frozen=True, slots=True)
class StoredAlertSettings:
    enabled: bool
    emails: tuple[str, ...]
    threshold: float
    updated_at: datetime | None  # None: never saved (the defaults)


@dataclass(frozen=True, slots=True)
class SentAlert:
    id: int
    at: datetime
    problem_key: str
    kind: str
    count: int
    message: str
    link: str
    test: bool
    deliveries: list[dict[str, Any]]


class AlertStore:
    def __init__(self, database: Database):
        self.database = database

    # --- settings -------------------------------------------------------------------------------------------

    def settings(self, *, default_threshold: float) -> StoredAlertSettings:
        with self.database.session() as session:
            row = session.get(AlertSettings, 1)
        if row is None:
            return StoredAlertSettings(True, (), default_threshold, None)
        emails = tuple(address for address in row.emails.split(",") if address)
        return StoredAlertSettings(row.enabled, emails, row.threshold, row.updated_at)

    def save_settings(self, *, enabled: bool, emails: tuple[str, ...], threshold: float) -> None:
        with self.database.session() as session:
            row = session.get(AlertSettings, 1) or AlertSettings(id=1)
            row.enabled, row.emails, row.threshold = enabled, ",".join(emails), threshold
            row.updated_at = utcnow()
            session.add(row)

    # --- once per interval ----------------------------------------------------------------------------------

    def claim(self, problem_key: str, *, interval: timedelta, now: datetime | None = None) -> bool:
        """Whether this caller may tell ``problem_key`` now: True for exactly one caller per ``interval``."""
        now = now or utcnow()
        dialect = postgresql if self.database.kind == "postgresql" else sqlite
        statement = dialect.insert(CLAIMS).values(problem_key=problem_key[:200], sent_at=now)
        statement = statement.on_conflict_do_update(
            index_elements=["problem_key"],
            set_={"sent_at": statement.excluded.sent_at},
            where=CLAIMS.c.sent_at <= now - interval,
        ).returning(CLAIMS.c.problem_key)  # a row back only when inserted or moved (rowcount varies by driver)
        with self.database.engine.begin() as connection:
            return connection.execute(statement).first() is not None

    def last_claimed(self, problem_key: str) -> datetime | None:
        with self.database.session() as session:
            row = session.get(AlertClaim, problem_key[:200])
        return row.sent_at if row is not None else None

    # --- what was sent --------------------------------------------------------------------------------------

    def record(
        self,
        *,
        problem_key: str,
        kind: str,
        count: int,
        message: str,
        link: str,
        deliveries: list[dict[str, Any]],
        test: bool = False,
    ) -> int:
        row = AlertSent(
            problem_key=problem_key[:200],
            kind=kind[:40],
            count=count,
            message=message,
            link=link[:1000],
            deliveries=deliveries,
            test=test,
        )
        with self.database.session() as session:
            session.add(row)
            session.flush()
            return int(row.id)  # type: ignore[arg-type]

    def recent(self, limit: int = 20) -> list[SentAlert]:
        """The latest alerts, newest first."""
        with self.database.session() as session:
            rows = session.exec(select(AlertSent).order_by(col(AlertSent.id).desc()).limit(limit)).all()
        return [
            SentAlert(
                int(row.id),  # type: ignore[arg-type]
                row.at,
                row.problem_key,
                row.kind,
                row.count,
                row.message,
                row.link,
                row.test,
                list(row.deliveries or []),
            )
            for row in rows
        ]


__all__ = ["AlertStore", "SentAlert", "StoredAlertSettings"]
