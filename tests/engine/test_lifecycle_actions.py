"""Lifecycle actions in triggers (issue 12): unsubscribe, remove from the studio's groups, delete, through the
engine against the sandbox. Each leaves the account in the state it says, never creates a subscriber who is not
there, and shows in a dry run without sending anything."""

from __future__ import annotations

import pytest

from storage.events import EventStore
from storage.runs import RunStore
from sync_core.domain.config import load_config
from sync_core.engine.file_import import import_file
from sync_core.engine.run import SyncEngine
from sync_core.engine.run_changes import iter_run_changes
from tests.engine.conftest import event, events_file, fast_client


def lifecycle_config(action: str):
    """Customers are created by payments; a refund does ``action``."""
    return load_config(
        {
            "connection": {"default_group": None, "sandbox": True},
            "triggers": [
                {
                    "name": "Customers",
                    "source": "dodo_payments",
                    "event_types": ["payment.succeeded"],
                    "action": "upsert",
                    "fields": [{"target": "name", "source": "path", "value": "data.customer.name"}],
                },
                {"name": "Refunds", "source": "dodo_payments", "event_types": ["refund.succeeded"], "action": action},
            ],
            "group_rules": [
                {"group": "Customers", "event_types": ["payment.succeeded"]},
                {
                    "group": "Premium customers",
                    "event_types": ["payment.succeeded"],
                    "conditions": [{"field": "data.total_amount", "operator": "gte", "value": 100}],
                },
            ],
        }
    )


@pytest.fixture
def customer(workspace, account, dodo_examples):
    """Ada bought something (synced), and is also in a group the studio does not manage."""

    def setup(action: str):
        workspace.save_config(lifecycle_config(action))
        client = fast_client(account)
        store = EventStore(workspace.database)
        payment = event(dodo_examples["payment.succeeded"], "ada@example.com", total_amount=500)
        import_file(store, events_file(payment), name="payments.jsonl")
        assert SyncEngine(workspace, client=fast_client(account)).run().created == 1
        newsletter = client.create_group("Newsletter")
        client.assign_to_group(client.get_subscriber("ada@example.com").id, newsletter.id)
        refund = event(dodo_examples["refund.succeeded"], "ada@example.com")
        import_file(store, events_file(refund), name="refunds.jsonl")
        return client, SyncEngine(workspace, client=fast_client(account))

    return setup


def groups_of(client, email: str) -> set[str]:
    return {group.name for group in client.get_subscriber(email).groups}


def test_unsubscribe_makes_the_subscriber_unsubscribed_and_the_contact_suppressed(
    customer, workspace, account, dodo_examples
):
    client, engine = customer("unsubscribe")
    run = engine.run()
    assert (run.unsubscribed, run.failed) == (1, 0)
    ada = client.get_subscriber("ada@example.com")
    assert ada.status == "unsubscribed"
    assert groups_of(client, "ada@example.com") == {"Customers", "Premium customers", "Newsletter"}
    (item,) = RunStore(workspace.database).items(run_id=run.id)
    assert item.outcome == "unsubscribed" and item.requests[-1]["method"] == "PUT"
    assert item.requests[-1]["body"] == {"status": "unsubscribed"}

    later = event(dodo_examples["payment.succeeded"], "ada@example.com", total_amount=900)
    import_file(EventStore(workspace.database), events_file(later), name="later.jsonl")
    again = SyncEngine(workspace, client=fast_client(account)).run()
    assert again.suppressed == 1  # the contact is suppressed: nothing brings them back by API
    assert client.get_subscriber("ada@example.com").status == "unsubscribed"


def test_remove_from_the_studios_groups_leaves_other_groups_alone(customer, workspace):
    client, engine = customer("remove_groups")
    run = engine.run()
    assert (run.updated, run.failed) == (1, 0)
    assert groups_of(client, "ada@example.com") == {"Newsletter"}
    assert client.get_subscriber("ada@example.com").status == "active"
    (change,) = iter_run_changes(RunStore(workspace.database), run.id)
    assert sorted(change.groups_removed) == ["Customers", "Premium customers"]


