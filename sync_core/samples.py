"""Sample events for the Preview page and the rule builder: every official Dodo Payments example, Partnero
webhooks in both envelope versions, and a partner and a customer record.

The Dodo examples come from the reference file beside the checkout (``shared/reference``, or ``SHARED_DIR``).
Where that file is missing, a built-in ``payment.succeeded`` example stands in, so the dashboard works on any
machine. Nothing here imports Streamlit.
"""

from __future__ import annotations

import json
import os
from datetime import datetime, timezone
from functools import lru_cache
from pathlib import Path
from typing import Any, NamedTuple

from sync_core.events import (
    CUSTOMER,
    DODO_PAYMENTS,
    EVENT_FIELDS,
    PARTNER,
    PARTNERO,
    RECORDS,
    NormalizedEvent,
    RejectedInput,
)
from sync_core.sources import DODO_EVENT_TYPES, PARTNERO_EVENT_TYPES, normalize_webhook
from sync_core.sources.body import parse_json
from sync_core.sources.flatten import flatten
from sync_core.sources.records import record_event

REPO = Path(__file__).resolve().parent.parent
DODO_EXAMPLES_NAME = "dodo-webhook-examples-2025-09.json"
RECORD_EVENT_TYPES = ("partner.imported", "customer.imported")

#: Choices for a pasted event's source: auto-detection, the two webhooks, and the two kinds of records.
PASTE_SOURCES = {
    "auto": "Detect from the JSON",
    DODO_PAYMENTS: "Dodo Payments webhook",
    PARTNERO: "Partnero webhook",
    "records:partner": "Partner record (one row of a file)",
    "records:customer": "Customer record (one row of a file)",
}


class Sample(NamedTuple):
    """One sample input: a webhook body (raw bytes, as received) or a record (column → value)."""

    label: str
    source: str  # dodo_payments, partnero or records
    payload: bytes | dict[str, Any]
    kind: str | None = None  # records only: partner or customer
    description: str = ""


def shared_dir() -> Path:
    """``shared/`` beside the checkout, or ``SHARED_DIR``."""
    return Path(os.environ.get("SHARED_DIR") or REPO.parent / "shared")


def dodo_examples_file() -> Path:
    return shared_dir() / "reference" / DODO_EXAMPLES_NAME


# Dodo's official payment.succeeded example (reference file, Sep 2025), for machines without shared/.
_BUILTIN_PAYMENT_SUCCEEDED: dict[str, Any] = {
    "business_id": "bus_P3SXLcppjXgagmHS",
    "type": "payment.succeeded",
    "timestamp": "2025-08-04T05:30:45.182629Z",
    "data": {
        "billing": {"city": "New York", "country": "US", "state": "New York", "street": "New York, New York",
                    "zipcode": "0"},
        "brand_id": "bus_P3SXLcppjXgagmHS",
        "business_id": "bus_P3SXLcppjXgagmHS",
        "card_issuing_country": "GB",
        "card_last_four": "4242",
        "card_network": "VISA",
        "card_type": "CREDIT",
        "checkout_session_id": "cks_stst1231",
        "created_at": "2025-08-04T05:30:31.152232Z",
        "currency": "USD",
        "customer": {"customer_id": "cus_8VbC6JDZzPEqfB", "email": "test@acme.com", "name": "Test user"},
        "digital_products_delivered": False,
        "discount_id": None,
        "disputes": [],
        "error_code": None,
        "error_message": None,
        "metadata": {},
        "payload_type": "Payment",
        "payment_id": "pay_2IjeQm4hqU6RA4Z4kwDee",
        "payment_link": "https://test.checkout.dodopayments.com/cbq",
        "payment_method": "card",
        "payment_method_type": None,
        "product_cart": [{"product_id": "pdt_e9mUw084cWnu0tz", "quantity": 1}],
        "refunds": [],
        "settlement_amount": 400,
        "settlement_currency": "USD",
        "settlement_tax": None,
        "status": "succeeded",
        "subscription_id": None,
        "tax": None,
        "total_amount": 400,
        "updated_at": None,
    },
}

