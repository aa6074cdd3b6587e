"""The webhook writer tries a batch again when the database is busy, and only then."""

from __future__ import annotations

import sqlite3

import pytest
import sqlalchemy as sa

from storage.events import NewEvent
from sync_core.live.writer import EventWriter


class FlakyEvents:
    """An event store whose first writes meet a busy database."""

    def __init__(self, failures: int, error: Exception):
        self.failures, self.error, self.calls = failures, error, 0

    def add_many(self, events):
        self.calls += 1
        if self.calls <= self.failures:
            raise self.error
        return len(events)


def test_the_writer_tries_again_after_a_busy_database_only():
    busy = sa.exc.OperationalError("INSERT", {}, sqlite3.OperationalError("database is locked"))
    flaky = FlakyEvents(2, busy)
    assert EventWriter(flaky)._add([NewEvent("partnero", "p1", b"{}")]) == 1 and flaky.calls == 3
    always = FlakyEvents(3, busy)
    with pytest.raises(sa.exc.OperationalError):
        EventWriter(always)._add([NewEvent("partnero", "p1", b"{}")])
    assert always.calls == 3
    refused = FlakyEvents(1, ValueError("not a database problem"))
    with pytest.raises(ValueError):
        EventWriter(refused)._add([NewEvent("partnero", "p1", b"{}")])
    assert refused.calls == 1
