"""Contacts: the last state sent to MailerLite for each email, loaded and saved in bulk."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from sqlalchemy.dialects import postgresql, sqlite
from sqlmodel import Session, col, select

from storage.db import Database
from storage.tables import Contact, utcnow


class ContactStore:
    def __init__(self, database: Database):
        self.database = database

    def states(self, emails: Iterable[str]) -> dict[str, Contact]:
        emails = list(set(emails))
        found: dict[str, Contact] = {}
        with self.database.session() as session:
            for start in range(0, len(emails), 500):
                query = select(Contact).where(col(Contact.email).in_(emails[start : start + 500]))
                found.update((row.email, row) for row in session.exec(query))
        return found

    def save_many(self, session: Session, rows: list[dict[str, Any]]) -> None:
        """Insert or replace contacts (email, subscriber_id, status, state), in the caller's transaction (with
        the items and the events they record): one statement for the lot."""
        if not rows:
            return
        now = utcnow()
        values = [{**row, "updated_at": now} for row in rows]
        dialect = postgresql if self.database.kind == "postgresql" else sqlite
        statement = dialect.insert(Contact)
        statement = statement.on_conflict_do_update(
            index_elements=["email"],
            set_={name: statement.excluded[name] for name in ("subscriber_id", "status", "state", "updated_at")},
        )
        session.execute(statement, values)

    def get(self, email: str) -> Contact | None:
        with self.database.session() as session:
            return session.get(Contact, email)
