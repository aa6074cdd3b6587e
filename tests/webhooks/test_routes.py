"""The webhook routes over HTTP on 127.0.0.1, on SQLite and PostgreSQL: what is answered, what is stored.

Requests are signed as the senders sign them: the official standardwebhooks library for Dodo Payments (fresh
timestamps), plain HMAC for Partnero.
"""

from __future__ import annotations

import json
import logging
import time

import pytest

from storage.events import EventStore
from sync_core.domain.events import MAX_BODY_BYTES
from sync_core.domain.sources import body as body_module
from tests.webhooks.helpers import (
    DODO_SECRET,
    DODO_SECRET_NEXT,
    PARTNERO_SECRET,
    PARTNERO_SECRET_NEXT,
    count_rows,
    dodo_body,
    dodo_headers,
    minutes_ago,
    partnero_body,
    partnero_headers,
    rows,
)

DODO = "/webhooks/dodo-payments"
PARTNERO = "/webhooks/partnero"
pytestmark = pytest.mark.usefixtures("secrets_in_env")


def post_dodo(http, body: bytes, msg_id: str = "msg_1", **options):
    return http.post(DODO, content=body, headers=dodo_headers(body, msg_id=msg_id, **options))


def post_partnero(http, body: bytes, **options):
    return http.post(PARTNERO, content=body, headers=partnero_headers(body, **options))


# --- valid events ----------------------------------------------------------------------------------------------------


def test_valid_dodo_event_is_committed_before_the_answer(http, workspace):
    answer = post_dodo(http, dodo_body(7), "msg_valid")
    assert answer.status_code == 200, answer.text
    assert answer.json() == {"status": "accepted", "id": "msg_valid"}
    # Read through a connection of its own, right after the answer: the row is committed, not just queued.
    [row] = rows(workspace.database)
    assert row == {
        "source": "dodo_payments",
        "event_id": "msg_valid",
        "status": "pending",
        "reason": "",
        "event_type": "payment.succeeded",
        "email": "buyer7@example.com",
        "origin": "webhook",
    }


def test_valid_partnero_event_is_stored_under_its_body_hash(http, workspace):
    body = partnero_body(3)
    answer = post_partnero(http, body)
    assert answer.status_code == 200, answer.text
    [row] = rows(workspace.database)
    assert row["source"] == "partnero" and row["status"] == "pending" and row["email"] == "partner3@example.com"
    assert row["event_id"].startswith("sha256:") and answer.json()["id"] == row["event_id"]


def test_the_stored_body_is_the_raw_bytes_as_signed(http, workspace):
    body = (
        b'{"event":  "partner.created", "data": {"email": "spaced@example.com"},  "timestamp": "2025-05-07T10:30:00Z"}'
    )
    assert post_partnero(http, body).status_code == 200
    with workspace.database.engine.connect() as connection:
        assert connection.exec_driver_sql("SELECT body FROM received_event").scalar() == body


# --- refused: nothing stored ----------------------------------------------------------------------------------------


def test_wrong_secret_is_401_and_stores_nothing(http, workspace):
    answer = post_dodo(http, dodo_body(1), secrets=(DODO_SECRET_NEXT,))
    assert answer.status_code == 401 and "does not match" in answer.json()["error"]
    answer = post_partnero(http, partnero_body(1), secret=PARTNERO_SECRET_NEXT)
    assert answer.status_code == 401 and "does not match" in answer.json()["error"]
    assert count_rows(workspace.database) == 0


def test_tampered_body_is_401_and_stores_nothing(http, workspace):
    body = dodo_body(1)
    headers = dodo_headers(body, msg_id="msg_1")
    answer = http.post(DODO, content=body.replace(b"buyer1@", b"thief1@"), headers=headers)
    assert answer.status_code == 401
    body = partnero_body(1)
    answer = http.post(PARTNERO, content=body.replace(b"partner1@", b"thief1@"), headers=partnero_headers(body))
    assert answer.status_code == 401
    assert count_rows(workspace.database) == 0


@pytest.mark.parametrize("missing", ["webhook-id", "webhook-timestamp", "webhook-signature"])
def test_missing_dodo_header_is_401(http, workspace, missing):
    body = dodo_body(1)
    headers = dodo_headers(body, msg_id="msg_1")
    del headers[missing]
    answer = http.post(DODO, content=body, headers=headers)
    assert answer.status_code == 401 and missing in answer.json()["error"]
    assert count_rows(workspace.database) == 0


