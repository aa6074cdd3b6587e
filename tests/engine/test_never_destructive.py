"""The sync is never destructive and follows what MailerLite says (issue 11 E), from a user's side: Dodo's
example events imported as a file, a sync, then a look at the sandbox account."""

from __future__ import annotations

import json

from storage.events import EventStore
from storage.runs import RunStore
from sync_core.domain.config import load_config
from sync_core.domain.presets import load_preset
from sync_core.engine.file_import import import_file
from sync_core.engine.run import SyncEngine
from tests.engine.conftest import event, events_file, fast_client

_names = iter(range(1_000_000))


def sync(workspace, account, *events: dict):
    import_file(EventStore(workspace.database), events_file(*events), name=f"events{next(_names)}.jsonl")
    run = SyncEngine(workspace, client=fast_client(account)).run()
    assert run.status == "finished", run.error
    return run


def group_names(subscriber) -> set[str]:
    return {group.name for group in subscriber.groups}


def test_update_only_never_brings_back_a_subscriber_deleted_in_mailerlite(workspace, account, dodo_examples):
    workspace.save_config(load_preset("dodo-payments"))
    client = fast_client(account)
    sync(workspace, account, event(dodo_examples["subscription.active"], "gone@example.com"))
    client.delete_subscriber(client.get_subscriber("gone@example.com").id)

    run = sync(workspace, account, event(dodo_examples["subscription.cancelled"], "gone@example.com"))
    assert client.find_subscriber("gone@example.com") is None
    assert client.count_subscribers() == 0
    assert (run.created, run.updated, run.skipped) == (0, 0, 1)
    (item,) = RunStore(workspace.database).items(run_id=run.id, outcomes=["skipped"])
    assert "not in MailerLite" in item.reason and "nothing was sent" in item.reason
    assert all(request["method"] == "GET" for request in item.requests)


def test_a_cancellation_found_by_lookup_leaves_active_subscriptions(workspace, account, dodo_examples):
    workspace.save_config(load_preset("dodo-payments"))
    client = fast_client(account)
    active = client.create_group("Active subscriptions")
    client.upsert_subscriber("elsewhere@example.com", fields={"name": "Form"}, groups=[active.id])

    run = sync(workspace, account, event(dodo_examples["subscription.cancelled"], "elsewhere@example.com"))
    assert run.updated == 1
    found = client.get_subscriber("elsewhere@example.com")
    assert group_names(found) == {"Churned customers"}
    (item,) = RunStore(workspace.database).items(run_id=run.id, outcomes=["updated"])
    assert any(request["method"] == "DELETE" for request in item.requests)


def test_a_new_contacts_membership_is_reconciled_from_the_upsert_answer(workspace, account, dodo_examples):
    """A contact the studio never synced, created elsewhere in a membership group it should leave."""
    workspace.save_config(load_preset("dodo-payments"))
    client = fast_client(account)
    active = client.create_group("Active subscriptions")
    client.upsert_subscriber("paused@example.com", groups=[active.id])
    sync(workspace, account, event(dodo_examples["subscription.active"], "paused@example.com", status="on_hold"))
    assert "Active subscriptions" not in group_names(client.get_subscriber("paused@example.com"))


def test_set_only_if_empty_keeps_the_value_mailerlite_has(workspace, account, dodo_examples):
    workspace.save_config(load_preset("dodo-payments"))
    client = fast_client(account)
    client.create_field("customer_since", "date")
    client.upsert_subscriber("loyal@example.com", fields={"customer_since": "2023-01-15"})
    # known to the studio already, but not its customer_since
    sync(workspace, account, event(dodo_examples["subscription.active"], "loyal@example.com"))

    sync(workspace, account, event(dodo_examples["payment.succeeded"], "loyal@example.com"))
    assert client.get_subscriber("loyal@example.com").fields["customer_since"] == "2023-01-15"

    sync(workspace, account, event(dodo_examples["payment.succeeded"], "new@example.com"))
    assert client.get_subscriber("new@example.com").fields["customer_since"] == "2025-08-04"

    # now the studio knows: a later payment costs no lookup, and still keeps the first date
    later = dict(dodo_examples["payment.succeeded"], timestamp="2025-09-01T10:00:00Z")
    run = sync(workspace, account, event(later, "loyal@example.com", payment_id="pay_later"))
    (item,) = RunStore(workspace.database).items(run_id=run.id, outcomes=["updated"])
    assert [request["method"] for request in item.requests] == ["POST"]
    assert "customer_since" not in item.requests[0]["body"]["fields"]
    assert client.get_subscriber("loyal@example.com").fields["customer_since"] == "2023-01-15"


def test_an_empty_value_never_erases_unless_the_mapping_says_clear_when_empty(workspace, account, dodo_examples):
    preset = load_preset("dodo-payments")
    workspace.save_config(preset)
    client = fast_client(account)
    client.upsert_subscriber("smith@example.com", fields={"name": "Jo", "last_name": "Smith", "company": "Acme"})
    sync(workspace, account, event(dodo_examples["payment.succeeded"], "smith@example.com"))
    smith = client.get_subscriber("smith@example.com")
    assert (smith.fields["last_name"], smith.fields["company"]) == ("Smith", "Acme")

    document = json.loads(preset.to_json())
    for mapping in document["triggers"][0]["fields"]:
        if mapping["target"] == "last_name":
            mapping["clear_when_empty"] = True
    workspace.save_config(load_config(document))
    sync(workspace, account, event(dodo_examples["payment.succeeded"], "smith@example.com", payment_id="pay_2"))
    smith = client.get_subscriber("smith@example.com")
    assert smith.fields["last_name"] is None and smith.fields["company"] == "Acme"


