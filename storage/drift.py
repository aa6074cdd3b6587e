"""Drift checks: a check's figures, the contacts that differ, and the emails a running check has seen.

A check reads MailerLite a page at a time: each page's differing contacts and seen emails are written in one
transaction, and the contacts of the account it never saw (deleted in MailerLite) are then read back a page at a
time with one anti-join, so a check of any size holds one page in memory.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql, sqlite
from sqlmodel import col, select

from storage.db import Database
from storage.tables import Contact, DriftCheck, DriftContact, DriftSeen, utcnow

RUNNING, FINISHED, FAILED = "running", "finished", "failed"


class DriftStore:
    def __init__(self, database: Database):
        self.database = database

    def start(self, **values: Any) -> DriftCheck:
        check = DriftCheck(status=RUNNING, **values)
        with self.database.session() as session:
            session.add(check)
            session.flush()
            session.refresh(check)
        return check

    def add_page(self, check_id: int, contacts: Sequence[Mapping[str, Any]], seen: Iterable[str]) -> None:
        """One page of the check: its differing contacts (email, subscriber_id, kinds, differences) and the emails
        MailerLite listed, in one transaction."""
        emails = sorted(set(seen))
        with self.database.session() as session:
            if contacts:
                session.execute(sa.insert(DriftContact), [{"check_id": check_id, **row} for row in contacts])
            if emails:
                dialect = postgresql if self.database.kind == "postgresql" else sqlite
                session.execute(
                    dialect.insert(DriftSeen).on_conflict_do_nothing(),
                    [{"check_id": check_id, "email": email} for email in emails],
                )

    def unseen_contacts(
        self, check_id: int, account: str, *, before: datetime, after_email: str = "", limit: int = 1000
    ) -> list[Contact]:
        """The account's contacts saved before ``before`` (the check's start) that the check did not see in
        MailerLite, by email, a page after ``after_email``."""
        seen = select(col(DriftSeen.email)).where(col(DriftSeen.check_id) == check_id)
        query = (
            select(Contact)
            .where(col(Contact.account) == account)
            .where(col(Contact.email) > after_email)
            .where(col(Contact.updated_at) < before)
            .where(col(Contact.email).not_in(seen))
            .order_by(col(Contact.email))
            .limit(limit)
        )
        with self.database.session() as session:
            return list(session.exec(query))

    def finish(self, check_id: int, **values: Any) -> DriftCheck:
        """End a check (its figures, or its error) and forget the emails it saw."""
        with self.database.session() as session:
            session.execute(sa.delete(DriftSeen).where(col(DriftSeen.check_id) == check_id))
            check = session.get(DriftCheck, check_id)
            if check is None:
                raise LookupError(f"no drift check {check_id}")
            for name, value in {"status": FINISHED, "finished_at": utcnow(), **values}.items():
                setattr(check, name, value)
            check.error = check.error[:2000]
            session.add(check)
            session.flush()
            session.refresh(check)
        return check

    def get(self, check_id: int) -> DriftCheck | None:
        with self.database.session() as session:
            return session.get(DriftCheck, check_id)

    def latest(self, account: str, *, statuses: Sequence[str] = (FINISHED,)) -> DriftCheck | None:
        """The account's newest check of these statuses (a finished one, by default)."""
        query = select(DriftCheck).where(col(DriftCheck.account) == account)
        query = query.where(col(DriftCheck.status).in_(list(statuses)))
        with self.database.session() as session:
            return session.exec(query.order_by(col(DriftCheck.id).desc()).limit(1)).first()

    def latest_started_at(self) -> datetime | None:
        """When the newest check of any account started (the worker's schedule)."""
        query = select(col(DriftCheck.started_at)).order_by(col(DriftCheck.id).desc()).limit(1)
        with self.database.session() as session:
            return session.exec(query).first()

    def contacts(self, check_id: int, *, after_id: int = 0, limit: int = 1000) -> list[DriftContact]:
        """A check's differing contacts in the order they were found, a page after ``after_id``."""
        query = (
            select(DriftContact)
            .where(col(DriftContact.check_id) == check_id)
            .where(col(DriftContact.id) > after_id)
            .order_by(col(DriftContact.id))
            .limit(limit)
        )
        with self.database.session() as session:
            return list(session.exec(query))

    def close_abandoned(self, account: str, error: str) -> int:
        """The account's checks left running (their process stopped; called by the check that holds the
        account's check lease now) are marked failed."""
        with self.database.engine.begin() as connection:
            ids = [
                row[0]
                for row in connection.execute(
                    sa.select(col(DriftCheck.id))
                    .where(col(DriftCheck.status) == RUNNING)
                    .where(col(DriftCheck.account) == account)
                )
            ]
            if ids:
                connection.execute(sa.delete(DriftSeen).where(col(DriftSeen.check_id).in_(ids)))
                connection.execute(
                    sa.update(DriftCheck)
                    .where(col(DriftCheck.id).in_(ids))
                    .values(status=FAILED, finished_at=utcnow(), error=error)
                )
        return len(ids)