def test_missing_partnero_signature_is_401(http, workspace):
    answer = http.post(PARTNERO, content=partnero_body(1), headers={"content-type": "application/json"})
    assert answer.status_code == 401 and "Signature" in answer.json()["error"]
    assert count_rows(workspace.database) == 0


def test_expired_timestamp_is_401_even_with_a_correct_signature(http, workspace):
    answer = post_dodo(http, dodo_body(1), timestamp=minutes_ago(6))
    assert answer.status_code == 401 and "5 minutes" in answer.json()["error"]
    answer = post_dodo(http, dodo_body(1), timestamp=minutes_ago(-6))
    assert answer.status_code == 401
    assert count_rows(workspace.database) == 0


def test_a_source_without_a_secret_refuses_with_503_and_stores_nothing(http, workspace, monkeypatch):
    monkeypatch.delenv("PARTNERO_WEBHOOK_SECRET")
    answer = post_partnero(http, partnero_body(1))
    assert answer.status_code == 503
    assert "PARTNERO_WEBHOOK_SECRET" in answer.json()["error"] and "Connection page" in answer.json()["error"]
    assert count_rows(workspace.database) == 0


# --- duplicates ------------------------------------------------------------------------------------------------------


def test_replayed_webhook_id_is_2xx_and_stored_once(http, workspace):
    body = dodo_body(1)
    first = post_dodo(http, body, "msg_same")
    again = post_dodo(http, body, "msg_same")  # Dodo's retry: same id, new timestamp and signature
    assert (first.status_code, again.status_code) == (200, 200)
    assert count_rows(workspace.database) == 1


def test_same_partnero_body_twice_is_stored_once_and_different_bodies_twice(http, workspace):
    assert post_partnero(http, partnero_body(1)).status_code == 200
    assert post_partnero(http, partnero_body(1)).status_code == 200
    assert post_partnero(http, partnero_body(2)).status_code == 200
    assert count_rows(workspace.database) == 2


def test_concurrent_duplicates_are_stored_once(server, workspace):
    import concurrent.futures

    from tests.webhooks.helpers import ClientPerThread

    body = dodo_body(5)
    with concurrent.futures.ThreadPoolExecutor(8) as pool, ClientPerThread(base_url=server) as clients:
        codes = list(pool.map(lambda _: post_dodo(clients.get(), body, "msg_race").status_code, range(16)))
    assert codes == [200] * 16
    assert count_rows(workspace.database) == 1


# --- secrets: rotation, environment, Connection page ---------------------------------------------------------------


def test_rotated_secret_with_two_signatures(http, workspace, monkeypatch):
    body = dodo_body(1)
    both = (DODO_SECRET, DODO_SECRET_NEXT)
    assert post_dodo(http, body, "msg_rot_1", secrets=both).status_code == 200  # receiver still on the old one
    monkeypatch.setenv("DODO_PAYMENTS_WEBHOOK_KEY", DODO_SECRET_NEXT)  # the receiver moves to the new one
    assert post_dodo(http, dodo_body(2), "msg_rot_2", secrets=both).status_code == 200
    assert post_dodo(http, dodo_body(3), "msg_rot_3", secrets=(DODO_SECRET_NEXT,)).status_code == 200
    assert post_dodo(http, dodo_body(4), "msg_rot_4", secrets=(DODO_SECRET,)).status_code == 401
    assert count_rows(workspace.database) == 3


def test_secret_set_on_the_connection_page_is_used_and_the_environment_wins(http, workspace, monkeypatch):
    monkeypatch.delenv("PARTNERO_WEBHOOK_SECRET")
    workspace.set_webhook_secret("partnero", PARTNERO_SECRET_NEXT)  # what the Connection page does
    assert post_partnero(http, partnero_body(1), secret=PARTNERO_SECRET_NEXT).status_code == 200
    monkeypatch.setenv(
        "SYNC_STUDIO_SECRET_GRACE_HOURS", "0"
    )  # the grace period: tests/webhooks/test_secret_rotation.py
    workspace.set_webhook_secret("partnero", PARTNERO_SECRET)  # rotated on the page
    assert post_partnero(http, partnero_body(2), secret=PARTNERO_SECRET_NEXT).status_code == 401
    assert post_partnero(http, partnero_body(3), secret=PARTNERO_SECRET).status_code == 200
    monkeypatch.setenv("PARTNERO_WEBHOOK_SECRET", PARTNERO_SECRET_NEXT)  # both set: the environment wins
    assert post_partnero(http, partnero_body(4), secret=PARTNERO_SECRET).status_code == 401
    assert post_partnero(http, partnero_body(5), secret=PARTNERO_SECRET_NEXT).status_code == 200
    assert count_rows(workspace.database) == 3


