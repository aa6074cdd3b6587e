"""MailerLite's own webhooks in (issue 12): signed deliveries over HTTP against the served routes, then the sync
against the in-process sandbox. An unsubscribe suppresses the contact (later events send nothing), ``active``
lifts it, a delete makes the next upsert send the whole contact; bad signatures and garbage never get a 5xx."""

from __future__ import annotations

import json
import os
import subprocess
import sys

import pytest

from storage.statuses import EventStatus
from sync_core.domain.presets import load_preset
from sync_core.engine.accounts import SANDBOX
from sync_core.engine.mailerlite_events import settle_mailerlite_events
from sync_core.engine.run import SyncEngine
from tests.engine.conftest import CountingAccount, fast_client
from tests.reference import REPO
from tests.webhooks.helpers import DODO_SECRET, dodo_body, dodo_headers, rows
from tests.webhooks.mailerlite_helpers import MAILERLITE_SECRET, batched, event, signed, single, subscriber

EMAIL = "ada@example.com"
PATH = "/webhooks/mailerlite"


@pytest.fixture
def studio(workspace, monkeypatch):
    monkeypatch.setenv("DODO_PAYMENTS_WEBHOOK_KEY", DODO_SECRET)
    workspace.set_webhook_secret("mailerlite", MAILERLITE_SECRET)  # as the Connection page stores it
    config = load_preset("dodo-payments")
    config.connection.sandbox = True
    workspace.save_config(config, author="test")
    return workspace


@pytest.fixture
def account() -> CountingAccount:
    return CountingAccount(limit=10_000, window_seconds=1, import_limit=1000)


@pytest.fixture
def sync(studio, account):
    client = fast_client(account)

    def run():
        return SyncEngine(studio, client=client).run(trigger="test", staged=False)

    return run


def send_dodo(http, n: int, email: str = EMAIL):
    body = dodo_body(n, email=email)
    answer = http.post("/webhooks/dodo-payments", content=body, headers=dodo_headers(body, msg_id=f"msg_ml_{n}"))
    assert answer.status_code == 200, answer.text


def send_mailerlite(http, body: bytes, **sign):
    answer = http.post(PATH, content=body, headers=signed(body, **sign))
    assert answer.status_code < 500, answer.text
    return answer


def in_sandbox(account, client_email: str = EMAIL) -> dict:
    found = account.state.find_subscriber(client_email)
    assert found is not None
    return dict(found)


def contact(studio, email: str = EMAIL):
    return studio.contacts.get(SANDBOX, email)


def test_an_unsubscribe_suppresses_the_contact_and_later_events_send_nothing(studio, http, sync, account):
    send_dodo(http, 1)
    sync()
    assert account.upserts[EMAIL] == 1
    # The person unsubscribes in MailerLite, which tells the studio.
    client = fast_client(account)
    client.upsert_subscriber(EMAIL, status="unsubscribed")
    person = client.get_subscriber(EMAIL).model_dump()
    answer = send_mailerlite(http, batched(event("subscriber.unsubscribed", person)))
    assert answer.status_code == 200, answer.text
    upserts = account.upserts[EMAIL]

    sync()
    assert contact(studio).status == "unsubscribed"
    mine = [row for row in rows(studio.database) if row["source"] == "mailerlite"]
    assert [(row["event_type"], row["status"], row["email"]) for row in mine] == [
        ("subscriber.unsubscribed", EventStatus.SYNCED, EMAIL)
    ]
    assert "MailerLite said: unsubscribed" in mine[0]["reason"]

    before = in_sandbox(account)
    send_dodo(http, 2)  # a new payment: name and payment id would change
    run = sync()
    assert account.upserts[EMAIL] == upserts, "nothing is sent for a suppressed contact"
    assert in_sandbox(account)["fields"] == before["fields"]
    assert run.suppressed == 1
    assert contact(studio).status == "unsubscribed"


def test_active_lifts_the_suppression_and_the_next_event_syncs(studio, http, sync, account):
    send_dodo(http, 1)
    sync()
    client = fast_client(account)
    client.upsert_subscriber(EMAIL, status="unsubscribed")
    person = client.get_subscriber(EMAIL).model_dump()
    send_mailerlite(http, batched(event("subscriber.unsubscribed", person, at="2030-01-02 10:00:00")))
    sync()
    assert contact(studio).status == "unsubscribed"

    account.resubscribe(EMAIL)  # they sign up again through a form
    person = client.get_subscriber(EMAIL).model_dump()
    send_mailerlite(http, single("subscriber.active", person))
    assert settle_mailerlite_events(studio) == 1  # the worker applies it with no run and no request
    assert contact(studio).status == "active"

    upserts = account.upserts[EMAIL]
    send_dodo(http, 3)
    run = sync()
    assert account.upserts[EMAIL] == upserts + 1
    assert in_sandbox(account)["fields"]["payment_id"] == "pay_test_000003"
    assert run.updated == 1


