"""The live queue at a glance, for the dashboard and the health route: events waiting, the oldest one waiting,
the last event received from each webhook source, and whether a sync worker is alive.

Every query here walks an index and stops early, so it costs the same with a hundred stored events or a million
(waiting events are found through ``ix_received_event_status_id``; the last event of a source by walking the
newest rows back until one is from that source).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta

import sqlalchemy as sa

from storage.db import Database
from storage.heartbeats import Heartbeat, HeartbeatStore
from storage.statuses import EventStatus
from storage.tables import ReceivedEvent, utcnow
from sync_core.domain.events import DODO_PAYMENTS, PARTNERO, SOURCE_LABELS

#: A worker writes its heartbeat every few seconds (sync_core.live.worker); one not heard of for this long is gone.
ALIVE_SECONDS = 30.0
WEBHOOK_SOURCES = (DODO_PAYMENTS, PARTNERO)
_EVENTS = ReceivedEvent.__table__


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

    @property
    def worker_alive(self) -> bool:
        return any(worker.alive for worker in self.workers)

    @property
    def oldest_waiting_seconds(self) -> float | None:
        if self.oldest_waiting_at is None:
            return None
        return max(0.0, (self.checked_at - self.oldest_waiting_at).total_seconds())

    def describe(self) -> str:
        """A few sentences in plain words."""
        if self.waiting:
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
    pending = sa.select(_EVENTS.c.id).where(_EVENTS.c.status == EventStatus.PENDING)
    if cap is not None:
        pending = pending.limit(cap)
    oldest = (
        sa.select(_EVENTS.c.received_at).where(_EVENTS.c.status == EventStatus.PENDING).order_by(_EVENTS.c.id).limit(1)
    )
    with database.engine.connect() as connection:
        count = connection.execute(sa.select(sa.func.count()).select_from(pending.subquery())).scalar() or 0
        first = connection.execute(oldest).scalar()
    return Waiting(int(count), _aware(first))


def last_received(database: Database, sources: tuple[str, ...] = WEBHOOK_SOURCES) -> dict[str, datetime | None]:
    """Source → when its newest event was stored (``None``: never)."""
    out: dict[str, datetime | None] = {}
    with database.engine.connect() as connection:
        for source in sources:
            query = (
                sa.select(_EVENTS.c.received_at)
                .where(_EVENTS.c.source == source)
                .order_by(_EVENTS.c.id.desc())
                .limit(1)
            )
            out[source] = _aware(connection.execute(query).scalar())
    return out


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
    database: Database, *, sources: tuple[str, ...] = WEBHOOK_SOURCES, alive_seconds: float = ALIVE_SECONDS
) -> QueueStatus:
    """Everything the dashboard shows about the live queue, read in a few indexed queries."""
    now = utcnow()
    queue = waiting(database)
    failed = sa.select(sa.func.count()).select_from(
        sa.select(_EVENTS.c.id).where(_EVENTS.c.status == EventStatus.FAILED).subquery()
    )
    with database.engine.connect() as connection:
        failed_count = int(connection.execute(failed).scalar() or 0)
    return QueueStatus(
        queue.count,
        queue.oldest_received_at,
        failed_count,
        last_received(database, sources),
        worker_states(database, now=now, alive_seconds=alive_seconds),
        checked_at=now,
    )


def _aware(value: datetime | str | None) -> datetime | None:
    if value is None:
        return None
    if isinstance(value, str):  # SQLite may hand back text
        value = datetime.fromisoformat(value)
    return value if value.tzinfo else value.replace(tzinfo=utcnow().tzinfo)


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
    "last_received",
    "queue_status",
    "waiting",
    "worker_states",
]
