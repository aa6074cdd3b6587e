"""The core is total: any body, however odd, becomes planned operations that can be sent, or a recorded
rejection with a reason. Never an exception, never a value ``json.dumps(..., allow_nan=False)`` or UTF-8 refuses.

The poison events of issue 10 first (each was accepted, then failed every worker run in the JSON encoder), then
hypothesis over generated bodies: deep nesting, huge numbers, NaN and infinities, lone surrogates, wrong types.
"""

from __future__ import annotations

import json
import random
from datetime import UTC, datetime

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from sync_core.domain.events import NormalizedEvent, RejectedInput, parse_timestamp
from sync_core.domain.planning import Planner
from sync_core.domain.presets import load_preset
from sync_core.domain.sources import normalize_input
from sync_core.domain.sources.body import MAX_DEPTH

NOW = datetime(2026, 1, 1, 12, 0, tzinfo=UTC)
PLANNERS = {"partnero": Planner(load_preset("partnero")), "dodo_payments": Planner(load_preset("dodo-payments"))}


def partnero(**data) -> dict:
    return {
        "event": "partner.created",
        "created_at": "2025-05-07T10:30:00Z",
        "data": {"id": "p1", "key": "p1", "email": "ada@example.com", "name": "Ada", "status": "active", **data},
    }


def sendable(plan) -> None:
    for operation in plan.operations():
        json.dumps(operation.as_request(), allow_nan=False).encode("utf-8")
        json.dumps(operation.as_request(), allow_nan=False, ensure_ascii=False).encode("utf-8")


def outcome(raw: bytes | str | dict, source: str | None):
    """normalize → evaluate → plan, as the run does; the plan's operations must be sendable."""
    item = normalize_input(raw, source, received_at=NOW)
    if isinstance(item, RejectedInput):
        assert item.reason and isinstance(item.reason, str)
        return item
    assert isinstance(item, NormalizedEvent)
    plan = PLANNERS.get(item.source, PLANNERS["partnero"]).plan([item], now=NOW)
    sendable(plan)
    for skipped in plan.skipped:
        assert skipped.reason
    return plan


POISON = {
    "NaN": (
        json.dumps(partnero(total_sales=0)).replace('"total_sales": 0', '"total_sales": NaN'),
        "(NaN) at data.total_sales",
    ),
    "1e400": (
        json.dumps(partnero(total_sales=0)).replace('"total_sales": 0', '"total_sales": 1e400'),
        "at data.total_sales",
    ),
    "-Infinity": (
        json.dumps(partnero(total_sales=0)).replace('"total_sales": 0', '"total_sales": -Infinity'),
        "at data.total_sales",
    ),
    "lone surrogate": (json.dumps(partnero(name="Ada \ud800")), "lone surrogate) at data.name"),
    "4,301 digits": (
        json.dumps(partnero(status=0)).replace('"status": 0', '"status": ' + "7" * 4301),
        "4,301 digits) at data.status",
    ),
    "1,025 deep": ('{"event": "partner.created", "data": ' + "[" * 1025 + "]" * 1025 + "}", "nested more than"),
    "200 deep": ('{"event": "partner.created", "data": ' + "[" * 200 + "]" * 200 + "}", "nested more than"),
}


@pytest.mark.parametrize("name", POISON)
def test_a_value_that_cannot_be_sent_rejects_the_body_with_a_reason_naming_it(name):
    text, reason = POISON[name]
    item = outcome(text.encode("utf-8"), "partnero")
    assert isinstance(item, RejectedInput), item
    assert reason in item.reason and item.reason.startswith("the body ")


def test_the_same_values_in_an_already_decoded_event_are_rejected_too():
    assert "(nan) at data.total_sales" in outcome(partnero(total_sales=float("nan")), "partnero").reason
    assert "lone surrogate" in outcome(partnero(name="Ada \udfff"), "partnero").reason
    assert isinstance(outcome(partnero(total_sales=10**4000), "partnero"), RejectedInput)


def test_as_text_with_a_lone_surrogate_is_rejected_not_raised():
    assert "lone surrogate" in outcome(json.dumps(partnero(name="Ada \ud800"), ensure_ascii=False), "partnero").reason


def test_nesting_within_the_limit_is_accepted():
    item = normalize_input(json.dumps(partnero(deep=[[[[["ok"]]]]], more={"a": {"b": {"c": 1}}})), "partnero")
    assert isinstance(item, NormalizedEvent)
    ok = normalize_input(
        '{"event": "partner.created", "data": {"email": "a@example.com", "x": '
        + "[" * (MAX_DEPTH - 2)
        + "]" * (MAX_DEPTH - 2)
        + "}}",
        "partnero",
        received_at=NOW,
    )
    assert isinstance(ok, NormalizedEvent)


