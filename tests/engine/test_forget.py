"""Forgetting a contact (GDPR) as a person does it, from the command line, after the contact was synced to the
built-in sandbox from an imported file and a Dodo Payments webhook: no trace of the email is left in the
database's bytes (SQLite: the file, its log; the sandbox's file too) or rows (PostgreSQL), the sandbox forgot
the subscriber, an old event replayed afterwards (by file or by webhook) sends nothing and stores no email, and
an event dated after the forget syncs again."""

from __future__ import annotations

import io
import json
import os
import subprocess
import sys
from datetime import UTC, datetime, timedelta
from pathlib import Path

import httpx
import pytest
from starlette.applications import Starlette

from sync_core.domain.presets import load_preset
from sync_core.engine.file_import import import_file
from sync_core.engine.run import SyncEngine
from sync_core.live import LiveSync
from tests.reference import REPO
from tests.webhooks.helpers import DODO_SECRET, dodo_body, dodo_headers, serve_app

EMAIL = "Ada.Lovelace@Example.com"
ADDRESS = EMAIL.lower()
PARTNERS = f"email,name,surname,key,status\n{EMAIL},Ada,Lovelace,ada1,active\n".encode()


def studio_config():
    """Partnero's preset (imported partner rows) and Dodo Payments' triggers (webhooks), syncing to the sandbox."""
    config = load_preset("partnero")
    dodo = load_preset("dodo-payments")
    config.triggers.extend(dodo.triggers)
    config.group_rules.extend(dodo.group_rules)
    config.connection.sandbox = True
    return config


def dodo_event(n: int, *, at: datetime | None = None) -> bytes:
    body = json.loads(dodo_body(n, email=EMAIL))
    if at is not None:
        body["timestamp"] = at.strftime("%Y-%m-%dT%H:%M:%S.%fZ")
    return json.dumps(body, separators=(",", ":")).encode()


def sqlite_files(workspace) -> list[Path]:
    """Every file the store and the sandbox keep their data in (the logs and shared-memory files if present)."""
    database = Path(workspace.database.engine.url.database)
    sandbox = Path(workspace.directory) / "sandbox.db"
    return [Path(f"{path}{suffix}") for path in (database, sandbox) for suffix in ("", "-wal", "-shm")]


def traces(workspace) -> list[str]:
    """The files whose bytes hold the address, in any case."""
    needle = ADDRESS.encode()
    return [str(path) for path in sqlite_files(workspace) if path.exists() and needle in path.read_bytes().lower()]


def rows_with_the_address(workspace) -> dict[str, int]:
    """PostgreSQL: rows that carry the address, in a column or inside a body, request, change or state."""
    checks = {
        "received_event": "lower(coalesce(email, '')) = :a OR lower(encode(coalesce(body, ''), 'escape')) LIKE :p",
        "sync_item": "lower(email) = :a OR lower(CAST(requests AS TEXT)) LIKE :p OR lower(CAST(changes AS TEXT)) LIKE :p",
        "contact": "lower(email) = :a OR lower(CAST(state AS TEXT)) LIKE :p",
    }
    import sqlalchemy as sa

    with workspace.database.engine.connect() as connection:
        return {
            table: connection.execute(
                sa.text(f"SELECT count(*) FROM {table} WHERE {where}"), {"a": ADDRESS, "p": f"%{ADDRESS}%"}
            ).scalar()
            for table, where in checks.items()
        }


def forget_command(workspace, *args: str, stdin=subprocess.DEVNULL) -> subprocess.CompletedProcess:
    env = {k: v for k, v in os.environ.items() if not k.startswith("MAILERLITE_") and k != "DATABASE_URL"}
    env.update(DATABASE_URL=workspace.database.url, SYNC_STUDIO_DATA_DIR=str(workspace.directory))
    return subprocess.run(
        [sys.executable, "-m", "sync_core", "forget", *args],
        cwd=REPO,
        env=env,
        stdin=stdin,
        capture_output=True,
        text=True,
        timeout=120,
    )


