"""Engine fixtures: a fast sandbox account (short rate window) and a client on it that retries quickly."""

from __future__ import annotations

import io
import json
import threading
from collections import Counter

import httpx
import pytest

from storage.events import EventStore
from sync_core.domain.presets import load_preset
from sync_core.engine.file_import import import_file
from sync_core.engine.run import SyncEngine
from sync_core.mailerlite import MailerLiteClient
from sync_core.sandbox import (
    FaultSettings,
    SandboxAccount,
    SandboxTransport,
    account_budget,
    sandbox_client,
    sandbox_settings,
)


def partners_csv(
    count: int, *, start: int = 0, status=lambda n: "active" if n % 2 else "pending", sales=lambda n: n % 50
) -> bytes:
    lines = ["email,name,surname,key,status,total_sales,total_earned"]
    lines += [
        f"partner{n}@example.com,Pat,Number{n},key{n},{status(n)},{sales(n)},{n % 7}.50"
        for n in range(start, start + count)
    ]
    return ("\n".join(lines) + "\n").encode()


def import_bytes(workspace, data: bytes, name: str = "partners.csv", account: str | None = None):
    """A file imported as a person would: its rows are staged, waiting for a person's dry run or sync."""
    return import_file(EventStore(workspace.database), io.BytesIO(data), name=name, account=account)


def queue_bytes(workspace, data: bytes, name: str = "partners.csv"):
    """Rows put in the live queue (pending), as webhook events arrive: what the worker takes at once."""
    summary = import_bytes(workspace, data, name)
    EventStore(workspace.database).requeue(statuses=("staged",))
    return summary


def events_file(*events: dict) -> io.BytesIO:
    return io.BytesIO("\n".join(json.dumps(event) for event in events).encode())


def event(example: dict, email: str, **data) -> dict:
    """A copy of a Dodo Payments example event for another customer, with ``data`` fields changed."""
    copy = json.loads(json.dumps(example))
    copy["data"]["customer"]["email"] = email
    copy["data"].update(data)
    return copy


class Clock:
    """A pretend clock for the run's waits: sleeping moves it on at once."""

    def __init__(self) -> None:
        self.now = 1000.0
        self.slept: list[float] = []

    def __call__(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.slept.append(seconds)
        self.now += seconds


class CountingAccount(SandboxAccount):
    """A sandbox account that remembers how many upserts reached it for each email (in-process or served)."""

    def __init__(self, **options):
        super().__init__(**options)
        self.upserts: Counter[str] = Counter()
        self._count_lock = threading.Lock()

    def handle(self, method, path, query=None, headers=None, body=None, **options):  # noqa: ANN001
        answer = super().handle(method, path, query, headers, body, **options)
        if method == "POST" and path.rstrip("/").endswith("/batch") and answer.status == 200:
            requests = json.loads(body or b"{}").get("requests", [])
            with self._count_lock:
                for request, response in zip(requests, answer.body.get("responses", [])):
                    if request.get("path") == "api/subscribers" and response.get("code") in (200, 201):
                        self.upserts[request["body"]["email"]] += 1
        return answer


@pytest.fixture
def account() -> SandboxAccount:
    return SandboxAccount(limit=10_000, window_seconds=1, import_limit=1000, seed=7)


def fast_client(account: SandboxAccount, **settings):
    options = dict(max_attempts=3, backoff_base_seconds=0.001, backoff_max_seconds=0.01)
    options.update(settings)
    return sandbox_client(account, **options)


class FailingBatches(httpx.BaseTransport):
    """The sandbox, except that every request of a ``POST /batch`` is answered 500 while ``failing`` is set:
    contacts fail, the account's groups and fields can still be read and created. (A whole batch answered 500
    is MailerLite's trouble, which a run waits out instead.)"""

    def __init__(self, account: SandboxAccount):
        self.inner = SandboxTransport(account)
        self.failing = True

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        if self.failing and request.url.path.endswith("/batch"):
            count = len(json.loads(request.content)["requests"])
            answers = [{"code": 500, "body": {"message": "Server Error"}}] * count
            return httpx.Response(200, json={"total": count, "successful": 0, "failed": count, "responses": answers})
        return self.inner.handle_request(request)


def failing_batches_client(account: SandboxAccount) -> tuple[MailerLiteClient, FailingBatches]:
    transport = FailingBatches(account)
    settings = sandbox_settings(account, account.inprocess_base_url, max_attempts=1)
    return MailerLiteClient(settings, transport=transport, budget=account_budget(account)), transport


@pytest.fixture
def partnero_workspace(workspace):
    workspace.save_config(load_preset("partnero"), author="test")
    return workspace


@pytest.fixture
def engine(partnero_workspace, account) -> SyncEngine:
    return SyncEngine(partnero_workspace, client=fast_client(account))


__all__ = ["Clock", "CountingAccount", "FaultSettings", "fast_client", "import_bytes", "partners_csv"]