# Partnero webhooks (reference/event-sources.md §3.2). The envelopes are the documented ones; the partner data
# adds the fields Partnero's own MailerLite integration fills (key, status, totals), which the docs leave open.
_PARTNER = {
    "id": "partner_123",
    "key": "partner_123",
    "email": "john.doe@example.com",
    "name": "John",
    "surname": "Doe",
    "status": "active",
    "total_sales": 25,
    "total_earned": "750.00",
    "created_at": "2025-05-07T10:30:00.000000Z",
}
_NEW_ENVELOPE = {"url": "https://your-server.com/webhooks/partnero", "webhook_key": "wh_abc123"}


def _partnero(event: str, data: dict[str, Any], at: str, *, old_envelope: bool = False) -> bytes:
    if old_envelope:
        body: dict[str, Any] = {"event": event, "data": data, "timestamp": at}
    else:
        body = {"event": event, **_NEW_ENVELOPE, "created_at": at, "data": data}
    return json.dumps(body, indent=2).encode("utf-8")


@lru_cache(maxsize=4)
def _load_dodo_examples(path: str, mtime: float) -> tuple[tuple[str, str, bytes], ...]:
    document = json.loads(Path(path).read_text(encoding="utf-8"))
    examples = []
    for event_type, entry in sorted(document.items()):
        if isinstance(entry, dict) and isinstance(entry.get("example"), dict):
            examples.append((event_type, str(entry.get("description") or ""),
                             json.dumps(entry["example"], indent=2).encode("utf-8")))
    return tuple(examples)


def dodo_samples() -> list[Sample]:
    """Every official Dodo Payments example, or the built-in payment.succeeded one when the file is missing."""
    path = dodo_examples_file()
    examples: tuple[tuple[str, str, bytes], ...] = ()
    try:
        examples = _load_dodo_examples(str(path), path.stat().st_mtime)
    except (OSError, ValueError):
        examples = ()
    if not examples:
        examples = (("payment.succeeded", "Sent when a payment is successfully processed (built-in copy)",
                     json.dumps(_BUILTIN_PAYMENT_SUCCEEDED, indent=2).encode("utf-8")),)
    return [Sample(f"Dodo Payments · {event_type}", DODO_PAYMENTS, body, None, description)
            for event_type, description, body in examples]


def partnero_samples() -> list[Sample]:
    created = "2025-05-07T10:30:00.000000Z"
    updated = "2025-06-12T08:15:00.000000Z"
    customer = {"key": "cust_456", "partner": "partner_123", "email": "jane.smith@example.com", "name": "Jane",
                "surname": "Smith", "status": "active", "created_at": "2025-05-08T09:00:00.000000Z"}
    return [
        Sample("Partnero · partner.created (newer envelope)", PARTNERO,
               _partnero("partner.created", _PARTNER, created), None,
               "A new partner joined the program (envelope with url, webhook_key and created_at)"),
        Sample("Partnero · partner.created (older envelope)", PARTNERO,
               _partnero("partner.created", _PARTNER, created, old_envelope=True), None,
               "The same event in the older documented envelope (event, data, timestamp)"),
        Sample("Partnero · partner.updated (now inactive)", PARTNERO,
               _partnero("partner.updated", {**_PARTNER, "status": "archived", "total_sales": 31,
                                             "total_earned": "930.00", "updated_at": updated}, updated), None,
               "A partner who stopped being active: leaves the Active Partners group"),
        Sample("Partnero · customer.created", PARTNERO,
               _partnero("customer.created", customer, "2025-05-08T09:00:00.000000Z"), None,
               "A customer referred by a partner"),
    ]


def record_samples() -> list[Sample]:
    partner = {"email": "ada.lovelace@example.com", "name": "Ada Lovelace", "key": "ada_42", "status": "active",
               "total_sales": "12", "total_earned": "480.00", "tier": "gold",
               "updated_at": "2025-09-01T12:00:00Z"}
    customer = {"email": "grace.hopper@example.com", "name": "Grace Hopper", "customer_key": "cust_789",
                "referred_by": "ada_42", "created_at": "2025-09-02T09:30:00Z"}
    return [
        Sample("Records · a partner row (partners file)", RECORDS, partner, PARTNER,
               "One row of a partners CSV or JSON Lines file, as a backfill reads it"),
        Sample("Records · a customer row (customers file)", RECORDS, customer, CUSTOMER,
               "One row of a customers file, with the referring partner"),
    ]


