"""The continuous worker, in process, against the in-process sandbox: draining, gathering, backing off when
MailerLite fails (without burning the contacts' attempts), standing by when another sync holds the account,
and its heartbeat."""

from __future__ import annotations

import time

import httpx
import pytest

from storage.events import EventStore
from storage.locks import AccountLease
from sync_core.domain.presets import load_preset
from sync_core.engine.run import SyncEngine
from sync_core.live.queue_status import queue_status
from sync_core.live.worker import BACKING_OFF, GATHERING, IDLE, STANDBY, Worker, WorkerSettings
from sync_core.mailerlite import MailerLiteClient
from sync_core.sandbox import SandboxAccount, SandboxTransport, account_budget, sandbox_client, sandbox_settings
from tests.engine.conftest import partners_csv, queue_bytes

FAST = dict(
    idle_seconds=0.02,
    gather_seconds=0.0,
    heartbeat_seconds=0.05,
    backoff_initial_seconds=0.05,
    backoff_max_seconds=0.2,
    standby_seconds=0.02,
    stop_timeout_seconds=10,
)


@pytest.fixture
def account() -> SandboxAccount:
    return SandboxAccount(limit=10_000, window_seconds=1, import_limit=1000, seed=11)


@pytest.fixture(autouse=True)
def short_patience(monkeypatch):
    """Each run waits an outage out for 0.5 s only (the worker's own back-off is what these tests look at)."""
    monkeypatch.setenv("SYNC_STUDIO_PATIENCE_SECONDS", "0.5")


@pytest.fixture
def studio(workspace):
    workspace.save_config(load_preset("partnero"), author="test")
    return workspace


class Exchanges:
    def __init__(self):
        self.seen: list[tuple[str, str]] = []

    def __call__(self, exchange) -> None:  # noqa: ANN001
        self.seen.append((exchange.method, exchange.path))


class Switchable(httpx.BaseTransport):
    """The sandbox, or an outage: ``mode`` "ok", "batches" (POST /batch answers 500) or "down" (everything 503)."""

    def __init__(self, account: SandboxAccount):
        self.inner = SandboxTransport(account)
        self.mode = "ok"

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        if self.mode == "down" or (self.mode == "batches" and request.url.path.endswith("/batch")):
            return httpx.Response(503, json={"message": "Service Unavailable"})
        return self.inner.handle_request(request)


def switchable_client(account: SandboxAccount) -> tuple[MailerLiteClient, Switchable]:
    transport = Switchable(account)
    settings = sandbox_settings(account, account.inprocess_base_url, max_attempts=1)
    return MailerLiteClient(settings, transport=transport, budget=account_budget(account)), transport


def wait_until(condition, timeout: float = 30, step: float = 0.02):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = condition()
        if value:
            return value
        time.sleep(step)
    raise AssertionError("timed out waiting")


def runs(database) -> list[tuple[str, str]]:
    with database.engine.connect() as connection:
        return [tuple(row) for row in connection.exec_driver_sql("SELECT trigger, status FROM sync_run ORDER BY id")]


def test_the_worker_drains_events_as_they_come_and_says_it_is_alive(studio, account):
    events = EventStore(studio.database)
    worker = Worker(studio, client=sandbox_client(account), settings=WorkerSettings(**FAST)).start()
    try:
        queue_bytes(studio, partners_csv(120))
        wait_until(lambda: events.counts() == {"synced": 120})
        queue_bytes(studio, partners_csv(30, start=120))  # more arrive while it runs
        wait_until(lambda: events.counts() == {"synced": 150})
        status = wait_until(
            lambda: (s := queue_status(studio.database)).worker_alive and s.workers[0].state == IDLE and s
        )
        assert status.waiting == 0 and status.oldest_waiting_at is None
        [state] = status.workers
        assert state.name == worker.name and state.last_run_id is not None and "last run" in state.detail
    finally:
        assert worker.stop()
    assert len(account.state.subscribers) == 150
    assert {trigger for trigger, _ in runs(studio.database)} == {"worker"}
    status = queue_status(studio.database)
    assert not status.worker_alive and status.workers[0].state == "stopped"


def test_an_idle_worker_sends_no_request_and_starts_no_run(studio, account):
    seen = Exchanges()
    worker = Worker(
        studio, client=sandbox_client(account, client_options={"on_exchange": seen}), settings=WorkerSettings(**FAST)
    )
    for _ in range(5):
        assert worker.step() == FAST["idle_seconds"]
    assert worker.state == IDLE and seen.seen == [] and runs(studio.database) == []


