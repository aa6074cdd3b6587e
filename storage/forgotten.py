"""Forgotten contacts (GDPR): erasing every row that carries a person's email, and the hashed tombstones that
keep their old events from coming back.

A tombstone is a keyed hash (HMAC-SHA256, keyed with a key derived from the secrets' key, which is never in the
database) of the normalized email, and one of each event erased with it (source and id), with the time of the
forget. An event stored later is screened against them in the transaction that stores it (``screen``): one for
a forgotten email that occurred before the forget, or a copy of an erased event (a replayed webhook, a file
imported again), is stored as ignored, without its email, its body or its id.

On SQLite, deleted rows leave their bytes in free space and in the write-ahead log: the connections delete
securely (``secure_delete``, see ``storage.db``), and an erasure checkpoints the log and then looks for the email
in the file's bytes; if an older copy is still there (written before secure deletion was on), the file is
rebuilt (``VACUUM``). PostgreSQL deletes the rows (its dead tuples go with its own vacuum).
"""

from __future__ import annotations

import hashlib
import hmac
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql, sqlite
from sqlmodel import col, select

from storage.db import Database
from storage.statuses import EventStatus
from storage.tables import (
    Contact,
    ForgetRecord,
    ForgottenMark,
    ReceivedEvent,
    RunRequest,
    SyncItem,
    SyncItemGroup,
    SyncRun,
    WorkerHeartbeat,
    utcnow,
)

#: Why a screened event is not synced (it is stored without the email, the body or the id it came with).
FORGOTTEN_REASON = "not synced: the contact was forgotten (GDPR) and this event is from before that"
#: What replaces the email in a text kept elsewhere (a run's notes, an error) and in a forgotten contact's item.
FORGOTTEN_CONTACT = "(a forgotten contact)"
_CHUNK = 500
_SCAN_BYTES = 8 * 1024 * 1024

_EVENTS: sa.Table = ReceivedEvent.__table__  # type: ignore[attr-defined]
_ITEMS: sa.Table = SyncItem.__table__  # type: ignore[attr-defined]
_GROUPS: sa.Table = SyncItemGroup.__table__  # type: ignore[attr-defined]
_CONTACTS: sa.Table = Contact.__table__  # type: ignore[attr-defined]
_MARKS: sa.Table = ForgottenMark.__table__  # type: ignore[attr-defined]
#: Texts that may quote an email in passing: the email is replaced, the row kept.
_SCRUBBED: tuple[tuple[sa.Table, str, tuple[str, ...]], ...] = (
    (SyncRun.__table__, "id", ("error", "notes")),  # type: ignore[attr-defined]
    (RunRequest.__table__, "id", ("error",)),  # type: ignore[attr-defined]
    (WorkerHeartbeat.__table__, "name", ("detail",)),  # type: ignore[attr-defined]
)


@dataclass(slots=True)
class Erasure:
    """What an erasure removed, in counts (never the email)."""

    events: int = 0
    items: int = 0
    contacts: int = 0
    texts: int = 0  # notes and errors the email was taken out of
    traces_left: bool = False  # SQLite only: the email is still in the file's bytes (a reader held the log)

    def in_words(self) -> str:
        parts = [
            f"{self.events:,} received event(s)",
            f"{self.items:,} sync item(s) (dry runs included)",
            f"{self.contacts:,} contact state(s)",
        ]
        text = "removed " + ", ".join(parts)
        if self.texts:
            text += f", and the address was taken out of {self.texts:,} note(s)"
        return text


