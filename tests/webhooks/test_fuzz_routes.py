"""Thousands of validly signed generated bodies sent to the routes (in process): every answer is 2xx or 4xx.

The bodies are the core's generated ones (tests/core/test_totality.py: deep nesting, huge numbers, NaN, lone
surrogates, wrong types) plus bytes that are not UTF-8, signed as each sender signs.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import time

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from starlette.applications import Starlette
from starlette.testclient import TestClient

from sync_core.live import LiveSync
from tests.core.test_totality import bodies
from tests.webhooks.helpers import DODO_SECRET, partnero_headers

pytestmark = pytest.mark.usefixtures("secrets_in_env")
KEY = base64.b64decode(DODO_SECRET.removeprefix("whsec_"))


def dodo_bytes_headers(body: bytes, msg_id: str) -> dict[str, str]:
    """Standard Webhooks over the raw bytes (the specification's definition, for bodies of any encoding)."""
    stamp = str(int(time.time()))
    digest = hmac.new(KEY, f"{msg_id}.{stamp}.".encode() + body, hashlib.sha256).digest()
    return {
        "webhook-id": msg_id,
        "webhook-timestamp": stamp,
        "webhook-signature": "v1," + base64.b64encode(digest).decode(),
    }


@st.composite
def signed_bodies(draw) -> bytes:
    raw, _ = draw(bodies())
    if isinstance(raw, dict):
        raw = json.dumps(raw).encode("utf-8", "surrogatepass")
    if draw(st.integers(min_value=0, max_value=9)) == 0:
        raw = raw.replace(b'"', b'"\xff', 1)  # not UTF-8
    return raw


def test_thousands_of_signed_bodies_get_no_5xx(workspace):
    live = LiveSync(lambda: workspace, worker=False, ttl=60)
    answers: dict[int, int] = {}
    with TestClient(Starlette(routes=live.routes(), lifespan=live.lifespan)) as client:
        counter = iter(range(10**9))

        @settings(
            max_examples=1500,
            suppress_health_check=[
                HealthCheck.too_slow,
                HealthCheck.data_too_large,
                HealthCheck.function_scoped_fixture,
            ],
        )
        @given(signed_bodies(), st.booleans())
        def send(raw: bytes, to_dodo: bool) -> None:
            msg_id = f"msg_{next(counter)}"
            for _ in range(3):
                if to_dodo:
                    answer = client.post(
                        "/webhooks/dodo-payments", content=raw, headers=dodo_bytes_headers(raw, msg_id)
                    )
                else:
                    answer = client.post("/webhooks/partnero", content=raw, headers=partnero_headers(raw))
                # A store slower than the route's deadline (a loaded machine) is answered 503 "send it again",
                # as a sender does: that is the machine, not the input. Any other 5xx, or one that a retry does not
                # cure, fails below.
                if not (answer.status_code == 503 and "send it again" in answer.text):
                    break
            answers[answer.status_code] = answers.get(answer.status_code, 0) + 1
            assert answer.status_code < 500, (answer.status_code, answer.text, raw[:300])
            assert answer.status_code != 401, answer.text  # every body is validly signed
            assert isinstance(answer.json(), dict)

        send()
    assert sum(answers.values()) >= 1500
    assert answers.get(200, 0) > 0 and answers.get(400, 0) > 0, answers


@st.composite
def mailerlite_bodies(draw) -> bytes:
    """Generated values as a whole body, as a batch's events, or inside the single shape of each event name."""
    from sync_core.domain.sources.mailerlite import MAILERLITE_EVENT_TYPES

    value, _ = draw(bodies())
    if isinstance(value, bytes):
        return value
    name = draw(st.sampled_from([*MAILERLITE_EVENT_TYPES, "campaign.sent", ""]))
    shape = draw(st.integers(min_value=0, max_value=3))
    if shape == 1:
        value = {"events": [value, {"type": name, "data": {"subscriber": value}}]}
    elif shape == 2:
        value = {"event": name, **value} if isinstance(value, dict) else {"event": name, "email": value}
    elif shape == 3:
        value = {"type": name, "data": {"subscriber": value, "group": value}}
    try:
        return json.dumps(value).encode("utf-8", "surrogatepass")
    except (TypeError, ValueError):
        return repr(value).encode("utf-8", "surrogatepass")


def test_signed_mailerlite_bodies_get_no_5xx(workspace, monkeypatch):
    from tests.webhooks.mailerlite_helpers import MAILERLITE_SECRET, signed

    monkeypatch.setenv("MAILERLITE_WEBHOOK_SECRET", MAILERLITE_SECRET)
    live = LiveSync(lambda: workspace, worker=False, ttl=60)
    answers: dict[int, int] = {}
    with TestClient(Starlette(routes=live.routes(), lifespan=live.lifespan)) as client:

        @settings(
            max_examples=500,
            suppress_health_check=[
                HealthCheck.too_slow,
                HealthCheck.data_too_large,
                HealthCheck.function_scoped_fixture,
            ],
        )
        @given(mailerlite_bodies())
        def send(raw: bytes) -> None:
            answer = client.post("/webhooks/mailerlite", content=raw, headers=signed(raw))
            answers[answer.status_code] = answers.get(answer.status_code, 0) + 1
            assert answer.status_code < 500, (answer.status_code, answer.text, raw[:300])
            assert answer.status_code != 401, answer.text
            assert isinstance(answer.json(), dict)

        send()
    assert answers.get(400, 0) > 0, answers
