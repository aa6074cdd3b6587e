"""The sync engine on SQLite and PostgreSQL, against the sandbox: counts, idempotence, retries, faults."""

from __future__ import annotations

import pytest
import sqlalchemy as sa

from storage.events import EventStore
from storage.runs import RunStore
from sync_core.domain.planning import PlanOutcome
from sync_core.engine.run import SyncEngine, SyncError
from sync_core.engine.sender import RECORDED_OUTCOMES
from sync_core.sandbox import FaultSettings, SandboxAccount
from tests.engine.conftest import Clock, failing_batches_client, fast_client, import_bytes, partners_csv


def outcomes_by_email(database) -> dict[str, list[str]]:
    with database.engine.connect() as connection:
        rows = connection.exec_driver_sql(
            "SELECT email, outcome FROM sync_item WHERE dry_run = false ORDER BY id"
        ).all()
    result: dict[str, list[str]] = {}
    for email, outcome in rows:
        result.setdefault(email, []).append(outcome)
    return result


@pytest.mark.slow
def test_10000_partners_sync_once_and_a_second_run_sends_nothing(engine, partnero_workspace, account):
    summary = import_bytes(partnero_workspace, partners_csv(10_000))
    assert (summary.read, summary.stored, summary.rejected) == (10_000, 10_000, 0)
    run = engine.run()
    assert run.status == "finished", run.error
    assert run.created == 10_000 and run.failed == run.dead == run.invalid == 0
    assert run.created + run.updated + run.unchanged + run.suppressed + run.skipped == 10_000
    # batches of 49 upserts (chunks of 1,960 contacts fill whole batches), not one request per contact
    assert run.requests == -(-10_000 // 49)  # only the last batch is partly full
    client = fast_client(account)
    assert client.count_subscribers() == 10_000
    groups = {group.name: group for group in client.iter_groups()}
    assert groups["Partners"].active_count == 10_000 and groups["Active Partners"].active_count == 5_000
    ada = client.get_subscriber("partner7@example.com")
    assert (ada.fields["name"], ada.fields["partner_key"], ada.fields["status"], ada.fields["total_sales"]) == (
        "Pat Number7",
        "key7",
        "active",
        7,
    )
    assert sorted(group.name for group in ada.groups) == ["Active Partners", "Partners"]
    requests_before = account.stats.requests
    again = engine.run()
    assert again.requests == 0 and again.created == again.updated == 0
    assert account.stats.requests == requests_before
    reimport = import_bytes(partnero_workspace, partners_csv(10_000))
    assert reimport.stored == 0 and reimport.duplicates == 10_000


def test_changed_rows_update_only_what_changed(engine, partnero_workspace, account):
    import_bytes(partnero_workspace, partners_csv(100))
    engine.run()
    day2 = import_bytes(
        partnero_workspace,
        partners_csv(100, status=lambda n: "archived" if n < 10 else ("active" if n % 2 else "pending")),
        name="day2.csv",
    )
    assert (day2.stored, day2.duplicates) == (10, 90)  # identical rows are the same event: stored once
    run = engine.run()
    assert (run.updated, run.unchanged, run.requests) == (10, 0, 1)
    item = RunStore(partnero_workspace.database).items(run_id=run.id, outcomes=["updated"], limit=1)[0]
    assert item.changes["status"][1] == "archived"
    client = fast_client(account)
    assert client.get_subscriber("partner1@example.com").fields["status"] == "archived"
    assert "Active Partners" not in {g.name for g in client.get_subscriber("partner1@example.com").groups}


def test_dry_run_sends_nothing_and_changes_nothing(engine, partnero_workspace, account):
    import_bytes(partnero_workspace, partners_csv(30))
    run = engine.run(dry_run=True)
    assert run.dry_run and run.created == 30 and run.requests == 0
    assert fast_client(account).count_subscribers() == 0
    assert EventStore(partnero_workspace.database).counts() == {
        "staged": 30
    }  # a dry run leaves the imported rows waiting
    items = RunStore(partnero_workspace.database).items(run_id=run.id, limit=5)
    assert all(item.dry_run and item.requests[0]["path"] == "/api/subscribers" for item in items)
    real = engine.run()
    assert real.created == 30


def test_first_n_contacts_only(engine, partnero_workspace, account):
    import_bytes(partnero_workspace, partners_csv(50))
    run = engine.run(limit=10)
    assert run.created == 10 and fast_client(account).count_subscribers() == 10
    assert EventStore(partnero_workspace.database).counts()["staged"] == 40  # the others still wait for a person
    assert engine.run().created == 40


def test_bad_rows_are_recorded_with_their_reason(engine, partnero_workspace):
    data = partners_csv(3) + b"not-an-email,X,Y,k9,active,1,1\nshort,row\n"
    summary = import_bytes(partnero_workspace, data)
    assert (summary.rejected, summary.invalid) == (1, 1)  # the bad email is reported at import too
    assert "row 5: 'not-an-email' is not a valid" in summary.problems[0]
    assert "row 6: too few values" in summary.problems[1]
    run = engine.run()
    assert (run.created, run.invalid) == (3, 1)
    (invalid,) = RunStore(partnero_workspace.database).items(run_id=run.id, outcomes=["invalid"])
    assert "not a valid email address" in invalid.reason
    assert EventStore(partnero_workspace.database).counts() == {"synced": 3, "invalid": 1, "rejected": 1}


def test_unsubscribed_subscribers_are_suppressed_not_reactivated(engine, partnero_workspace, account):
    client = fast_client(account)
    client.upsert_subscriber("partner1@example.com", status="unsubscribed")
    import_bytes(partnero_workspace, partners_csv(3))
    run = engine.run()
    assert (run.created, run.suppressed) == (2, 1)
    assert client.get_subscriber("partner1@example.com").status == "unsubscribed"
    contact = engine.contacts.get(run.account, "partner1@example.com")
    assert contact.status == "unsubscribed"
    (item,) = RunStore(partnero_workspace.database).items(run_id=run.id, outcomes=["suppressed"])
    assert "unsubscribed in MailerLite" in item.reason
    import_bytes(partnero_workspace, partners_csv(3, sales=lambda n: 99), name="later.csv")
    requests_before = account.stats.requests
    later = engine.run()
    assert later.suppressed == 1 and later.updated == 2
    later_requests = RunStore(partnero_workspace.database).items(run_id=later.id, outcomes=["suppressed"])[0].requests
    assert [request["method"] for request in later_requests] == ["GET"]  # checked again; nothing else sent
    assert account.stats.requests > requests_before


def test_a_revoked_key_stops_the_run_and_loses_nothing(partnero_workspace, account):
    import_bytes(partnero_workspace, partners_csv(20))
    engine = SyncEngine(partnero_workspace, client=fast_client(account, api_key="revoked-key"))
    run = engine.run()
    assert run.status == "failed"
    assert "key" in run.error.lower() and "revoked-key" not in run.error
    assert "Nothing was lost" in run.error
    assert EventStore(partnero_workspace.database).counts() == {"staged": 20}


def test_with_server_errors_and_429_bursts_every_contact_ends_synced_or_failed_with_a_reason(partnero_workspace):
    stormy = SandboxAccount(
        limit=10_000,
        window_seconds=1,
        import_limit=1000,
        seed=11,
        faults=FaultSettings(
            error_rate=0.10, burst_429_rate=0.05, burst_429_length=3, burst_retry_after_seconds=0, seed=11
        ),
    )
    import_bytes(partnero_workspace, partners_csv(500))
    clock = Clock()
    engine = SyncEngine(partnero_workspace, client=fast_client(stormy, max_attempts=2), clock=clock, sleep=clock.sleep)
    events = EventStore(partnero_workspace.database)
    runs = []
    for _ in range(12):  # keep going as a worker would: pending events first, then the failed ones
        counts = events.counts()
        if counts.get("pending") or counts.get("staged"):
            runs.append(engine.run())
        elif counts.get("failed"):
            runs.append(engine.retry())
        else:
            break
    assert clock.slept, "the storm should have made the run wait"
    assert runs[0].status == "finished", runs[0].error  # waited out, not failed
    counts = events.counts()
    assert counts == {"synced": 500}, counts  # MailerLite's trouble uses up no contact's attempts
    outcomes = outcomes_by_email(partnero_workspace.database)
    assert len(outcomes) == 500  # every contact recorded
    stormy.faults.settings = FaultSettings()  # look at the account without faults
    client = fast_client(stormy)
    for email, history in outcomes.items():
        successes = [outcome for outcome in history if outcome in ("created", "updated")]
        assert len(successes) <= 1, (email, history)  # never counted twice
        if successes:
            number = email.split("@")[0].removeprefix("partner")
            assert client.get_subscriber(email).fields["partner_key"] == f"key{number}"
        else:
            assert history[-1] == "dead", (email, history)
    failed = RunStore(partnero_workspace.database).items(outcomes=["failed", "dead"], limit=1000)
    assert all(item.reason for item in failed)


def test_retry_of_selected_items(partnero_workspace, account):
    client, transport = failing_batches_client(account)
    import_bytes(partnero_workspace, partners_csv(5))
    engine = SyncEngine(partnero_workspace, client=client)
    run = engine.run()
    assert run.failed == 5 and run.status == "finished"
    items = RunStore(partnero_workspace.database).items(run_id=run.id, outcomes=["failed"])
    assert all("MailerLite" in item.reason and item.requests for item in items)
    transport.failing = False
    retried = engine.retry(item_ids=[items[0].id, items[1].id])
    assert retried.created == 2 and retried.trigger == "retry"
    assert EventStore(partnero_workspace.database).counts() == {"synced": 2, "failed": 3}
    with pytest.raises(SyncError, match="no sync item with id 999999"):
        engine.retry(item_ids=[999_999])


def test_items_that_keep_failing_become_dead(partnero_workspace, account):
    client, _ = failing_batches_client(account)
    import_bytes(partnero_workspace, partners_csv(2))
    engine = SyncEngine(partnero_workspace, client=client)
    engine.run()
    engine.retry()
    final = engine.retry()
    assert final.dead == 2
    assert EventStore(partnero_workspace.database).counts() == {"dead": 2}
    dead = RunStore(partnero_workspace.database).items(outcomes=["dead"], limit=5)
    assert all("gave up after 3 attempts" in item.reason for item in dead)
    with pytest.raises(SyncError, match="nothing to retry"):
        engine.retry()  # "retry all" leaves dead items to a person
    assert engine.retry(item_ids=[dead[0].id]).dead == 1  # a person may still try one


def test_run_counts_add_up_to_the_items(engine, partnero_workspace):
    import_bytes(partnero_workspace, partners_csv(40) + b"bad-email,X,Y,k,active,1,1\n")
    run = engine.run()
    with partnero_workspace.database.engine.connect() as connection:
        per_outcome = dict(
            connection.execute(
                sa.text("SELECT outcome, count(*) FROM sync_item WHERE run_id = :run GROUP BY outcome"), {"run": run.id}
            ).all()
        )
    assert per_outcome == {"created": run.created, "invalid": run.invalid}


def test_every_plan_outcome_is_recorded_as_an_item_outcome():
    assert set(RECORDED_OUTCOMES) == set(PlanOutcome)
    assert {plan: str(item) for plan, item in RECORDED_OUTCOMES.items()} == {
        "create": "created",
        "update": "updated",
        "unsubscribe": "unsubscribed",
        "delete": "deleted",
        "unchanged": "unchanged",
        "suppressed": "suppressed",
        "skip": "skipped",
        "forget": "forgotten",
    }