def test_secrets_never_appear_in_answers_logs_or_history(http, workspace, caplog):
    caplog.set_level(logging.DEBUG)
    texts = []
    for answer in (
        post_dodo(http, dodo_body(1), secrets=(DODO_SECRET_NEXT,)),
        post_dodo(http, b"{not json", "msg_bad"),
        post_dodo(http, dodo_body(2), "msg_ok"),
        post_partnero(http, partnero_body(1), secret="wrong"),
        post_partnero(
            http,
            b"[1, 2",
        ),
        http.get("/healthz"),
    ):
        texts.append(answer.text)
        texts.append(json.dumps(dict(answer.headers)))
    texts.append(caplog.text)
    with workspace.database.engine.connect() as connection:
        texts += [str(row) for row in connection.exec_driver_sql("SELECT * FROM received_event")]
    everything = "\n".join(texts)
    for secret in (
        DODO_SECRET,
        DODO_SECRET.removeprefix("whsec_"),
        DODO_SECRET_NEXT.removeprefix("whsec_"),
        PARTNERO_SECRET,
    ):
        assert secret not in everything


# --- verified but not usable ----------------------------------------------------------------------------------------


def test_malformed_json_after_a_good_signature_is_400_and_recorded_as_rejected(http, workspace):
    answer = post_dodo(http, b'{"type": "payment.succeeded", "data": {', "msg_broken")
    assert answer.status_code == 400 and "not valid JSON" in answer.json()["error"]
    answer = post_partnero(http, b'{"event": "partner.created"}')  # JSON, but no data object
    assert answer.status_code == 400 and "data" in answer.json()["error"]
    stored = rows(workspace.database)
    assert [(row["source"], row["status"]) for row in stored] == [
        ("dodo_payments", "rejected"),
        ("partnero", "rejected"),
    ]
    assert stored[0]["event_id"] == "msg_broken" and "not valid JSON" in stored[0]["reason"]
    assert 'no "data" object' in stored[1]["reason"]
    # Dodo retries a 400: the retry is recorded once
    assert post_dodo(http, b'{"type": "payment.succeeded", "data": {', "msg_broken").status_code == 400
    assert count_rows(workspace.database) == 2


def test_malformed_json_with_a_bad_signature_stores_nothing(http, workspace):
    body = b"{not json"
    headers = dodo_headers(body, msg_id="msg_1", secrets=(DODO_SECRET_NEXT,))
    assert http.post(DODO, content=body, headers=headers).status_code == 401
    assert count_rows(workspace.database) == 0


def test_oversize_body_is_413_and_stores_nothing(http, workspace):
    filler = "x" * (MAX_BODY_BYTES + 10)
    body = json.dumps({"event": "partner.created", "data": {"email": "big@example.com", "note": filler}}).encode()
    answer = post_partnero(http, body)
    assert answer.status_code == 413 and "1 MB" in answer.json()["error"]

    def chunks():  # no Content-Length: the limit is enforced while reading
        for start in range(0, len(body), 64 * 1024):
            yield body[start : start + 64 * 1024]

    answer = http.post(PARTNERO, content=chunks(), headers=partnero_headers(body))
    assert answer.status_code == 413
    assert count_rows(workspace.database) == 0


def test_a_body_just_under_the_limit_is_accepted(http, workspace):
    envelope = {
        "event": "partner.created",
        "data": {"email": "big@example.com", "note": ""},
        "timestamp": "2025-05-07T10:30:00Z",
    }
    room = MAX_BODY_BYTES - len(json.dumps(envelope, separators=(",", ":")))
    envelope["data"]["note"] = "x" * room
    body = json.dumps(envelope, separators=(",", ":")).encode()
    assert len(body) == MAX_BODY_BYTES
    assert post_partnero(http, body).status_code == 200
    assert count_rows(workspace.database, "status = 'pending'") == 1


def test_a_webhook_body_is_parsed_once_on_its_way_to_the_store(http, workspace, monkeypatch):
    parsed = []
    monkeypatch.setattr(body_module, "parse_json", lambda raw: parsed.append(raw) or json.loads(raw))
    body = dodo_body(5)
    assert post_dodo(http, body, "msg_once").status_code == 200
    assert parsed == [body] and count_rows(workspace.database, "status = 'pending'") == 1