def test_a_suppressed_contact_syncs_again_once_mailerlite_says_active(workspace, account, dodo_examples):
    workspace.save_config(load_preset("dodo-payments"))
    client = fast_client(account)
    client.upsert_subscriber("back@example.com", status="unsubscribed")
    first = sync(workspace, account, event(dodo_examples["subscription.active"], "back@example.com"))
    assert first.suppressed == 1

    still = sync(workspace, account, event(dodo_examples["payment.succeeded"], "back@example.com"))
    assert still.suppressed == 1 and client.get_subscriber("back@example.com").status == "unsubscribed"
    assert client.get_subscriber("back@example.com").fields["payment_id"] is None  # nothing applied

    account.resubscribe("back@example.com")  # as a form or the MailerLite app does
    later = dict(dodo_examples["payment.succeeded"], timestamp="2025-09-01T10:00:00Z")
    run = sync(workspace, account, event(later, "back@example.com", payment_id="pay_back"))
    assert (run.updated, run.suppressed) == (1, 0)
    back = client.get_subscriber("back@example.com")
    assert back.status == "active" and back.fields["payment_id"] == "pay_back"
    assert SyncEngine(workspace, client=client).contacts.get(run.account, "back@example.com").status == "active"


def test_a_dry_run_says_an_update_only_contact_not_in_mailerlite_would_not_be_sent(workspace, account, dodo_examples):
    from sync_core.engine.run_changes import iter_run_changes

    workspace.save_config(load_preset("dodo-payments"))
    client = fast_client(account)
    sync(workspace, account, event(dodo_examples["subscription.active"], "gone@example.com"))
    sync(workspace, account, event(dodo_examples["subscription.active"], "kept@example.com"))
    client.delete_subscriber(client.get_subscriber("gone@example.com").id)
    import_file(
        EventStore(workspace.database),
        events_file(
            event(dodo_examples["subscription.cancelled"], "gone@example.com"),
            event(dodo_examples["subscription.cancelled"], "kept@example.com"),
        ),
        name="cancellations.jsonl",
    )
    before = {email: client.get_subscriber(email).model_dump() for email in ("kept@example.com",)}

    run = SyncEngine(workspace, client=fast_client(account)).run(dry_run=True)
    assert run.status == "finished", run.error
    changes = {change.email: change for change in iter_run_changes(RunStore(workspace.database), run.id)}
    gone, kept = changes["gone@example.com"], changes["kept@example.com"]
    assert gone.outcome == "skipped" and "not in MailerLite" in gone.reason and "would" in gone.reason, gone
    assert "gone@example.com would be updated" not in gone.in_words()
    assert kept.outcome == "updated" and "Churned customers" in kept.groups_added
    assert (run.updated, run.skipped) == (1, 1)
    # a dry run reads the account and changes nothing in it
    assert client.find_subscriber("gone@example.com") is None
    assert client.get_subscriber("kept@example.com").model_dump() == before["kept@example.com"]
    assert EventStore(workspace.database).counts()["staged"] == 2


def test_suppressed_contacts_are_checked_again_daily_and_synced_once_active(workspace, account, dodo_examples):
    from datetime import UTC, datetime, timedelta

    workspace.save_config(load_preset("dodo-payments"))
    client = fast_client(account)
    client.upsert_subscriber("back@example.com", status="unsubscribed")
    client.upsert_subscriber("still@example.com", status="unsubscribed")
    sync(
        workspace,
        account,
        event(dodo_examples["payment.succeeded"], "back@example.com", payment_id="pay_while_away"),
        event(dodo_examples["payment.succeeded"], "still@example.com", payment_id="pay_still"),
    )
    assert client.get_subscriber("back@example.com").fields["payment_id"] is None  # nothing applied

    account.resubscribe("back@example.com")  # as a form or the MailerLite app does; no event follows
    engine = SyncEngine(workspace, client=fast_client(account))
    now = datetime.now(UTC)
    soon = engine.recheck_suppressed(now=now + timedelta(hours=1))
    assert soon.checked == 0  # checked when the events arrived: not again within a day

    checked = engine.recheck_suppressed(now=now + timedelta(days=1, minutes=1))
    assert (checked.checked, checked.active_again, checked.requeued) == (2, 1, 1)
    assert engine.contacts.get("sandbox", "back@example.com").status == "active"
    assert engine.contacts.get("sandbox", "still@example.com").status == "unsubscribed"
    run = engine.run(staged=False)  # the worker's run: the event that waited goes out
    assert run.updated == 1
    assert client.get_subscriber("back@example.com").fields["payment_id"] == "pay_while_away"
    assert client.get_subscriber("still@example.com").fields["payment_id"] is None
    again = engine.recheck_suppressed(now=now + timedelta(days=1, minutes=2))
    assert again.checked == 0  # still@ was checked a minute ago; back@ is active
