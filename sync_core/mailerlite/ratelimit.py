"""The request budget of one MailerLite account, shared by every client and thread that uses it.

MailerLite allows 120 requests per minute per account, and 5 per minute of the batches made only of upserts (the
"import path"). The budget keeps a log of the sends of the last window (plus a small margin, so that latency
jitter cannot push two windows' worth of requests into one of the server's windows) and lets a request go only
when the log has room: the client never sends a request it knows will be rejected for rate.

The server has the last word: ``observe`` reads ``X-RateLimit-Limit`` / ``X-RateLimit-Remaining``, and when the
account has used more than this process sent (another process, another machine), the difference is booked as
phantom sends; ``pause`` honours ``Retry-After`` for every thread at once.

Budgets are shared through a registry keyed by a hash of base URL and key, so the key itself is never kept here.
"""

from __future__ import annotations

import hashlib
import threading
import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass


class BudgetWaitTooLong(Exception):
    """The next send is further away than the caller is willing to wait."""

    def __init__(self, wait_seconds: float) -> None:
        super().__init__(f"the rate-limit budget has no room for {wait_seconds:.1f} s")
        self.wait_seconds = wait_seconds


@dataclass(frozen=True)
class BudgetSnapshot:
    """What the budget knows right now, for the dashboard and the connection test."""

    limit: int
    window_seconds: float
    sent_in_window: int
    remaining: int
    paused_for_seconds: float
    server_limit: int | None
    server_remaining: int | None


class AccountBudget:
    """Thread-safe sliding-window budget: at most ``limit`` sends per ``window + margin`` seconds."""

    def __init__(
        self,
        limit: int = 120,
        window_seconds: float = 60.0,
        *,
        import_limit: int = 5,
        margin_seconds: float | None = None,
        clock: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], None] = time.sleep,
        fingerprint: str = "local",
    ) -> None:
        if limit < 1 or import_limit < 1 or window_seconds <= 0:
            raise ValueError("limits must be at least 1 and the window longer than 0 s")
        self.limit = limit
        self.import_limit = import_limit
        self.window_seconds = window_seconds
        self.margin_seconds = min(2.0, 0.05 * window_seconds) if margin_seconds is None else margin_seconds
        self.fingerprint = fingerprint
        self._clock = clock
        self._sleep = sleep
        self._lock = threading.Lock()
        self._sends: deque[float] = deque()
        self._import_sends: deque[float] = deque()
        self._paused_until = float("-inf")
        self._import_paused_until = float("-inf")
        self.server_limit: int | None = None
        self.server_remaining: int | None = None
        self.sent_total = 0
        self.waited_seconds = 0.0

    def __repr__(self) -> str:
        return (
            f"AccountBudget(account={self.fingerprint}, limit={self.limit}/{self.window_seconds:g}s, "
            f"imports={self.import_limit}/{self.window_seconds:g}s)"
        )

    @property
    def span_seconds(self) -> float:
        return self.window_seconds + self.margin_seconds

    def _prune(self, now: float) -> None:
        horizon = now - self.span_seconds
        for log in (self._sends, self._import_sends):
            while log and log[0] <= horizon:
                log.popleft()

    def _wait_locked(self, now: float, imports: bool) -> float:
        self._prune(now)
        wait = max(0.0, self._paused_until - now)
        if len(self._sends) >= self.limit:
            # Room appears when the oldest send that keeps the log full leaves the window.
            wait = max(wait, self._sends[len(self._sends) - self.limit] + self.span_seconds - now)
        if imports:
            wait = max(wait, self._import_paused_until - now)
            if len(self._import_sends) >= self.import_limit:
                oldest = self._import_sends[len(self._import_sends) - self.import_limit]
                wait = max(wait, oldest + self.span_seconds - now)
        return wait

    def wait_seconds(self, *, imports: bool = False) -> float:
        """How long until one more request (or one more all-upsert batch) may be sent."""
        with self._lock:
            return self._wait_locked(self._clock(), imports)

    def try_acquire(self, *, imports: bool = False) -> float:
        """Book one send if there is room now and return 0; otherwise return the wait and book nothing."""
        with self._lock:
            now = self._clock()
            wait = self._wait_locked(now, imports)
            if wait > 0:
                return wait
            self._sends.append(now)
            if imports:
                self._import_sends.append(now)
            self.sent_total += 1
            return 0.0

    def acquire(self, *, imports: bool = False, max_wait: float | None = None) -> float:
        """Block until a send is allowed and book it; return the time waited.

        Raises ``BudgetWaitTooLong`` without booking when the wait would exceed ``max_wait``.
        """
        started = self._clock()
        while True:
            wait = self.try_acquire(imports=imports)
            if wait <= 0:
                waited = self._clock() - started
                self.waited_seconds += waited
                return waited
            if max_wait is not None and (self._clock() - started) + wait > max_wait:
                raise BudgetWaitTooLong(wait)
            self._sleep(wait)

    def observe(self, limit: int | None, remaining: int | None) -> None:
        """Take in the server's ``X-RateLimit-*`` headers from an answer."""
        with self._lock:
            now = self._clock()
            self._prune(now)
            if limit is not None and limit > 0:
                self.server_limit = limit
                self.limit = limit
            if remaining is None:
                return
            self.server_remaining = remaining
            used_by_server = (self.server_limit or self.limit) - remaining
            missing = used_by_server - len(self._sends)
            # Someone else used the account: book their sends as ours, as if made just now (the safe side).
            for _ in range(max(0, missing)):
                self._sends.append(now)

    def pause(self, seconds: float, *, imports: bool = False) -> None:
        """Send nothing (or no all-upsert batch) for ``seconds``, e.g. after a 429 with ``Retry-After``."""
        with self._lock:
            until = self._clock() + max(0.0, seconds)
            if imports:
                self._import_paused_until = max(self._import_paused_until, until)
            else:
                self._paused_until = max(self._paused_until, until)
                self.server_remaining = 0

    def snapshot(self) -> BudgetSnapshot:
        with self._lock:
            now = self._clock()
            self._prune(now)
            return BudgetSnapshot(
                limit=self.limit,
                window_seconds=self.window_seconds,
                sent_in_window=len(self._sends),
                remaining=max(0, self.limit - len(self._sends)),
                paused_for_seconds=max(0.0, self._paused_until - now),
                server_limit=self.server_limit,
                server_remaining=self.server_remaining,
            )


def account_fingerprint(base_url: str, api_key: str) -> str:
    """A short, one-way name for an account: safe to log, useless for authenticating."""
    digest = hashlib.sha256(f"{base_url.rstrip('/')}\n{api_key}".encode()).hexdigest()
    return digest[:16]


_registry: dict[str, AccountBudget] = {}
_registry_lock = threading.Lock()


def shared_budget(base_url: str, api_key: str, **options: object) -> AccountBudget:
    """The one budget of this account in this process (created with ``options`` on first use)."""
    fingerprint = account_fingerprint(base_url, api_key)
    with _registry_lock:
        budget = _registry.get(fingerprint)
        if budget is None:
            budget = AccountBudget(fingerprint=fingerprint, **options)  # type: ignore[arg-type]
            _registry[fingerprint] = budget
        return budget


def forget_shared_budgets() -> None:
    """Drop every shared budget (tests, or after the user changed accounts)."""
    with _registry_lock:
        _registry.clear()
