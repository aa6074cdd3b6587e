"""Sources: every official Dodo example, both Partnero envelopes, records files, and bad input of every kind."""

from __future__ import annotations

import io
import json
from datetime import UTC, datetime

import pytest

from sync_core.domain.events import (
    DODO_PAYMENTS,
    MAX_BODY_BYTES,
    PARTNER,
    PARTNERO,
    RECORDS,
    NormalizedEvent,
    RejectedInput,
)
from sync_core.domain.sources import (
    DODO_EVENT_TYPES,
    iter_csv_records,
    iter_jsonl_records,
    normalize_input,
)
from sync_core.domain.sources import body as body_module
from sync_core.domain.sources.body import body_id
from tests.core.builders import partnero_body

RECEIVED = datetime(2026, 1, 1, tzinfo=UTC)


def test_all_21_official_dodo_examples_normalize(dodo_examples):
    assert len(dodo_examples) == 21
    for event_type, example in dodo_examples.items():
        event = normalize_input(json.dumps(example), DODO_PAYMENTS)
        assert isinstance(event, NormalizedEvent), (event_type, event)
        assert event.type == event_type
        assert event.known_type and event_type in DODO_EVENT_TYPES
        assert event.occurred_at == datetime.fromisoformat(example["timestamp"])
        assert event.data["data.payload_type"] == example["data"]["payload_type"]
        if "customer" in example["data"]:
            assert event.email == example["data"]["customer"]["email"].lower()
        else:  # license_key.created carries only a customer_id
            assert event.email is None and "no email address" in event.email_problem


def test_dodo_payment_is_flattened_to_dotted_paths(dodo_examples):
    event = normalize_input(json.dumps(dodo_examples["payment.succeeded"]), DODO_PAYMENTS)
    assert event.data["data.customer.name"] == "Test user"
    assert event.data["data.total_amount"] == 400
    assert event.data["data.billing.country"] == "US"
    assert event.data["data.product_cart.0.product_id"].startswith("pdt_")
    assert event.data["data.disputes"] == []
    assert event.data["data.discount_id"] is None and "data.discount_id" in event.data
    assert event.lookup("event.type") == "payment.succeeded"


def test_dodo_id_is_webhook_id_header_else_stable_body_hash(dodo_examples):
    body = json.dumps(dodo_examples["refund.succeeded"])
    with_header = normalize_input(body, DODO_PAYMENTS, headers={"Webhook-Id": "msg_2KWPBgLlAfxdpx2AI54pPJ85f4W"})
    assert with_header.id == "msg_2KWPBgLlAfxdpx2AI54pPJ85f4W"
    assert normalize_input(body, DODO_PAYMENTS).id == normalize_input(body.encode(), DODO_PAYMENTS).id
    assert normalize_input(body, DODO_PAYMENTS).id != normalize_input(body + " ", DODO_PAYMENTS).id


def test_dodo_email_is_trimmed_and_lower_cased(dodo_examples):
    example = json.loads(json.dumps(dodo_examples["payment.succeeded"]))
    example["data"]["customer"]["email"] = "  Test.User@ACME.com "
    assert normalize_input(json.dumps(example), DODO_PAYMENTS).email == "test.user@acme.com"


def test_unknown_dodo_event_type_is_kept_and_marked_unknown(dodo_examples):
    example = dict(dodo_examples["payment.succeeded"], type="payment.teleported")
    event = normalize_input(json.dumps(example), DODO_PAYMENTS)
    assert isinstance(event, NormalizedEvent)
    assert event.type == "payment.teleported" and not event.known_type


@pytest.mark.parametrize("old_envelope", [False, True])
def test_partnero_both_envelope_versions(old_envelope):
    data = {
        "id": "partner_123",
        "email": "John.Doe@Partnero.com",
        "name": "John",
        "surname": "Doe",
        "created_at": "2025-05-07T10:30:00.000000Z",
    }
    event = normalize_input(
        partnero_body("partner.created", data, "2025-05-07T10:30:00Z", old_envelope=old_envelope), PARTNERO
    )
    assert isinstance(event, NormalizedEvent)
    assert (event.source, event.type, event.kind) == ("partnero", "partner.created", "partner")
    assert event.email == "john.doe@partnero.com"
    assert event.occurred_at == datetime(2025, 5, 7, 10, 30, tzinfo=UTC)
    assert event.data["data.surname"] == "Doe"
    assert event.id.startswith("sha256:")


