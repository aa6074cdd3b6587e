"""End to end: the dashboard server, started with the README's command on 127.0.0.1, receives 1,000 signed Dodo
Payments events and 1,000 signed Partnero events; its worker syncs them into a sandbox account served over HTTP;
the Monitor's figures show them; the queue status says so.

It needs dashboard.py to create the ``st.App`` with the webhook routes and the worker (LiveSync); see
sync_core/live/routes.py.
"""

from __future__ import annotations

import http.client
import signal
import time
from concurrent.futures import ThreadPoolExecutor

import httpx
import pytest

from storage.events import EventStore
from storage.monitor import MonitorQueries
from sync_core.live.queue_status import queue_status
from tests.dashboard.helpers import page_on
from tests.webhooks.helpers import (
    ClientPerThread,
    dodo_body,
    dodo_headers,
    free_port,
    partnero_body,
    partnero_headers,
)
from tests.webhooks.processes import start, stop, streamlit_run, wait_healthy
from tests.webhooks.test_worker import wait_until

PER_SOURCE = 1000
pytestmark = [pytest.mark.processes, pytest.mark.parametrize("database", ["sqlite"], indirect=True)]


def post_all(url: str, jobs: list[tuple[str, bytes, dict]], threads: int = 8) -> list[int]:
    with ThreadPoolExecutor(threads) as pool, ClientPerThread(base_url=url) as clients:
        return list(pool.map(lambda job: clients.get().post(job[0], content=job[1], headers=job[2]).status_code, jobs))


def monitor_page_metrics(workspace, monkeypatch) -> dict[str, str]:
    app = page_on(workspace, monkeypatch, "pages/monitor.py")
    return {metric.label: metric.value for metric in app.metric}


def test_two_thousand_signed_events_are_synced_and_shown(studio, tmp_path, monkeypatch):
    workspace, account, env = studio
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    log = tmp_path / "studio.log"
    server = start(streamlit_run(port), env, log)
    try:
        health = wait_healthy(server, url, log)
        assert health["worker_mode"] == "process" and health["worker_started_here"] is True
        assert httpx.get(url + "/_stcore/health", timeout=5).text == "ok"  # the dashboard is served too
        page = httpx.get(url + "/", timeout=5)
        assert page.status_code == 200 and "<html" in page.text.lower()
        # requests after the first on a kept-alive connection are not held back ~40 ms by Nagle's algorithm
        connection = http.client.HTTPConnection("127.0.0.1", port, timeout=5)
        timings = []
        for _ in range(11):
            started = time.perf_counter()
            connection.request("POST", "/webhooks/ping", body=b"{}")
            connection.getresponse().read()
            timings.append(time.perf_counter() - started)
        connection.close()
        assert sorted(timings)[5] < 0.025, timings

        jobs = []
        for n in range(PER_SOURCE):
            body = dodo_body(n)
            jobs.append(("/webhooks/dodo-payments", body, dodo_headers(body, msg_id=f"msg_e2e_{n}")))
            body = partnero_body(n)
            jobs.append(("/webhooks/partnero", body, partnero_headers(body)))
        started = time.monotonic()
        codes = post_all(url, jobs)
        posting = time.monotonic() - started
        assert codes == [200] * len(jobs)

        events = EventStore(workspace.database)
        wait_until(lambda: events.counts() == {"synced": 2 * PER_SOURCE}, timeout=120, step=0.2)
        status = queue_status(workspace.database)
        assert status.waiting == 0 and status.worker_alive
        assert status.last_received["dodo_payments"] and status.last_received["partnero"]
        assert httpx.get(url + "/healthz", timeout=5).json()["worker_alive"] is True
    finally:
        code = stop(server, signal.SIGTERM)
    output = log.read_text(errors="replace")
    assert code in (0, -signal.SIGTERM), output
    assert "Traceback" not in output, output

    # into the sandbox account, each contact once
    emails = {f"buyer{n}@example.com" for n in range(PER_SOURCE)} | {
        f"partner{n}@example.com" for n in range(PER_SOURCE)
    }
    assert set(account.upserts) == emails and set(account.upserts.values()) == {1}
    assert {subscriber["email"] for subscriber in account.state.subscribers.values()} == emails
    # what the Monitor page reads, and what it shows
    totals = MonitorQueries(workspace.database).totals()
    assert totals.by_outcome == {"created": 2 * PER_SOURCE} and totals.success_rate == 1.0
    metrics = monitor_page_metrics(workspace, monkeypatch)
    assert metrics["Contacts synced"] == "2,000" and metrics["Created"] == "2,000", metrics
    # the worker said goodbye
    assert not queue_status(workspace.database).worker_alive
    print(f"\n2,000 signed events posted in {posting:.1f} s ({2 * PER_SOURCE / posting:.0f}/s)")
