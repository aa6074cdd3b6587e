"""The names the store writes and is queried by: an event's status, a sync item's outcome, a run's status.

They are text in the database, read back by the Monitor, the CLI and the worker, so each is spelled here once;
the sync writes them, it does not invent them. (What a plan *intends* for a contact is the domain's
``PlanOutcome``; the engine maps one to the other.)
"""

from __future__ import annotations

from enum import StrEnum


class EventStatus(StrEnum):
    """Where a received event stands; ``pending`` ones wait for a sync (the worker takes them at once),
    ``staged`` ones (rows of an imported file) wait for a person to start a dry run or a sync of them."""

    PENDING = "pending"
    STAGED = "staged"
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
    UNSUBSCRIBED = "unsubscribed"  # a trigger's "Unsubscribe" made them unsubscribed in MailerLite
    DELETED = "deleted"  # a trigger's "Delete from MailerLite" deleted them there
    UNCHANGED = "unchanged"
    SUPPRESSED = "suppressed"
    SKIPPED = "skipped"
    INVALID = "invalid"
    FAILED = "failed"
    DEAD = "dead"
    IGNORED = "ignored"
    REJECTED = "rejected"
    FORGOTTEN = "forgotten"  # a trigger's action "forget": the contact was forgotten (GDPR), the item is anonymous


class RunStatus(StrEnum):
    RUNNING = "running"
    FINISHED = "finished"
    FAILED = "failed"
    INTERRUPTED = "interrupted"  # its process stopped before it finished
    CANCELLED = "cancelled"  # a person stopped it; what it did is recorded, the rest still waits


class RequestStatus(StrEnum):
    """Where a person's request for a run (Run sync's start button) stands: queued until a worker (or the
    dashboard itself, when no worker runs) takes it, running, then done (its run says how it went)."""

    QUEUED = "queued"
    RUNNING = "running"
    DONE = "done"
