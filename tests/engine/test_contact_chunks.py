"""One request per contact per run, however the run's events are spread (issue 11): the engine takes the run's
contacts a chunk at a time, each with every one of its pending events, so a contact whose events arrived far
apart still gets one upsert."""

from __future__ import annotations

import random

import pytest

from storage.events import EventStore
from storage.runs import RunStore
from sync_core.engine.run import SyncEngine
from tests.engine.conftest import CountingAccount, fast_client, import_bytes, partners_csv, queue_bytes

#: What a run costs besides its batches: reading the account's groups and fields, creating the missing ones.
SETUP_REQUESTS = 15


def counting_account() -> CountingAccount:
    return CountingAccount(limit=100_000, window_seconds=1, import_limit=10_000, seed=7)


def shuffled_partners(count: int, seed: int) -> tuple[bytes, dict[str, int]]:
    """Two rows per partner (sales n % 50, then n % 50 + 1) in random order; email → the sales of its last row."""
    rows = [(n, 0) for n in range(count)] + [(n, 1) for n in range(count)]
    random.Random(seed).shuffle(rows)
    lines = ["email,name,surname,key,status,total_sales,total_earned"]
    last: dict[str, int] = {}
    for n, second in rows:
        sales = n % 50 + second
        lines.append(f"partner{n}@example.com,Pat,Number{n},key{n},active,{sales},1.50")
        last[f"partner{n}@example.com"] = sales
    return ("\n".join(lines) + "\n").encode(), last


def test_two_events_of_a_contact_in_different_chunks_make_one_upsert(partnero_workspace):
    account = counting_account()
    engine = SyncEngine(partnero_workspace, client=fast_client(account))
    # 2,500 partners, then the same 2,500 changed: each contact's second event comes 2,500 events after its first
    queue_bytes(partnero_workspace, partners_csv(2500), name="day1.csv")
    queue_bytes(partnero_workspace, partners_csv(2500, sales=lambda n: n % 50 + 1), name="day2.csv")
    assert EventStore(partnero_workspace.database).counts() == {"pending": 5000}

    run = engine.run()

    assert run.status == "finished", run.error
    assert len(account.upserts) == 2500 and set(account.upserts.values()) == {1}
    assert (run.created, run.updated, run.unchanged) == (2500, 0, 0)
    assert run.requests <= 2500 // 45
    assert account.stats.requests - run.requests <= SETUP_REQUESTS
    assert EventStore(partnero_workspace.database).counts() == {"synced": 5000}
    client = fast_client(account)
    assert client.get_subscriber("partner7@example.com").fields["total_sales"] == 8  # the newer event's value
    items = RunStore(partnero_workspace.database).items(run_id=run.id, limit=10_000)
    assert len(items) == 2500 and all(len(item.event_ids) == 2 for item in items)


def test_an_imported_file_and_webhooks_of_the_same_contacts_make_one_upsert_each(partnero_workspace):
    """A person's run takes staged rows and live events together, contact by contact."""
    account = counting_account()
    engine = SyncEngine(partnero_workspace, client=fast_client(account), chunk_size=100)
    queue_bytes(partnero_workspace, partners_csv(300, sales=lambda n: n % 50 + 1), name="live.csv")
    import_bytes(partnero_workspace, partners_csv(300), name="backfill.csv")  # staged, waiting for a person
    assert EventStore(partnero_workspace.database).counts() == {"staged": 300, "pending": 300}
    run = engine.run()
    assert run.status == "finished" and run.created == 300, run.error
    assert len(account.upserts) == 300 and set(account.upserts.values()) == {1}
    assert (
        fast_client(account).get_subscriber("partner7@example.com").fields["total_sales"] == 7
    )  # the newer row: the backfill


@pytest.mark.parametrize("chunk_size", [1000, 37])
def test_shuffled_events_make_one_upsert_per_contact_with_the_last_value(partnero_workspace, chunk_size):
    account = counting_account()
    engine = SyncEngine(partnero_workspace, client=fast_client(account), chunk_size=chunk_size)
    data, last = shuffled_partners(1500, seed=11)
    queue_bytes(partnero_workspace, data)

    run = engine.run()

    assert run.status == "finished", run.error
    assert len(account.upserts) == 1500 and set(account.upserts.values()) == {1}
    assert run.created == 1500 and run.updated == 0
    assert EventStore(partnero_workspace.database).counts() == {"synced": 3000}
    client = fast_client(account)
    for email in ("partner0@example.com", "partner777@example.com", "partner1499@example.com"):
        assert client.get_subscriber(email).fields["total_sales"] == last[email]


