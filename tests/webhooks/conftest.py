"""Webhook fixtures: the routes served for real on 127.0.0.1 (uvicorn in a thread), on each test database."""

from __future__ import annotations

import ast

import httpx
import pytest
from starlette.applications import Starlette

from sync_core.live import LiveSync
from sync_core.sandbox import serve_sandbox
from tests.engine.test_crash import CountingAccount
from tests.reference import REPO
from tests.webhooks.helpers import DODO_SECRET, PARTNERO_SECRET, both_sources_config, serve_app
from tests.webhooks.processes import studio_env


@pytest.fixture
def secrets_in_env(workspace, monkeypatch):
    monkeypatch.setenv("DODO_PAYMENTS_WEBHOOK_KEY", DODO_SECRET)
    monkeypatch.setenv("PARTNERO_WEBHOOK_SECRET", PARTNERO_SECRET)
    return workspace


@pytest.fixture
def live(workspace) -> LiveSync:
    """Receiving only (no worker); secrets and configuration read afresh on every request."""
    return LiveSync(lambda: workspace, worker=False, ttl=0)


@pytest.fixture
def server(live):
    with serve_app(Starlette(routes=live.routes(), lifespan=live.lifespan)) as url:
        yield url


@pytest.fixture
def http(server):
    with httpx.Client(base_url=server, timeout=10) as client:
        yield client


def require_wiring() -> None:
    """Fail at once, with the reason, rather than after waiting for a server that has no webhook routes."""
    tree = ast.parse((REPO / "dashboard.py").read_text(encoding="utf-8"))
    calls = [
        node
        for node in ast.walk(tree)
        if isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute) and node.func.attr == "App"
    ]
    if not calls or "LiveSync" not in (REPO / "dashboard.py").read_text(encoding="utf-8"):
        pytest.fail(
            "dashboard.py does not create the st.App with the webhook routes and the worker yet "
            "(LiveSync from sync_core.live)"
        )


@pytest.fixture
def studio(workspace):
    """For the dashboard server: its database, with a configuration that syncs both sources into a sandbox
    account served over HTTP here (counting what reaches it), and the server's environment."""
    require_wiring()
    workspace.save_config(both_sources_config(sandbox=False))
    account = CountingAccount(limit=100_000, window_seconds=1, import_limit=10_000)
    with serve_sandbox(account) as sandbox:
        yield workspace, account, studio_env(workspace, sandbox.base_url)
