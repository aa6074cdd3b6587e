"""Contacts: the last state sent to one MailerLite account for each email, loaded and saved in bulk.

Every call names the account (its key, see sync_core.engine.accounts): what one account was sent says nothing
about another, so a contact new to an account is planned from nothing and sent whole.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql, sqlite
from sqlmodel import Session, col, select

from storage.db import Database
from storage.tables import Contact, utcnow

#: The account of rows kept from before accounts were recorded, when the migration could not tell which.
UNASSIGNED = ""


class ContactStore:
    def __init__(self, database: Database):
        self.database = database

    def states(self, account: str, emails: Iterable[str]) -> dict[str, Contact]:
        emails = list(set(emails))
        found: dict[str, Contact] = {}
        with self.database.session() as session:
            for start in range(0, len(emails), 500):
                query = (
                    select(Contact)
                    .where(col(Contact.account) == account)
                    .where(col(Contact.email).in_(emails[start : start + 500]))
                )
                found.update((row.email, row) for row in session.exec(query))
        return found

    def save_many(self, session: Session, account: str, rows: list[dict[str, Any]]) -> None:
        """Insert or replace this account's contacts (email, subscriber_id, status, state; ``created`` and
        ``changed`` say whether MailerLite created or changed the subscriber, for the Monitor's counts of
        contacts), in the caller's transaction (with the items and the events they record): one statement."""
        if not rows:
            return
        now = utcnow()
        values = [
            {
                "email": row["email"],
                "subscriber_id": row.get("subscriber_id"),
                "status": row.get("status"),
                "state": row.get("state") or {},
                "account": account,
                "updated_at": now,
                "created_at": now if row.get("created") else None,
                "changed_at": now if row.get("created") or row.get("changed") else None,
                "checked_at": now,  # a run saves what MailerLite just answered (or was just sent)
            }
            for row in rows
        ]
        dialect = postgresql if self.database.kind == "postgresql" else sqlite
        statement = dialect.insert(Contact)
        kept = {  # a sync that did not create (or change) the subscriber keeps when it last was
            name: sa.func.coalesce(statement.excluded[name], getattr(Contact, name))
            for name in ("created_at", "changed_at")
        }
        statement = statement.on_conflict_do_update(
            index_elements=["account", "email"],
            set_={name: statement.excluded[name] for name in ("subscriber_id", "status", "state", "updated_at")} | kept,
        )
        session.execute(statement, values)

    def due_for_a_check(
        self, account: str, statuses: Iterable[str], checked_before: datetime, *, limit: int = 500
    ) -> list[Contact]:
        """This account's contacts of these statuses (the suppressed ones) that MailerLite was last asked about
        before ``checked_before`` (or never), the longest-waiting first, along ``ix_contact_status_checked``."""
        query = (
            select(Contact)
            .where(col(Contact.account) == account)
            .where(col(Contact.status).in_(list(statuses)))
            .where(sa.or_(col(Contact.checked_at).is_(None), col(Contact.checked_at) < checked_before))
            .order_by(col(Contact.checked_at).is_not(None), col(Contact.checked_at))
            .limit(limit)
        )
        with self.database.session() as session:
            return list(session.exec(query))

    def mark_checked(self, account: str, answers: dict[str, tuple[str | None, str | None]], at: datetime) -> None:
        """Record what MailerLite said of these contacts (email → its subscriber id and status) at ``at``."""
        with self.database.engine.begin() as connection:
            for email, (subscriber_id, status) in answers.items():
                values: dict[str, Any] = {"checked_at": at}
                if status is not None:
                    values |= {"status": status, "subscriber_id": subscriber_id}
                connection.execute(
                    sa.update(Contact)
                    .where(col(Contact.account) == account)
                    .where(col(Contact.email) == email)
                    .values(**values)
                )

    def get(self, account: str, email: str) -> Contact | None:
        with self.database.session() as session:
            return session.get(Contact, (account, email))

    def claim_unassigned(self, account: str) -> int:
        """Give the rows whose account is not known (kept from before the update) to this account, the first one
        synced after it; returns how many. Cheap when there are none: one step along the primary key."""
        if account == UNASSIGNED:
            return 0
        mine = select(col(Contact.email)).where(col(Contact.account) == account)
        with self.database.engine.begin() as connection:
            waiting = sa.select(col(Contact.email)).where(col(Contact.account) == UNASSIGNED).limit(1)
            if connection.execute(waiting).first() is None:
                return 0
            return connection.execute(
                sa.update(Contact)
                .where(col(Contact.account) == UNASSIGNED)
                .where(col(Contact.email).not_in(mine))
                .values(account=account)
            ).rowcount
