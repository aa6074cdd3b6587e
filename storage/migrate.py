"""Alembic, configured in code (no alembic.ini at the top level): ``upgrade`` brings a database to head.

It works on an engine, so that ``storage.db`` can migrate the database it opens without the two modules
importing each other.
"""

from __future__ import annotations

import fcntl
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import sqlalchemy as sa
from alembic import command
from alembic.config import Config

from storage.files import private_file

MIGRATIONS = Path(__file__).resolve().parent / "migrations"


def alembic_config(engine: sa.Engine) -> Config:
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    config.attributes["engine"] = engine
    return config


def upgrade(engine: sa.Engine, revision: str = "head") -> None:
    """Migrate, one process at a time: two processes opening a fresh database together (a receiver and a worker
    starting side by side) must not both create the tables."""
    with _migration_lock(engine), engine.begin() as connection:
        if engine.dialect.name == "postgresql":
            connection.exec_driver_sql("SELECT pg_advisory_xact_lock(8025001)")  # held until this commit
        config = alembic_config(engine)
        config.attributes["connection"] = connection
        command.upgrade(config, revision)


@contextmanager
def _migration_lock(engine: sa.Engine) -> Iterator[None]:
    """On SQLite, an exclusive lock on a file beside the database (PostgreSQL uses an advisory lock)."""
    path = engine.url.database if engine.dialect.name == "sqlite" else None
    if not path or path == ":memory:":
        yield
        return
    with open(private_file(Path(f"{path}.migrate.lock")), "a") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)