def test_a_wrong_or_missing_signature_is_refused_and_nothing_is_stored(studio, http):
    body = batched(event("subscriber.unsubscribed", subscriber(EMAIL)))
    wrong = http.post(PATH, content=body, headers=signed(body, secret="not-the-secret"))
    assert wrong.status_code == 401
    assert "signature does not match" in wrong.json()["error"]
    missing = http.post(PATH, content=body, headers={"Content-Type": "application/json"})
    assert missing.status_code == 401
    tampered = http.post(PATH, content=body.replace(b"ada@", b"eve@"), headers=signed(body))
    assert tampered.status_code == 401
    assert rows(studio.database) == []


def test_the_environment_secret_wins_over_the_stored_one(studio, http, monkeypatch):
    monkeypatch.setenv("MAILERLITE_WEBHOOK_SECRET", "from-the-environment-0123")
    body = batched(event("subscriber.unsubscribed", subscriber(EMAIL)))
    assert http.post(PATH, content=body, headers=signed(body)).status_code == 401
    assert http.post(PATH, content=body, headers=signed(body, "from-the-environment-0123")).status_code == 200


def test_batched_and_single_deliveries_are_each_event_stored_once(studio, http):
    group = {"id": "77", "name": "Customers"}
    ada, bob = subscriber(EMAIL, id="1"), subscriber("Bob@Example.com", id="2")
    body = batched(
        event("subscriber.updated", ada, at="2030-01-01 10:00:00"),
        event("subscriber.added_to_group", bob, at="2030-01-01 10:00:01", group=group),
        event("subscriber.deleted", ada, at="2030-01-01 10:00:02"),
    )
    assert send_mailerlite(http, body).json()["accepted"] == 3
    assert send_mailerlite(http, single("subscriber.bounced", bob)).status_code == 200
    assert send_mailerlite(http, single("subscriber.removed_from_group", ada, group=group)).status_code == 200
    # MailerLite delivers the same again (no 2xx in time): stored once.
    send_mailerlite(http, body)
    send_mailerlite(http, single("subscriber.bounced", bob))
    stored = [(row["event_type"], row["email"], row["status"]) for row in rows(studio.database)]
    assert stored == [
        ("subscriber.updated", EMAIL, EventStatus.PENDING),
        ("subscriber.added_to_group", "bob@example.com", EventStatus.PENDING),
        ("subscriber.deleted", EMAIL, EventStatus.PENDING),
        ("subscriber.bounced", "bob@example.com", EventStatus.PENDING),
        ("subscriber.removed_from_group", EMAIL, EventStatus.PENDING),
    ]


@pytest.mark.parametrize(
    "body, reason",
    [
        (b"this is not json", "not valid JSON"),
        (b'[{"type": "subscriber.unsubscribed"}]', "should be a JSON object, not a JSON array"),
        (json.dumps({"events": [{"type": "subscriber.unsubscribed", "data": {"subscriber": {"id": "1"}}}]}).encode(),
         "no email"),
        (json.dumps({"event": "subscriber.exploded", "email": EMAIL}).encode(), "not a MailerLite subscriber event"),
        (json.dumps({"events": []}).encode(), "non-empty list"),
        (json.dumps({"type": "subscriber.added_to_group", "data": {"subscriber": {"email": EMAIL}}}).encode(),
         "names no group"),
    ],
)  # fmt: skip
def test_garbage_is_recorded_as_rejected_with_its_reason_never_a_5xx(studio, http, body, reason):
    answer = send_mailerlite(http, body)
    assert answer.status_code == 400
    assert reason in answer.json()["error"]
    stored = rows(studio.database)
    assert [(row["source"], row["status"]) for row in stored] == [("mailerlite", EventStatus.REJECTED)]
    assert reason in stored[0]["reason"]


def test_a_bad_event_in_a_batch_is_rejected_beside_the_good_ones(studio, http):
    body = batched(event("subscriber.unsubscribed", subscriber(EMAIL)), {"type": "campaign.sent", "data": {}})
    answer = send_mailerlite(http, body)
    assert answer.status_code == 200
    assert answer.json()["accepted"] == 1 and answer.json()["rejected"] == 1
    assert [row["status"] for row in rows(studio.database)] == [EventStatus.PENDING, EventStatus.REJECTED]