def test_unknown_event_type_is_accepted_and_recorded_as_ignored(http, workspace):
    answer = post_dodo(http, dodo_body(1, event_type="payout.teleported"), "msg_unknown")
    assert answer.status_code == 200
    assert answer.json()["recorded_as"] == "ignored"
    answer = post_partnero(http, partnero_body(1, event="reward.invented"))
    assert answer.status_code == 200
    stored = rows(workspace.database)
    assert [row["status"] for row in stored] == ["ignored", "ignored"]
    assert "'payout.teleported' is not a known Dodo Payments event type" in stored[0]["reason"]
    assert stored[1]["event_type"] == "reward.invented"


def test_an_unknown_type_named_in_a_trigger_waits_to_be_synced(http, workspace):
    from sync_core.domain.config import Trigger
    from sync_core.domain.presets import load_preset

    config = load_preset("dodo-payments")
    config.triggers.append(Trigger(name="Custom", source="dodo_payments", event_types=["payout.teleported"]))
    workspace.save_config(config)
    assert post_dodo(http, dodo_body(1, event_type="payout.teleported"), "msg_named").status_code == 200
    assert [row["status"] for row in rows(workspace.database)] == ["pending"]


# --- the other routes and methods -----------------------------------------------------------------------------------


def test_get_on_a_webhook_url_says_to_use_post(http):
    answer = http.get(DODO)
    assert answer.status_code == 405 and "POST" in answer.json()["error"]


def test_health_and_ping(http, workspace):
    assert http.get("/webhooks/ping").status_code == 200
    assert http.post("/webhooks/ping", content=b"anything").status_code == 200
    post_dodo(http, dodo_body(1), "msg_h")
    health = http.get("/healthz")
    assert health.status_code == 200
    assert health.json() == {
        "status": "ok",
        "waiting": 1,
        "oldest_waiting_seconds": health.json()["oldest_waiting_seconds"],
        "last_synced_at": None,
        "worker_alive": False,
        "worker_mode": None,
        "worker_started_here": None,
    }
    assert 0 <= health.json()["oldest_waiting_seconds"] < 5


# --- storage failures and deadlines -----------------------------------------------------------------------------------


def test_a_database_failure_is_503_with_a_plain_reason(http, workspace, monkeypatch):
    def broken(self, events):
        raise RuntimeError("disk I/O error at /secret/path")

    monkeypatch.setattr(EventStore, "add_many", broken)
    answer = post_dodo(http, dodo_body(1))
    assert answer.status_code == 503
    assert answer.json()["error"].startswith("the event could not be stored") and "/secret" not in answer.text


def test_a_slow_commit_is_answered_503_within_the_deadline_and_the_retry_is_not_stored_twice(
    workspace, monkeypatch, secrets_in_env
):
    import threading

    import httpx
    from starlette.applications import Starlette

    from sync_core.live import LiveSync
    from tests.webhooks.helpers import serve_app

    original = EventStore.add_many
    release = threading.Event()  # the commit is held until the test has its answer: no race with the clock

    def slow_add_many(self, events):
        release.wait(30)
        return original(self, events)

    monkeypatch.setattr(EventStore, "add_many", slow_add_many)
    live = LiveSync(lambda: workspace, worker=False, ttl=0, store_timeout=0.2)
    with (
        serve_app(Starlette(routes=live.routes(), lifespan=live.lifespan)) as url,
        httpx.Client(base_url=url, timeout=10) as http,
    ):
        body = dodo_body(1)
        answer = post_dodo(http, body, "msg_slow")  # answered while the commit is still held back
        assert answer.status_code == 503, answer.text
        assert "send it again" in answer.json()["error"]
        assert count_rows(workspace.database) == 0
        release.set()  # the slow commit lands after the answer
        deadline = time.monotonic() + 30
        while count_rows(workspace.database) == 0:
            assert time.monotonic() < deadline, "the held-back commit never landed"
            time.sleep(0.05)
        assert post_dodo(http, body, "msg_slow").status_code == 200  # the sender's retry
    assert count_rows(workspace.database) == 1


def test_an_unreadable_database_is_503_for_health_and_webhooks(http, workspace, monkeypatch):
    import sync_core.live.routes as routes
    from sync_core.engine.workspace import Workspace

    def unreadable(*args, **kwargs):
        raise RuntimeError("could not connect to server at 10.0.0.5")

    monkeypatch.setattr(routes, "queue_status", unreadable)
    answer = http.get("/healthz")
    assert answer.status_code == 503 and answer.json()["error"] == "the database cannot be read"
    monkeypatch.setattr(Workspace, "webhook_secrets", unreadable)
    answer = post_dodo(http, dodo_body(1))
    assert answer.status_code == 503 and "cannot be read" in answer.json()["error"] and "10.0.0.5" not in answer.text
    assert count_rows(workspace.database) == 0