class ForgetStore:
    """Tombstones, erasures and the record of forgets. ``key`` is the secrets' key (outside the database)."""

    def __init__(self, database: Database, key: bytes):
        self.database = database
        self._key = hmac.new(key, b"sync studio: forgotten contacts", hashlib.sha256).digest()

    def __repr__(self) -> str:
        return f"ForgetStore({self.database!r})"

    # --- fingerprints -----------------------------------------------------------------------------------------

    def email_fingerprint(self, email: str) -> str:
        """The tombstone of a normalized email: a keyed hash, useless without the key."""
        return hmac.new(self._key, b"email:" + email.encode("utf-8", "replace"), hashlib.sha256).hexdigest()

    def event_fingerprint(self, source: str, event_id: str) -> str:
        message = f"event:{source}\n{event_id}".encode("utf-8", "replace")
        return hmac.new(self._key, message, hashlib.sha256).hexdigest()

    # --- reading ----------------------------------------------------------------------------------------------

    def forgotten_at(self, email: str) -> datetime | None:
        """When this (normalized) email was last forgotten, or None."""
        with self.database.engine.connect() as connection:
            return self._marks(connection, [self.email_fingerprint(email)]).get(self.email_fingerprint(email))

    def _marks(self, connection: sa.Connection, fingerprints: Iterable[str]) -> dict[str, datetime]:
        wanted = sorted(set(fingerprints))
        found: dict[str, datetime] = {}
        for start in range(0, len(wanted), _CHUNK):
            query = sa.select(_MARKS.c.fingerprint, _MARKS.c.forgotten_at).where(
                _MARKS.c.fingerprint.in_(wanted[start : start + _CHUNK])
            )
            found.update((row[0], row[1]) for row in connection.execute(query))
        return found

    def screen(self, connection: sa.Connection, rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
        """Rows about to be stored (``received_event`` columns), with those of forgotten contacts from before
        their forget (or copies of their erased events) made anonymous and ignored. In the caller's
        transaction, so that a forget committed meanwhile is seen (SQLite) or its row deleted by it."""
        self._lock_for_writing(connection)
        fingerprints = {}
        for number, row in enumerate(rows):
            email = row.get("email")
            fingerprints[number] = (
                self.email_fingerprint(email.lower()) if email else None,
                self.event_fingerprint(row["source"], row["event_id"]),
            )
        marks = self._marks(connection, (fp for pair in fingerprints.values() for fp in pair if fp))
        if not marks:
            return rows
        screened = []
        for number, row in enumerate(rows):
            by_email, by_event = fingerprints[number]
            forgotten = marks.get(by_email) if by_email else None
            occurred = row.get("occurred_at")
            if by_event in marks or (forgotten is not None and (occurred is None or occurred <= forgotten)):
                row = {
                    **row,
                    "event_id": "forgotten:" + by_event[:40],
                    "email": None,
                    "body": None,
                    "status": EventStatus.IGNORED,
                    "reason": FORGOTTEN_REASON,
                }
            screened.append(row)
        return screened

    def covered(self, rows: Sequence[ReceivedEvent]) -> list[int]:
        """The ids of stored events the tombstones cover (stored before their forget was seen: by a store without
        the tombstones, or by a PostgreSQL transaction that overlapped the forget)."""
        keyed = [
            (
                row.id,
                self.email_fingerprint(row.email.lower()) if row.email else None,
                self.event_fingerprint(row.source, row.event_id),
                row.occurred_at,
            )
            for row in rows
        ]
        with self.database.engine.connect() as connection:
            marks = self._marks(
                connection, (fp for _, by_email, by_event, _ in keyed for fp in (by_email, by_event) if fp)
            )
        if not marks:
            return []
        covered = []
        for row_id, by_email, by_event, occurred in keyed:
            forgotten = marks.get(by_email) if by_email else None
            if by_event in marks or (forgotten is not None and (occurred is None or occurred <= forgotten)):
                covered.append(row_id)
        return [row_id for row_id in covered if row_id is not None]

    def drop(self, event_ids: Sequence[int]) -> int:
        """Delete these stored events (ones the tombstones cover); returns how many."""
        with self.database.engine.connect() as connection:
            with connection.begin():
                self._lock_for_writing(connection)
                deleted = self._delete_ids(connection, _EVENTS, list(event_ids))
        return deleted

    # --- erasing ------------------------------------------------------------------------------------------------

    def erase(self, email: str, *, now: datetime | None = None) -> Erasure:
        """Delete every row that carries ``email`` (normalized; matched whatever its case, in the columns and in
        the stored bodies and requests), take it out of notes and errors, and keep the tombstones: one
        transaction. The daily counts stay (they hold no email)."""
        now = now or utcnow()
        email = email.strip().lower()
        erasure = Erasure()
        with self.database.engine.connect() as connection:
            with connection.begin():
                self._lock_for_writing(connection)
                erasure.events, event_keys = self._erase_events(connection, email)
                erasure.items = self._erase_items(connection, email)
                erasure.contacts = self._delete_ids(
                    connection,
                    _CONTACTS,
                    [
                        (row[0], row[1])
                        for row in connection.execute(
                            sa.select(_CONTACTS.c.account, _CONTACTS.c.email).where(
                                sa.or_(
                                    sa.func.lower(_CONTACTS.c.email) == email,
                                    self._contains(_CONTACTS.c.state, email),
                                )
                            )
                        )
                    ],
                )
                erasure.texts = self._scrub_texts(connection, email)
                fingerprints = [self.email_fingerprint(email)]
                fingerprints += [self.event_fingerprint(source, event_id) for source, event_id in event_keys]
                self._mark(connection, fingerprints, now)
        if self.database.kind == "sqlite":
            try:
                erasure.traces_left = not self._flush_sqlite(email)
            except sa.exc.OperationalError:  # busy for too long: the rows are gone, their bytes not yet
                erasure.traces_left = True
        return erasure

    def _lock_for_writing(self, connection: sa.Connection) -> None:
        """On SQLite, take the file's write lock before reading (a statement that writes nothing): a transaction
        that reads first and writes later fails at once, without waiting, when another one wrote in between."""
        if self.database.kind == "sqlite":
            connection.exec_driver_sql("UPDATE forgotten_mark SET forgotten_at = forgotten_at WHERE 0")

    def _contains(self, column: sa.ColumnElement[Any], email: str) -> sa.ColumnElement[bool]:
        """Whether a column's text (a body's bytes, a JSON document) holds the email, whatever its case."""
        if self.database.kind == "postgresql" and isinstance(column.type, sa.LargeBinary):
            text: sa.ColumnElement[Any] = sa.func.encode(column, "escape")
        else:
            text = sa.cast(column, sa.Text)
        return sa.func.lower(text).contains(email, autoescape=True)

    def _erase_events(self, connection: sa.Connection, email: str) -> tuple[int, list[tuple[str, str]]]:
        table = _EVENTS
        query = sa.select(table.c.id, table.c.source, table.c.event_id).where(
            sa.or_(
                sa.func.lower(table.c.email) == email,
                self._contains(table.c.body, email),
                self._contains(table.c.event_id, email),
                self._contains(table.c.reason, email),
                self._contains(table.c.origin, email),
            )
        )
        rows = connection.execute(query).all()
        deleted = self._delete_ids(connection, table, [row[0] for row in rows])
        return deleted, [(row[1], row[2]) for row in rows]

    def _erase_items(self, connection: sa.Connection, email: str) -> int:
        table = _ITEMS
        query = sa.select(table.c.id).where(
            sa.or_(
                sa.func.lower(table.c.email) == email,
                self._contains(table.c.requests, email),
                self._contains(table.c.changes, email),
                self._contains(table.c.reason, email),
            )
        )
        ids = [row[0] for row in connection.execute(query)]
        for start in range(0, len(ids), _CHUNK):
            connection.execute(sa.delete(_GROUPS).where(_GROUPS.c.item_id.in_(ids[start : start + _CHUNK])))
        return self._delete_ids(connection, table, ids)

    @staticmethod
    def _delete_ids(connection: sa.Connection, table: sa.Table, keys: Sequence[Any]) -> int:
        """Delete rows by primary key (one column, or a tuple of the columns), 500 at a time."""
        columns = list(table.primary_key.columns)
        deleted = 0
        for start in range(0, len(keys), _CHUNK):
            part = keys[start : start + _CHUNK]
            where = sa.tuple_(*columns).in_(part) if len(columns) > 1 else columns[0].in_(part)
            deleted += connection.execute(sa.delete(table).where(where)).rowcount
        return deleted

    def _scrub_texts(self, connection: sa.Connection, email: str) -> int:
        pattern = re.compile(re.escape(email), re.IGNORECASE)
        changed = 0
        for table, key, names in _SCRUBBED:
            columns = [table.c[name] for name in names]
            query = sa.select(table.c[key], *columns).where(sa.or_(*(self._contains(c, email) for c in columns)))
            for row in connection.execute(query).all():
                values = {name: pattern.sub(FORGOTTEN_CONTACT, row[i + 1] or "") for i, name in enumerate(names)}
                connection.execute(sa.update(table).where(table.c[key] == row[0]).values(**values))
                changed += 1
        return changed

    def _mark(self, connection: sa.Connection, fingerprints: list[str], now: datetime) -> None:
        dialect = postgresql if self.database.kind == "postgresql" else sqlite
        statement = dialect.insert(ForgottenMark)
        statement = statement.on_conflict_do_update(
            index_elements=["fingerprint"], set_={"forgotten_at": statement.excluded["forgotten_at"]}
        )
        rows = [{"fingerprint": fp, "forgotten_at": now} for fp in sorted(set(fingerprints))]
        for start in range(0, len(rows), _CHUNK):
            connection.execute(statement, rows[start : start + _CHUNK])

    def _flush_sqlite(self, email: str) -> bool:
        """Move the log into the file (its old pages held the rows), then make sure the email is gone from the
        file's bytes, rebuilding the file if an older copy remains. True when no trace is left."""
        path = sa.engine.make_url(self.database.url).database
        if not path or path == ":memory:":
            return True
        self._checkpoint()
        if not _file_holds(Path(path), email):
            return True
        with self.database.engine.connect() as connection:
            connection.exec_driver_sql("VACUUM")
        self._checkpoint()
        return not any(_file_holds(Path(f"{path}{suffix}"), email) for suffix in ("", "-wal"))

    def _checkpoint(self) -> None:
        with self.database.engine.connect() as connection:
            connection.exec_driver_sql("PRAGMA wal_checkpoint(TRUNCATE)")

    # --- the record -----------------------------------------------------------------------------------------------

    def record(self, *, requested_by: str, origin: str, outcome: str, result: str) -> ForgetRecord:
        """Record one forget (when, by whom, how it went); the text must not hold the email."""
        row = ForgetRecord(requested_by=requested_by[:200], origin=origin[:20], outcome=outcome[:20], result=result)
        with self.database.session() as session:
            session.add(row)
            session.flush()
            session.refresh(row)
        return row

    def records(self, limit: int = 50) -> list[ForgetRecord]:
        with self.database.session() as session:
            query = select(ForgetRecord).order_by(col(ForgetRecord.id).desc()).limit(limit)
            return list(session.exec(query))


def _file_holds(path: Path, email: str) -> bool:
    """Whether the file's bytes hold ``email`` in any case (read in pieces, so a large file costs no memory)."""
    if not path.exists():
        return False
    needle = email.lower().encode("utf-8")
    overlap = max(len(needle) - 1, 0)
    tail = b""
    with path.open("rb") as handle:
        while piece := handle.read(_SCAN_BYTES):
            window = tail + piece.lower()
            if needle in window:
                return True
            tail = window[-overlap:] if overlap else b""
    return False
