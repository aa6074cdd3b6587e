"""Sending what the sandbox's webhooks are owed, outside the request that caused it.

A change stores its deliveries in the account's outbox in the same transaction (``storage/sandbox_store.py``; a
sandbox without a file keeps them in memory, ``MemoryOutbox``). A background thread of the process that made the
change (``WebhookSender``) then posts each one, signed (``Signature``: hex HMAC-SHA256 of the body with the
webhook's secret), to the webhook's registered URL and nowhere else (no redirects followed, no proxy), within the
timeout MailerLite allows (3 s). A 2xx settles it; anything else is tried again after 10, 100 and 1000 s (the
delays are a setting, short in tests), then given up. Each attempt is recorded on the webhook (``last_fired_at``,
``response_code``; None when nobody answered). A delivery taken by a process that dies is left to another one
once its lease has passed; any process that opens the account and sees deliveries owed starts sending them.
"""

from __future__ import annotations

import hashlib
import hmac
import logging
import os
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, replace
from typing import TYPE_CHECKING

import httpx

from storage.sandbox_store import OutboxRow

if TYPE_CHECKING:
    from .account import SandboxAccount

log = logging.getLogger("sync_core.sandbox.webhooks")

#: MailerLite's delays before the three retries of a failed delivery.
RETRY_DELAYS = (10.0, 100.0, 1000.0)
#: A delivery must be answered with a 2xx within this many seconds.
TIMEOUT_SECONDS = 3.0


def signature(secret: str, body: bytes) -> str:
    return hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()


@dataclass
class Attempts:
    delivered: int = 0
    failed: int = 0


@dataclass(frozen=True)
class DueDelivery:
    row: OutboxRow
    url: str
    secret: str


class MemoryOutbox:
    """The outbox of a sandbox without a state file: the same operations as the stored one, in memory."""

    def __init__(self) -> None:
        self._rows: dict[int, tuple[OutboxRow, float, float]] = {}  # id: (row, due_at, claimed_until)
        self._next_id = 0

    def add_deliveries(self, rows: list[tuple[str, str]], *, due_at: float) -> None:
        for webhook_id, body in rows:
            self._next_id += 1
            self._rows[self._next_id] = (OutboxRow(self._next_id, webhook_id, body, 0), due_at, 0.0)

    def claim_due(self, *, now: float, lease_seconds: float, limit: int = 20) -> list[OutboxRow]:
        due = sorted((due_at, row.id) for row, due_at, claimed in self._rows.values() if due_at <= now >= claimed)
        taken = []
        for due_at, row_id in due[:limit]:
            row = self._rows[row_id][0]
            self._rows[row_id] = (row, due_at, now + lease_seconds)
            taken.append(row)
        return taken

    def finish_delivery(self, delivery_id: int) -> None:
        self._rows.pop(delivery_id, None)

    def retry_delivery(self, delivery_id: int, *, attempts: int, due_at: float) -> None:
        if delivery_id in self._rows:
            self._rows[delivery_id] = (replace(self._rows[delivery_id][0], attempts=attempts), due_at, 0.0)

    def next_due(self) -> float | None:
        return min((max(due_at, claimed) for _, due_at, claimed in self._rows.values()), default=None)

    def pending(self) -> int:
        return len(self._rows)


class WebhookSender:
    """Posts an account's due deliveries: ``deliver_due()`` once in the caller's thread, or ``wake()`` a background
    thread that keeps at it while anything is owed (then ends; the next change wakes it again)."""

    def __init__(
        self,
        account: SandboxAccount,
        *,
        retry_delays: tuple[float, ...] = RETRY_DELAYS,
        timeout_seconds: float = TIMEOUT_SECONDS,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.account = account
        self.retry_delays = tuple(retry_delays)
        self.timeout_seconds = timeout_seconds
        self.lease_seconds = timeout_seconds + 30.0
        self._clock = clock
        self._reset()

    def _reset(self) -> None:
        self._pid = os.getpid()
        self._lock = threading.Lock()
        self._wake = threading.Event()
        self._stopping = False
        self._thread: threading.Thread | None = None

    def wake(self) -> None:
        if self._pid != os.getpid():  # inherited through fork: the thread stayed behind
            self._reset()
        with self._lock:
            self._stopping = False
            self._wake.set()
            if self._thread is None:
                self._thread = threading.Thread(target=self._run, name="sandbox-webhooks", daemon=True)
                self._thread.start()

    def stop(self, timeout: float = 2.0) -> None:
        with self._lock:
            thread, self._stopping = self._thread, True
            self._wake.set()
        if thread is not None and thread is not threading.current_thread():
            thread.join(timeout)

    def _run(self) -> None:
        while True:
            self._wake.clear()
            try:
                self.deliver_due(background=True)
                next_due = self.account._next_delivery_due()
            except Exception:  # noqa: BLE001 - a broken state file must not kill the thread silently
                log.exception("the sandbox could not send its webhooks")
                next_due = self._clock() + 1.0
            with self._lock:
                if self._stopping or (next_due is None and not self._wake.is_set()):
                    self._thread = None
                    return
            wait = 1.0 if next_due is None else min(max(next_due - self._clock(), 0.01), 1.0)
            self._wake.wait(wait)

    def deliver_due(self, *, background: bool = False) -> Attempts:
        """Make one attempt at every delivery due now (the background thread stops early when told to)."""
        attempts = Attempts()
        while not (background and self._stopping):
            due = self.account._claim_due_deliveries(now=self._clock(), lease_seconds=self.lease_seconds)
            if not due:
                return attempts
            for delivery in due:
                code = self._post(delivery)
                if code is not None and 200 <= code < 300:
                    attempts.delivered += 1
                else:
                    attempts.failed += 1
                self.account._settle_delivery(delivery.row, code, self._next_attempt(delivery.row, code))
        return attempts

    def _next_attempt(self, row: OutboxRow, code: int | None) -> float | None:
        if code is not None and 200 <= code < 300:
            return None
        if row.attempts >= len(self.retry_delays):
            log.info("gave up a webhook delivery after %d attempts", row.attempts + 1)
            return None
        return self._clock() + self.retry_delays[row.attempts]

    def _post(self, delivery: DueDelivery) -> int | None:
        body = delivery.row.body.encode()
        headers = {
            "Content-Type": "application/json",
            "Signature": signature(delivery.secret, body),
            "User-Agent": "MailerLite-Sandbox",
        }
        try:
            with httpx.Client(timeout=self.timeout_seconds, follow_redirects=False, trust_env=False) as http:
                return http.post(delivery.url, content=body, headers=headers).status_code
        except httpx.HTTPError as exc:
            log.info("a webhook delivery got no answer (%s)", type(exc).__name__)
            return None
