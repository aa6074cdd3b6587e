"""The sandbox account's own database: one SQLite file that every process using the account shares.

It is not the studio's database: it holds a simulated MailerLite account. Documents (subscribers, groups, fields)
are stored as JSON, each stamped with the version of the transaction that last wrote it; a removal leaves the
document's row with no body, so a process catches up by reading only what changed since the version it last saw.
WAL mode lets readers work while one process writes; the busy timeout makes a second writer wait its turn instead
of failing; ``synchronous=FULL`` makes a committed transaction survive a crash of the process or the machine.

The outbox holds the webhook deliveries the account owes (written in the transaction of the change that caused
them, so none is lost): a process takes the due ones for a while (``claim_due``), then removes or reschedules each.
A removed document leaves no bytes behind (a forgotten subscriber): deletion is secure (freed bytes are zeroed)
and a transaction that removed one moves the log into the file and empties it once committed.
"""

from __future__ import annotations

import json
import os
import sqlite3
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from storage.files import private_file

SCHEMA = (
    "CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL)",
    "CREATE TABLE IF NOT EXISTS documents ("
    " kind TEXT NOT NULL, id TEXT NOT NULL, body TEXT, version INTEGER NOT NULL, PRIMARY KEY (kind, id))",
    "CREATE INDEX IF NOT EXISTS documents_by_version ON documents (version)",
    "CREATE TABLE IF NOT EXISTS outbox ("
    " id INTEGER PRIMARY KEY AUTOINCREMENT, webhook_id TEXT NOT NULL, body TEXT NOT NULL,"
    " attempts INTEGER NOT NULL DEFAULT 0, due_at REAL NOT NULL, claimed_until REAL NOT NULL DEFAULT 0)",
    "CREATE INDEX IF NOT EXISTS outbox_by_due ON outbox (due_at)",
)


@dataclass(frozen=True)
class OutboxRow:
    """One delivery owed to a webhook: its body (exactly the bytes to sign and send) and how often it was tried."""

    id: int
    webhook_id: str
    body: str
    attempts: int


@dataclass
class StoredChanges:
    """What was written after a given version: documents by kind and id (None when removed), and the counters."""

    version: int
    documents: dict[str, dict[str, dict[str, Any] | None]] = field(default_factory=dict)
    counters: dict[str, int] | None = None