def test_partnero_documented_example_body():
    body = (
        '{"event":"partner.created","url":"https://your-server.com/webhooks/partnero","webhook_key":"wh_abc123",'
        '"created_at":"2025-05-07T10:30:00.000000Z","data":{"id":"partner_123","email":"john.doe@partnero.com",'
        '"name":"John","surname":"Doe","created_at":"2025-05-07T10:30:00.000000Z"}}'
    )
    event = normalize_input(body)
    assert event.source == "partnero" and event.email == "john.doe@partnero.com"


@pytest.mark.parametrize(
    "event_type,kind",
    [
        ("customer.created", "customer"),
        ("transaction.created", "customer"),
        ("partner.archived", "partner"),
        ("lead.submitted", "lead"),
    ],
)
def test_partnero_kind_follows_event_family(event_type, kind):
    event = normalize_input(partnero_body(event_type, {"email": "a@example.com"}), PARTNERO)
    assert event.kind == kind and event.known_type


def test_webhook_source_is_detected_from_shape_and_headers(dodo_examples):
    dodo_body = json.dumps(dodo_examples["payment.succeeded"])
    assert normalize_input(dodo_body).source == "dodo_payments"
    assert normalize_input(partnero_body("customer.created", {"email": "a@example.com"})).source == "partnero"
    neither = normalize_input('{"hello": "world"}')
    assert isinstance(neither, RejectedInput) and "cannot tell the source" in neither.reason


# --- bad input: each gives a reason, nothing raises ------------------------------------------------------------


@pytest.mark.parametrize(
    "body,reason",
    [
        (b'{"type": "payment.succeeded", "data": {', "not valid JSON"),
        (b"\xff\xfe not utf-8", "not valid JSON"),
        (b"[1, 2, 3]", "should be a JSON object, not a JSON array"),
        (b'"just text"', "not a JSON string"),
        (b'{"data": {}}', 'has no "type"'),
        (b'{"type": "payment.succeeded", "data": []}', 'has no "data" object'),
        (b'{"type": "payment.succeeded", "timestamp": "yesterday", "data": {}}', 'no valid "timestamp"'),
    ],
)
def test_malformed_dodo_bodies_are_rejected_with_a_reason(body, reason):
    result = normalize_input(body, DODO_PAYMENTS)
    assert isinstance(result, RejectedInput)
    assert reason in result.reason
    assert result.id is not None  # a rejected body can still be recorded and found again


def test_ten_megabyte_body_is_rejected_without_parsing():
    body = b'{"type":"payment.succeeded","data":{"x":"' + b"a" * (10 * 1024 * 1024) + b'"}}'
    result = normalize_input(body, DODO_PAYMENTS)
    assert isinstance(result, RejectedInput)
    assert "10.0 MB" in result.reason and "limit is 1 MB" in result.reason
    assert len(body) > MAX_BODY_BYTES


@pytest.mark.parametrize(
    "email,problem",
    [
        (None, "no email address"),
        ("", "no email address"),
        ("not-an-email", "not a valid email address"),
        ("a@b", "not a valid email address"),
        (12345, "should be text"),
    ],
)
def test_missing_or_invalid_email_is_a_problem_on_the_event(dodo_examples, email, problem):
    example = json.loads(json.dumps(dodo_examples["payment.succeeded"]))
    example["data"]["customer"]["email"] = email
    event = normalize_input(json.dumps(example), DODO_PAYMENTS)
    assert isinstance(event, NormalizedEvent)
    assert event.email is None and problem in event.email_problem


def test_partnero_missing_event_name_is_rejected():
    result = normalize_input('{"data": {"email": "a@example.com"}}', PARTNERO)
    assert isinstance(result, RejectedInput) and 'no "event" name' in result.reason


# --- records -------------------------------------------------------------------------------------------------

PARTNERS_CSV = """Email,Name,Surname,Key,Status,Total Sales
ada@example.com,Ada,Lovelace,ada1,active,3
  GRACE@Example.com ,Grace,Hopper,grace1,inactive,0
"""


