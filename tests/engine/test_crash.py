"""Crash safety and concurrency with real processes: ``python -m sync_core sync`` killed with SIGKILL at a random
moment and started again; two syncs started at once. The sandbox runs over HTTP in this test process and counts
every upsert it receives, per email."""

from __future__ import annotations

import os
import random
import signal
import subprocess
import sys
import time
from collections import Counter

import pytest

from storage.events import EventStore
from sync_core.domain.presets import load_preset
from sync_core.sandbox import FaultSettings, serve_sandbox
from sync_core.settings import get_settings
from tests.engine.conftest import CountingAccount, import_bytes, partners_csv
from tests.reference import REPO

pytestmark = pytest.mark.processes


@pytest.fixture
def served(partnero_workspace, monkeypatch):
    """An HTTP sandbox (with a little latency, so that a run takes long enough to be killed in the middle) and
    the environment a sync process needs to reach it and the test database."""
    account = CountingAccount(
        limit=100_000, window_seconds=1, import_limit=10_000, faults=FaultSettings(latency_seconds=0.03)
    )
    config = load_preset("partnero")
    config.connection.sandbox = False  # talk to the HTTP sandbox as if it were MailerLite
    partnero_workspace.save_config(config)
    with serve_sandbox(account) as server:
        env = dict(
            os.environ,
            DATABASE_URL=partnero_workspace.database.url,
            MAILERLITE_API_KEY="sandbox-key",
            MAILERLITE_BASE_URL=server.base_url,
            PYTHONPATH=str(REPO),
        )
        yield account, env


def start_sync(env: dict) -> subprocess.Popen:
    return subprocess.Popen(
        [sys.executable, "-m", "sync_core", "sync"],
        cwd=REPO,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


def wait_for_run_to_start(database, process: subprocess.Popen, timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        with database.engine.connect() as connection:
            if connection.exec_driver_sql("SELECT count(*) FROM sync_run").scalar():
                return
        assert process.poll() is None, process.communicate()
        time.sleep(0.02)
    raise AssertionError("the sync did not start")


def successes_per_email(database) -> Counter:
    with database.engine.connect() as connection:
        rows = connection.exec_driver_sql(
            "SELECT email FROM sync_item WHERE outcome IN ('created', 'updated') AND dry_run = false"
        ).all()
    return Counter(email for (email,) in rows)


def test_a_sync_killed_at_a_random_moment_finishes_on_restart_with_every_contact_recorded_once(
    partnero_workspace, served
):
    account, env = served
    import_bytes(partnero_workspace, partners_csv(2000))
    seed = random.randrange(10**6)
    delay = random.Random(seed).uniform(0.0, 1.0)
    process = start_sync(env)
    wait_for_run_to_start(partnero_workspace.database, process)
    time.sleep(delay)  # a random moment of the run: planning, sending, or committing
    process.send_signal(signal.SIGKILL)
    process.wait(timeout=30)
    recorded_before_restart = sum(successes_per_email(partnero_workspace.database).values())
    assert recorded_before_restart < 2000, f"the kill came too late to test anything (seed {seed})"

    restarted = start_sync(env)
    out, err = restarted.communicate(timeout=240)
    assert restarted.returncode == 0, (out, err)

    successes = successes_per_email(partnero_workspace.database)
    assert len(successes) == 2000 and set(successes.values()) == {1}, f"seed {seed}"
    assert EventStore(partnero_workspace.database).counts() == {"synced": 2000}
    assert len(account.upserts) == 2000  # every contact reached the account
    # a contact is sent again only if it was in a batch in flight at the kill: at most that many batches of 49
    in_flight = get_settings().batches_in_flight
    assert sum(count - 1 for count in account.upserts.values()) <= in_flight * 49, f"seed {seed}"
    with partnero_workspace.database.engine.connect() as connection:
        statuses = [status for (status,) in connection.exec_driver_sql("SELECT status FROM sync_run ORDER BY id").all()]
    assert statuses == ["interrupted", "finished"]
    assert len(account.state.subscribers) == 2000  # the sandbox's own view, not the product's


def test_two_syncs_started_together_never_send_a_contact_twice(partnero_workspace, served):
    account, env = served
    import_bytes(partnero_workspace, partners_csv(600))
    first, second = start_sync(env), start_sync(env)
    results = [process.communicate(timeout=240) + (process.returncode,) for process in (first, second)]
    codes = sorted(code for _, _, code in results)
    assert codes[0] == 0, results
    busy = [err for _, err, code in results if code != 0]
    assert all("another sync is running" in err.lower() for err in busy), results
    assert max(account.upserts.values()) == 1 and len(account.upserts) == 600
    assert set(successes_per_email(partnero_workspace.database).values()) == {1}