def test_delete_removes_the_subscriber_and_a_later_payment_creates_them_again(
    customer, workspace, account, dodo_examples
):
    client, engine = customer("delete")
    run = engine.run()
    assert (run.deleted, run.failed) == (1, 0)
    assert client.find_subscriber("ada@example.com") is None
    (item,) = RunStore(workspace.database).items(run_id=run.id)
    assert item.requests[-1]["method"] == "DELETE" and item.outcome == "deleted"

    delayed = event(dodo_examples["payment.succeeded"], "ada@example.com", total_amount=50)
    assert delayed["timestamp"] < dodo_examples["refund.succeeded"]["timestamp"]
    import_file(EventStore(workspace.database), events_file(delayed), name="delayed.jsonl")
    late = SyncEngine(workspace, client=fast_client(account)).run()
    assert (late.created, late.unchanged) == (0, 1)  # a payment older than the deletion does not bring them back
    assert client.find_subscriber("ada@example.com") is None

    later = {**event(dodo_examples["payment.succeeded"], "ada@example.com", total_amount=60)}
    later["timestamp"] = "2025-09-01T00:00:00Z"
    import_file(EventStore(workspace.database), events_file(later), name="later.jsonl")
    again = SyncEngine(workspace, client=fast_client(account)).run()
    assert again.created == 1  # known as not in MailerLite: created again, with the whole contact
    ada = client.get_subscriber("ada@example.com")
    assert ada.fields["name"] == dodo_examples["payment.succeeded"]["data"]["customer"]["name"]
    assert groups_of(client, "ada@example.com") == {"Customers"}


@pytest.mark.parametrize("action", ["unsubscribe", "remove_groups", "delete"])
def test_a_lifecycle_action_never_creates_a_subscriber_who_is_not_there(workspace, account, dodo_examples, action):
    workspace.save_config(lifecycle_config(action))
    client = fast_client(account)
    refund = event(dodo_examples["refund.succeeded"], "stranger@example.com")
    import_file(EventStore(workspace.database), events_file(refund), name="refunds.jsonl")
    run = SyncEngine(workspace, client=fast_client(account)).run()
    assert (run.skipped, run.created, run.failed) == (1, 0, 0)
    assert client.find_subscriber("stranger@example.com") is None
    (item,) = RunStore(workspace.database).items(run_id=run.id)
    assert "not in MailerLite, nothing was sent" in item.reason


@pytest.mark.parametrize(
    ("action", "words"),
    [
        ("unsubscribe", "ada@example.com would be unsubscribed"),
        ("remove_groups", "ada@example.com would leave Customers, Premium customers"),
        ("delete", "ada@example.com would be deleted"),
    ],
)
def test_a_dry_run_of_each_action_shows_the_change_and_sends_nothing(customer, workspace, action, words):
    client, engine = customer(action)
    before = client.get_subscriber("ada@example.com")
    run = engine.run(dry_run=True)
    assert run.requests == 0
    (change,) = iter_run_changes(RunStore(workspace.database), run.id)
    assert change.in_words() == words
    after = client.get_subscriber("ada@example.com")
    assert (after.status, {g.name for g in after.groups}) == (before.status, {g.name for g in before.groups})
    assert EventStore(workspace.database).counts().get("staged") == 1  # the refund still waits


def test_old_saved_configurations_still_load():
    document = {
        "version": 1,
        "triggers": [
            {"name": "A", "event_types": ["partner.*"], "action": "upsert"},
            {"name": "B", "event_types": ["customer.*"], "action": "update_only"},
            {"name": "C", "event_types": ["lead.*"], "action": "ignore"},
        ],
    }
    config = load_config(document)
    assert [trigger.action for trigger in config.triggers] == ["upsert", "update_only", "ignore"]