def test_csv_partners_become_partner_imported_events():
    events = list(iter_csv_records(io.StringIO(PARTNERS_CSV), received_at=RECEIVED))
    assert [type(e) for e in events] == [NormalizedEvent, NormalizedEvent]
    ada, grace = events
    assert (ada.source, ada.type, ada.kind) == ("records", "partner.imported", "partner")
    assert ada.data["data.total_sales"] == "3" and ada.data["data.name"] == "Ada"
    assert grace.email == "grace@example.com"
    assert ada.id.startswith("partner:ada1:") and ada.occurred_at == RECEIVED


def test_csv_record_id_is_stable_and_changes_with_content():
    first = list(iter_csv_records(io.StringIO(PARTNERS_CSV), received_at=RECEIVED))
    again = list(iter_csv_records(io.StringIO(PARTNERS_CSV), received_at=RECEIVED))
    changed = list(iter_csv_records(io.StringIO(PARTNERS_CSV.replace(",3\n", ",4\n")), received_at=RECEIVED))
    assert [e.id for e in first] == [e.id for e in again]
    assert first[0].id != changed[0].id and first[1].id == changed[1].id


def test_csv_customers_are_recognized_by_their_partner_column():
    text = "email,name,partner,key,updated_at\nbob@example.com,Bob,partner_123,c1,2025-06-01T00:00:00Z\n"
    (event,) = iter_csv_records(io.StringIO(text))
    assert event.kind == "customer" and event.type == "customer.imported"
    assert event.occurred_at == datetime(2025, 6, 1, tzinfo=UTC)


def test_csv_bad_rows_are_reported_by_number_and_the_rest_goes_through():
    text = (
        "email,name,key\n"
        "a@example.com,A,k1\n"
        "b@example.com,B\n"
        "c@example.com,C,k3,extra\n"
        "not-an-email,D,k4\n"
        "\n"
        "e@example.com,E,k5\n"
    )
    items = list(iter_csv_records(io.StringIO(text), kind="partner"))
    rejected = [i for i in items if isinstance(i, RejectedInput)]
    events = [i for i in items if isinstance(i, NormalizedEvent)]
    assert [r.position for r in rejected] == ["row 3", "row 4"]
    assert "too few values: the row has 2 but the header names 3 columns" in rejected[0].reason
    assert "too many values" in rejected[1].reason
    assert [e.data["data.key"] for e in events] == ["k1", "k4", "k5"]
    assert events[1].email is None and "row 5" in events[1].email_problem


@pytest.mark.parametrize(
    "text,reason",
    [
        ("", "the file is empty"),
        ("name,key\nA,k1\n", "no column holds email addresses; choose which one does"),
        ("email,name,name\n", "more than once: name"),
    ],
)
def test_csv_header_problems_reject_the_file(text, reason):
    (item,) = list(iter_csv_records(io.StringIO(text)))
    assert isinstance(item, RejectedInput) and reason in item.reason


def test_csv_is_read_as_a_stream():
    def lines():
        yield "email,key\n"
        for n in range(5):
            yield f"user{n}@example.com,k{n}\n"
        raise AssertionError("read past what was asked")

    stream = iter_csv_records(lines(), kind="partner")
    assert [next(stream).email for _ in range(5)] == [f"user{n}@example.com" for n in range(5)]


def test_jsonl_records_keep_nesting_and_report_bad_lines():
    text = (
        '{"email": "ada@example.com", "name": "Ada", "referrals": {"sales_count": 3}}\n'
        '{"email": "bob@example.com", "partner": {"key": "partner_123"}}\n'
        "{not json}\n"
        "[1, 2]\n"
    )
    items = list(iter_jsonl_records(io.StringIO(text)))
    assert items[0].data["data.referrals.sales_count"] == 3 and items[0].kind == "partner"
    assert items[1].kind == "customer" and items[1].data["data.partner.key"] == "partner_123"
    assert isinstance(items[2], RejectedInput) and items[2].position == "line 3"
    assert "not valid JSON" in items[2].reason
    assert isinstance(items[3], RejectedInput) and "one JSON object" in items[3].reason


# --- one way in: normalize_input ------------------------------------------------------------------------------


