"""A rotated signing secret over HTTP on 127.0.0.1: the previous one is accepted during the grace period
(``SYNC_STUDIO_SECRET_GRACE_HOURS``, 24 hours by default) and refused after it; the time is moved by rotating
"in the past" (the workspace's injected clock), never by sleeping."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import httpx
import pytest

from sync_core.engine.workspace import WEBHOOK_SECRET_NAMES
from tests.webhooks.helpers import (
    DODO_SECRET,
    DODO_SECRET_NEXT,
    PARTNERO_SECRET,
    PARTNERO_SECRET_NEXT,
    count_rows,
    dodo_body,
    dodo_headers,
    partnero_body,
    partnero_headers,
)

DODO = "/webhooks/dodo-payments"
PARTNERO = "/webhooks/partnero"


def post_dodo(http: httpx.Client, n: int, secret: str) -> httpx.Response:
    body = dodo_body(n)
    return http.post(DODO, content=body, headers=dodo_headers(body, msg_id=f"msg_rotation_{n}", secrets=(secret,)))


def post_partnero(http: httpx.Client, n: int, secret: str) -> httpx.Response:
    body = partnero_body(n)
    return http.post(PARTNERO, content=body, headers=partnero_headers(body, secret=secret))


@pytest.mark.parametrize(
    "source,post,old,new",
    [
        ("dodo_payments", post_dodo, DODO_SECRET, DODO_SECRET_NEXT),
        ("partnero", post_partnero, PARTNERO_SECRET, PARTNERO_SECRET_NEXT),
    ],
)
def test_the_previous_secret_is_accepted_during_the_grace_period_and_refused_after(
    http, workspace, source, post, old, new
):
    workspace.set_webhook_secret(source, old)
    assert post(http, 1, old).status_code == 200
    workspace.set_webhook_secret(source, new)  # rotated now: the previous one is good for 24 hours
    assert post(http, 2, new).status_code == 200
    answer = post(http, 3, old)
    assert answer.status_code == 200, answer.text  # a sender not updated yet loses nothing
    status = workspace.webhook_secret_status(source)
    assert status.previous_valid_until is not None
    assert timedelta(hours=23) < status.previous_valid_until - datetime.now(UTC) <= timedelta(hours=24)

    workspace.set_webhook_secret(source, old)  # back to the first one, and rotated a day ago
    workspace.set_webhook_secret(source, new, now=datetime.now(UTC) - timedelta(hours=24, minutes=1))
    answer = post(http, 4, old)
    assert answer.status_code == 401 and "does not match" in answer.json()["error"]
    assert post(http, 5, new).status_code == 200
    assert count_rows(workspace.database) == 4
    assert workspace.webhook_secret_status(source).previous_valid_until is None


def test_the_grace_period_is_a_setting_and_zero_refuses_the_previous_secret_at_once(http, workspace, monkeypatch):
    monkeypatch.setenv("SYNC_STUDIO_SECRET_GRACE_HOURS", "2")
    workspace.set_webhook_secret("partnero", PARTNERO_SECRET)
    workspace.set_webhook_secret("partnero", PARTNERO_SECRET_NEXT, now=datetime.now(UTC) - timedelta(hours=1))
    assert post_partnero(http, 1, PARTNERO_SECRET).status_code == 200  # one hour into a two-hour grace
    workspace.set_webhook_secret("partnero", PARTNERO_SECRET, now=datetime.now(UTC) - timedelta(hours=3))
    assert post_partnero(http, 2, PARTNERO_SECRET_NEXT).status_code == 401
    monkeypatch.setenv("SYNC_STUDIO_SECRET_GRACE_HOURS", "0")
    workspace.set_webhook_secret("partnero", PARTNERO_SECRET_NEXT)
    assert post_partnero(http, 3, PARTNERO_SECRET).status_code == 401
    assert post_partnero(http, 4, PARTNERO_SECRET_NEXT).status_code == 200


def test_a_cached_verifier_refuses_the_previous_secret_once_its_time_is_up(workspace):
    """The receiver keeps its verifier for a while (ttl): the end of the grace period is checked per request."""
    from sync_core.live.receiver import Receiver

    workspace.set_webhook_secret("partnero", PARTNERO_SECRET)
    workspace.set_webhook_secret("partnero", PARTNERO_SECRET_NEXT)
    receiver = Receiver(workspace, ttl=3600)
    receiver.refresh("partnero")
    body = partnero_body(1)
    headers = partnero_headers(body, secret=PARTNERO_SECRET)
    assert receiver.decide("partnero", body, headers).status == 200
    later = datetime.now(UTC) + timedelta(hours=25)
    assert receiver.decide("partnero", body, headers, now=later).status == 401
    assert (
        receiver.decide("partnero", body, partnero_headers(body, secret=PARTNERO_SECRET_NEXT), now=later).status == 200
    )


def test_the_environment_secret_alone_is_used_and_removing_a_secret_removes_its_previous_value(workspace, monkeypatch):
    workspace.set_webhook_secret("partnero", PARTNERO_SECRET)
    workspace.set_webhook_secret("partnero", PARTNERO_SECRET_NEXT)
    assert [secret for secret, _ in workspace.webhook_secrets("partnero")] == [PARTNERO_SECRET_NEXT, PARTNERO_SECRET]
    monkeypatch.setenv("PARTNERO_WEBHOOK_SECRET", "from-the-environment")
    assert workspace.webhook_secrets("partnero") == [("from-the-environment", None)]
    monkeypatch.delenv("PARTNERO_WEBHOOK_SECRET")
    workspace.secrets.delete(WEBHOOK_SECRET_NAMES["partnero"])
    assert workspace.webhook_secrets("partnero") == []
    with workspace.database.engine.connect() as connection:
        assert connection.exec_driver_sql("SELECT count(*) FROM secret").scalar() == 0


def test_a_new_api_key_replaces_the_old_one_at_once(workspace):
    workspace.set_api_key("first-key-0123456789")
    workspace.set_api_key("second-key-9876543210")
    stored = workspace.secrets.read("mailerlite_api_key")
    assert stored is not None and stored.value == "second-key-9876543210"
    assert stored.previous is None and stored.previous_valid_until is None
    workspace.clear_api_key()
    assert workspace.api_key() is None and workspace.api_key_status().source is None
