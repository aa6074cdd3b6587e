"""Fixtures for the sandbox: every behaviour test runs in-process and over HTTP on 127.0.0.1."""

from __future__ import annotations

import importlib.util
from pathlib import Path

import httpx
import pytest

from sync_core.sandbox import (
    DEFAULT_SANDBOX_KEY,
    SandboxAccount,
    SandboxTransport,
    sandbox_client,
    serve_sandbox,
)


def _load_cassettes():
    path = Path(__file__).resolve().parents[1] / "mailerlite" / "cassettes.py"
    spec = importlib.util.spec_from_file_location("ml_cassettes_sandbox", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


cassettes = _load_cassettes()


@pytest.fixture(params=["inprocess", "http"])
def mode(request) -> str:
    return request.param


@pytest.fixture
def account() -> SandboxAccount:
    account = SandboxAccount(seed=42)
    yield account
    account.close()


@pytest.fixture
def server(account, mode):
    if mode == "http":
        with serve_sandbox(account) as running:
            yield running
    else:
        yield None


@pytest.fixture
def make_client(account, server):
    """Clients of the sandbox in the current mode; quick retries so fault tests stay fast."""
    made = []

    def make(**settings):
        values = dict(max_attempts=3, backoff_base_seconds=0.01, backoff_max_seconds=0.05, timeout_seconds=5)
        values.update(settings)
        client = sandbox_client(account, server=server, **values)
        made.append(client)
        return client

    yield make
    for client in made:
        client.close()


@pytest.fixture
def client(make_client):
    return make_client()


@pytest.fixture
def raw(account, server):
    """A bare httpx client (no limiter, no retries) with the sandbox key, for checking answers as sent."""
    if server is None:
        http = httpx.Client(base_url=account.inprocess_base_url + "/", transport=SandboxTransport(account))
    else:
        http = httpx.Client(base_url=server.base_url + "/")
    http.headers["Authorization"] = f"Bearer {DEFAULT_SANDBOX_KEY}"
    yield http
    http.close()


@pytest.fixture(scope="session")
def recordings():
    if not cassettes.RECORDINGS.is_dir():
        pytest.fail(
            f"the MailerLite recordings are missing: {cassettes.RECORDINGS} (they ship with the repository)",
            pytrace=False,
        )
    return cassettes.load_recordings()