@pytest.mark.parametrize("moment", ["0001-01-01T00:00:00+01:00", "9999-12-31T23:59:59-01:00"])
def test_a_date_beyond_the_calendar_in_utc_is_a_field_problem(moment):
    assert parse_timestamp(moment) is None
    body = {
        "business_id": "biz",
        "type": "subscription.cancelled",
        "timestamp": "2025-08-04T05:30:45Z",
        "data": {
            "customer": {"email": "ada@example.com", "name": "Ada"},
            "subscription_id": "sub_1",
            "cancelled_at": moment,
        },
    }
    plan = outcome(json.dumps(body).encode(), "dodo_payments")
    assert not plan.operations()
    [skipped] = plan.skipped
    assert "cancellation_date" in skipped.reason and "between the years 1 and 9999" in skipped.reason


def test_the_event_time_itself_beyond_the_calendar_rejects_the_event():
    body = {
        "type": "payment.succeeded",
        "timestamp": "0001-01-01T00:00:00+01:00",
        "data": {"customer": {"email": "a@example.com"}},
    }
    item = normalize_input(json.dumps(body), "dodo_payments")
    assert isinstance(item, RejectedInput) and "timestamp" in item.reason


# --- any body ------------------------------------------------------------------------------------------------------

ODD_TEXT = st.one_of(
    st.text(max_size=20),
    st.sampled_from(
        [
            "Ada \ud800",
            "\udfff",
            "\x00",
            "e\u0301",
            "\u202e",
            "🙂",
            "  ",
            "2025-08-04T05:30:45Z",
            "0001-01-01T00:00:00+01:00",
            "9999-12-31T23:59:59-01:00",
            "1e400",
            "NaN",
            "9" * 400,
            "-0",
        ]
    ),
)
NUMBERS = st.one_of(
    st.integers(),
    st.integers(min_value=-(10**400), max_value=10**400),
    st.floats(allow_nan=True, allow_infinity=True),
)
NUMBER_TOKENS = st.one_of(
    st.sampled_from(["NaN", "Infinity", "-Infinity", "1e400", "-1e999", "1e-400", "0.0e0"]),
    st.integers(min_value=1, max_value=6000).map(lambda n: "9" * n),
)
LEAVES = st.one_of(st.none(), st.booleans(), NUMBERS, ODD_TEXT)
VALUES = st.recursive(
    LEAVES,
    lambda children: st.one_of(st.lists(children, max_size=4), st.dictionaries(ODD_TEXT, children, max_size=4)),
    max_leaves=20,
)
FIELDS = st.sampled_from(
    [
        "email",
        "name",
        "surname",
        "status",
        "total_sales",
        "total_earned",
        "key",
        "id",
        "customer",
        "cancelled_at",
        "total_amount",
        "created_at",
        "tier",
        "custom_fields",
        "partner",
    ]
)


@st.composite
def bodies(draw) -> tuple[bytes | dict, str | None]:
    """An envelope that looks like a source's (so that it reaches mapping and planning), with odd values."""
    source = draw(st.sampled_from(["partnero", "dodo_payments", None, "records"]))
    data = draw(st.dictionaries(FIELDS, VALUES, max_size=8))
    if draw(st.booleans()):
        data["email"] = draw(st.sampled_from(["ada@example.com", "ADA@Example.com ", "not an email", 7, None]))
    if draw(st.booleans()):
        data["customer"] = {"email": "ada@example.com", "name": draw(ODD_TEXT)}
    type_key = "event" if source == "partnero" else "type"
    event_type = draw(
        st.one_of(
            st.sampled_from(
                [
                    "partner.created",
                    "customer.created",
                    "payment.succeeded",
                    "subscription.cancelled",
                    "partner.updated",
                ]
            ),
            ODD_TEXT,
            NUMBERS,
        )
    )
    envelope = {
        type_key: event_type,
        "data": data,
        draw(st.sampled_from(["timestamp", "created_at"])): draw(st.one_of(ODD_TEXT, NUMBERS)),
    }
    if source == "records":
        envelope = data
    how = draw(st.sampled_from(["dict", "ascii", "utf8", "tokens", "deep"]))
    if how == "dict":
        return envelope, source
    text = json.dumps(envelope, ensure_ascii=how != "utf8")
    if how == "tokens":
        text = text.replace("null", draw(NUMBER_TOKENS), 1).replace("true", draw(NUMBER_TOKENS), 1)
    if how == "deep":
        depth = draw(st.integers(min_value=1, max_value=1100))
        text = text[:-1] + ', "deep": ' + "[" * depth + "]" * depth + "}"
    return text.encode("utf-8", "surrogatepass"), source


@settings(max_examples=1500, suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
@given(bodies())
def test_any_input_becomes_a_sendable_plan_or_a_rejection_with_a_reason(case):
    raw, source = case
    outcome(raw, source)


def test_random_bytes_are_rejected_or_planned():
    rng = random.Random(10)
    for _ in range(300):
        raw = bytes(rng.randrange(256) for _ in range(rng.randrange(1, 80)))
        outcome(b'{"event": "partner.created", "data": {"email": "a@example.com", "name": "' + raw + b'"}}', "partnero")