def test_a_trickle_is_gathered_into_one_run_and_a_full_batch_starts_at_once(studio, account):
    worker = Worker(
        studio,
        client=sandbox_client(account),
        settings=WorkerSettings(**{**FAST, "gather_seconds": 0.3, "full_batch": 49}),
    )
    queue_bytes(studio, partners_csv(3))
    pause = worker.step()
    assert worker.state == GATHERING and 0 < pause <= 0.3 and runs(studio.database) == []
    queue_bytes(studio, partners_csv(2, start=3))
    time.sleep(0.35)
    assert worker.step() == 0.0
    assert runs(studio.database) == [("worker", "finished")]
    assert EventStore(studio.database).counts() == {"synced": 5}
    queue_bytes(studio, partners_csv(49, start=100))
    assert worker.step() == 0.0  # a full batch waits: no gathering
    assert len(runs(studio.database)) == 2 and EventStore(studio.database).counts() == {"synced": 54}


def test_a_mailerlite_outage_is_waited_out_then_the_events_are_synced(studio, account):
    client, transport = switchable_client(account)
    worker = Worker(studio, client=client, settings=WorkerSettings(**{**FAST, "backoff_initial_seconds": 0.2}))
    events = EventStore(studio.database)
    queue_bytes(studio, partners_csv(10))
    transport.mode = "batches"
    worker.step()
    assert worker.state == BACKING_OFF and "10 events wait: MailerLite did not answer" in worker.detail
    assert events.counts() == {"pending": 10}  # no contact's attempt was used up
    worker.step()  # still backing off: no new run
    assert len(runs(studio.database)) == 1
    transport.mode = "ok"
    wait_until(lambda: worker.step() == 0.0 and events.counts() == {"synced": 10}, timeout=10)
    assert worker.state == IDLE and worker.failures_in_a_row == 0
    assert len(account.state.subscribers) == 10
    with studio.database.engine.connect() as connection:
        outcomes = connection.exec_driver_sql("SELECT outcome, count(*) FROM sync_item GROUP BY outcome").all()
    assert dict(outcomes) == {"created": 10}


def test_an_outage_doubles_the_pause_and_does_not_use_up_the_contacts_attempts(studio, account):
    client, transport = switchable_client(account)
    worker = Worker(
        studio,
        client=client,
        settings=WorkerSettings(**{**FAST, "backoff_initial_seconds": 0.05, "backoff_max_seconds": 10}),
    )
    queue_bytes(studio, partners_csv(4))
    transport.mode = "down"
    worker.step()  # the run fails (the account cannot even be read)
    pauses = []
    for _ in range(3):  # each time the pause is over, MailerLite is checked first, and still down
        time.sleep(worker._backoff_until - time.monotonic() + 0.01)
        worker.step()
        pauses.append(worker._backoff_until - time.monotonic())
    assert worker.state == BACKING_OFF and "does not answer" in worker.detail
    assert pauses[0] < pauses[1] < pauses[2]
    assert worker.failures_in_a_row == 4
    with studio.database.engine.connect() as connection:
        attempts = connection.exec_driver_sql("SELECT max(attempts) FROM received_event").scalar()
        assert connection.exec_driver_sql("SELECT count(*) FROM sync_item").scalar() == 0
    assert attempts == 0 and EventStore(studio.database).counts() == {"pending": 4}
    assert len(runs(studio.database)) == 1
    transport.mode = "ok"
    time.sleep(worker._backoff_until - time.monotonic() + 0.01)
    worker.step()
    assert EventStore(studio.database).counts() == {"synced": 4}


def test_standby_while_another_sync_holds_the_account(studio, account):
    worker = Worker(studio, client=sandbox_client(account), settings=WorkerSettings(**FAST))
    queue_bytes(studio, partners_csv(5))
    lease = AccountLease(studio.database, "sandbox")
    lease.acquire()
    try:
        assert worker.step() == FAST["standby_seconds"]
        assert worker.state == STANDBY and EventStore(studio.database).counts() == {"pending": 5}
    finally:
        lease.release()
    assert worker.step() == 0.0 and EventStore(studio.database).counts() == {"synced": 5}


