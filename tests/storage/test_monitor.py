"""Monitor queries read rollups kept by the engine; lists page along the id index."""

from __future__ import annotations

from storage.monitor import ItemFilter, MonitorQueries
from sync_core.domain.presets import load_preset
from sync_core.engine.run import SyncEngine
from sync_core.sandbox import SandboxAccount
from tests.engine.conftest import failing_batches_client, fast_client, import_bytes, partners_csv


def test_rollups_match_the_items_and_pages_cover_everything(workspace):
    workspace.save_config(load_preset("partnero"))
    account = SandboxAccount(limit=10_000, window_seconds=1, import_limit=1000)
    import_bytes(workspace, partners_csv(120) + b"not-an-email,X,Y,k,active,1,1\n")
    engine = SyncEngine(workspace, client=fast_client(account))
    engine.run(dry_run=True)  # dry runs are not history
    engine.run()
    monitor = MonitorQueries(workspace.database)
    totals = monitor.totals()
    assert totals.by_outcome == {"created": 120, "invalid": 1}
    assert round(totals.success_rate, 3) == round(120 / 121, 3)
    assert {(t, o): n for t, o, n in monitor.by_event_type()} == {
        ("partner.imported", "created"): 120,
        ("partner.imported", "invalid"): 1,
    }
    assert dict(((g, a), n) for g, a, n in monitor.by_group()) == {
        ("Partners", "added"): 120,
        ("Active Partners", "added"): 60,
    }
    assert sum(n for _, _, n in monitor.by_day()) == 121

    seen, before = [], None
    while True:
        page, before = monitor.items(before_id=before, limit=50)
        seen += [item.id for item in page]
        if before is None:
            break
    assert len(seen) == 121 == len(set(seen)) and seen == sorted(seen, reverse=True)
    invalid, _ = monitor.items(ItemFilter(outcomes=["invalid"]))
    assert [(item.email, item.outcome) for item in invalid] == [("(no valid email)", "invalid")]
    lines = "".join(monitor.export_csv(page=40)).splitlines()
    assert lines[0].startswith("id,run_id,created_at,email,outcome") and len(lines) == 122


def test_failed_items_are_a_filter_away(workspace):
    workspace.save_config(load_preset("partnero"))
    client, _ = failing_batches_client(SandboxAccount(limit=10_000, window_seconds=1, import_limit=1000))
    import_bytes(workspace, partners_csv(3))
    SyncEngine(workspace, client=client).run()
    failed, _ = MonitorQueries(workspace.database).items(ItemFilter(outcomes=["failed", "dead"]))
    assert len(failed) == 3 and all(item.reason and item.requests for item in failed)
    assert MonitorQueries(workspace.database).totals().success_rate == 0


def test_contacts_are_counted_once_and_unsyncable_rows_are_listed_newest_first(workspace):
    from datetime import date, timedelta

    workspace.save_config(load_preset("partnero"))
    account = SandboxAccount(limit=10_000, window_seconds=1, import_limit=1000)
    engine = SyncEngine(workspace, client=fast_client(account))
    import_bytes(workspace, partners_csv(4) + b"not-an-email,X,Y,k,active,1,1\nshort,row\n")
    engine.run()
    import_bytes(workspace, partners_csv(4, status=lambda n: "inactive"), name="again.csv")
    engine.run()
    monitor = MonitorQueries(workspace.database)
    assert monitor.totals().items == 4 + 4 + 1  # items: created, updated, invalid
    assert monitor.contacts_synced() == 4 == monitor.contacts_synced(date.today() - timedelta(days=1))
    assert monitor.contacts_synced(date.today() + timedelta(days=1)) == 0
    rows, before = monitor.needs_attention(limit=1)
    assert [(row.status, row.origin) for row in rows] == [("rejected", "partners.csv row 7")]
    rows, after = monitor.needs_attention(before_id=before, limit=1)
    assert [(row.status, row.origin) for row in rows] == [("invalid", "partners.csv row 6")] and after is None
    assert "not a valid email address" in rows[0].reason


def test_pages_of_several_outcomes_are_newest_first_without_gaps_or_repeats(workspace):
    """The *Failed and dead* list reads each outcome apart and merges them: the pages still follow each other."""
    import sqlalchemy as sa

    from storage.tables import SyncItem

    outcomes = ["failed", "created", "dead", "failed", "dead", "dead", "unchanged", "failed", "dead", "failed"]
    rows = [
        {"run_id": 1, "email": f"c{n}@example.com", "outcome": outcome, "dry_run": n == 7}
        for n, outcome in enumerate(outcomes * 3)
    ]
    with workspace.database.engine.begin() as connection:
        connection.execute(sa.insert(SyncItem), rows)
    monitor = MonitorQueries(workspace.database)
    seen, before = [], None
    while True:
        page, before = monitor.items(ItemFilter(outcomes=["failed", "dead", "failed"]), before_id=before, limit=4)
        assert len(page) <= 4
        seen += [(item.id, item.outcome) for item in page]
        if before is None:
            break
    expected = [
        (number + 1, row["outcome"])
        for number, row in enumerate(rows)
        if row["outcome"] in ("failed", "dead") and not row["dry_run"]
    ]
    assert seen == expected[::-1]
