"""Poison from outside (issue 10): validly signed bodies that once were accepted and then stopped every sync, or
answered 500, or failed the other events stored with them. Over HTTP on 127.0.0.1, on SQLite and PostgreSQL.

Each is now answered 4xx (or 2xx) with a plain reason and recorded; the events sent around it go through.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import threading
import time
from datetime import UTC, datetime

import httpx
import pytest

from storage.events import EventStore, NewEvent
from sync_core.domain.presets import load_preset
from sync_core.engine.run import SyncEngine
from sync_core.live.writer import EventWriter
from sync_core.sandbox import SandboxAccount
from tests.engine.conftest import fast_client, import_bytes
from tests.webhooks.helpers import (
    DODO_SECRET,
    count_rows,
    dodo_body,
    dodo_headers,
    partnero_body,
    partnero_headers,
    rows,
)

DODO = "/webhooks/dodo-payments"
PARTNERO = "/webhooks/partnero"
pytestmark = pytest.mark.usefixtures("secrets_in_env")


def replace_value(body: bytes, name: str, token: str) -> bytes:
    """``body`` with the JSON value of ``"name"`` (inside ``data``) replaced by ``token``, as raw JSON text."""
    event = json.loads(body)
    event["data"][name] = "@@TOKEN@@"
    return json.dumps(event).replace('"@@TOKEN@@"', token).encode()


def poison_bodies() -> dict[str, tuple[bytes, str]]:
    """The five poison events of the issue (Partnero bodies), each with what the answer's reason must name."""
    return {
        "NaN": (replace_value(partnero_body(900), "total_sales", "NaN"), "(NaN) at data.total_sales"),
        "1e400": (replace_value(partnero_body(901), "total_sales", "1e400"), "at data.total_sales"),
        "lone surrogate": (replace_value(partnero_body(902), "name", '"Ada \\ud800"'), "surrogate) at data.name"),
        "4,301 digits": (replace_value(partnero_body(903), "status", "7" * 4301), "4,301 digits) at data.status"),
    }


def cancelled_far_back() -> bytes:
    """The fifth: a Dodo subscription.cancelled whose cancelled_at (date transform) is before year 1 in UTC."""
    event = json.loads(dodo_body(904, event_type="subscription.cancelled"))
    event["data"]["cancelled_at"] = "0001-01-01T00:00:00+01:00"
    return json.dumps(event).encode()


@pytest.fixture
def account() -> SandboxAccount:
    return SandboxAccount(limit=10_000, window_seconds=1, import_limit=1000, seed=7)


def post_partnero(http, body: bytes):
    return http.post(PARTNERO, content=body, headers=partnero_headers(body))


def post_dodo(http, body: bytes, msg_id: str):
    return http.post(DODO, content=body, headers=dodo_headers(body, msg_id=msg_id))


@pytest.mark.parametrize("name", list(poison_bodies()))
def test_a_poison_value_is_400_with_its_reason_and_recorded_as_rejected(http, workspace, name):
    body, reason = poison_bodies()[name]
    answer = post_partnero(http, body)
    assert answer.status_code == 400, answer.text
    assert reason in answer.json()["error"]
    [row] = rows(workspace.database)
    assert row["status"] == "rejected" and reason in row["reason"]


def test_poison_never_stops_the_20_events_sent_after_it(http, workspace, account):
    """The issue's scenario, end to end: the poison events, then 20 valid ones, then a worker run."""
    config = load_preset("partnero")
    dodo = load_preset("dodo-payments")
    config.triggers.extend(dodo.triggers)
    workspace.save_config(config, author="test")
    for body, _ in poison_bodies().values():
        assert post_partnero(http, body).status_code == 400
    assert post_dodo(http, cancelled_far_back(), "msg_far_back").status_code == 200
    for n in range(20):
        assert post_partnero(http, partnero_body(n)).status_code == 200
    run = SyncEngine(workspace, client=fast_client(account)).run()
    assert run.status == "finished", run.error
    assert run.created == 20, run
    client = fast_client(account)
    assert client.count_subscribers() == 20
    statuses = {(row["event_id"], row["status"]): row["reason"] for row in rows(workspace.database)}
    assert sum(1 for _, status in statuses if status == "synced") == 20
    [reason] = [reason for (event_id, status), reason in statuses.items() if event_id == "msg_far_back"]
    assert "cancellation_date" in reason and "between the years 1 and 9999" in reason


