"""Clients wired to a sandbox account, in-process or over HTTP, sharing the account's one budget."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from typing import Any

from sync_core.mailerlite.client import MailerLiteClient
from sync_core.mailerlite.ratelimit import AccountBudget
from sync_core.mailerlite.settings import MailerLiteSettings

from .account import SandboxAccount
from .server import SandboxServer
from .transport import SandboxTransport

_budget_lock = threading.Lock()


def account_budget(
    account: SandboxAccount,
    *,
    clock: Callable[[], float] = time.monotonic,
    sleep: Callable[[float], None] = time.sleep,
    margin_seconds: float | None = None,
) -> AccountBudget:
    """The client-side budget of this sandbox account (created on first use, then shared)."""
    with _budget_lock:
        budget = getattr(account, "_client_budget", None)
        if budget is None:
            budget = AccountBudget(
                account.limit,
                account.window_seconds,
                import_limit=account.import_limit,
                margin_seconds=margin_seconds,
                clock=clock,
                sleep=sleep,
                fingerprint=f"sandbox-{account.account_id}",
            )
            account._client_budget = budget  # type: ignore[attr-defined]
        return budget


def sandbox_settings(account: SandboxAccount, base_url: str, **overrides: Any) -> MailerLiteSettings:
    values: dict[str, Any] = dict(
        api_key=account.default_key,
        base_url=base_url,
        rate_limit=account.limit,
        rate_window_seconds=account.window_seconds,
        import_limit=account.import_limit,
    )
    values.update(overrides)
    return MailerLiteSettings(**values)


def sandbox_client(
    account: SandboxAccount,
    *,
    server: SandboxServer | None = None,
    budget: AccountBudget | None = None,
    clock: Callable[[], float] = time.monotonic,
    sleep: Callable[[float], None] = time.sleep,
    client_options: dict[str, Any] | None = None,
    **settings: Any,
) -> MailerLiteClient:
    """A ``MailerLiteClient`` for the sandbox: in-process by default, over HTTP when ``server`` is given.

    ``settings`` override ``MailerLiteSettings`` fields (e.g. ``max_attempts=2``, ``api_key="wrong"``).
    """
    base_url = server.base_url if server is not None else account.inprocess_base_url
    transport = None if server is not None else SandboxTransport(account, sleep=sleep)
    return MailerLiteClient(
        sandbox_settings(account, base_url, **settings),
        transport=transport,
        budget=budget or account_budget(account, clock=clock, sleep=sleep),
        clock=clock,
        sleep=sleep,
        **(client_options or {}),
    )