def all_samples() -> list[Sample]:
    return dodo_samples() + partnero_samples() + record_samples()


def sample_event(sample: Sample, *, received_at: datetime | None = None) -> NormalizedEvent | RejectedInput:
    """The sample as the sync engine would see it."""
    received_at = received_at or datetime.now(timezone.utc)
    if sample.source == RECORDS:
        record = flatten(sample.payload) if isinstance(sample.payload, dict) else {}
        return record_event(record, kind=sample.kind or PARTNER, received_at=received_at, position="sample")
    body = sample.payload if isinstance(sample.payload, bytes) else json.dumps(sample.payload).encode("utf-8")
    return normalize_webhook(body, sample.source, received_at=received_at)


def parse_pasted(text: str, source: str = "auto", *, received_at: datetime | None = None
                 ) -> NormalizedEvent | RejectedInput:
    """A pasted event (JSON text) → a normalized event, or the reason it cannot be read, in plain words.

    ``source`` is one of ``PASTE_SOURCES``: ``auto`` tells a Dodo Payments event from a Partnero one by its
    shape; ``records:partner`` / ``records:customer`` read the JSON object as one row of a file."""
    received_at = received_at or datetime.now(timezone.utc)
    if not text or not text.strip():
        return RejectedInput("webhook", "nothing was pasted: paste the JSON body of one event")
    if source.startswith(RECORDS):
        kind = source.partition(":")[2] or PARTNER
        try:
            record = parse_json(text)
        except ValueError as exc:
            return RejectedInput(RECORDS, f"this is not valid JSON ({_json_problem(exc)})")
        if not isinstance(record, dict):
            return RejectedInput(RECORDS, "a record should be one JSON object, e.g. {\"email\": \"ann@example.com\"}")
        return record_event(flatten(record), kind=kind, received_at=received_at, position="pasted")
    return normalize_webhook(text.encode("utf-8"), None if source == "auto" else source, received_at=received_at)


def _json_problem(exc: ValueError) -> str:
    if isinstance(exc, json.JSONDecodeError):
        return f"{exc.msg} at line {exc.lineno}, column {exc.colno}"
    return str(exc)


def known_event_types(source: str | None = None) -> list[str]:
    """Event types a trigger or a rule can name, for one source or for all."""
    by_source = {
        DODO_PAYMENTS: sorted(DODO_EVENT_TYPES),
        PARTNERO: sorted(PARTNERO_EVENT_TYPES),
        RECORDS: list(RECORD_EVENT_TYPES),
    }
    if source is not None:
        return list(by_source.get(source, []))
    seen: dict[str, None] = {}
    for types in by_source.values():
        seen.update(dict.fromkeys(types))
    return sorted(seen)


@lru_cache(maxsize=1)
def _sample_paths(token: str) -> tuple[str, ...]:
    paths: dict[str, None] = {}
    for sample in all_samples():
        event = sample_event(sample)
        if isinstance(event, NormalizedEvent):
            paths.update(dict.fromkeys(event.data))
    return tuple(sorted(paths))


def known_paths() -> list[str]:
    """Field paths for conditions and mappings: ``event.type`` and friends, then every path of the samples."""
    path = dodo_examples_file()
    try:
        token = f"{path}:{path.stat().st_mtime}"
    except OSError:
        token = "builtin"
    head = ["event.type", "event.kind", "event.source"]
    rest = [field for field in EVENT_FIELDS if field not in head]
    return head + rest + [p for p in _sample_paths(token) if p not in head]


__all__ = [
    "PASTE_SOURCES", "RECORD_EVENT_TYPES", "Sample", "all_samples", "dodo_examples_file", "dodo_samples",
    "known_event_types", "known_paths", "parse_pasted", "partnero_samples", "record_samples", "sample_event",
    "shared_dir",
]
