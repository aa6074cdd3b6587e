"""Several batches in flight at once (issue 15): bounded, every answer recorded before its events are marked, a
contact's batches one after the other, and a 429 pausing every sender. Concurrency is counted by the transport;
nothing here measures time."""

from __future__ import annotations

import json
import threading

import httpx
import pytest

from storage.events import EventStore
from storage.runs import RunStore
from sync_core.engine.run import SyncEngine
from sync_core.engine.sender import Sender
from sync_core.mailerlite import MailerLiteClient
from sync_core.sandbox import SandboxTransport, account_budget, sandbox_settings
from tests.engine.conftest import CountingAccount, queue_bytes
from tests.engine.test_faults import _plan


class InFlightTransport(httpx.BaseTransport):
    """The sandbox, counting the ``POST /batch`` requests it holds at once. The first ``gather`` batches are
    held until that many are in flight together (a sender that sends one at a time never gets there: the safety
    timeout lets it go on, and the count says 1). Each batch's emails are logged as it comes and as it is
    answered."""

    def __init__(self, account, *, gather: int, safety_seconds: float = 10.0):
        self.inner = SandboxTransport(account)
        self.gather = gather
        self.safety_seconds = safety_seconds
        self.condition = threading.Condition()
        self.current = 0
        self.most = 0
        self.batches = 0
        self.log: list[tuple[str, frozenset[str]]] = []  # ("sent" | "answered", the batch's emails)

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        if not request.url.path.endswith("/batch"):
            return self.inner.handle_request(request)
        emails = frozenset(
            item["body"]["email"]
            for item in json.loads(request.content)["requests"]
            if isinstance(item.get("body"), dict) and "email" in item["body"]
        )
        with self.condition:
            self.current += 1
            self.batches += 1
            number = self.batches
            self.most = max(self.most, self.current)
            self.log.append(("sent", emails))
            self.condition.notify_all()
            if number <= self.gather:
                self.condition.wait_for(lambda: self.current >= self.gather, timeout=self.safety_seconds)
        try:
            return self.inner.handle_request(request)
        finally:
            with self.condition:
                self.current -= 1
                self.log.append(("answered", emails))


def client_on(account, transport: httpx.BaseTransport, **settings) -> MailerLiteClient:
    options = dict(max_attempts=3, backoff_base_seconds=0.001, backoff_max_seconds=0.01)
    options.update(settings)
    return MailerLiteClient(
        sandbox_settings(account, account.inprocess_base_url, **options),
        transport=transport,
        budget=account_budget(account),
    )


def partners(count: int) -> bytes:
    lines = ["email,name,surname,key,status,total_sales,total_earned"]
    lines += [f"partner{n}@example.com,Pat,Number{n},key{n},active,{n % 50},1.50" for n in range(count)]
    return ("\n".join(lines) + "\n").encode()


@pytest.fixture
def counting() -> CountingAccount:
    return CountingAccount(limit=10_000, window_seconds=1, import_limit=1000, seed=15)


def test_a_sync_keeps_several_batches_in_flight_and_never_more_than_allowed(partnero_workspace, counting):
    queue_bytes(partnero_workspace, partners(600))  # 13 batches of 49
    transport = InFlightTransport(counting, gather=3)
    engine = SyncEngine(partnero_workspace, client=client_on(counting, transport), batches_in_flight=3)

    run = engine.run()

    assert run.status == "finished", run.error
    assert transport.most == 3  # more than one at once, and never more than the setting
    assert transport.batches == 13
    assert run.created == 600 and set(counting.upserts.values()) == {1} and len(counting.upserts) == 600
    assert EventStore(partnero_workspace.database).counts() == {"synced": 600}


def test_one_batch_at_a_time_when_the_setting_says_so(partnero_workspace, counting, monkeypatch):
    monkeypatch.setenv("SYNC_STUDIO_BATCHES_IN_FLIGHT", "1")
    queue_bytes(partnero_workspace, partners(150))
    transport = InFlightTransport(counting, gather=2, safety_seconds=0.05)

    run = SyncEngine(partnero_workspace, client=client_on(counting, transport)).run()

    assert run.status == "finished", run.error
    assert transport.most == 1 and run.created == 150


def test_a_crash_between_an_answer_and_its_record_leaves_only_those_events_pending(
    partnero_workspace, counting, monkeypatch
):
    """The second batch's answer came back but recording it failed (the process dying there): its events are
    not marked, the batches in flight with it are still recorded, and the next run sends only what was not."""
    queue_bytes(partnero_workspace, partners(600))
    transport = InFlightTransport(counting, gather=3)
    original = RunStore.record
    calls = []

    def record_or_crash(self, session, run_id, items, *args, **kwargs):
        calls.append(len(items))
        if len(calls) == 2:
            raise RuntimeError("the process died while recording a batch")
        return original(self, session, run_id, items, *args, **kwargs)

    monkeypatch.setattr(RunStore, "record", record_or_crash)
    with pytest.raises(RuntimeError):
        SyncEngine(partnero_workspace, client=client_on(counting, transport), batches_in_flight=3).run()
    monkeypatch.setattr(RunStore, "record", original)

    events = EventStore(partnero_workspace.database)
    counts = events.counts()
    recorded = sum(
        1
        for item in RunStore(partnero_workspace.database).items(limit=10_000)
        if item.outcome == "created" and not item.dry_run
    )
    assert counts["synced"] == recorded  # every event marked has its answer recorded
    assert counts["synced"] == 3 * 49  # the first batch and the two in flight with the one lost
    assert counts.get("pending", 0) + counts.get("staged", 0) == 600 - 3 * 49
    assert transport.batches == 4  # nothing was sent after the crash

    again = SyncEngine(partnero_workspace, client=client_on(counting, InFlightTransport(counting, gather=1))).run()

    assert again.status == "finished", again.error
    assert EventStore(partnero_workspace.database).counts() == {"synced": 600}
    assert len(counting.upserts) == 600
    # only the batch whose answer was not recorded went out twice
    assert sum(count - 1 for count in counting.upserts.values()) == 49


