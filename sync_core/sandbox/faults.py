"""Fault injection for the sandbox: the bad days of a real API, on demand and reproducibly.

Faults are decided per request from a seeded random generator (same seed, same faults), or queued by tests
(``inject``) for exact scenarios. A request hit by a fault is not applied to the account.
"""

from __future__ import annotations

import random
import threading
from collections import deque
from dataclasses import dataclass
from typing import Literal

FaultKind = Literal["error", "429", "timeout"]


@dataclass(frozen=True)
class FaultSettings:
    """How often things go wrong. Rates are probabilities per request (0 to 1)."""

    error_rate: float = 0.0  # answer 500/502/503 instead of the real answer
    latency_seconds: float = 0.0  # added before every answer
    latency_jitter_seconds: float = 0.0  # plus a random 0..jitter
    burst_429_rate: float = 0.0  # chance that a burst of 429s starts on a request
    burst_429_length: int = 3  # requests answered 429 in one burst
    burst_retry_after_seconds: int = 1  # Retry-After sent during a burst
    timeout_rate: float = 0.0  # no answer in time: in-process raises a timeout, HTTP hangs
    hang_seconds: float = 5.0  # how long the HTTP server hangs on a timeout fault
    seed: int | None = None

    def __post_init__(self) -> None:
        for name in ("error_rate", "burst_429_rate", "timeout_rate"):
            value = getattr(self, name)
            if not 0.0 <= value <= 1.0:
                raise ValueError(f"{name} must be between 0 and 1, not {value}")
        if self.latency_seconds < 0 or self.latency_jitter_seconds < 0 or self.hang_seconds < 0:
            raise ValueError("latency and hang times cannot be negative")
        if self.burst_429_length < 1 or self.burst_retry_after_seconds < 0:
            raise ValueError("a 429 burst needs a length of at least 1 and a Retry-After of 0 or more")

    @property
    def active(self) -> bool:
        return any(
            (self.error_rate, self.latency_seconds, self.latency_jitter_seconds, self.burst_429_rate, self.timeout_rate)
        )


@dataclass(frozen=True)
class FaultDecision:
    """What happens to one request: ``kind`` None means it is answered normally, after ``delay`` seconds."""

    kind: FaultKind | None = None
    delay: float = 0.0
    status: int = 500
    retry_after: int = 1


class FaultInjector:
    """Thread-safe source of fault decisions."""

    def __init__(self, settings: FaultSettings | None = None) -> None:
        self.settings = settings or FaultSettings()
        self._rng = random.Random(self.settings.seed)
        self._lock = threading.Lock()
        self._queued: deque[FaultDecision] = deque()
        self._burst_left = 0
        self.injected: dict[str, int] = {"error": 0, "429": 0, "timeout": 0}

    def inject(self, kind: FaultKind, count: int = 1, *, status: int = 500, retry_after: int = 1) -> None:
        """Make the next ``count`` requests fail this way, whatever the rates say."""
        with self._lock:
            for _ in range(count):
                self._queued.append(FaultDecision(kind=kind, status=status, retry_after=retry_after))

    def clear(self) -> None:
        with self._lock:
            self._queued.clear()
            self._burst_left = 0

    def decide(self) -> FaultDecision:
        with self._lock:
            s = self.settings
            delay = s.latency_seconds + (
                self._rng.uniform(0, s.latency_jitter_seconds) if s.latency_jitter_seconds else 0.0
            )
            if self._queued:
                queued = self._queued.popleft()
                decision = FaultDecision(queued.kind, delay, queued.status, queued.retry_after)
            elif self._burst_left > 0:
                self._burst_left -= 1
                decision = FaultDecision("429", delay, 429, s.burst_retry_after_seconds)
            elif s.burst_429_rate and self._rng.random() < s.burst_429_rate:
                self._burst_left = s.burst_429_length - 1
                decision = FaultDecision("429", delay, 429, s.burst_retry_after_seconds)
            elif s.timeout_rate and self._rng.random() < s.timeout_rate:
                decision = FaultDecision("timeout", delay)
            elif s.error_rate and self._rng.random() < s.error_rate:
                decision = FaultDecision("error", delay, self._rng.choice((500, 502, 503)))
            else:
                return FaultDecision(None, delay)
            if decision.kind is not None:
                self.injected[decision.kind] += 1
            return decision
