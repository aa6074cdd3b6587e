"""Webhooks in the sandbox: managed like MailerLite's (``/api/webhooks``), and sent, signed, when subscribers change
(by the API or by what a person does in the account), outside the request that caused them, with retries."""

from __future__ import annotations

import pytest

from sync_core.sandbox import SandboxAccount, SandboxActionError
from tests.sandbox.helpers import call as _call
from tests.sandbox.receivers import Receiver, free_port, wait_until

WEBHOOK_KEYS = {
    "id",
    "name",
    "url",
    "events",
    "enabled",
    "batchable",
    "secret",
    "version",
    "is_blocked",
    "last_fired_at",
    "response_code",
    "created_at",
    "updated_at",
}
SUBSCRIBER_EVENTS = [
    "subscriber.created",
    "subscriber.updated",
    "subscriber.unsubscribed",
    "subscriber.added_to_group",
    "subscriber.removed_from_group",
    "subscriber.bounced",
    "subscriber.spam_reported",
    "subscriber.active",
]


# --- managing webhooks over HTTP (in-process and served) ----------------------------------------------------------


def test_a_webhook_is_created_listed_read_updated_and_deleted(raw):
    created = raw.post(
        "webhooks",
        json={"name": "Studio", "events": ["subscriber.unsubscribed"], "url": "http://127.0.0.1:9/webhooks/mailerlite"},
    )
    assert created.status_code == 201
    data = created.json()["data"]
    assert set(data) == WEBHOOK_KEYS
    assert data["enabled"] is True and data["batchable"] is False and data["version"] == "2022-01"
    assert data["is_blocked"] is False and data["last_fired_at"] is None and data["response_code"] is None
    assert len(data["secret"]) >= 10 and data["id"].isdigit() and len(data["id"]) >= 15

    listed = raw.get("webhooks").json()
    assert [w["id"] for w in listed["data"]] == [data["id"]] and listed["meta"]["total"] == 1
    assert raw.get(f"webhooks/{data['id']}").json()["data"] == data

    updated = raw.put(f"webhooks/{data['id']}", json={"name": "Renamed", "enabled": False})
    assert updated.status_code == 200
    assert updated.json()["data"]["name"] == "Renamed" and updated.json()["data"]["enabled"] is False
    assert updated.json()["data"]["secret"] == data["secret"]

    assert raw.delete(f"webhooks/{data['id']}").status_code == 204
    missing = raw.get(f"webhooks/{data['id']}")
    assert missing.status_code == 404 and "Webhook" in missing.json()["message"]
    assert raw.delete(f"webhooks/{data['id']}").status_code == 404
    assert raw.get("webhooks").json()["data"] == []


@pytest.mark.parametrize(
    ("body", "key"),
    [
        ({"events": ["subscriber.created"]}, "url"),
        ({"events": ["subscriber.created"], "url": "not a url"}, "url"),
        ({"url": "http://127.0.0.1:9/"}, "events"),
        ({"events": "subscriber.created", "url": "http://127.0.0.1:9/"}, "events"),
        ({"events": ["subscriber.create"], "url": "http://127.0.0.1:9/"}, "events.0"),
        ({"events": ["subscriber.deleted"], "url": "http://127.0.0.1:9/"}, "batchable"),
        ({"events": ["subscriber.deleted"], "url": "http://127.0.0.1:9/", "batchable": False}, "batchable"),
        ({"events": ["subscriber.created"], "url": "http://127.0.0.1:9/", "enabled": "yes"}, "enabled"),
    ],
)
def test_an_invalid_webhook_is_refused_like_mailerlite(raw, body, key):
    answer = raw.post("webhooks", json=body)
    assert answer.status_code == 422
    assert key in answer.json()["errors"] and answer.json()["message"]
    assert raw.get("webhooks").json()["data"] == []


def test_deleted_is_accepted_for_a_batchable_webhook_and_checked_on_update(raw):
    body = {"events": ["subscriber.deleted"], "url": "http://127.0.0.1:9/", "batchable": True}
    created = raw.post("webhooks", json=body)
    assert created.status_code == 201
    webhook_id = created.json()["data"]["id"]
    assert raw.put(f"webhooks/{webhook_id}", json={"batchable": False}).status_code == 422
    assert raw.put(f"webhooks/{webhook_id}", json={"events": ["nope"]}).status_code == 422
    assert raw.get(f"webhooks/{webhook_id}").json()["data"]["batchable"] is True


