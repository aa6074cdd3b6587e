"""People who may sign in, and their sessions. Only hashes are kept: the password's (made by the caller, argon2)
and the session token's (SHA-256), so a copy of the database lets no one sign in."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from datetime import datetime

import sqlalchemy as sa
from sqlmodel import col, select

from storage.db import Database
from storage.tables import Person, SignInSession, utcnow

_SESSIONS: sa.Table = SignInSession.__table__  # type: ignore[attr-defined]


@dataclass(frozen=True, slots=True)
class PersonRow:
    name: str
    role: str
    password_hash: str | None
    may_export_bodies: bool
    created_at: datetime
    changed_at: datetime


def _row(person: Person) -> PersonRow:
    return PersonRow(
        person.name,
        person.role,
        person.password_hash,
        person.may_export_bodies,
        person.created_at,
        person.changed_at,
    )


def token_hash(token: str) -> str:
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


class PeopleStore:
    def __init__(self, database: Database):
        self.database = database

    # --- people --------------------------------------------------------------------------------------------

    def get(self, name: str) -> PersonRow | None:
        with self.database.session() as session:
            person = session.get(Person, name)
            return _row(person) if person else None

    def all(self) -> list[PersonRow]:
        with self.database.session() as session:
            return [_row(person) for person in session.exec(select(Person).order_by(col(Person.name)))]

    def count(self) -> int:
        with self.database.session() as session:
            return int(session.exec(select(sa.func.count()).select_from(Person)).one())

    def put(
        self,
        name: str,
        *,
        role: str | None = None,
        password_hash: str | None = None,
        clear_password: bool = False,
        may_export_bodies: bool | None = None,
    ) -> PersonRow:
        """Add the person, or change what is given (a new password ends their sessions)."""
        with self.database.session() as session:
            person = session.get(Person, name)
            if person is None:
                person = Person(name=name, role=role or "viewer")
            if role is not None:
                person.role = role
            if password_hash is not None or clear_password:
                person.password_hash = password_hash
                session.execute(sa.delete(_SESSIONS).where(_SESSIONS.c.person == name))
            if may_export_bodies is not None:
                person.may_export_bodies = may_export_bodies
            person.changed_at = utcnow()
            session.add(person)
            session.flush()
            return _row(person)

    def remove(self, name: str) -> bool:
        with self.database.session() as session:
            person = session.get(Person, name)
            session.execute(sa.delete(_SESSIONS).where(_SESSIONS.c.person == name))
            if person is None:
                return False
            session.delete(person)
            return True

    # --- sessions ------------------------------------------------------------------------------------------

    def start_session(self, token: str, name: str, expires_at: datetime) -> None:
        with self.database.session() as session:
            session.execute(sa.delete(_SESSIONS).where(_SESSIONS.c.expires_at < utcnow()))  # tidy the old ones
            session.add(SignInSession(token_hash=token_hash(token), person=name, expires_at=expires_at))

    def session_person(self, token: str, now: datetime | None = None) -> PersonRow | None:
        """The person a live session belongs to (``None`` when it expired, ended or its person is gone)."""
        with self.database.session() as session:
            row = session.get(SignInSession, token_hash(token))
            if row is None or row.expires_at <= (now or utcnow()):
                return None
            person = session.get(Person, row.person)
            return _row(person) if person else None

    def end_session(self, token: str) -> None:
        with self.database.session() as session:
            session.execute(sa.delete(_SESSIONS).where(_SESSIONS.c.token_hash == token_hash(token)))
