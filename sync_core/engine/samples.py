"""Sample events for the Preview page and the rule builder: every official Dodo Payments example, Partnero
webhooks in both envelope versions, and a partner and a customer record.

The Dodo examples are Dodo's official ones, shipped with the package (``domain/sources/examples``), so every
machine offers all of them.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime
from functools import lru_cache
from pathlib import Path
from typing import Any, NamedTuple

from sync_core.domain import sources
from sync_core.domain.events import (
    CUSTOMER,
    DODO_PAYMENTS,
    EVENT_FIELDS,
    PARTNER,
    PARTNERO,
    RECORDS,
    NormalizedEvent,
    RejectedInput,
)
from sync_core.domain.sources import DODO_EVENT_TYPES, PARTNERO_EVENT_TYPES, normalize_input

#: Dodo Payments' official example events (their README says where they come from).
DODO_EXAMPLES_FILE = Path(sources.__file__).resolve().parent / "examples" / "dodo-webhook-examples-2025-09.json"
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
# The partner object of Partnero's API (GET /partners/{id}, reference §3.4), with the partner's custom fields
# filled in. The shape of an element of custom_fields is not documented; {key, value} is assumed (the tests'
# fixtures/partnero README says the same).
_PARTNER_WITH_TIER = {
    "id": "partner_456",
    "email": "maria.garcia@example.com",
    "name": "Maria",
    "surname": "Garcia",
    "status": "active",
    "approved": True,
    "referrals": {"clicks": 150, "signups": 12, "sales_count": 8, "paid_accounts": 5},
    "commissions": {"paid": 375.0, "pending": [{"currency": "USD", "amount": 125.0}]},
    "custom_fields": [{"key": "tier", "value": "Gold"}, {"key": "region", "value": "EMEA"}],
    "tags": [{"value": "premium"}],
    "created_at": "2025-04-30T16:44:13.000000Z",
    "updated_at": "2025-06-12T08:15:00.000000Z",
}
_NEW_ENVELOPE = {"url": "https://your-server.com/webhooks/partnero", "webhook_key": "wh_abc123"}


def _partnero(event: str, data: dict[str, Any], at: str, *, old_envelope: bool = False) -> bytes:
    if old_envelope:
        body: dict[str, Any] = {"event": event, "data": data, "timestamp": at}
    else:
        body = {"event": event, **_NEW_ENVELOPE, "created_at": at, "data": data}
    return json.dumps(body, indent=2).encode("utf-8")


@lru_cache(maxsize=1)
def _dodo_examples() -> tuple[tuple[str, str, bytes], ...]:
    document = json.loads(DODO_EXAMPLES_FILE.read_text(encoding="utf-8"))
    return tuple(
        (event_type, str(entry.get("description") or ""), json.dumps(entry["example"], indent=2).encode())
        for event_type, entry in sorted(document.items())
    )


def dodo_samples() -> list[Sample]:
    """Every official Dodo Payments example."""
    return [
        Sample(f"Dodo Payments · {event_type}", DODO_PAYMENTS, body, None, description)
        for event_type, description, body in _dodo_examples()
    ]


def partnero_samples() -> list[Sample]:
    created = "2025-05-07T10:30:00.000000Z"
    updated = "2025-06-12T08:15:00.000000Z"
    customer = {
        "key": "cust_456",
        "partner": "partner_123",
        "email": "jane.smith@example.com",
        "name": "Jane",
        "surname": "Smith",
        "status": "active",
        "created_at": "2025-05-08T09:00:00.000000Z",
    }
    return [
        Sample(
            "Partnero · partner.created (newer format)",
            PARTNERO,
            _partnero("partner.created", _PARTNER, created),
            None,
            "A new partner joined the program (in the format Partnero sends now)",
        ),
        Sample(
            "Partnero · partner.created (older format)",
            PARTNERO,
            _partnero("partner.created", _PARTNER, created, old_envelope=True),
            None,
            "The same event in the format older Partnero accounts send",
        ),
        Sample(
            "Partnero · partner.updated (now inactive)",
            PARTNERO,
            _partnero(
                "partner.updated",
                {**_PARTNER, "status": "archived", "total_sales": 31, "total_earned": "930.00", "updated_at": updated},
                updated,
            ),
            None,
            "A partner who stopped being active: leaves the Active Partners group",
        ),
        Sample(
            "Partnero · partner.rejected",
            PARTNERO,
            _partnero("partner.rejected", {**_PARTNER, "status": "pending", "approved": False}, updated),
            None,
            "An applicant the program turned down: never added to Partners (whose welcome workflow it would start), "
            "and out of Active Partners",
        ),
        Sample(
            "Partnero · customer.created",
            PARTNERO,
            _partnero("customer.created", customer, "2025-05-08T09:00:00.000000Z"),
            None,
            "A customer referred by a partner",
        ),
        Sample(
            "Partnero · partner.updated (tier in custom fields)",
            PARTNERO,
            _partnero("partner.updated", _PARTNER_WITH_TIER, updated),
            None,
            "A partner as Partnero's API describes one (referrals, commissions), with a tier among its custom "
            "fields: the tier field and the Tier group come from data.custom_fields[key=tier].value",
        ),
    ]


def record_samples() -> list[Sample]:
    partner = {
        "email": "ada.lovelace@example.com",
        "name": "Ada Lovelace",
        "key": "ada_42",
        "status": "active",
        "total_sales": "12",
        "total_earned": "480.00",
        "tier": "gold",
        "updated_at": "2025-09-01T12:00:00Z",
    }
    customer = {
        "email": "grace.hopper@example.com",
        "name": "Grace Hopper",
        "customer_key": "cust_789",
        "referred_by": "ada_42",
        "created_at": "2025-09-02T09:30:00Z",
    }
    return [
        Sample(
            "Records · a partner row (partners file)",
            RECORDS,
            partner,
            PARTNER,
            "One row of a partners CSV or JSON Lines file, as a backfill reads it",
        ),
        Sample(
            "Records · a customer row (customers file)",
            RECORDS,
            customer,
            CUSTOMER,
            "One row of a customers file, with the referring partner",
        ),
    ]


def all_samples() -> list[Sample]:
    return dodo_samples() + partnero_samples() + record_samples()


def sample_event(sample: Sample, *, received_at: datetime | None = None) -> NormalizedEvent | RejectedInput:
    """The sample as the sync engine would see it."""
    return normalize_input(
        sample.payload,
        sample.source,
        kind=sample.kind or PARTNER,
        received_at=received_at or datetime.now(UTC),
        position="sample",
    )


def parse_pasted(
    text: str, source: str = "auto", *, received_at: datetime | None = None
) -> NormalizedEvent | RejectedInput:
    """A pasted event (JSON text) → a normalized event, or the reason it cannot be read, in plain words.

    ``source`` is one of ``PASTE_SOURCES``: ``auto`` tells a Dodo Payments event from a Partnero one by its
    shape; ``records:partner`` / ``records:customer`` read the JSON object as one row of a file."""
    if not text or not text.strip():
        return RejectedInput("webhook", "nothing was pasted: paste the JSON body of one event")
    chosen, _, kind = source.partition(":")
    return normalize_input(
        text,
        None if chosen == "auto" else chosen,
        kind=kind or PARTNER,
        received_at=received_at or datetime.now(UTC),
        position="pasted",
    )


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
def _sample_paths() -> tuple[str, ...]:
    paths: dict[str, None] = {}
    for sample in all_samples():
        event = sample_event(sample)
        if isinstance(event, NormalizedEvent):
            flat = event.data
            paths.update(dict.fromkeys(flat))
            paths.update(dict.fromkeys(_by_key_paths(flat)))
    return tuple(sorted(paths))


def _by_key_paths(flat: dict[str, Any]) -> list[str]:
    """``data.custom_fields.0.key = tier`` (with a ``.value`` beside it) → ``data.custom_fields[key=tier].value``:
    the path that keeps naming the tier wherever it is in the list."""
    out = []
    for path, value in flat.items():
        head, _, last = path.rpartition(".")
        prefix, _, index = head.rpartition(".")
        if last == "key" and index.isdigit() and isinstance(value, str) and f"{head}.value" in flat:
            out.append(f"{prefix}[key={value}].value")
    return out


def known_paths() -> list[str]:
    """Field paths for conditions and mappings: ``event.type`` and friends, then every path of the samples."""
    head = ["event.type", "event.kind", "event.source"]
    rest = [field for field in EVENT_FIELDS if field not in head]
    return head + rest + [p for p in _sample_paths() if p not in head]


__all__ = [
    "DODO_EXAMPLES_FILE",
    "PASTE_SOURCES",
    "RECORD_EVENT_TYPES",
    "Sample",
    "all_samples",
    "dodo_samples",
    "known_event_types",
    "known_paths",
    "parse_pasted",
    "partnero_samples",
    "record_samples",
    "sample_event",
]
