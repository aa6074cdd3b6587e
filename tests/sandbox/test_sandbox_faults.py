"""Injected faults (errors, latency, 429 bursts, timeouts) and how the client rides them out."""

from __future__ import annotations

import threading
import time

import pytest

from sync_core.mailerlite import Exchange, RequestTimeout, ServerError
from sync_core.sandbox import FaultInjector, FaultSettings, SandboxAccount, sandbox_client, serve_sandbox


class FakeClock:
    def __init__(self) -> None:
        self.now = 0.0
        self._lock = threading.Lock()

    def __call__(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        with self._lock:
            self.now += max(0.0, seconds)


class _nothing:
    def __enter__(self):
        return None

    def __exit__(self, *exc):
        return False


def served(account, mode):
    return serve_sandbox(account) if mode == "http" else _nothing()


def test_same_seed_same_faults():
    settings = FaultSettings(error_rate=0.3, burst_429_rate=0.1, timeout_rate=0.1, latency_jitter_seconds=0.5, seed=11)
    first, second = FaultInjector(settings), FaultInjector(settings)
    assert [first.decide() for _ in range(200)] == [second.decide() for _ in range(200)]
    counts = FaultInjector(settings)
    for _ in range(1000):
        counts.decide()
    assert 150 < counts.injected["error"] < 350 and counts.injected["429"] > 0 and counts.injected["timeout"] > 0


def test_bursts_last_their_length():
    injector = FaultInjector(FaultSettings(burst_429_rate=1.0, burst_429_length=3, burst_retry_after_seconds=4))
    decisions = [injector.decide() for _ in range(3)]
    assert [d.kind for d in decisions] == ["429"] * 3 and decisions[0].retry_after == 4


def test_rates_are_checked():
    with pytest.raises(ValueError, match="between 0 and 1"):
        FaultSettings(error_rate=1.5)


def test_server_errors_are_retried_and_not_applied(mode):
    account = SandboxAccount()
    account.faults.inject("error", 2, status=503)
    with served(account, mode) as server, sandbox_client(account, server=server, backoff_base_seconds=0.01) as client:
        assert client.upsert_subscriber("a@example.com").created is True
    assert account.stats.by_status[503] == 2 and len(account.state.subscribers) == 1


def test_error_rate_one_exhausts_the_retries(mode):
    account = SandboxAccount(faults=FaultSettings(error_rate=1.0, seed=3))
    with (
        served(account, mode) as server,
        sandbox_client(account, server=server, max_attempts=3, backoff_base_seconds=0.01) as client,
    ):
        with pytest.raises(ServerError, match="after 3 attempt"):
            client.upsert_subscriber("a@example.com")
    assert len(account.state.subscribers) == 0 and account.faults.injected["error"] == 3


def test_latency_is_added(mode):
    account = SandboxAccount(faults=FaultSettings(latency_seconds=0.15))
    with served(account, mode) as server, sandbox_client(account, server=server) as client:
        started = time.monotonic()
        client.count_subscribers()
        assert time.monotonic() - started >= 0.15


def test_429_burst_is_waited_out_per_retry_after(mode):
    account = SandboxAccount()
    account.faults.inject("429", 2, retry_after=5)
    clock, exchanges = FakeClock(), []
    with (
        served(account, mode) as server,
        sandbox_client(
            account, server=server, clock=clock, sleep=clock.sleep, client_options={"on_exchange": exchanges.append}
        ) as client,
    ):
        assert client.count_subscribers() == 0
    statuses = [exchange.status for exchange in exchanges]
    assert statuses == [429, 429, 200]
    assert clock.now >= 10  # two Retry-After: 5 waits on the (fake) clock, no real sleeping


def test_timeouts_are_retried_and_not_applied_in_process():
    account = SandboxAccount()
    account.faults.inject("timeout", 1)
    with sandbox_client(account, backoff_base_seconds=0.01) as client:
        assert client.upsert_subscriber("a@example.com").created is True
    assert len(account.state.subscribers) == 1 and account.faults.injected["timeout"] == 1


def test_a_hanging_server_becomes_request_timeout_over_http():
    account = SandboxAccount(faults=FaultSettings(timeout_rate=1.0, hang_seconds=0.6, seed=1))
    failures: list[Exchange] = []
    with (
        serve_sandbox(account) as server,
        sandbox_client(
            account,
            server=server,
            timeout_seconds=0.2,
            max_attempts=2,
            backoff_base_seconds=0.01,
            client_options={"on_exchange": failures.append},
        ) as client,
    ):
        started = time.monotonic()
        with pytest.raises(RequestTimeout):
            client.count_subscribers()
        assert time.monotonic() - started < 1.5
    assert [f.failure.split(":")[0] for f in failures] == ["ReadTimeout", "ReadTimeout"]