def test_webhooks_are_shared_by_every_process_of_the_account(tmp_path):
    path = tmp_path / "sandbox.db"
    first, second = SandboxAccount(state_file=path), SandboxAccount(state_file=path)
    try:
        created = _call(first, "POST", "webhooks", {"events": ["subscriber.created"], "url": "http://127.0.0.1:9/"})
        assert [w["id"] for w in _call(second, "GET", "webhooks")["data"]] == [created["data"]["id"]]
        assert [w["id"] for w in second.webhooks()] == [created["data"]["id"]]
    finally:
        first.close()
        second.close()


# --- deliveries ----------------------------------------------------------------------------------------------------


@pytest.fixture
def quick_account(tmp_path):
    """A stored sandbox whose retries come after a moment, not after 10, 100 and 1000 seconds."""
    account = SandboxAccount(state_file=tmp_path / "sandbox.db", seed=7, webhook_retry_delays=(0.1, 0.2, 0.3))
    yield account
    account.close()


@pytest.fixture
def receiver():
    with Receiver() as running:
        yield running


def _register(account: SandboxAccount, url: str, *, batchable: bool, events=None) -> dict:  # noqa: ANN001
    events = events or [*SUBSCRIBER_EVENTS, *(["subscriber.deleted"] if batchable else [])]
    body = {"name": "Studio", "events": events, "url": url, "batchable": batchable}
    return _call(account, "POST", "webhooks", body)["data"]


def _flat(delivery) -> list[dict]:  # noqa: ANN001
    """The events of a delivery as (name, subscriber, group) whatever its shape."""
    body = delivery.json()
    events = body.get("events", [body])
    out = []
    for event in events:
        if "data" in event:
            out.append(
                {"name": event["type"], "subscriber": event["data"]["subscriber"], "group": event["data"].get("group")}
            )
        else:
            subscriber = {k: v for k, v in event.items() if k != "event"}
            out.append({"name": event["event"], "subscriber": subscriber, "group": None})
    return out


def test_api_changes_are_sent_one_event_per_delivery_to_a_webhook_that_is_not_batchable(quick_account, receiver):
    account = quick_account
    webhook = _register(account, receiver.url, batchable=False)
    group = _call(account, "POST", "groups", {"name": "Partners"})["data"]
    _call(account, "POST", "fields", {"name": "Tier", "type": "text"})
    created = _call(account, "POST", "subscribers", {"email": "ada@example.com", "groups": [group["id"]]})["data"]
    _call(account, "POST", "subscribers", {"email": "ada@example.com", "fields": {"tier": "gold"}})
    _call(account, "PUT", f"subscribers/{created['id']}", {"status": "unsubscribed"})

    deliveries = receiver.wait_for(4)
    assert all(d.signed_with(webhook["secret"]) for d in deliveries)
    assert all(d.headers["content-type"] == "application/json" for d in deliveries)
    bodies = [d.json() for d in deliveries]
    assert bodies[0]["event"] == "subscriber.created" and bodies[0]["email"] == "ada@example.com"
    assert bodies[0]["id"] == created["id"] and "fields" in bodies[0] and "events" not in bodies[0]
    assert bodies[1] == {
        "type": "subscriber.added_to_group",
        "data": {"subscriber": bodies[1]["data"]["subscriber"], "group": {"id": group["id"], "name": "Partners"}},
    }
    assert bodies[2]["event"] == "subscriber.updated" and bodies[2]["fields"]["tier"] == "gold"
    assert bodies[3]["event"] == "subscriber.unsubscribed" and bodies[3]["status"] == "unsubscribed"
    # the subscriber as GET /subscribers/{id} shows it then
    later = _call(account, "GET", f"subscribers/{created['id']}")["data"]
    assert {k: v for k, v in bodies[3].items() if k != "event"} == later
    wait_until(lambda: account.webhook(webhook["id"])["response_code"] == 200)
    assert account.webhook(webhook["id"])["last_fired_at"] is not None


def test_a_batchable_webhook_gets_each_call_as_one_delivery_of_events(quick_account, receiver):
    account = quick_account
    webhook = _register(account, receiver.url, batchable=True)
    group = _call(account, "POST", "groups", {"name": "Partners"})["data"]
    created = _call(account, "POST", "subscribers", {"email": "ada@example.com", "groups": [group["id"]]})["data"]
    _call(account, "DELETE", f"subscribers/{created['id']}")

    first, second = receiver.wait_for(2)
    assert first.signed_with(webhook["secret"]) and second.signed_with(webhook["secret"])
    events = first.json()["events"]
    assert [e["type"] for e in events] == ["subscriber.created", "subscriber.added_to_group"]
    assert all(set(e) == {"type", "created_at", "data"} for e in events)
    assert events[0]["data"] == {"subscriber": events[0]["data"]["subscriber"]}
    assert events[1]["data"]["group"] == {"id": group["id"], "name": "Partners"}
    assert len(events[0]["created_at"]) == 19 and events[0]["created_at"][10] == " "
    assert [e["type"] for e in second.json()["events"]] == ["subscriber.deleted"]
    assert second.json()["events"][0]["data"]["subscriber"]["email"] == "ada@example.com"


