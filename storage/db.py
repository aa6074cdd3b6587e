"""The database: a SQLite file or PostgreSQL, whichever URL the caller gives (sync_core reads it from the
environment; storage reads no environment).

Opening a database applies the migrations first, so a fresh machine and an old database both end up at the
current schema without a separate step.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import sqlalchemy as sa
from sqlalchemy import event
from sqlmodel import Session

from storage.files import private_file
from storage.migrate import upgrade


def driver_url(url: str) -> str:
    """The URL with the driver installed for it: ``postgres://`` and ``postgresql://`` mean psycopg 3."""
    if url.startswith("postgres://"):
        url = "postgresql://" + url[len("postgres://") :]
    if url.startswith("postgresql://"):
        url = "postgresql+psycopg://" + url[len("postgresql://") :]
    return url


def describe_url(url: str) -> str:
    """The URL without its password, for messages and pages."""
    return sa.engine.make_url(url).render_as_string(hide_password=True)


class Database:
    """One database: its engine, sessions and kind. Create one per process and share it."""

    def __init__(self, url: str, *, migrate: bool = True):
        self.url = driver_url(url)
        self.kind = sa.engine.make_url(self.url).get_backend_name()  # "sqlite" or "postgresql"
        if self.kind == "sqlite":
            path = sa.engine.make_url(self.url).database
            if path and path != ":memory:":
                private_file(Path(path))  # created readable by its owner only, with its directory
            self.engine = sa.create_engine(self.url, connect_args={"check_same_thread": False, "timeout": 30})
            event.listen(self.engine, "connect", _sqlite_pragmas)
        else:
            self.engine = sa.create_engine(self.url, pool_pre_ping=True, pool_size=5, max_overflow=5)
        if migrate:
            upgrade(self.engine)

    def __repr__(self) -> str:
        return f"Database({describe_url(self.url)!r})"

    @contextmanager
    def session(self) -> Iterator[Session]:
        """A session that commits when the block ends normally and rolls back on an error."""
        with Session(self.engine, expire_on_commit=False) as session:
            try:
                yield session
                session.commit()
            except BaseException:
                session.rollback()
                raise

    def dispose(self) -> None:
        self.engine.dispose()


def is_transient(error: BaseException) -> bool:
    """Whether ``error`` is the database failing to carry a statement out (a busy or locked SQLite file, a
    PostgreSQL deadlock victim, a dropped connection) rather than refusing it: the failed transaction stored
    nothing, so trying again is safe and may succeed."""
    return isinstance(error, sa.exc.OperationalError)


def _sqlite_pragmas(connection, _record) -> None:  # noqa: ANN001
    cursor = connection.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")  # readers never block the writer (the dashboard while a sync runs)
    cursor.execute("PRAGMA synchronous=NORMAL")  # durable in WAL mode across process crashes
    cursor.execute("PRAGMA busy_timeout=30000")
    cursor.execute("PRAGMA foreign_keys=ON")
    # A deleted or rewritten row's bytes are overwritten, not left in free space: a forgotten contact (GDPR)
    # leaves no trace in the file (storage.forgotten checkpoints the log after it).
    cursor.execute("PRAGMA secure_delete=ON")
    cursor.close()
