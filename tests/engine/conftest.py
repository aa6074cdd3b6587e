"""Engine fixtures: a fast sandbox account (short rate window) and a client on it that retries quickly."""

from __future__ import annotations

import io

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


def import_bytes(workspace, data: bytes, name: str = "partners.csv"):
    return import_file(EventStore(workspace.database), io.BytesIO(data), name=name)


@pytest.fixture
def account() -> SandboxAccount:
    return SandboxAccount(limit=10_000, window_seconds=1, import_limit=1000, seed=7)


def fast_client(account: SandboxAccount, **settings):
    options = dict(max_attempts=3, backoff_base_seconds=0.001, backoff_max_seconds=0.01)
    options.update(settings)
    return sandbox_client(account, **options)


class FailingBatches(httpx.BaseTransport):
    """The sandbox, except that ``POST /batch`` answers 500 while ``failing`` is set: contacts fail, the
    account's groups and fields can still be read and created."""

    def __init__(self, account: SandboxAccount):
        self.inner = SandboxTransport(account)
        self.failing = True

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        if self.failing and request.url.path.endswith("/batch"):
            return httpx.Response(500, json={"message": "Server Error"})
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


__all__ = ["FaultSettings", "fast_client", "import_bytes", "partners_csv"]
