"""The built-in sandbox account (``data/sandbox.db``) used by several real processes at once, as users run it: the
CLI's sync, another process creating groups, a process killed with SIGKILL, ``sandbox serve``. Nothing one process
wrote is lost by another, and every contact the history says synced is in the account."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time

import pytest

from sync_core.mailerlite import MailerLiteClient, MailerLiteSettings
from sync_core.sandbox import SandboxAccount, sandbox_client
from tests.engine.conftest import import_bytes, partners_csv
from tests.engine.test_crash import successes_per_email
from tests.reference import REPO

pytestmark = pytest.mark.processes


def cli_env(workspace) -> dict:
    return dict(os.environ, DATABASE_URL=workspace.database.url, PYTHONPATH=str(REPO))


def start_sync(workspace) -> subprocess.Popen:
    return subprocess.Popen(
        [sys.executable, "-m", "sync_core", "sync"],
        cwd=REPO,
        env=cli_env(workspace),
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


def account_emails(workspace) -> set[str]:
    """The account as a newly started process sees it."""
    account = SandboxAccount(state_file=workspace.directory / "sandbox.db")
    try:
        with sandbox_client(account) as client:
            return {subscriber.email for subscriber in client.iter_subscribers()}
    finally:
        account.close()


def test_a_cli_sync_and_another_process_writing_the_same_sandbox_lose_nothing(partnero_workspace):
    assert partnero_workspace.uses_sandbox()
    import_bytes(partnero_workspace, partners_csv(300))
    created = []
    with partnero_workspace.client() as client:  # this process opens the sandbox before the sync starts
        client.upsert_subscriber("before@example.com")
        sync = start_sync(partnero_workspace)
        while sync.poll() is None and len(created) < 40:
            created.append(client.create_group(f"Made by hand {len(created)}").id)
        out, err = sync.communicate(timeout=240)
        assert sync.returncode == 0, (out, err)
        created.append(client.create_group("Made after the sync").id)
        client.upsert_subscriber("after@example.com")
        groups = {group.id for group in client.iter_groups()}
        emails = {subscriber.email for subscriber in client.iter_subscribers()}
    assert set(created) <= groups
    synced = set(successes_per_email(partnero_workspace.database))
    assert len(synced) == 300
    assert synced | {"before@example.com", "after@example.com"} == emails
    assert account_emails(partnero_workspace) == emails


def test_a_sync_killed_with_sigkill_leaves_every_recorded_contact_in_the_sandbox(partnero_workspace):
    import_bytes(partnero_workspace, partners_csv(3000))
    sync = start_sync(partnero_workspace)
    deadline = time.monotonic() + 120
    while not successes_per_email(partnero_workspace.database) and time.monotonic() < deadline:
        assert sync.poll() is None, sync.communicate()
        time.sleep(0.01)
    sync.send_signal(signal.SIGKILL)
    sync.wait(timeout=30)
    synced = set(successes_per_email(partnero_workspace.database))
    assert synced, "the sync recorded nothing before the kill"
    assert synced <= account_emails(partnero_workspace)

    restarted = start_sync(partnero_workspace)
    out, err = restarted.communicate(timeout=240)
    assert restarted.returncode == 0, (out, err)
    assert set(successes_per_email(partnero_workspace.database)) == account_emails(partnero_workspace)
    assert len(account_emails(partnero_workspace)) == 3000


WORKER = """
import sys
from pathlib import Path
from storage import Database
from sync_core.engine.workspace import Workspace
workspace = Workspace(Database(sys.argv[1]), directory=Path(sys.argv[2]))
with workspace.client() as client:
    for line in sys.stdin:
        print(client.upsert_subscriber(line.strip()).subscriber.id, flush=True)
"""


def test_processes_see_each_others_subscribers_at_once(partnero_workspace):
    """A long-running process (as the dashboard's worker is), this process (as the dashboard is) and
    ``sandbox serve`` on the same file: what one creates, the others list at once."""
    worker = subprocess.Popen(
        [sys.executable, "-c", WORKER, partnero_workspace.database.url, str(partnero_workspace.directory)],
        cwd=REPO,
        env=cli_env(partnero_workspace),
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
    )
    serve = subprocess.Popen(
        [sys.executable, "-m", "sync_core", "sandbox", "serve", "--port", "0"]
        + ["--state-file", str(partnero_workspace.directory / "sandbox.db")],
        cwd=REPO,
        env=cli_env(partnero_workspace),
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        line = serve.stdout.readline()
        assert "listening on http://127.0.0.1:" in line, line
        base_url = line.split("listening on ")[1].split()[0]
        with partnero_workspace.client() as dashboard, sandbox_http(base_url) as served:
            for number in range(5):
                worker.stdin.write(f"worker{number}@example.com\n")
                worker.stdin.flush()
                worker_id = worker.stdout.readline().strip()
                assert dashboard.get_subscriber(f"worker{number}@example.com").id == worker_id
                assert served.get_subscriber(f"worker{number}@example.com").id == worker_id
                mine = dashboard.upsert_subscriber(f"dashboard{number}@example.com").subscriber
                assert served.get_subscriber(mine.email).id == mine.id
                theirs = served.upsert_subscriber(f"served{number}@example.com").subscriber
                assert dashboard.get_subscriber(theirs.email).id == theirs.id
            assert dashboard.count_subscribers() == served.count_subscribers() == 15
    finally:
        worker.stdin.close()
        assert worker.wait(timeout=30) == 0
        serve.send_signal(signal.SIGTERM)
        serve.wait(timeout=30)


def sandbox_http(base_url: str) -> MailerLiteClient:
    return MailerLiteClient(MailerLiteSettings(api_key="sandbox-key", base_url=base_url))
