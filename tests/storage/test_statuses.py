"""The stored names: spelled once, written as plain text, and every item outcome counted by its run."""

from __future__ import annotations

from storage.events import EventStore, NewEvent
from storage.runs import RunStore
from storage.statuses import EventStatus, ItemOutcome, RunStatus
from storage.tables import SyncRun


def test_every_item_outcome_has_a_run_column_counting_it(database):
    runs = RunStore(database)
    run = runs.start(trigger="test")
    assert run.status == RunStatus.RUNNING
    with database.session() as session:
        runs.record(session, run.id, [{"email": f"{o}@example.com", "outcome": o} for o in ItemOutcome])
    counted = runs.get(run.id)
    assert all(getattr(counted, outcome) == 1 for outcome in ItemOutcome)
    assert set(ItemOutcome) <= set(SyncRun.model_fields)


def test_statuses_are_stored_and_read_back_as_plain_text(database):
    events = EventStore(database)
    events.add_many([NewEvent("partnero", "e1", b"{}"), NewEvent("partnero", "e2", b"{}", status=EventStatus.IGNORED)])
    assert events.counts() == {"pending": 1, "ignored": 1}
    (row,) = events.pending_rows()
    assert type(row.status) is str and row.status == EventStatus.PENDING
