"""A run's changes, contact by contact, read back from what it recorded (a dry run records what it would send)."""

from __future__ import annotations

from collections.abc import Iterator

from storage.runs import RunStore
from sync_core.domain.changes import ContactChange, from_record


def iter_run_changes(runs: RunStore, run_id: int, *, page: int = 1000) -> Iterator[ContactChange]:
    """Every contact of the run in the order it was planned, a page of items at a time."""
    after = 0
    while rows := runs.items_with_groups(run_id, after_id=after, limit=page):
        for item, groups in rows:
            yield from_record(item.email, item.outcome, item.changes, groups, item.reason)
        after = rows[-1][0].id or after
        if len(rows) < page:
            return
