"""The erasure and the tombstones of a forgotten contact, on SQLite and PostgreSQL: every row that carries the
email goes (whatever the column, whatever the case), notes keep their words without it, others' rows stay, and
events stored afterwards are screened by when they occurred and by what they are."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from pathlib import Path

import sqlalchemy as sa
from sqlmodel import select

from storage import Database
from storage.contacts import ContactStore
from storage.events import EventStore, NewEvent
from storage.forgotten import FORGOTTEN_CONTACT, FORGOTTEN_REASON, ForgetStore
from storage.runs import RunStore
from storage.tables import RunRequest, SyncRun

KEY = b"0" * 44
EMAIL = "ada@example.com"
NOW = datetime(2026, 3, 1, 12, 0, tzinfo=UTC)


def body(email: str, n: int = 1) -> bytes:
    return json.dumps({"type": "payment.succeeded", "data": {"customer": {"email": email}, "n": n}}).encode()


def arrange(database):
    forgotten = ForgetStore(database, KEY)
    events = EventStore(database, forgotten=forgotten)
    events.add_many(
        [
            NewEvent(
                "dodo_payments", "evt_1", body("Ada@Example.com"), "payment.succeeded", EMAIL, NOW - timedelta(days=1)
            ),
            NewEvent("partnero", "evt_2", body("ADA@EXAMPLE.COM"), "partner.created", None, NOW - timedelta(days=1)),
            NewEvent("dodo_payments", "evt_3", body("bob@example.com"), "payment.succeeded", "bob@example.com", NOW),
        ]
    )
    runs = RunStore(database)
    run = runs.start(trigger="cli", notes="the value of Ada@Example.com did not fit", error="")
    request = {"method": "GET", "path": f"/api/subscribers/{EMAIL}", "body": None}
    with database.session() as session:
        runs.record(
            session,
            run.id,
            [
                {"email": EMAIL, "outcome": "created", "requests": [request], "changes": {"name": [None, "Ada"]}},
                {"email": "(no valid email)", "outcome": "invalid", "requests": [request]},
                {"email": "bob@example.com", "outcome": "created"},
            ],
            {0: [("Partners", "added")]},
        )
        ContactStore(database).save_many(
            session, "sandbox", [{"email": EMAIL, "subscriber_id": "1", "status": "active", "state": {}}]
        )
        ContactStore(database).save_many(
            session, "mailerlite:abc", [{"email": EMAIL, "subscriber_id": "9", "status": "active", "state": {}}]
        )
        ContactStore(database).save_many(
            session, "sandbox", [{"email": "bob@example.com", "subscriber_id": "2", "status": "active", "state": {}}]
        )
        session.add(RunRequest(error="could not sync ada@example.com"))
    return forgotten, events, runs, run


def count(database, table: str, where: str = "1=1") -> int:
    with database.engine.connect() as connection:
        return connection.execute(sa.text(f"SELECT count(*) FROM {table} WHERE {where}")).scalar()


def test_the_erasure_takes_every_row_that_carries_the_email_and_keeps_the_others(database):
    forgotten, events, runs, run = arrange(database)
    erasure = forgotten.erase(EMAIL, now=NOW)
    assert (erasure.events, erasure.items, erasure.contacts, erasure.texts) == (2, 2, 2, 2)
    assert not erasure.traces_left
    assert [e.event_id for e in events.pending_rows()] == ["evt_3"]
    assert [item.email for item in runs.items()] == ["bob@example.com"]
    assert count(database, "sync_item_group") == 0
    assert count(database, "contact") == 1
    assert count(database, "daily_outcome") > 0  # the daily counts hold no email: they stay
    with database.session() as session:
        assert session.get(SyncRun, run.id).notes == f"the value of {FORGOTTEN_CONTACT} did not fit"
        assert [r.error for r in session.exec(select(RunRequest))] == [f"could not sync {FORGOTTEN_CONTACT}"]
    assert forgotten.forgotten_at(EMAIL) == NOW and forgotten.forgotten_at("bob@example.com") is None
    assert count(database, "forgotten_mark") == 3  # the email and the two events erased with it, hashed
    with database.engine.connect() as connection:
        marks = [row[0] for row in connection.execute(sa.text("SELECT fingerprint FROM forgotten_mark"))]
    assert all(len(mark) == 64 and "ada" not in mark for mark in marks)


def test_events_stored_after_the_forget_are_screened_by_when_they_occurred_and_what_they_are(database):
    forgotten, events, _, _ = arrange(database)
    forgotten.erase(EMAIL, now=NOW)
    new = events.add_many(
        [
            NewEvent("dodo_payments", "evt_late", body(EMAIL, 2), "payment.succeeded", EMAIL, NOW - timedelta(hours=1)),
            NewEvent("dodo_payments", "evt_1", body(EMAIL), "payment.succeeded", None, NOW + timedelta(days=1)),
            NewEvent("records", "row_no_time", body(EMAIL, 3), "partner.imported", EMAIL, None),
            NewEvent("dodo_payments", "evt_back", body(EMAIL, 4), "payment.succeeded", EMAIL, NOW + timedelta(hours=1)),
        ]
    )
    assert new == 4
    with database.engine.connect() as connection:
        stored = connection.execute(
            sa.text(
                "SELECT event_id, email, body, status, reason FROM received_event WHERE event_id != 'evt_3' ORDER BY id"
            )
        ).all()
    screened, [back] = stored[:3], stored[3:]
    assert all(row[1] is None and row[2] is None and row[3] == "ignored" for row in screened)
    assert all(row[4] == FORGOTTEN_REASON and row[0].startswith("forgotten:") for row in screened)
    assert back[:2] == ("evt_back", EMAIL) and back[3] == "pending"  # the person came back
    # A replay of a screened event is stored once, like any duplicate.
    assert (
        events.add_many(
            [
                NewEvent(
                    "dodo_payments", "evt_late", body(EMAIL, 2), "payment.succeeded", EMAIL, NOW - timedelta(hours=1)
                )
            ]
        )
        == 0
    )


def test_a_sqlite_file_written_without_secure_deletion_is_rebuilt(tmp_path: Path):
    """Some SQLite builds do not delete securely by default, and a file may come from before the studio asked
    for it: a copy of the email left in free space is found in the bytes, and the file is rebuilt."""
    path = tmp_path / "old.db"
    database = Database(f"sqlite:///{path}")
    sa.event.listen(database.engine, "connect", lambda connection, _: connection.execute("PRAGMA secure_delete=OFF"))
    database.engine.dispose()
    forgotten, _, _, _ = arrange(database)
    with database.engine.connect() as connection:
        assert connection.exec_driver_sql("PRAGMA secure_delete").scalar() == 0
    erasure = forgotten.erase(EMAIL, now=NOW)
    assert not erasure.traces_left
    for suffix in ("", "-wal"):
        file = Path(f"{path}{suffix}")
        assert not file.exists() or EMAIL.encode() not in file.read_bytes().lower()
    database.dispose()
