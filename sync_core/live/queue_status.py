"""The live queue at a glance, for the dashboard and the health route: events waiting, the oldest one waiting,
the last event received from each webhook source, and whether a sync worker is alive.

Every question is one the event store answers along an index, stopping early, so it costs the same with a
hundred stored events or a million (waiting events are found through ``ix_received_event_status_id``, the last
event of a source through ``ix_received_event_source_id``).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta

from storage.db import Database
from storage.events import EventStore
from storage.heartbeats import Heartbeat, HeartbeatStore
from storage.statuses import EventStatus
from storage.tables import utcnow
from sync_core.domain.events import DODO_PAYMENTS, PARTNERO, SOURCE_LABELS
from sync_core.settings import get_settings

#: A worker writes its heartbeat every few seconds (sync_core.live.worker); one not heard of for this long is gone.
ALIVE_SECONDS = 30.0
WEBHOOK_SOURCES = (DODO_PAYMENTS, PARTNERO)


@dataclass(slots=True)
class Waiting:
    count: int  # pending events (capped when asked with a cap)
    oldest_received_at: datetime | None


@dataclass(slots=True)
class WorkerState:
    name: str
    state: str  # idle, syncing, waiting, standby, backing_off, stopped
    detail: str
    started_at: datetime
    beat_at: datetime
    last_run_id: int | None
    alive: bool


@dataclass(slots=True)
class QueueStatus:
    waiting: int
    oldest_waiting_at: datetime | None
    failed: int  # events whose sync failed; the worker retries them when MailerLite answers again
    last_received: dict[str, datetime | None]  # webhook source → when its newest event was stored
    workers: list[WorkerState] = field(default_factory=list)
    checked_at: datetime = field(default_factory=utcnow)
    last_handled_at: datetime | None = None  # when an event last left the queue (synced, ignored, ...)
    stall_seconds: float = 600.0

    @property
    def worker_alive(self) -> bool:
        return any(worker.alive for worker in self.workers)

    @property
    def stalled(self) -> bool:
        """Events have waited ``stall_seconds`` and none has left the queue meanwhile, though a worker runs:
        something keeps the worker from syncing (MailerLite refuses the key, an outage, a bug)."""
        if not self.waiting or not self.worker_alive or (self.oldest_waiting_seconds or 0.0) < self.stall_seconds:
            return False
        return self.last_handled_at is None or (
            (self.checked_at - self.last_handled_at).total_seconds() >= self.stall_seconds
        )

    def stall_reason(self) -> str:
        """Why the live sync counts as stalled, in plain words ("" when it does not); figures only, no worker
        detail (the health route says this to anyone who can reach it)."""
        if not self.stalled:
            return ""
        since = (
            f"for {_duration((self.checked_at - self.last_handled_at).total_seconds())}"
            if self.last_handled_at is not None
            else "yet"
        )
        return (
            f"{self.waiting:,} event(s) wait, the oldest for {_duration(self.oldest_waiting_seconds)}, and none has "
            f"been synced {since}, although a sync worker is running."
        )

    @property
    def oldest_waiting_seconds(self) -> float | None:
        if self.oldest_waiting_at is None:
            return None
        return max(0.0, (self.checked_at - self.oldest_waiting_at).total_seconds())

    def describe(self) -> str:
        """A few sentences in plain words."""
        if self.stalled:
            sentences = ["Stalled: " + self.stall_reason()]
        elif self.waiting:
            sentences = [
                f"{self.waiting:,} event(s) waiting to be synced, the oldest for "
                f"{_duration(self.oldest_waiting_seconds)}."
            ]
        else:
            sentences = ["No event is waiting to be synced."]
        if self.failed:
            sentences.append(f"{self.failed:,} event(s) failed and wait for a retry.")
        sentences.append(
            "Last event received: "
            + "; ".join(
                f"{SOURCE_LABELS.get(source, source)} {_ago(self.checked_at, when)}"
                for source, when in self.last_received.items()
            )
            + "."
        )
        alive = [worker for worker in self.workers if worker.alive]
        if alive:
            sentences.append(
                "Worker alive: "
                + "; ".join(
                    worker.state.replace("_", " ") + (f" ({worker.detail})" if worker.detail else "")
                    for worker in alive
                )
                + "."
            )
        else:
            sentences.append("No worker is running: events are stored but not synced until one starts.")
        return " ".join(sentences)

    def as_dict(self) -> dict:
        return {
            "waiting": self.waiting,
            "oldest_waiting_at": _iso(self.oldest_waiting_at),
            "oldest_waiting_seconds": self.oldest_waiting_seconds,
            "failed": self.failed,
            "stalled": self.stalled,
            "stall_reason": self.stall_reason(),
            "last_handled_at": _iso(self.last_handled_at),
            "last_received": {source: _iso(when) for source, when in self.last_received.items()},
            "worker_alive": self.worker_alive,
            "workers": [
                {
                    "name": w.name,
                    "state": w.state,
                    "detail": w.detail,
                    "alive": w.alive,
                    "beat_at": _iso(w.beat_at),
                    "started_at": _iso(w.started_at),
                    "last_run_id": w.last_run_id,
                }
                for w in self.workers
            ],
        }


def waiting(database: Database, *, cap: int | None = None) -> Waiting:
    """How many events wait for a sync (at most ``cap`` counted) and when the oldest of them arrived."""
    return Waiting(*EventStore(database).waiting(cap=cap))


def worker_states(
    database: Database, *, now: datetime | None = None, alive_seconds: float = ALIVE_SECONDS
) -> list[WorkerState]:
    """The workers heard of in the last day, newest first, each alive or not."""
    now = now or utcnow()
    return [
        _worker_state(beat, now, alive_seconds)
        for beat in HeartbeatStore(database).recent(role="worker", within=timedelta(days=1))
    ]


def _worker_state(beat: Heartbeat, now: datetime, alive_seconds: float) -> WorkerState:
    alive = beat.state != "stopped" and beat.age_seconds(now) <= alive_seconds
    return WorkerState(beat.name, beat.state, beat.detail, beat.started_at, beat.beat_at, beat.last_run_id, alive)


def queue_status(
    database: Database,
    *,
    sources: tuple[str, ...] = WEBHOOK_SOURCES,
    alive_seconds: float = ALIVE_SECONDS,
    stall_seconds: float | None = None,
) -> QueueStatus:
    """Everything the dashboard shows about the live queue, read in a few indexed queries. ``stall_seconds``:
    default ``SYNC_STUDIO_STALL_SECONDS``."""
    now = utcnow()
    queue = waiting(database)
    events = EventStore(database)
    return QueueStatus(
        queue.count,
        queue.oldest_received_at,
        events.count(EventStatus.FAILED),
        events.last_received(sources),
        worker_states(database, now=now, alive_seconds=alive_seconds),
        checked_at=now,
        last_handled_at=events.last_handled_at(),
        stall_seconds=get_settings().stall_seconds if stall_seconds is None else stall_seconds,
    )


def _iso(value: datetime | None) -> str | None:
    return value.isoformat() if value is not None else None


def _duration(seconds: float | None) -> str:
    seconds = seconds or 0.0
    if seconds < 90:
        return f"{seconds:.0f} s"
    if seconds < 90 * 60:
        return f"{seconds / 60:.0f} min"
    if seconds < 48 * 3600:
        return f"{seconds / 3600:.1f} h"
    return f"{seconds / 86400:.0f} days"


def _ago(now: datetime, when: datetime | None) -> str:
    if when is None:
        return "never"
    return f"{_duration((now - when).total_seconds())} ago"


__all__ = [
    "ALIVE_SECONDS",
    "QueueStatus",
    "Waiting",
    "WorkerState",
    "queue_status",
    "waiting",
    "worker_states",
]


#: A worker's state as a person reads it, and whether it is good news ("ok") or asks for a look ("warn").
WORKER_WORDS = {
    "idle": ("The live sync is running and up to date.", "ok"),
    "waiting": ("The live sync is gathering the events that just arrived into one sync.", "ok"),
    "syncing": ("The live sync is sending changes to MailerLite now.", "ok"),
    "standby": ("The live sync is standing by: another process is syncing this account.", "ok"),
    "backing_off": ("The live sync is waiting before it tries again.", "warn"),
    "stopped": ("The live sync has stopped.", "warn"),
}


def worker_words(state: str) -> tuple[str, str]:
    """The sentence for a worker's ``state`` and its level (``ok`` or ``warn``)."""
    return WORKER_WORDS.get(state, (f"The live sync is {state.replace('_', ' ')}.", "warn"))
