"""The Dodo Payments preset through the engine: webhook files, the premium group, churn, update-only lookups."""

from __future__ import annotations

import json

from storage.events import EventStore
from storage.runs import RunStore
from sync_core.domain.presets import load_preset
from sync_core.domain.sources.body import body_id
from sync_core.engine.file_import import import_file
from sync_core.engine.run import SyncEngine
from tests.engine.conftest import event, events_file, fast_client, import_bytes


def test_dodo_lifecycle_from_a_webhook_file(workspace, account, dodo_examples):
    workspace.save_config(load_preset("dodo-payments"))
    engine = SyncEngine(workspace, client=fast_client(account))
    client = fast_client(account)
    store = EventStore(workspace.database)
    summary = import_file(
        store,
        events_file(
            event(dodo_examples["payment.succeeded"], "big@example.com", total_amount=25000),
            event(dodo_examples["subscription.active"], "big@example.com"),
            event(dodo_examples["payment.succeeded"], "small@example.com"),
            dodo_examples["license_key.created"],
        ),
        name="events.jsonl",
    )
    assert (summary.stored, summary.rejected) == (4, 0)
    run = engine.run()
    assert (run.created, run.ignored) == (2, 1)
    big = client.get_subscriber("big@example.com")
    assert {g.name for g in big.groups} == {
        "Dodo Payments",
        "Customers",
        "Premium customers",
        "Subscribers",
        "Active subscriptions",
    }
    assert big.fields["last_purchase_amount"] == 250  # "250.00" sent; a number field keeps the number
    assert "Premium customers" not in {g.name for g in client.get_subscriber("small@example.com").groups}

    import_file(
        store, events_file(event(dodo_examples["subscription.cancelled"], "big@example.com")), name="later.jsonl"
    )
    churn = engine.run()
    assert churn.updated == 1
    big = client.get_subscriber("big@example.com")
    groups = {g.name for g in big.groups}
    assert "Churned customers" in groups and "Active subscriptions" not in groups
    assert "Premium customers" in groups  # PUT-with-groups would have dropped it; the product never does
    assert big.fields["subscription_status"] == "cancelled"


def test_update_only_trigger_finds_subscribers_the_product_never_synced(workspace, account, dodo_examples):
    workspace.save_config(load_preset("dodo-payments"))
    client = fast_client(account)
    client.upsert_subscriber("known-elsewhere@example.com", fields={"name": "From the form"})
    import_file(
        EventStore(workspace.database),
        events_file(
            event(dodo_examples["subscription.cancelled"], "known-elsewhere@example.com"),
            event(dodo_examples["subscription.cancelled"], "stranger@example.com"),
        ),
        name="cancellations.jsonl",
    )
    run = SyncEngine(workspace, client=fast_client(account)).run()
    assert (run.updated, run.skipped) == (1, 1)
    found = client.get_subscriber("known-elsewhere@example.com")
    assert found.fields["subscription_status"] == "cancelled" and found.fields["name"] == "From the form"
    assert "Churned customers" in {g.name for g in found.groups}
    assert client.find_subscriber("stranger@example.com") is None  # update-only never creates
    (skipped,) = RunStore(workspace.database).items(run_id=run.id, outcomes=["skipped"])
    assert "only updates existing subscribers" in skipped.reason


def test_a_jsonl_file_mixes_webhooks_and_records_each_stored_as_the_route_or_a_backfill_would(workspace, dodo_examples):
    webhook = json.dumps(dodo_examples["payment.succeeded"]).encode()
    lines = [webhook, b'{"email": "ada@example.com", "key": "ada1"}', b"{not json", b"[1, 2]"]
    summary = import_bytes(workspace, b"\n".join(lines) + b"\n", name="mixed.jsonl")
    assert (summary.read, summary.stored, summary.rejected) == (4, 2, 2)
    with workspace.database.engine.connect() as connection:
        stored = connection.exec_driver_sql(
            "SELECT source, event_id, body, status, origin, reason FROM received_event ORDER BY id"
        ).all()
    assert (stored[0].source, stored[0].event_id, bytes(stored[0].body)) == ("dodo_payments", body_id(webhook), webhook)
    assert (stored[1].source, stored[1].status) == ("records", "staged")
    assert stored[2].origin == "mixed.jsonl line 3" and "not valid JSON" in stored[2].reason
    assert stored[3].origin == "mixed.jsonl line 4" and "one JSON object" in stored[3].reason
