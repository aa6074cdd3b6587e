"""Fixtures for the client's own tests: respx in place of MailerLite, a fake clock in place of time."""

from __future__ import annotations

import importlib.util
import random
import threading
from pathlib import Path

import pytest
import respx

from sync_core.mailerlite import AccountBudget, MailerLiteClient, MailerLiteSettings

API_KEY = "mlk_live_TEST_9f8e7d6c5b4a39281706f5e4d3c2b1a0_do_not_leak"
BASE_URL = "https://ml.test/api"


def _load_cassettes():
    spec = importlib.util.spec_from_file_location("ml_cassettes", Path(__file__).with_name("cassettes.py"))
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


cassettes = _load_cassettes()


class FakeClock:
    """Time that passes only when someone sleeps; every sleep is recorded."""

    def __init__(self, start: float = 1_000.0) -> None:
        self.now = start
        self.sleeps: list[float] = []
        self._lock = threading.Lock()

    def __call__(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        with self._lock:
            self.sleeps.append(seconds)
            self.now += max(0.0, seconds)

    def advance(self, seconds: float) -> None:
        self.now += seconds


@pytest.fixture
def api_key() -> str:
    return API_KEY


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


@pytest.fixture
def make_client(clock):
    """Clients of the respx account, on the fake clock, with a seeded jitter."""
    made: list[MailerLiteClient] = []

    def make(*, budget: AccountBudget | None = None, client_options: dict | None = None, **overrides):
        values = dict(api_key=API_KEY, base_url=BASE_URL, backoff_base_seconds=1.0, backoff_max_seconds=8.0)
        values.update(overrides)
        settings = MailerLiteSettings(**values)
        if budget is None:
            budget = AccountBudget(
                settings.rate_limit,
                settings.rate_window_seconds,
                import_limit=settings.import_limit,
                margin_seconds=settings.margin_seconds,
                clock=clock,
                sleep=clock.sleep,
            )
        client = MailerLiteClient(
            settings, budget=budget, clock=clock, sleep=clock.sleep, rng=random.Random(7), **(client_options or {})
        )
        made.append(client)
        return client

    yield make
    for client in made:
        client.close()


@pytest.fixture
def client(make_client) -> MailerLiteClient:
    return make_client()


@pytest.fixture
def api():
    with respx.mock(base_url=BASE_URL, assert_all_called=False, assert_all_mocked=True) as mock:
        yield mock


@pytest.fixture(scope="session")
def recordings():
    if not cassettes.RECORDINGS.is_dir():
        pytest.fail(
            f"the MailerLite recordings are missing: {cassettes.RECORDINGS} (they ship with the repository)",
            pytrace=False,
        )
    return cassettes.load_recordings()


@pytest.fixture
def recorded(recordings):
    """recorded(name, index) -> (status, json body) of a real recorded answer."""

    def pick(name: str, index: int = 0):
        response = recordings[name][index]["response"]
        return response["code"], response["json"]

    return pick
