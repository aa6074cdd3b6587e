"""The questions sync_core asks of the stored events and runs (the queue, the last event per source, each
contact's newest event, interrupted runs), and how storage tells that a failure is worth another try."""

from __future__ import annotations

import sqlite3
import time

import sqlalchemy as sa

from storage.db import is_transient
from storage.events import EventStore, NewEvent
from storage.locks import AccountLease
from storage.runs import RunStore
from storage.statuses import EventStatus


def event(source: str, event_id: str, email: str | None = None, *, body: bytes | None = b"{}", **values) -> NewEvent:
    return NewEvent(source, event_id, body, email=email, **values)


def test_counts_and_the_oldest_waiting_event(database):
    events = EventStore(database)
    assert events.waiting() == (0, None)
    assert events.count(EventStatus.FAILED) == 0
    events.add_many([event("partnero", f"p{n}") for n in range(5)])
    events.add_many(
        [event("partnero", "f1", status=EventStatus.FAILED), event("partnero", "s1", status=EventStatus.SYNCED)]
    )
    count, oldest = events.waiting()
    first = events.pending_rows(limit=1)[0]
    assert count == 5 and oldest == first.received_at and oldest.tzinfo is not None
    assert events.waiting(cap=3)[0] == 3
    assert events.count(EventStatus.PENDING) == 5 and events.count(EventStatus.PENDING, cap=2) == 2
    assert events.count(EventStatus.FAILED) == 1 and events.count(EventStatus.SYNCED) == 1


def test_last_received_per_source(database):
    events = EventStore(database)
    assert events.last_received(["partnero", "dodo_payments"]) == {"partnero": None, "dodo_payments": None}
    events.add_many([event("partnero", "p1")])
    time.sleep(0.01)
    events.add_many([event("partnero", "p2")])
    received = events.last_received(["partnero", "dodo_payments"])
    rows = {row.event_id: row for row in events.pending_rows()}
    assert received == {"partnero": rows["p2"].received_at, "dodo_payments": None}


def test_newest_event_of_each_contact_with_a_body(database):
    events = EventStore(database)
    assert events.newest_per_contact(10) == []
    events.add_many(
        [
            event("partnero", "a1", "ada@example.com", body=b'{"n": 1}'),
            event("records", "b1", "bo@example.com", body=b'{"n": 2}', kind="customer"),
            event("partnero", "a2", "ada@example.com", body=b'{"n": 3}'),
            event("partnero", "a3", "ada@example.com", body=None),  # no body: cannot stand for the contact
            event("partnero", "x1", None, body=b'{"n": 4}'),  # no email: no contact
        ]
    )
    rows = sorted(events.newest_per_contact(10), key=lambda row: bytes(row[1]))
    assert [(source, bytes(body), kind) for source, body, kind, _ in rows] == [
        ("records", b'{"n": 2}', "customer"),
        ("partnero", b'{"n": 3}', None),
    ]
    assert all(received_at is not None for *_, received_at in rows)
    assert [bytes(body) for _, body, _, _ in events.newest_per_contact(1)] == [b'{"n": 3}']  # the latest heard
    # MailerLite's own events say nothing a rule reads: a sample of the sources' events leaves them out
    events.add_many([event("mailerlite", "m1", "ada@example.com", body=b'{"n": 5}')])
    assert b'{"n": 5}' in [bytes(row[1]) for row in events.newest_per_contact(10)]
    chosen = events.newest_per_contact(10, sources=["partnero", "records"])
    assert sorted(bytes(row[1]) for row in chosen) == [b'{"n": 2}', b'{"n": 3}']


def test_runs_of_a_gone_holder_are_closed_as_interrupted(database):
    runs = RunStore(database)
    lease = AccountLease(database, "sandbox", holder="here:1:live")
    lease.acquire()
    alive = runs.start(holder=lease.holder)
    gone = runs.start(holder="elsewhere:2:gone")
    done = runs.start(holder="elsewhere:3:done")
    runs.finish(done.id, status="finished", duration_seconds=1.0)
    assert runs.close_interrupted("the process stopped") == 1
    assert runs.get(gone.id).status == "interrupted" and runs.get(gone.id).error == "the process stopped"
    assert runs.get(alive.id).status == "running"
    assert runs.get(done.id).status == "finished"
    assert runs.close_interrupted("again") == 0


def test_a_busy_database_is_transient_and_a_refused_statement_is_not():
    busy = sa.exc.OperationalError("INSERT", {}, sqlite3.OperationalError("database is locked"))
    refused = sa.exc.IntegrityError("INSERT", {}, sqlite3.IntegrityError("UNIQUE constraint failed"))
    assert is_transient(busy)
    assert not is_transient(refused) and not is_transient(ValueError("no"))
