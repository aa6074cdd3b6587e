"""Alembic, configured in code (no alembic.ini at the top level): ``upgrade`` brings a database to head."""

from __future__ import annotations

import fcntl
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING

from alembic import command
from alembic.config import Config

if TYPE_CHECKING:
    from storage.db import Database

MIGRATIONS = Path(__file__).resolve().parent / "migrations"


def alembic_config(database: Database) -> Config:
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    config.attributes["engine"] = database.engine
    return config


def upgrade(database: Database, revision: str = "head") -> None:
    """Migrate, one process at a time: two processes opening a fresh database together (a receiver and a worker
    starting side by side) must not both create the tables."""
    with _migration_lock(database), database.engine.begin() as connection:
        if database.kind == "postgresql":
            connection.exec_driver_sql("SELECT pg_advisory_xact_lock(8025001)")  # held until this commit
        config = alembic_config(database)
        config.attributes["connection"] = connection
        command.upgrade(config, revision)


@contextmanager
def _migration_lock(database: Database) -> Iterator[None]:
    """On SQLite, an exclusive lock on a file beside the database (PostgreSQL uses an advisory lock)."""
    path = database.engine.url.database if database.kind == "sqlite" else None
    if not path or path == ":memory:":
        yield
        return
    with open(f"{path}.migrate.lock", "a") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)
