"""The names the store writes and is queried by: an event's status, a sync item's outcome, a run's status.

They are text in the database, read back by the Monitor, the CLI and the worker, so each is spelled here once;
the sync writes them, it does not invent them. (What a plan *intends* for a contact is the domain's
``PlanOutcome``; the engine maps one to the other.)
"""

from __future__ import annotations

from enum import StrEnum


class EventStatus(StrEnum):
    """Where a received event stands; ``pending`` ones wait for a sync."""

    PENDING = "pending"
    SYNCED = "synced"
    IGNORED = "ignored"
    INVALID = "invalid"
    REJECTED = "rejected"
    FAILED = "failed"
    DEAD = "dead"  # failed too many times: it waits for a person, not for the next run


class ItemOutcome(StrEnum):
    """What became of one contact (or one unusable input) in a run. Each has a ``SyncRun`` column of the same
    name counting it; this order is the order those counts are shown in."""

    CREATED = "created"
    UPDATED = "updated"
    UNCHANGED = "unchanged"
    SUPPRESSED = "suppressed"
    SKIPPED = "skipped"
    INVALID = "invalid"
    FAILED = "failed"
    DEAD = "dead"
    IGNORED = "ignored"
    REJECTED = "rejected"


class RunStatus(StrEnum):
    RUNNING = "running"
    FINISHED = "finished"
    FAILED = "failed"
    INTERRUPTED = "interrupted"  # its process stopped before it finished