def test_only_the_events_a_webhook_asked_for_are_sent_and_a_disabled_one_gets_nothing(quick_account, receiver):
    account = quick_account
    _register(account, receiver.url, batchable=False, events=["subscriber.unsubscribed"])
    off = _register(account, receiver.url + "?off", batchable=False)
    _call(account, "PUT", f"webhooks/{off['id']}", {"enabled": False})
    created = _call(account, "POST", "subscribers", {"email": "ada@example.com"})["data"]
    _call(account, "PUT", f"subscribers/{created['id']}", {"status": "unsubscribed"})
    (only,) = receiver.wait_for(1)
    assert only.json()["event"] == "subscriber.unsubscribed"
    account.deliver_due()
    assert len(receiver.deliveries) == 1


def _person_actions(account: SandboxAccount, group_name: str) -> list[tuple[str, str, object]]:
    return [
        ("unsubscribe", "subscriber.unsubscribed", lambda: account.unsubscribe("ada@example.com")),
        ("reactivate", "subscriber.active", lambda: account.resubscribe("ada@example.com")),
        ("bounce", "subscriber.bounced", lambda: account.bounce("ada@example.com")),
        ("reactivate", "subscriber.active", lambda: account.resubscribe("ada@example.com")),
        ("spam", "subscriber.spam_reported", lambda: account.report_spam("ada@example.com")),
        ("reactivate", "subscriber.active", lambda: account.resubscribe("ada@example.com")),
        ("remove", "subscriber.removed_from_group", lambda: account.remove_from_group("ada@example.com", group_name)),
        ("add", "subscriber.added_to_group", lambda: account.add_to_group("ada@example.com", group_name)),
        ("set", "subscriber.updated", lambda: account.set_field("ada@example.com", "Tier", "silver")),
    ]


@pytest.mark.parametrize("batchable", [False, True])
def test_what_a_person_does_in_the_account_is_sent(quick_account, receiver, batchable):
    account = quick_account
    webhook = _register(account, receiver.url, batchable=batchable)
    group = _call(account, "POST", "groups", {"name": "Partners"})["data"]
    _call(account, "POST", "fields", {"name": "Tier", "type": "text"})
    _call(account, "POST", "subscribers", {"email": "ada@example.com", "groups": [group["id"]]})
    before = len(receiver.wait_for(1 if batchable else 2))  # created, added to the group

    actions = _person_actions(account, "Partners")
    for _, _, act in actions:
        assert act()
    deliveries = receiver.wait_for(before + len(actions))[before:]
    assert all(d.signed_with(webhook["secret"]) for d in deliveries)
    assert all(("events" in d.json()) == batchable for d in deliveries)
    flat = [event for d in deliveries for event in _flat(d)]
    assert [e["name"] for e in flat] == [name for _, name, _ in actions]
    assert flat[0]["subscriber"]["status"] == "unsubscribed" and flat[1]["subscriber"]["status"] == "active"
    assert flat[4]["subscriber"]["status"] == "junk"
    assert flat[6]["group"] == {"id": group["id"], "name": "Partners"} and flat[6]["subscriber"]["groups"] == []
    assert flat[8]["subscriber"]["fields"]["tier"] == "silver"

    account.delete_subscriber("ada@example.com")
    if batchable:
        (gone,) = receiver.wait_for(before + len(actions) + 1)[-1:]
        assert [e["name"] for e in _flat(gone)] == ["subscriber.deleted"]
        assert gone.json()["events"][0]["data"]["subscriber"]["email"] == "ada@example.com"
    else:  # subscriber.deleted goes to batchable webhooks only
        account.deliver_due()
        assert len(receiver.deliveries) == before + len(actions)


def test_acting_on_someone_who_is_not_there_says_so(quick_account):
    with pytest.raises(SandboxActionError, match="No subscriber with that email in the sandbox"):
        quick_account.unsubscribe("nobody@example.com")
    _call(quick_account, "POST", "subscribers", {"email": "ada@example.com"})
    with pytest.raises(SandboxActionError, match="group"):
        quick_account.add_to_group("ada@example.com", "No such group")
    with pytest.raises(SandboxActionError, match="field"):
        quick_account.set_field("ada@example.com", "No such field", "x")