def test_a_body_over_the_limit_gets_413_and_nothing_is_stored(studio, http):
    person = subscriber(EMAIL, notes="x" * (2 * 1024 * 1024))
    body = batched(event("subscriber.updated", person))
    answer = http.post(PATH, content=body, headers=signed(body))
    assert answer.status_code == 413
    assert rows(studio.database) == []


def test_a_delete_sends_the_whole_contact_again_and_groups_follow_the_account(studio, http, sync, account):
    send_dodo(http, 1)
    sync()
    client = fast_client(account)
    person = client.get_subscriber(EMAIL).model_dump()
    client.delete_subscriber(person["id"])
    send_mailerlite(http, batched(event("subscriber.deleted", person)))
    sync()
    remembered = contact(studio)
    assert remembered.subscriber_id is None and remembered.status == "deleted"
    assert account.state.find_subscriber(EMAIL) is None

    send_dodo(http, 4)  # a new payment of the same customer
    sync()
    again = in_sandbox(account)
    assert again["fields"]["name"], "the whole contact is sent, not only what changed"
    assert contact(studio).subscriber_id == str(again["id"])


def test_updated_fields_and_group_changes_replace_what_the_studio_remembers(studio, http, sync, account):
    send_dodo(http, 1)
    sync()
    person = fast_client(account).get_subscriber(EMAIL).model_dump()
    person["fields"]["name"] = "Ada Edited By Hand"
    send_mailerlite(
        http,
        batched(
            event("subscriber.updated", person, at="2030-01-01 00:00:00"),
            event("subscriber.removed_from_group", person, at="2030-01-01 00:00:01", group={"id": "9", "name": "VIP"}),
        ),
    )
    sync()
    state = contact(studio).state
    assert state["fields"]["name"][0] == "Ada Edited By Hand"
    assert state["groups"]["VIP"][0] is False


def test_an_email_never_synced_is_recorded_and_its_status_remembered(studio, http):
    send_mailerlite(http, single("subscriber.spam_reported", subscriber("new@example.com", id="55")))
    assert settle_mailerlite_events(studio) == 1
    remembered = studio.contacts.get(SANDBOX, "new@example.com")
    assert (remembered.status, remembered.subscriber_id) == ("junk", "55")


@pytest.mark.processes
def test_the_contacts_history_shows_the_mailerlite_event(studio, http, sync):
    send_mailerlite(http, batched(event("subscriber.unsubscribed", subscriber(EMAIL))))
    sync()
    env = {**os.environ, "DATABASE_URL": studio.database.url, "SYNC_STUDIO_DATA_DIR": str(studio.directory)}
    shown = subprocess.run(
        [sys.executable, "-m", "sync_core", "contact", EMAIL],
        cwd=REPO, capture_output=True, text=True, env=env, timeout=120,
    )  # fmt: skip
    assert shown.returncode == 0, shown.stderr
    assert "mailerlite  subscriber.unsubscribed  synced  MailerLite said: unsubscribed" in shown.stdout
    assert "status unsubscribed" in shown.stdout


def test_a_dry_run_plans_with_what_mailerlite_said_and_changes_nothing(studio, http, sync, account):
    send_dodo(http, 1)
    sync()
    send_mailerlite(http, batched(event("subscriber.unsubscribed", subscriber(EMAIL))))
    send_dodo(http, 2)
    run = SyncEngine(studio, client=fast_client(account)).run(dry_run=True, staged=False)
    (item,) = studio.runs.items(run_id=run.id)
    # Known unsubscribed: MailerLite is asked first (a dry run reads, never writes), never written blindly.
    assert item.requests[0]["method"] == "GET" and item.requests[0]["path"].endswith(f"api/subscribers/{EMAIL}")
    assert contact(studio).status == "active", "a dry run changes nothing stored"
    assert [row["status"] for row in rows(studio.database)][-2:] == [EventStatus.PENDING, EventStatus.PENDING]


def test_the_worker_applies_mailerlite_events_alone_without_a_run(studio, http, account):
    from sync_core.live.worker import Worker, WorkerSettings

    send_mailerlite(http, batched(event("subscriber.bounced", subscriber(EMAIL, id="7"))))
    worker = Worker(studio, client=fast_client(account), settings=WorkerSettings(gather_seconds=0))
    worker.step()
    assert contact(studio).status == "bounced"
    assert worker.runs == 0
    assert [row["status"] for row in rows(studio.database)] == [EventStatus.SYNCED]
