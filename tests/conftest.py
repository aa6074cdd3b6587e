"""Shared fixtures: the reference material (official Dodo examples) and small event builders."""

from __future__ import annotations

import os
import shutil
from datetime import UTC, datetime
from pathlib import Path

import pytest
from hypothesis import settings

from tests.reference import DODO_EXAMPLES_FILE, read_json

# No per-example time limit: machines here are shared and noisy, and speed is measured by bench/, never by
# tests. In CI the examples are derandomized, so that a run is reproducible.
settings.register_profile("studio", deadline=None, derandomize=os.environ.get("CI") == "true", print_blob=True)
settings.load_profile("studio")


@pytest.fixture(scope="session")
def dodo_examples() -> dict[str, dict]:
    """Event type → the official example event (21 of them, Sep 2025 OpenAPI)."""
    document = read_json(DODO_EXAMPLES_FILE)
    return {event_type: entry["example"] for event_type, entry in document.items()}


@pytest.fixture
def now() -> datetime:
    return datetime(2026, 1, 1, 12, 0, tzinfo=UTC)


# --- databases: every storage test runs on SQLite and on PostgreSQL ---------------------------------------------

POSTGRES_ADMIN_URL = os.environ.get("TEST_POSTGRES_URL", "postgresql://postgres@127.0.0.1:5432/postgres")


@pytest.fixture(scope="session")
def postgres_url():
    """A fresh PostgreSQL database for this test session. Skipped where no server runs, except in CI
    (CI=true), where a missing server is a failure."""
    import uuid

    import sqlalchemy as sa

    admin = sa.create_engine(
        POSTGRES_ADMIN_URL.replace("postgresql://", "postgresql+psycopg://", 1), isolation_level="AUTOCOMMIT"
    )
    try:
        with admin.connect() as connection:
            name = f"sync_studio_test_{uuid.uuid4().hex[:10]}"
            connection.exec_driver_sql(f'CREATE DATABASE "{name}"')
    except sa.exc.OperationalError as exc:
        admin.dispose()
        if os.environ.get("CI") == "true":
            pytest.fail(f"PostgreSQL is required in CI but not reachable at {POSTGRES_ADMIN_URL}: {exc}")
        pytest.skip(f"no PostgreSQL at {POSTGRES_ADMIN_URL}")
    url = POSTGRES_ADMIN_URL.rsplit("/", 1)[0] + f"/{name}"
    yield url
    with admin.connect() as connection:
        connection.exec_driver_sql(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    admin.dispose()


@pytest.fixture(scope="session")
def migrated_sqlite_file(tmp_path_factory) -> Path:
    """One SQLite file migrated to head: each test gets a copy, instead of running every migration again."""
    from storage import Database

    path = tmp_path_factory.mktemp("template") / "migrated.db"
    Database(f"sqlite:///{path}").dispose()  # closing the last connection checkpoints the WAL into the file
    return path


@pytest.fixture(params=["sqlite", "postgresql"])
def database(request, tmp_path):
    """An empty, migrated database of each kind."""
    from storage import Database

    if request.param == "sqlite":
        shutil.copyfile(request.getfixturevalue("migrated_sqlite_file"), tmp_path / "test.db")
        db = Database(f"sqlite:///{tmp_path / 'test.db'}")
    else:
        db = Database(request.getfixturevalue("postgres_url"))
        with db.engine.begin() as connection:
            tables = [t for t in db.engine.dialect.get_table_names(connection) if t != "alembic_version"]
            if tables:
                connection.exec_driver_sql(
                    "TRUNCATE " + ", ".join(f'"{t}"' for t in tables) + " RESTART IDENTITY CASCADE"
                )
    yield db
    db.dispose()


@pytest.fixture
def workspace(database, tmp_path, monkeypatch):
    """A workspace on a test database, with its own data directory and no key in the environment."""
    from sync_core.engine.workspace import Workspace

    for variable in (
        "MAILERLITE_API_KEY",
        "MAILERLITE_BASE_URL",
        "DODO_PAYMENTS_WEBHOOK_KEY",
        "PARTNERO_WEBHOOK_SECRET",
        "MAILERLITE_WEBHOOK_SECRET",
        "SYNC_STUDIO_SECRET_KEY",
    ):
        monkeypatch.delenv(variable, raising=False)
    monkeypatch.setenv("SYNC_STUDIO_DATA_DIR", str(tmp_path / "data"))
    return Workspace(database, directory=tmp_path / "data")
