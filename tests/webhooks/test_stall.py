"""Stuck is visible: events wait, none is synced, yet a worker runs (a revoked key, an outage). ``/healthz``
answers 503 with the reason, the Monitor and the sidebar say so in plain words, and all of it clears once
MailerLite accepts the events again."""

from __future__ import annotations

import signal
from datetime import timedelta

import httpx
import pytest
from starlette.applications import Starlette

from storage.events import EventStore
from storage.tables import utcnow
from sync_core.live import LiveSync
from sync_core.live.queue_status import QueueStatus, WorkerState
from sync_core.live.worker import WorkerSettings
from sync_core.sandbox import SandboxAccount
from tests.dashboard.helpers import page_on, page_text
from tests.webhooks.helpers import both_sources_config, dodo_body, dodo_headers, free_port, serve_app
from tests.webhooks.processes import start, stop, streamlit_run, wait_healthy
from tests.webhooks.test_worker import FAST, switchable_client, wait_until

REVOKED_KEY = "ml-key-4f1c9e77d2"


def status(*, waiting: int, oldest_minutes: float, handled_minutes: float | None, alive: bool = True) -> QueueStatus:
    now = utcnow()
    worker = WorkerState("w", "backing_off", "MailerLite does not answer", now, now, None, alive)
    return QueueStatus(
        waiting,
        now - timedelta(minutes=oldest_minutes) if waiting else None,
        0,
        {},
        [worker],
        checked_at=now,
        last_handled_at=None if handled_minutes is None else now - timedelta(minutes=handled_minutes),
        stall_seconds=600,
    )


def test_stalled_means_events_waited_long_with_none_synced_while_a_worker_runs():
    stuck = status(waiting=40, oldest_minutes=12, handled_minutes=30)
    assert stuck.stalled
    assert stuck.stall_reason() == (
        "40 event(s) wait, the oldest for 12 min, and none has been synced for 30 min, although a sync worker is "
        "running."
    )
    assert stuck.describe().startswith("Stalled: 40 event(s) wait")
    assert (
        status(waiting=40, oldest_minutes=12, handled_minutes=None)
        .stall_reason()
        .endswith("none has been synced yet, although a sync worker is running.")
    )
    # a first event after a quiet hour is not a stall; nor are events moving, or an empty queue
    assert not status(waiting=1, oldest_minutes=2, handled_minutes=60).stalled
    assert not status(waiting=400, oldest_minutes=30, handled_minutes=1).stalled
    assert not status(waiting=0, oldest_minutes=0, handled_minutes=60).stalled
    # without a worker nothing is syncing by design: the Monitor says "no worker", not "stuck"
    assert not status(waiting=40, oldest_minutes=12, handled_minutes=30, alive=False).stalled
    assert status(waiting=40, oldest_minutes=12, handled_minutes=30, alive=False).stall_reason() == ""


@pytest.fixture
def outage(workspace, secrets_in_env, monkeypatch):
    """The routes with a worker thread whose MailerLite can be switched off; a stall after 1 s."""
    monkeypatch.setenv("SYNC_STUDIO_STALL_SECONDS", "1")
    monkeypatch.setenv("SYNC_STUDIO_PATIENCE_SECONDS", "0.2")
    workspace.save_config(both_sources_config(sandbox=False))
    account = SandboxAccount(limit=10_000, window_seconds=1, import_limit=1000, seed=3)
    client, transport = switchable_client(account)
    live = LiveSync(
        lambda: workspace, worker="thread", worker_client=client, worker_settings=WorkerSettings(**FAST), ttl=0
    )
    with serve_app(Starlette(routes=live.routes(), lifespan=live.lifespan)) as url:
        yield url, transport, account


def test_an_outage_makes_health_503_with_the_reason_and_it_clears_when_mailerlite_answers(
    outage, workspace, monkeypatch
):
    url, transport, account = outage
    transport.mode = "down"
    with httpx.Client(base_url=url, timeout=10) as http:
        for n in range(3):
            body = dodo_body(n)
            assert (
                http.post(
                    "/webhooks/dodo-payments", content=body, headers=dodo_headers(body, msg_id=f"msg_stall_{n}")
                ).status_code
                == 200
            )
        assert http.get("/healthz").status_code == 200  # just arrived: not stalled yet

        answer = wait_until(lambda: (a := http.get("/healthz")).status_code == 503 and a, timeout=20, step=0.1)
        health = answer.json()
        assert health["status"] == "stalled" and health["waiting"] == 3 and health["worker_alive"] is True
        assert health["error"].startswith("3 event(s) wait, the oldest for ")
        assert "none has been synced yet" in health["error"] and "Monitor page" in health["error"]
        assert "Service Unavailable" not in answer.text  # MailerLite's words stay on the dashboard

        # the Monitor says it in plain words, with what the worker knows; the sidebar of every page too
        monitor = page_on(workspace, monkeypatch, "pages/monitor.py")
        [stuck] = [error.value for error in monitor.error if "Syncing is stuck" in error.value]
        assert "3 event(s) wait" in stuck and "The live sync says: MailerLite does not answer" in stuck, stuck
        sidebar = [markdown.value for markdown in monitor.sidebar.markdown]
        assert any("Syncing is stuck" in text and "3 event(s) wait" in text for text in sidebar), sidebar

        transport.mode = "ok"
        wait_until(lambda: http.get("/healthz").status_code == 200, timeout=30, step=0.1)
        assert http.get("/healthz").json()["status"] == "ok"
    assert EventStore(workspace.database).counts() == {"synced": 3}
    assert len(account.state.subscribers) == 3
    assert "Syncing is stuck" not in page_text(page_on(workspace, monkeypatch, "pages/monitor.py"))


@pytest.mark.processes
@pytest.mark.parametrize("database", ["sqlite"], indirect=True)
def test_the_dashboard_server_with_a_revoked_key_says_it_is_stalled(studio, tmp_path):
    """The real server and its worker process: MailerLite refuses the key, so nothing is synced."""
    workspace, account, env = studio
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    log = tmp_path / "studio.log"
    server = start(
        streamlit_run(port), {**env, "MAILERLITE_API_KEY": REVOKED_KEY, "SYNC_STUDIO_STALL_SECONDS": "2"}, log
    )
    try:
        wait_healthy(server, url, log)
        for n in range(5):
            body = dodo_body(n)
            answer = httpx.post(
                url + "/webhooks/dodo-payments",
                content=body,
                headers=dodo_headers(body, msg_id=f"msg_revoked_{n}"),
                timeout=10,
            )
            assert answer.status_code == 200
        answer = wait_until(lambda: (a := httpx.get(url + "/healthz", timeout=5)).status_code == 503 and a, timeout=60)
        assert answer.json()["status"] == "stalled" and answer.json()["waiting"] == 5
        assert REVOKED_KEY not in answer.text and "Unauthenticated" not in answer.text
    finally:
        code = stop(server, signal.SIGTERM)
    output = log.read_text(errors="replace")
    assert code in (0, -signal.SIGTERM) and "Traceback" not in output, output
    assert REVOKED_KEY not in output  # the key never reaches the log
    assert EventStore(workspace.database).counts() == {"pending": 5} and not account.upserts
