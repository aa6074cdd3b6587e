"""The sandbox's server-side rate limits, counted the way Laravel's throttle does.

MailerLite runs on Laravel, whose throttle counts hits in a fixed window that starts at the first hit after the
previous window expired; a rejected request is not counted, and ``Retry-After`` is the time left in the window.
The window can be shortened (one second instead of a minute) for tests and benchmarks. Every window's count is
kept, so a benchmark can tell how much of the limit a client really used.
"""

from __future__ import annotations

import math
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass


@dataclass(frozen=True)
class LimitDecision:
    allowed: bool
    limit: int
    remaining: int
    retry_after: int  # whole seconds, as the header carries them; 0 when allowed


class FixedWindowLimiter:
    def __init__(self, limit: int, window_seconds: float, *, clock: Callable[[], float] = time.monotonic):
        if limit < 1 or window_seconds <= 0:
            raise ValueError("a limit needs at least 1 request per window longer than 0 s")
        self.limit = limit
        self.window_seconds = window_seconds
        self._clock = clock
        self._lock = threading.Lock()
        self._window_start: float | None = None
        self._count = 0
        self.rejected = 0
        self.window_counts: list[int] = []  # hits of every finished window, oldest first

    def _roll(self, now: float) -> None:
        if self._window_start is not None and now - self._window_start >= self.window_seconds:
            self.window_counts.append(self._count)
            self._window_start, self._count = None, 0

    def hit(self) -> LimitDecision:
        with self._lock:
            now = self._clock()
            self._roll(now)
            if self._window_start is None:
                self._window_start = now
            if self._count >= self.limit:
                self.rejected += 1
                left = self._window_start + self.window_seconds - now
                return LimitDecision(False, self.limit, 0, max(1, math.ceil(left)))
            self._count += 1
            return LimitDecision(True, self.limit, self.limit - self._count, 0)

    def remaining(self) -> int:
        with self._lock:
            self._roll(self._clock())
            return self.limit - self._count

    def all_window_counts(self) -> list[int]:
        """Finished windows plus the current one (last)."""
        with self._lock:
            self._roll(self._clock())
            return self.window_counts + ([self._count] if self._window_start is not None else [])