def test_a_record_reads_the_same_as_text_bytes_or_decoded_object():
    record = {"email": "ada@example.com", "key": "ada1", "referrals": {"sales_count": 3}}
    text = json.dumps(record)
    as_text = normalize_input(text, RECORDS, received_at=RECEIVED, position="pasted")
    assert isinstance(as_text, NormalizedEvent)
    assert as_text == normalize_input(text.encode(), RECORDS, received_at=RECEIVED)
    assert as_text == normalize_input(record, RECORDS, received_at=RECEIVED)
    assert as_text.kind == "partner" and as_text.data["data.referrals.sales_count"] == 3
    customer = normalize_input({"email": "bob@example.com", "referred_by": "ada1"}, RECORDS, received_at=RECEIVED)
    assert customer.kind == "customer"  # guessed from its columns when not given
    chosen = normalize_input({"email": "bob@example.com", "referred_by": "ada1"}, RECORDS, kind=PARTNER)
    assert chosen.kind == "partner"


def test_a_record_that_cannot_be_read_says_why_and_where():
    broken = normalize_input("{nope", RECORDS, position="line 4")
    assert isinstance(broken, RejectedInput) and broken.position == "line 4"
    assert "the record is not valid JSON" in broken.reason
    listed = normalize_input("[1, 2]", RECORDS)
    assert isinstance(listed, RejectedInput) and "a record should be one JSON object" in listed.reason
    wrong_kind = normalize_input({"email": "a@example.com"}, RECORDS, kind="reseller")
    assert isinstance(wrong_kind, RejectedInput) and "partner or customer" in wrong_kind.reason
    unknown = normalize_input(b"{}", "mailchimp")
    assert isinstance(unknown, RejectedInput) and "unknown source 'mailchimp'" in unknown.reason


def test_the_id_the_input_is_known_by_wins(dodo_examples):
    body = json.dumps(dodo_examples["payment.succeeded"])
    assert normalize_input(body, DODO_PAYMENTS, event_id="stored-7").id == "stored-7"
    assert normalize_input({"email": "a@example.com"}, RECORDS, event_id="stored-8").id == "stored-8"
    rejected = normalize_input("{nope", RECORDS, event_id="stored-9")
    assert isinstance(rejected, RejectedInput) and rejected.id == "stored-9"


def test_a_decoded_envelope_reads_as_its_raw_bytes(dodo_examples):
    raw = json.dumps(dodo_examples["subscription.active"]).encode()
    from_bytes = normalize_input(raw, received_at=RECEIVED)
    decoded = normalize_input(json.loads(raw), DODO_PAYMENTS, event_id=body_id(raw), received_at=RECEIVED)
    assert isinstance(from_bytes, NormalizedEvent) and from_bytes == decoded


def test_a_rejected_dodo_body_keeps_its_webhook_id_so_retries_are_one_row():
    rejected = normalize_input(b"{nope", DODO_PAYMENTS, headers={"webhook-id": "msg_broken"})
    assert isinstance(rejected, RejectedInput) and rejected.id == "msg_broken"
    assert normalize_input(b"{nope", PARTNERO).id == body_id(b"{nope")


def test_the_size_limit_is_skipped_only_when_the_caller_checked_it():
    envelope = {"event": "partner.created", "data": {"email": "a@example.com", "note": "x" * MAX_BODY_BYTES}}
    body = json.dumps(envelope).encode()
    assert isinstance(normalize_input(body, PARTNERO, received_at=RECEIVED), RejectedInput)
    assert isinstance(normalize_input(body, PARTNERO, received_at=RECEIVED, limit=None), NormalizedEvent)
    too_long = normalize_input(json.dumps({"email": "a@example.com", "note": "x" * MAX_BODY_BYTES}), RECORDS)
    assert isinstance(too_long, RejectedInput) and "limit is 1 MB" in too_long.reason


def test_a_webhook_body_is_parsed_once_even_when_its_source_is_told_by_its_shape(dodo_examples, monkeypatch):
    calls = []
    monkeypatch.setattr(body_module, "parse_json", lambda raw: calls.append(raw) or json.loads(raw))
    assert isinstance(normalize_input(json.dumps(dodo_examples["payment.succeeded"])), NormalizedEvent)
    assert len(calls) == 1