def test_a_receiver_that_is_down_gets_the_delivery_when_it_is_back(tmp_path):
    account = SandboxAccount(state_file=tmp_path / "sandbox.db", webhook_retry_delays=(0.5, 5, 30))
    try:
        port = free_port()
        webhook = _register(account, f"http://127.0.0.1:{port}/webhooks/mailerlite", batchable=False)
        _call(account, "POST", "subscribers", {"email": "ada@example.com"})
        wait_until(lambda: account.webhook(webhook["id"])["last_fired_at"] is not None, message="no attempt made")
        assert account.webhook(webhook["id"])["response_code"] is None  # nobody answered
        assert account.pending_deliveries() == 1  # kept for a retry
        with Receiver(port=port) as back:
            (delivery,) = back.wait_for(1, timeout=60)
            assert delivery.json()["event"] == "subscriber.created" and delivery.signed_with(webhook["secret"])
            wait_until(lambda: account.webhook(webhook["id"])["response_code"] == 200)
            assert account.pending_deliveries() == 0
    finally:
        account.close()


def test_a_failing_receiver_is_retried_three_more_times_then_given_up(quick_account):
    with Receiver(status=500) as failing:
        webhook = _register(quick_account, failing.url, batchable=False)
        _call(quick_account, "POST", "subscribers", {"email": "ada@example.com"})
        deliveries = failing.wait_for(4)
        assert len({d.body for d in deliveries}) == 1  # the same delivery each time
        wait_until(lambda: quick_account.pending_deliveries() == 0)
        assert len(failing.deliveries) == 4
        assert quick_account.webhook(webhook["id"])["response_code"] == 500


def test_a_slow_receiver_does_not_hold_up_the_api_call(tmp_path):
    """The receiver answers only after the API call has returned; a delivery made inside the call would time out
    (and be tried again), so one answered delivery proves it was made outside."""
    account = SandboxAccount(
        state_file=tmp_path / "sandbox.db", webhook_retry_delays=(0.1, 0.1, 0.1), webhook_timeout_seconds=20
    )
    try:
        with Receiver() as slow:
            slow.release.clear()
            webhook = _register(account, slow.url, batchable=False)
            _call(account, "POST", "subscribers", {"email": "ada@example.com"})  # returns while the receiver holds
            slow.release.set()
            wait_until(lambda: account.webhook(webhook["id"])["response_code"] == 200)
            assert len(slow.deliveries) == 1
    finally:
        account.close()


def test_an_in_memory_sandbox_sends_too():
    account = SandboxAccount(webhook_retry_delays=(0.1, 0.1, 0.1))
    with Receiver() as receiver:
        webhook = _register(account, receiver.url, batchable=True)
        _call(account, "POST", "subscribers", {"email": "ada@example.com"})
        (delivery,) = receiver.wait_for(1)
        assert delivery.signed_with(webhook["secret"])
    account.close()


def test_a_delivery_owed_by_a_process_that_ended_is_sent_by_the_next_one_that_opens_the_sandbox(tmp_path):
    """Like a CLI command whose first attempt found the receiver down: the delivery stays in the shared file."""
    path, port = tmp_path / "sandbox.db", free_port()
    command = SandboxAccount(state_file=path, send_in_background=False, webhook_retry_delays=(0.1, 0.1, 0.1))
    webhook = _register(command, f"http://127.0.0.1:{port}/webhooks/mailerlite", batchable=False)
    _call(command, "POST", "subscribers", {"email": "ada@example.com"})
    assert command.deliver_due().failed == 1
    command.close()

    with Receiver(port=port) as back:
        dashboard = SandboxAccount(state_file=path)
        try:
            assert dashboard.find("ada@example.com") is not None  # any use of the account notices what is owed
            (delivery,) = back.wait_for(1)
            assert delivery.signed_with(webhook["secret"]) and delivery.json()["event"] == "subscriber.created"
            wait_until(lambda: dashboard.pending_deliveries() == 0)
        finally:
            dashboard.close()


def test_a_forgotten_subscriber_is_sent_as_deleted(quick_account, receiver):
    """MailerLite's docs: subscriber.deleted "fires when a subscriber is set as deleted or forgotten"."""
    webhook = _register(quick_account, receiver.url, batchable=True, events=["subscriber.deleted"])
    created = _call(quick_account, "POST", "subscribers", {"email": "ada@example.com"})["data"]
    _call(quick_account, "POST", f"subscribers/{created['id']}/forget")
    (delivery,) = receiver.wait_for(1)
    assert delivery.signed_with(webhook["secret"])
    assert [(e["type"], e["data"]["subscriber"]["id"]) for e in delivery.json()["events"]] == [
        ("subscriber.deleted", created["id"])
    ]