def test_the_loop_survives_an_unexpected_error(studio, account, monkeypatch):
    original = SyncEngine.run
    calls = {"n": 0}

    def flaky(self, **options):
        calls["n"] += 1
        if calls["n"] == 1:
            raise RuntimeError("boom")
        return original(self, **options)

    monkeypatch.setattr(SyncEngine, "run", flaky)
    worker = Worker(studio, client=sandbox_client(account), settings=WorkerSettings(**FAST))
    queue_bytes(studio, partners_csv(3))
    worker.start()
    try:
        wait_until(lambda: EventStore(studio.database).counts() == {"synced": 3})
        assert worker.alive and calls["n"] >= 2
    finally:
        worker.stop()


def test_a_worker_that_stops_beating_is_reported_dead(studio, account):
    from datetime import timedelta

    from storage.heartbeats import TABLE
    from storage.tables import utcnow

    worker = Worker(studio, client=sandbox_client(account), settings=WorkerSettings(**FAST))
    worker._beat()
    assert queue_status(studio.database).worker_alive
    with studio.database.engine.begin() as connection:  # as if killed 40 s ago
        connection.execute(TABLE.update().values(beat_at=utcnow() - timedelta(seconds=40)))
    status = queue_status(studio.database)
    assert not status.worker_alive and status.workers[0].state == IDLE
    assert "No worker is running" in status.describe()


def test_opening_the_database_is_tried_again_after_a_failure(workspace):
    from sync_core.live.worker import open_workspace

    calls = []

    def racing():
        calls.append(1)
        if len(calls) == 1:
            raise RuntimeError("table account_lock already exists")  # another process was migrating
        return workspace

    assert open_workspace(racing) is workspace and len(calls) == 2
    with pytest.raises(RuntimeError):
        open_workspace(lambda: (_ for _ in ()).throw(RuntimeError("down")), attempts=2)


def test_the_worker_checks_unsubscribed_contacts_daily_and_syncs_those_back(studio, account):
    from datetime import UTC, datetime, timedelta

    from storage.contacts import ContactStore

    client = sandbox_client(account)
    client.upsert_subscriber("partner0@example.com", status="unsubscribed")
    worker = Worker(studio, client=client, settings=WorkerSettings(**FAST))

    def drain() -> None:
        while EventStore(studio.database).counts().get("pending"):
            worker.step()

    queue_bytes(studio, partners_csv(1))
    drain()
    queue_bytes(studio, partners_csv(1, sales=lambda n: 77), name="later.csv")  # while they are away
    drain()
    contacts = ContactStore(studio.database)
    assert contacts.get("sandbox", "partner0@example.com").status == "unsubscribed"
    assert client.get_subscriber("partner0@example.com").fields["total_sales"] != 77  # held back

    account.resubscribe("partner0@example.com")  # by a form, a day ago; no event follows
    yesterday = datetime.now(UTC) - timedelta(days=1, minutes=1)
    contacts.mark_checked("sandbox", {"partner0@example.com": (None, None)}, yesterday)
    worker = Worker(studio, client=client, settings=WorkerSettings(**FAST))  # a worker that just started
    for _ in range(10):
        worker.step()
    assert contacts.get("sandbox", "partner0@example.com").status == "active"
    assert client.get_subscriber("partner0@example.com").fields["total_sales"] == 77
    assert runs(studio.database)[-1] == ("worker", "finished")


def test_a_key_saved_for_another_address_keeps_the_events_waiting_and_says_why(studio, caplog):
    """The worker builds its own client: a stored key bound to another address is not sent, the worker backs
    off with the reason in words (no traceback), and the events wait."""
    config = studio.config()
    config.connection.sandbox = False
    config.connection.base_url = "https://connect.mailerlite.com/api"
    studio.save_config(config)
    studio.set_api_key("mlsk_" + "q" * 40, address="https://elsewhere.example/api")
    worker = Worker(studio, settings=WorkerSettings(**FAST)).start()
    try:
        queue_bytes(studio, partners_csv(3))
        status = wait_until(
            lambda: (s := queue_status(studio.database)).workers and s.workers[0].state == BACKING_OFF and s
        )
        assert "enter the key again" in status.workers[0].detail
        assert EventStore(studio.database).counts() == {"pending": 3}
    finally:
        assert worker.stop()
    assert not [record for record in caplog.records if record.exc_info], "a normal refusal logged a traceback"