def test_a_contact_in_a_batch_in_flight_holds_back_its_next_batch(counting):
    """Two plans for one contact (a repair may make them): the batch with the second waits until the batch
    with the first is answered, while other contacts' batches go out meanwhile."""
    transport = InFlightTransport(counting, gather=2)
    plans = [_plan(f"other{n}@example.com", {"name": "O"}) for n in range(4)]
    plans.insert(1, _plan("same@example.com", {"name": "First"}))
    plans.append(_plan("same@example.com", {"name": "Second"}))
    sender = Sender(client_on(counting, transport), batch_size=3, in_flight=3)  # two contacts per batch

    results = [result for batch in sender.send(plans) for result in batch]

    assert [result.outcome for result in results].count("failed") == 0
    first = next(
        n for n, (kind, emails) in enumerate(transport.log) if kind == "answered" and "same@example.com" in emails
    )
    second = [n for n, (kind, emails) in enumerate(transport.log) if kind == "sent" and "same@example.com" in emails][1]
    assert first < second
    assert transport.most >= 2
    subscriber = client_on(counting, SandboxTransport(counting)).get_subscriber("same@example.com")
    assert subscriber.fields["name"] == "Second"  # applied in the order planned


class PausingTransport(InFlightTransport):
    """The first batch is answered 429 with ``Retry-After`` once every sender has its batch in flight; the
    others of that first wave are answered only after the client took in the 429 (its budget is paused), so any
    request after them must wait the pause out. Each batch notes the pretend time it was sent at."""

    def __init__(self, account, budget, clock, *, gather: int, retry_after: int):
        super().__init__(account, gather=gather)
        self.budget, self.clock, self.retry_after = budget, clock, retry_after
        self.sent_at: list[float] = []
        self.pause_ends: float | None = None
        self.answered_429 = 0

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        if not request.url.path.endswith("/batch"):
            return self.inner.handle_request(request)
        with self.condition:
            self.sent_at.append(self.clock())
            self.batches += 1
            number = self.batches
            self.current += 1
            self.most = max(self.most, self.current)
            self.condition.notify_all()
            if number <= self.gather:
                self.condition.wait_for(lambda: self.current >= self.gather, timeout=self.safety_seconds)
        try:
            if number == 1:
                self.answered_429 += 1
                return httpx.Response(
                    429, headers={"Retry-After": str(self.retry_after)}, json={"message": "Too Many Attempts."}
                )
            if number <= self.gather:
                with self.condition:  # the 429 reached the client before the others of its wave are answered
                    for _ in range(int(self.safety_seconds / 0.01)):
                        if self.budget.snapshot().paused_for_seconds > 0:
                            break
                        self.condition.wait(0.01)
                    if self.pause_ends is None:
                        self.pause_ends = self.clock() + self.budget.snapshot().paused_for_seconds
            return self.inner.handle_request(request)
        finally:
            with self.condition:
                self.current -= 1
                self.condition.notify_all()


class PretendClock:
    """Time that moves only when someone sleeps (from any thread)."""

    def __init__(self) -> None:
        self.now = 1000.0
        self.lock = threading.Lock()

    def __call__(self) -> float:
        with self.lock:
            return self.now

    def sleep(self, seconds: float) -> None:
        with self.lock:
            self.now += max(0.0, seconds)


def test_a_429_with_retry_after_pauses_every_sender(partnero_workspace, counting):
    queue_bytes(partnero_workspace, partners(600))
    clock = PretendClock()
    budget = account_budget(counting, clock=clock, sleep=clock.sleep)
    transport = PausingTransport(counting, budget, clock, gather=3, retry_after=20)
    client = MailerLiteClient(
        sandbox_settings(counting, counting.inprocess_base_url, max_attempts=3),
        transport=transport,
        budget=budget,
        clock=clock,
        sleep=clock.sleep,
    )

    run = SyncEngine(partnero_workspace, client=client, batches_in_flight=3, clock=clock, sleep=clock.sleep).run()

    assert run.status == "finished", run.error
    assert transport.pause_ends is not None
    later = transport.sent_at[3:]  # every batch sent after the first wave: the retry and the next ones
    assert later and all(sent >= transport.pause_ends for sent in later)
    assert transport.answered_429 == 1  # the pause held: no storm of 429s
    assert run.created == 600 and len(counting.upserts) == 600 and set(counting.upserts.values()) == {1}