class SandboxStore:
    """One connection per process to the sandbox's file; a connection inherited through ``fork`` is never used."""

    def __init__(self, path: str | Path, *, busy_timeout_seconds: float = 60.0) -> None:
        self.path = Path(path)
        self.busy_timeout_seconds = busy_timeout_seconds
        self._connection: sqlite3.Connection | None = None
        self._pid = 0
        self._removed = False  # the transaction under way removed a document: empty the log after it

    def exists(self) -> bool:
        return self.path.exists()

    def _connect(self) -> sqlite3.Connection:
        if self._connection is not None and self._pid == os.getpid():
            return self._connection
        private_file(self.path)  # the sandbox's subscribers are nobody else's to read
        connection = sqlite3.connect(
            self.path, timeout=self.busy_timeout_seconds, isolation_level=None, check_same_thread=False
        )
        try:
            connection.execute(f"PRAGMA busy_timeout = {int(self.busy_timeout_seconds * 1000)}")
            connection.execute("PRAGMA journal_mode = WAL")
            connection.execute("PRAGMA synchronous = FULL")
            connection.execute("PRAGMA secure_delete = ON")
            for statement in SCHEMA:
                connection.execute(statement)
        except BaseException:
            connection.close()
            raise
        self._connection, self._pid = connection, os.getpid()
        return connection

    @contextmanager
    def transaction(self, *, write: bool) -> Iterator[None]:
        """A read transaction sees one moment of the account; a write transaction holds the file's write lock from
        the start (taking it later could fail when another process wrote in between) and commits on leaving."""
        connection = self._connect()
        connection.execute("BEGIN IMMEDIATE" if write else "BEGIN")
        self._removed = False
        try:
            yield
        except BaseException:
            connection.execute("ROLLBACK")
            raise
        connection.execute("COMMIT")
        if self._removed:  # the removed documents' older versions are in the log's pages: erase them too
            self._removed = False
            connection.execute("PRAGMA wal_checkpoint(TRUNCATE)")

    def version(self) -> int:
        row = self._connect().execute("SELECT value FROM meta WHERE key = 'version'").fetchone()
        return int(row[0]) if row else 0

    def changes_since(self, version: int) -> StoredChanges:
        connection = self._connect()
        changes = StoredChanges(version=self.version())
        if changes.version == version:
            return changes
        rows = connection.execute(
            "SELECT kind, id, body FROM documents WHERE version > ? ORDER BY version, kind, id", (version,)
        )
        for kind, document_id, body in rows:
            changes.documents.setdefault(kind, {})[document_id] = json.loads(body) if body is not None else None
        row = connection.execute("SELECT value FROM meta WHERE key = 'counters'").fetchone()
        changes.counters = json.loads(row[0]) if row else None
        return changes

    def write(
        self,
        documents: Mapping[str, Mapping[str, dict[str, Any] | None]],
        counters: Mapping[str, int] | None,
    ) -> int:
        """Store the documents (None removes one) and the counters under a new version, which is returned.
        Call inside a write transaction."""
        connection = self._connect()
        version = self.version() + 1
        if any(body is None for bodies in documents.values() for body in bodies.values()):
            self._removed = True
        connection.executemany(
            "INSERT INTO documents (kind, id, body, version) VALUES (?, ?, ?, ?) "
            "ON CONFLICT (kind, id) DO UPDATE SET body = excluded.body, version = excluded.version",
            [
                (kind, document_id, None if body is None else json.dumps(body, separators=(",", ":")), version)
                for kind, bodies in documents.items()
                for document_id, body in bodies.items()
            ],
        )
        if counters is not None:
            self._set("counters", json.dumps(dict(counters)))
        self._set("version", str(version))
        return version

    def _set(self, key: str, value: str) -> None:
        self._connect().execute(
            "INSERT INTO meta (key, value) VALUES (?, ?) ON CONFLICT (key) DO UPDATE SET value = excluded.value",
            (key, value),
        )

    # -- the outbox (call inside a write transaction, except ``pending``) -----------------------------------------

    def add_deliveries(self, rows: list[tuple[str, str]], *, due_at: float) -> None:
        """Owe these deliveries (webhook id, body), due at once."""
        self._connect().executemany(
            "INSERT INTO outbox (webhook_id, body, due_at) VALUES (?, ?, ?)",
            [(webhook_id, body, due_at) for webhook_id, body in rows],
        )

    def claim_due(self, *, now: float, lease_seconds: float, limit: int = 20) -> list[OutboxRow]:
        """The deliveries due now that no process is busy with, taken for ``lease_seconds`` (a process that dies
        while sending leaves them to another once the lease has passed)."""
        connection = self._connect()
        rows = connection.execute(
            "SELECT id, webhook_id, body, attempts FROM outbox WHERE due_at <= ? AND claimed_until <= ? "
            "ORDER BY due_at, id LIMIT ?",
            (now, now, limit),
        ).fetchall()
        connection.executemany(
            "UPDATE outbox SET claimed_until = ? WHERE id = ?", [(now + lease_seconds, row[0]) for row in rows]
        )
        return [OutboxRow(*row) for row in rows]

    def finish_delivery(self, delivery_id: int) -> None:
        self._connect().execute("DELETE FROM outbox WHERE id = ?", (delivery_id,))

    def retry_delivery(self, delivery_id: int, *, attempts: int, due_at: float) -> None:
        self._connect().execute(
            "UPDATE outbox SET attempts = ?, due_at = ?, claimed_until = 0 WHERE id = ?",
            (attempts, due_at, delivery_id),
        )

    def next_due(self) -> float | None:
        """When the next delivery is due (or its lease ends), None when nothing is owed."""
        row = self._connect().execute("SELECT MIN(MAX(due_at, claimed_until)) FROM outbox").fetchone()
        return None if row is None or row[0] is None else float(row[0])

    def pending(self) -> int:
        return int(self._connect().execute("SELECT COUNT(*) FROM outbox").fetchone()[0])

    def remove(self) -> None:
        """Delete the file (and SQLite's companions); only for a database that was never used."""
        self.close()
        for suffix in ("", "-wal", "-shm"):
            Path(f"{self.path}{suffix}").unlink(missing_ok=True)

    def close(self) -> None:
        if self._connection is not None and self._pid == os.getpid():
            self._connection.close()
        self._connection = None