def import_partners(workspace):
    return import_file(workspace.events, io.BytesIO(PARTNERS), name="partners.csv", config=workspace.config())


def sync(workspace, **options):
    return SyncEngine(workspace, patience_seconds=5).run(trigger="cli", **options)


def in_sandbox(workspace) -> int:
    """The status of ``GET /api/subscribers/{email}`` in the built-in sandbox."""
    account = workspace.sandbox()
    return account.handle(
        "GET", f"/api/subscribers/{EMAIL}", headers={"Authorization": f"Bearer {account.default_key}"}
    ).status


@pytest.fixture
def studio(workspace, monkeypatch):
    """The workspace with its configuration, and the webhook routes served on 127.0.0.1 (no worker)."""
    monkeypatch.setenv("DODO_PAYMENTS_WEBHOOK_KEY", DODO_SECRET)
    workspace.save_config(studio_config(), author="test")
    live = LiveSync(lambda: workspace, worker=False, ttl=0)
    with serve_app(Starlette(routes=live.routes(), lifespan=live.lifespan)) as url:
        with httpx.Client(base_url=url, timeout=10) as http:
            yield workspace, http


def post_dodo(http, body: bytes, msg_id: str) -> httpx.Response:
    return http.post("/webhooks/dodo-payments", content=body, headers=dodo_headers(body, msg_id=msg_id))


@pytest.mark.processes
def test_forget_from_the_command_line_leaves_no_trace_and_old_events_never_come_back(studio):
    workspace, http = studio
    before = dodo_event(1, at=datetime.now(UTC) - timedelta(days=2))
    import_partners(workspace)
    assert post_dodo(http, before, "msg_ada_1").status_code == 200
    assert sync(workspace, dry_run=True).created == 1  # a dry run's changes name the contact too
    run = sync(workspace)
    assert run.created + run.updated >= 1 and in_sandbox(workspace) == 200
    if workspace.database.kind == "sqlite":
        assert traces(workspace), "the address should be in the files before the forget (else the search is wrong)"
    else:
        assert all(rows_with_the_address(workspace).values())

    refused = forget_command(workspace, EMAIL)
    assert refused.returncode == 1 and "no one to confirm" in refused.stderr and "Traceback" not in refused.stderr
    assert in_sandbox(workspace) == 200  # nothing was done

    forgotten = forget_command(workspace, EMAIL, "--yes")
    assert forgotten.returncode == 0, forgotten.stderr
    assert (
        forgotten.stdout.startswith("Forgotten.") and "Sandbox was asked to forget the subscriber" in forgotten.stdout
    )
    assert in_sandbox(workspace) == 404
    if workspace.database.kind == "sqlite":
        assert traces(workspace) == []
    else:
        assert rows_with_the_address(workspace) == {"received_event": 0, "sync_item": 0, "contact": 0}
    [record] = workspace.forgotten.records()
    assert record.origin == "cli" and record.requested_by and record.outcome == "done"
    assert ADDRESS not in record.result.lower() and "was asked to forget the subscriber" in record.result

    # The same file and the same webhook again (a replay, a late retry): nothing is sent, no email is stored.
    import_partners(workspace)
    assert post_dodo(http, before, "msg_ada_1").status_code == 200
    assert post_dodo(http, dodo_event(2, at=datetime.now(UTC) - timedelta(hours=1)), "msg_ada_late").status_code == 200
    replayed = sync(workspace)
    assert replayed.requests == 0 and replayed.created + replayed.updated == 0
    assert in_sandbox(workspace) == 404
    if workspace.database.kind == "sqlite":
        assert traces(workspace) == []
    else:
        assert rows_with_the_address(workspace) == {"received_event": 0, "sync_item": 0, "contact": 0}
    assert workspace.events.counts().get("ignored", 0) >= 3

    # The person comes back: an event dated after the forget syncs as any other.
    assert (
        post_dodo(http, dodo_event(3, at=datetime.now(UTC) + timedelta(seconds=1)), "msg_ada_back").status_code == 200
    )
    back = sync(workspace)
    assert back.created == 1 and in_sandbox(workspace) == 200
