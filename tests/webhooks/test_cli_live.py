"""``worker`` and ``serve-webhooks`` as real processes: the worker syncs into a sandbox served over HTTP and says
it is alive, both stop cleanly on SIGTERM."""

from __future__ import annotations

import signal
import time

import httpx
import pytest

from storage.events import EventStore
from sync_core.domain.presets import load_preset
from sync_core.live.queue_status import queue_status
from sync_core.sandbox import serve_sandbox
from tests.engine.conftest import partners_csv, queue_bytes
from tests.engine.test_crash import CountingAccount
from tests.webhooks.helpers import dodo_body, dodo_headers, free_port
from tests.webhooks.processes import cli, start, stop, studio_env, wait_healthy
from tests.webhooks.test_worker import wait_until

pytestmark = [pytest.mark.processes, pytest.mark.parametrize("database", ["sqlite"], indirect=True)]


@pytest.fixture
def sandbox(workspace):
    config = load_preset("partnero")
    config.connection.sandbox = False  # talk to the HTTP sandbox as if it were MailerLite
    workspace.save_config(config)
    account = CountingAccount(limit=100_000, window_seconds=1, import_limit=10_000)
    with serve_sandbox(account) as server:
        yield account, server.base_url


def test_the_worker_command_syncs_continuously_and_stops_on_sigterm(workspace, sandbox, tmp_path):
    account, base_url = sandbox
    log = tmp_path / "worker.log"
    queue_bytes(workspace, partners_csv(60))
    process = start(cli("worker", "--idle", "0.1", "--gather", "0"), studio_env(workspace, base_url), log)
    try:
        wait_until(lambda: EventStore(workspace.database).counts() == {"synced": 60}, timeout=60)
        queue_bytes(workspace, partners_csv(40, start=60))  # while it runs
        wait_until(lambda: EventStore(workspace.database).counts() == {"synced": 100}, timeout=60)
        status = wait_until(lambda: (s := queue_status(workspace.database)).worker_alive and s, timeout=30)
        assert status.waiting == 0
    finally:
        code = stop(process, signal.SIGTERM)
    output = log.read_text()
    assert code == 0, output
    assert "Account: MailerLite at" in output and "Worker stopped." in output
    assert "sandbox-key" not in output
    assert len(account.upserts) == 100 and set(account.upserts.values()) == {1}
    status = queue_status(workspace.database)
    assert not status.worker_alive and status.workers[0].state == "stopped"


def test_serve_webhooks_receives_alone_and_stops_on_sigterm(workspace, sandbox, tmp_path):
    _, base_url = sandbox
    log = tmp_path / "serve.log"
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    process = start(
        cli("serve-webhooks", "--host", "127.0.0.1", "--port", str(port), "--no-worker"),
        studio_env(workspace, base_url),
        log,
    )
    try:
        health = wait_healthy(process, url, log)
        assert health["worker_started_here"] is None and health["worker_mode"] is None
        body = dodo_body(1)
        answer = httpx.post(url + "/webhooks/dodo-payments", content=body, headers=dodo_headers(body, msg_id="m1"))
        assert answer.status_code == 200, answer.text
        time.sleep(0.3)
        assert EventStore(workspace.database).counts() == {"pending": 1}  # no worker: it waits
    finally:
        code = stop(process, signal.SIGTERM)
    output = log.read_text()
    # uvicorn shuts down gracefully, then lets the signal end the process as it would have
    assert code in (0, -signal.SIGTERM) and "Application shutdown complete" in output, output


def test_the_worker_process_beside_a_server_is_restarted_if_it_dies_and_ends_with_its_server(
    workspace, sandbox, tmp_path, monkeypatch
):
    from sync_core.live.worker import WorkerProcess

    _, base_url = sandbox
    for name, value in studio_env(workspace, base_url).items():
        monkeypatch.setenv(name, value)
    supervised = WorkerProcess(stop_timeout=15).start()
    try:
        first = supervised.process.pid
        wait_until(lambda: queue_status(workspace.database).worker_alive, timeout=30)
        supervised.process.send_signal(signal.SIGKILL)  # a crash
        wait_until(lambda: supervised.restarts == 1 and supervised.alive, timeout=30)
        assert supervised.process.pid != first
        queue_bytes(workspace, partners_csv(20))
        wait_until(lambda: EventStore(workspace.database).counts() == {"synced": 20}, timeout=60)
    finally:
        assert supervised.stop()
    assert not supervised.alive and supervised.process.returncode == 0
    assert supervised.restarts == 1


def test_a_worker_process_whose_server_is_gone_stops_by_itself(workspace, sandbox, tmp_path):
    import subprocess
    import sys

    _, base_url = sandbox
    gone = subprocess.Popen([sys.executable, "-c", "pass"])
    gone.wait()
    log = tmp_path / "orphan.log"
    process = start(
        [sys.executable, "-m", "sync_core.live.worker", "--parent", str(gone.pid)], studio_env(workspace, base_url), log
    )
    try:
        assert process.wait(timeout=30) == 0
    finally:
        stop(process, signal.SIGKILL)
    assert "is gone; the worker stops" in log.read_text()