def test_poison_stored_before_this_fix_is_recorded_by_the_run_and_the_others_sync(workspace, account):
    """Events accepted by an older version wait as pending: the run re-reads them, records why, and goes on."""
    workspace.save_config(load_preset("partnero"), author="test")
    events = EventStore(workspace.database)
    poison = [NewEvent("partnero", f"old-{name}", body) for name, (body, _) in poison_bodies().items()]
    valid = [NewEvent("partnero", f"ok-{n}", partnero_body(n)) for n in range(20)]
    events.add_many([*poison[:2], *valid[:10], *poison[2:], *valid[10:]])
    run = SyncEngine(workspace, client=fast_client(account)).run()
    assert run.status == "finished", run.error
    assert run.created == 20 and fast_client(account).count_subscribers() == 20
    by_id = {row["event_id"]: row for row in rows(workspace.database)}
    for name, (_, reason) in poison_bodies().items():
        assert by_id[f"old-{name}"]["status"] in ("rejected", "invalid")
        assert reason in by_id[f"old-{name}"]["reason"]
    assert again_nothing(workspace, account)


def again_nothing(workspace, account) -> bool:
    run = SyncEngine(workspace, client=fast_client(account)).run()
    return run.status == "finished" and run.requests == 0


# --- bodies that were answered 500 -----------------------------------------------------------------------------------


def deep_partnero() -> bytes:
    return (
        b'{"event": "partner.created", "data": {"email": "deep@example.com", "x": ' + b"[" * 1025 + b"]" * 1025 + b"}}"
    )


@pytest.mark.parametrize(
    "make",
    [
        pytest.param(deep_partnero, id="nested 1,025 deep"),
        pytest.param(lambda: replace_value(partnero_body(1), "status", "7" * 4301), id="4,301 digits"),
        pytest.param(lambda: replace_value(partnero_body(2), "id", "-" + "1" * 5000), id="5,001 digits"),
    ],
)
def test_bodies_once_answered_500_are_400_and_the_next_request_on_the_connection_works(server, workspace, make):
    with httpx.Client(base_url=server, timeout=10) as http:
        bad = post_partnero(http, make())
        assert bad.status_code == 400, bad.text
        assert bad.json()["error"].startswith("the body ")
        good = post_partnero(http, partnero_body(3))  # same kept-alive connection
        assert good.status_code == 200, good.text
    assert count_rows(workspace.database, "status = 'pending'") == 1


@pytest.mark.parametrize("moment", ["0001-01-01T00:00:00+01:00", "9999-12-31T23:59:59-01:00"])
def test_a_timestamp_beyond_the_calendar_is_answered_and_the_connection_kept(server, workspace, moment):
    with httpx.Client(base_url=server, timeout=10) as http:
        event = json.loads(dodo_body(5))
        event["timestamp"] = moment
        answer = post_dodo(http, json.dumps(event).encode(), "msg_far")
        assert answer.status_code < 500, answer.text
        partnero = json.loads(partnero_body(6))
        partnero["created_at"] = moment
        answer = post_partnero(http, json.dumps(partnero).encode())
        assert answer.status_code < 500, answer.text
        assert post_dodo(http, dodo_body(7), "msg_next").status_code == 200


def test_a_signed_dodo_body_that_is_not_utf8_is_400_and_an_unsigned_one_401(http, workspace):
    body = dodo_body(8).replace(b"Buyer Number8", b"Buyer \xff\xfe")
    stamp = str(int(datetime.now(UTC).timestamp()))
    key = base64.b64decode(DODO_SECRET.removeprefix("whsec_"))
    signature = base64.b64encode(hmac.new(key, f"msg_bytes.{stamp}.".encode() + body, hashlib.sha256).digest())
    headers = {"webhook-id": "msg_bytes", "webhook-timestamp": stamp, "webhook-signature": "v1," + signature.decode()}
    answer = http.post(DODO, content=body, headers=headers)
    assert answer.status_code == 400, answer.text
    assert "UTF-8" in answer.json()["error"]
    [row] = rows(workspace.database)
    assert (row["event_id"], row["status"]) == ("msg_bytes", "rejected")
    forged = http.post(DODO, content=body + b" ", headers=headers)
    assert forged.status_code == 401
    assert count_rows(workspace.database) == 1


# --- one bad event among others stored at the same moment --------------------------------------------------------


