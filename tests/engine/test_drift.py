"""Drift check and repair against the built-in sandbox: after a sync, things are changed directly in the account
(as someone in MailerLite would: a field edited, a subscriber taken out of a group or put in one by hand, one
deleted, one unsubscribed); the check finds each change, the repair's dry run lists the fixes and sends nothing,
the repair brings the account back to what the studio decided (leaving the unsubscribed one alone and the deleted
one deleted unless asked), and the worker runs the check on its schedule."""

from __future__ import annotations

import time

import pytest

from storage.drift import DriftStore
from sync_core.domain.presets import load_preset
from sync_core.engine import drift
from sync_core.engine.run import SyncEngine
from sync_core.engine.run_changes import iter_run_changes
from sync_core.live.worker import Worker, WorkerSettings
from tests.engine.conftest import fast_client, import_bytes, partners_csv

ACTIVE = "Active Partners"


def email(n: int) -> str:
    return f"partner{n}@example.com"


@pytest.fixture
def synced(workspace, account):
    """Six partners synced to the sandbox (odd numbers active, in Active Partners), and a client on it."""
    workspace.save_config(load_preset("partnero"), author="test")
    import_bytes(workspace, partners_csv(6))
    client = fast_client(account)
    run = SyncEngine(workspace, client=client).run()
    assert run.created == 6
    return client


def snapshot(client) -> dict[str, tuple[str, dict, list[str]]]:
    """What the account holds: email → (status, fields, group names)."""
    return {
        s.email: (s.status, dict(s.fields), sorted(g.name for g in s.groups or []))
        for s in client.iter_subscribers(include_groups=True)
    }


def change_by_hand(client) -> None:
    subscribers = {s.email: s for s in client.iter_subscribers(include_groups=True)}
    active = client.find_group(ACTIVE)
    client.update_subscriber(subscribers[email(1)].id, fields={"name": "Changed By Hand"})  # PUT /subscribers/{id}
    client.unassign_from_group(subscribers[email(3)].id, active.id)  # DELETE /subscribers/{id}/groups/{group}
    client.assign_to_group(subscribers[email(0)].id, active.id)  # a pending partner put in by hand
    client.delete_subscriber(subscribers[email(2)].id)  # DELETE /subscribers/{id}
    client.update_subscriber(subscribers[email(4)].id, status="unsubscribed")


def kinds_by_email(workspace, check) -> dict[str, list[str]]:
    return {d.email: [str(k) for k in d.kinds] for d in drift.iter_drifts(workspace, check.id)}


def test_an_account_as_the_studio_left_it_has_no_drift(workspace, synced):
    check = drift.check(workspace, client=synced)
    assert check.status == "finished" and check.subscribers_read == 6 and check.contacts_compared == 6
    assert check.contacts_differ == 0 and list(drift.iter_drifts(workspace, check.id)) == []
    assert drift.describe(check).startswith("MailerLite holds what the studio decided")


def test_the_check_finds_each_change_made_in_mailerlite(workspace, synced):
    change_by_hand(synced)
    check = drift.check(workspace, client=synced, page_size=2)  # several pages
    assert kinds_by_email(workspace, check) == {
        email(0): ["group_added"],
        email(1): ["field"],
        email(2): ["deleted"],
        email(3): ["group_removed"],
        email(4): ["suppressed"],
    }
    found = {d.email: d for d in drift.iter_drifts(workspace, check.id)}
    (field,) = found[email(1)].differences
    assert (field.name, field.studio, field.mailerlite) == ("name", "Pat Number1", "Changed By Hand")
    assert found[email(3)].differences[0].name == ACTIVE
    assert check.subscribers_read == 5 and check.contacts_differ == 5
    assert check.requests >= 3  # a count, then pages of 2
    assert drift.describe(check) == (
        "5 contacts differ: 1 field changed in MailerLite, 1 removed from a group by hand, 1 added to a group by "
        "hand, 1 deleted in MailerLite, 1 unsubscribed, bounced or junk"
    )
    assert drift.latest(workspace).id == check.id