def test_a_dry_run_plans_each_spread_contact_once(partnero_workspace):
    account = counting_account()
    engine = SyncEngine(partnero_workspace, client=fast_client(account), chunk_size=50)
    data, _ = shuffled_partners(300, seed=3)
    queue_bytes(partnero_workspace, data)

    run = engine.run(dry_run=True)

    assert (run.created, run.updated, run.requests) == (300, 0, 0)
    items = RunStore(partnero_workspace.database).items(run_id=run.id, limit=10_000)
    assert len(items) == 300 and len({item.email for item in items}) == 300
    assert all(len(item.event_ids) == 2 for item in items)
    assert EventStore(partnero_workspace.database).counts() == {"pending": 600}
    assert not account.upserts


def test_the_limit_counts_contacts_each_with_all_its_events(partnero_workspace):
    account = counting_account()
    engine = SyncEngine(partnero_workspace, client=fast_client(account), chunk_size=4)
    queue_bytes(partnero_workspace, partners_csv(40), name="day1.csv")
    queue_bytes(partnero_workspace, partners_csv(40, sales=lambda n: n % 50 + 1), name="day2.csv")

    first = engine.run(limit=10)

    assert first.created == 10 and first.updated == 0
    assert sorted(account.upserts) == sorted(f"partner{n}@example.com" for n in range(10))
    assert EventStore(partnero_workspace.database).counts() == {"synced": 20, "pending": 60}
    rest = engine.run()
    assert rest.created == 30 and len(account.upserts) == 40 and set(account.upserts.values()) == {1}


def test_events_without_an_email_are_recorded_among_spread_contacts(partnero_workspace):
    account = counting_account()
    engine = SyncEngine(partnero_workspace, client=fast_client(account), chunk_size=3)
    queue_bytes(partnero_workspace, partners_csv(10) + b"short,row\nnot-an-email,X,Y,k9,active,1,1\n", name="a.csv")
    queue_bytes(partnero_workspace, partners_csv(10, sales=lambda n: n % 50 + 1) + b"another,short\n", name="b.csv")

    run = engine.run()

    assert run.status == "finished", run.error
    counts = EventStore(partnero_workspace.database).counts()
    assert counts.get("pending", 0) == 0 and counts["synced"] == 20
    assert sum(counts.values()) == 23
    assert len(account.upserts) == 10 and set(account.upserts.values()) == {1}
    assert run.created == 10 and run.invalid >= 1


def test_a_run_stopped_in_the_middle_is_finished_by_the_next_with_each_contact_sent_once(partnero_workspace):
    account = counting_account()
    data, _ = shuffled_partners(600, seed=5)
    queue_bytes(partnero_workspace, data)

    def stop_after_the_first_batch(progress) -> None:
        raise KeyboardInterrupt  # as a person pressing Ctrl-C

    with pytest.raises(KeyboardInterrupt):
        SyncEngine(partnero_workspace, client=fast_client(account), chunk_size=100).run(
            progress=stop_after_the_first_batch
        )
    recorded = len(account.upserts)
    assert 0 < recorded < 600

    run = SyncEngine(partnero_workspace, client=fast_client(account), chunk_size=100).run()

    assert run.status == "finished", run.error
    assert run.created == 600 - recorded
    assert len(account.upserts) == 600 and set(account.upserts.values()) == {1}
    assert EventStore(partnero_workspace.database).counts() == {"synced": 1200}


def test_a_run_holds_one_chunk_of_whole_contacts_at_a_time(partnero_workspace, monkeypatch):
    account = counting_account()
    engine = SyncEngine(partnero_workspace, client=fast_client(account), chunk_size=50)
    data, _ = shuffled_partners(420, seed=8)
    queue_bytes(partnero_workspace, data)
    chunks: list[list[str | None]] = []
    walk = EventStore.pending_by_contact

    def watched(self, **options):
        for rows in walk(self, **options):
            chunks.append([row.email for row in rows])
            yield rows

    monkeypatch.setattr(EventStore, "pending_by_contact", watched)

    engine.run()

    contacts = [set(chunk) for chunk in chunks]
    assert [len(chunk) for chunk in contacts] == [50] * 8 + [20]  # full chunks, the last one partly
    assert all(len(chunk) == 2 * len(emails) for chunk, emails in zip(chunks, contacts))  # both events of each
    assert len(set().union(*contacts)) == 420  # each contact in one chunk only


def test_events_arriving_during_a_run_wait_for_the_next_one(partnero_workspace):
    account = counting_account()
    engine = SyncEngine(partnero_workspace, client=fast_client(account), chunk_size=20)
    queue_bytes(partnero_workspace, partners_csv(100), name="day1.csv")
    arrived: list[int] = []

    def more_arrive(progress) -> None:
        if not arrived:
            later = partners_csv(100, sales=lambda n: n % 50 + 1)
            arrived.append(queue_bytes(partnero_workspace, later, name="day2.csv").stored)

    first = engine.run(progress=more_arrive)

    assert arrived == [100] and first.created == 100 and first.updated == 0
    assert EventStore(partnero_workspace.database).counts() == {"synced": 100, "pending": 100}
    second = engine.run()
    assert second.updated == 100 and set(account.upserts.values()) == {2}