def test_a_lone_surrogate_in_the_type_fails_no_other_event_sent_at_the_same_time(server, workspace):
    poison = json.dumps({"event": "partner.\ud800", "data": {"email": "odd@example.com"}}).encode()
    answers: list[int] = []
    lock = threading.Lock()

    def send(bodies: list[bytes]) -> None:
        with httpx.Client(base_url=server, timeout=15) as http:
            for body in bodies:
                status = post_partnero(http, body).status_code
                with lock:
                    answers.append(status)

    bodies = [partnero_body(n) for n in range(300)]
    threads = [threading.Thread(target=send, args=([poison] * 5 + bodies[k::6],)) for k in range(6)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(120)
    assert answers.count(200) == 300 and answers.count(400) == 30, sorted(set(answers))
    assert count_rows(workspace.database, "status = 'pending'") == 300


def test_the_writer_stores_the_others_when_the_database_refuses_one_row(workspace):
    """A row the database refuses fails its own request only: the rest of the group commit is stored."""
    events = EventStore(workspace.database)
    writer = EventWriter(events, max_batch=50).start()
    try:
        good = [NewEvent("partnero", f"good-{n}", b"{}", "partner.created") for n in range(20)]
        refused = NewEvent("partnero", "refused", b"{}", occurred_at="not a moment")  # type: ignore[arg-type]
        odd = NewEvent("partnero", "odd-\ud800", b"{}", "partner.\ud800\x00", email="a\udfff@example.com")
        gate = threading.Event()
        writer.submit(NewEvent("partnero", "first", b"{}")).add_done_callback(lambda _: gate.wait(5))
        futures = [writer.submit(event) for event in [*good[:10], refused, odd, *good[10:]]]
        gate.set()
        results = []
        for future in futures:
            try:
                future.result(timeout=30)
                results.append("stored")
            except Exception:  # noqa: BLE001
                results.append("refused")
        assert results == ["stored"] * 10 + ["refused", "stored"] + ["stored"] * 10
    finally:
        writer.stop()
    assert count_rows(workspace.database) == 22
    [odd_row] = [row for row in rows(workspace.database) if row["event_id"].startswith("odd-")]
    assert odd_row["event_type"] == "partner.\ufffd\ufffd" and odd_row["email"] == "a\ufffd@example.com"


def test_many_poison_and_valid_bodies_at_once_are_answered_without_5xx(server, workspace):
    """A quick burst mixing every kind of poison with valid events, several senders at once."""
    kinds = [body for body, _ in poison_bodies().values()] + [deep_partnero()]
    answers: list[int] = []
    lock = threading.Lock()

    def send(k: int) -> None:
        with httpx.Client(base_url=server, timeout=15) as http:
            for n in range(k * 40, k * 40 + 40):
                body = kinds[n % len(kinds)] if n % 4 == 0 else partnero_body(n)
                status = post_partnero(http, body).status_code
                with lock:
                    answers.append(status)

    threads = [threading.Thread(target=send, args=(k,)) for k in range(4)]
    started = time.monotonic()
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(120)
    assert time.monotonic() - started < 120
    assert len(answers) == 160 and max(answers) < 500
    assert answers.count(200) == 120


def test_a_csv_with_a_date_beyond_the_calendar_stores_all_its_rows(workspace):
    """The same date once made ``import`` crash with a traceback, storing 0 of the file's 3 rows."""
    data = (
        b"email,name,updated_at\n"
        b"a@example.com,Ann,0001-01-01T00:00:00+01:00\n"
        b"b@example.com,Bob,9999-12-31T23:59:59-01:00\n"
        b"c@example.com,Cy,2025-05-07T10:30:00Z\n"
    )
    summary = import_bytes(workspace, data)
    assert (summary.read, summary.stored, summary.rejected) == (3, 3, 0)


@pytest.mark.parametrize(
    "body",
    [
        {"event": "partner." + "x" * 400, "data": {"email": "long-type@example.com"}},
        {"event": "partner.created", "data": {"email": "a" * 400 + "@example.com", "name": "Pat"}},
    ],
    ids=["long-type", "long-email"],
)
def test_values_longer_than_their_column_are_stored_on_every_database(http, workspace, body):
    """PostgreSQL refuses text longer than a column (SQLite does not): the event is still answered and kept."""
    answer = post_partnero(http, json.dumps(body).encode())
    assert answer.status_code in (200, 400), answer.text
    assert count_rows(workspace.database) == 1