def test_the_repair_dry_run_lists_the_fixes_and_sends_nothing(workspace, synced, account):
    change_by_hand(synced)
    drift.check(workspace, client=synced)
    before = snapshot(synced)
    run = drift.repair(workspace, dry_run=True, client=synced)
    assert run.dry_run and run.trigger == "repair" and run.status == "finished"
    assert snapshot(synced) == before
    changes = {c.email: c for c in iter_run_changes(workspace.runs, run.id)}
    assert changes[email(1)].outcome == "updated"
    assert [(f.name, f.before, f.after) for f in changes[email(1)].fields] == [
        ("name", "Changed By Hand", "Pat Number1")
    ]
    assert changes[email(3)].groups_added == [ACTIVE]
    assert changes[email(0)].groups_removed == [ACTIVE]
    assert changes[email(4)].outcome == "suppressed"
    assert changes[email(2)].outcome == "skipped" and "not recreated" in changes[email(2)].reason
    assert set(changes) == {email(n) for n in range(5)}


def test_the_repair_brings_mailerlite_back_to_what_the_studio_decided(workspace, synced):
    change_by_hand(synced)
    drift.check(workspace, client=synced)
    unsubscribed_before = snapshot(synced)[email(4)]
    run = drift.repair(workspace, client=synced)
    assert run.trigger == "repair" and not run.dry_run and run.status == "finished", run.error
    assert run.updated == 3 and run.suppressed == 1 and run.skipped == 1
    after = snapshot(synced)
    assert after[email(1)][1]["name"] == "Pat Number1"
    assert ACTIVE in after[email(3)][2]
    assert ACTIVE not in after[email(0)][2] and "Partners" in after[email(0)][2]
    assert after[email(4)] == unsubscribed_before  # untouched, still unsubscribed
    assert email(2) not in after  # not recreated
    assert drift.latest(workspace).repair_run_id == run.id

    again = drift.check(workspace, client=synced)
    assert kinds_by_email(workspace, again) == {email(2): ["deleted"]}  # the studio now knows 4 unsubscribed

    recreated = drift.repair(workspace, client=synced, recreate_deleted=True)
    assert recreated.created == 1
    status, fields, groups = snapshot(synced)[email(2)]
    assert status == "active" and fields["name"] == "Pat Number2" and groups == ["Partners"]
    assert drift.check(workspace, client=synced).contacts_differ == 0


def test_a_repair_needs_a_check_first(workspace, synced):
    with pytest.raises(drift.DriftError, match="Compare with MailerLite first"):
        drift.repair(workspace, dry_run=True, client=synced)


def test_the_worker_runs_the_check_on_its_schedule(workspace, synced, monkeypatch):
    monkeypatch.setenv("SYNC_STUDIO_DRIFT_CHECK_SECONDS", "0.01")
    change_by_hand(synced)
    worker = Worker(workspace, client=synced, settings=WorkerSettings(idle_seconds=0.01))
    worker.step()
    check = drift.latest(workspace)
    assert check is not None and check.trigger == "schedule"
    assert kinds_by_email(workspace, check)[email(1)] == ["field"]

    monkeypatch.setenv("SYNC_STUDIO_DRIFT_CHECK_SECONDS", "3600")
    worker.step()
    assert drift.latest(workspace).id == check.id  # not due again for an hour


def test_the_scheduled_check_can_be_switched_off(workspace, synced, monkeypatch):
    monkeypatch.setenv("SYNC_STUDIO_DRIFT_CHECK_SECONDS", "0.01")
    drift.set_daily_check(workspace, False)
    worker = Worker(workspace, client=synced, settings=WorkerSettings(idle_seconds=0.01))
    worker.step()
    assert drift.latest(workspace) is None
    assert workspace.config().drift.daily_check is False


def test_the_running_worker_checks_on_a_short_interval_and_records_it_like_a_manual_one(workspace, synced, monkeypatch):
    monkeypatch.setenv("SYNC_STUDIO_DRIFT_CHECK_SECONDS", "0.3")
    change_by_hand(synced)
    worker = Worker(workspace, client=synced, settings=WorkerSettings(idle_seconds=0.05, heartbeat_seconds=0.5)).start()
    try:
        deadline = time.monotonic() + 30
        while len(checks(workspace)) < 2:  # one, then another once the interval has passed
            assert time.monotonic() < deadline, checks(workspace)
            time.sleep(0.05)
    finally:
        worker.stop()
    first, second = checks(workspace)[:2]
    assert first.trigger == second.trigger == "schedule" and first.status == "finished"
    assert kinds_by_email(workspace, first) == kinds_by_email(workspace, second)
    assert drift.describe(second).startswith("5 contacts differ")


def checks(workspace):
    """The finished checks, oldest first."""
    store = DriftStore(workspace.database)
    found = []
    number = 1
    while (check := store.get(number)) is not None:
        if check.status == "finished":
            found.append(check)
        number += 1
    return found
