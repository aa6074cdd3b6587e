"""Partnero webhooks, both envelope versions (reference/event-sources.md §3.2).

Newer: ``{event, url, webhook_key, created_at, data}``; older: ``{event, data, timestamp}``. The time is read
from ``created_at`` first, then ``timestamp``. Partnero sends no delivery id, so the id is a hash of the body.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import Any

from sync_core.domain.events import CUSTOMER, PARTNER, PARTNERO, NormalizedEvent, RejectedInput, parse_timestamp
from sync_core.domain.sources.body import body_id, email_finder

# The official n8n trigger node's list, plus the older and newer documentation's events.
PARTNERO_EVENT_TYPES = frozenset(
    [
        "customer.created",
        "customer.credited",
        "customer.deleted",
        "customer.rewarded",
        "customer.updated",
        "lead.converted",
        "lead.rejected",
        "lead.submitted",
        "partner.approved",
        "partner.archived",
        "partner.created",
        "partner.deleted",
        "partner.rejected",
        "partner.updated",
        "subscriber.created",
        "subscriber.deleted",
        "subscriber.rewarded",
        "subscriber.updated",
        "transaction.created",
        "transaction.deleted",
    ]
)

_KIND_BY_PREFIX = {
    "partner": PARTNER,
    "customer": CUSTOMER,
    "transaction": CUSTOMER,
    "lead": "lead",
    "subscriber": "subscriber",
}
EMAIL_PATHS = ("data.email", "data.customer.email", "data.partner.email")
_find_email = email_finder(EMAIL_PATHS)


def partnero_id(raw: bytes, headers: Mapping[str, str] | None) -> str:
    """A hash of the body: Partnero sends no delivery id, and a retry sends the same bytes."""
    return body_id(raw)


def partnero_event(
    envelope: dict[str, Any],
    event_id: str,
    headers: Mapping[str, str] | None,
    *,
    received_at: datetime | None,
) -> NormalizedEvent | RejectedInput:
    """One decoded Partnero envelope → a normalized event."""
    event_type = envelope.get("event")
    if not isinstance(event_type, str) or not event_type.strip():
        return RejectedInput(PARTNERO, 'the event has no "event" name (such as partner.created)', id=event_id)
    event_type = event_type.strip()
    if not isinstance(envelope.get("data"), dict):
        return RejectedInput(PARTNERO, f'the {event_type} event has no "data" object', id=event_id)
    occurred_at = (
        parse_timestamp(envelope.get("created_at"))
        or parse_timestamp(envelope.get("timestamp"))
        or parse_timestamp(envelope["data"].get("updated_at"))
        or received_at
    )
    if occurred_at is None:
        return RejectedInput(PARTNERO, f'the {event_type} event has no valid "created_at" or "timestamp"', id=event_id)
    event = NormalizedEvent(
        PARTNERO,
        event_type,
        event_id,
        occurred_at,
        _KIND_BY_PREFIX.get(event_type.partition(".")[0], "other"),
        None,
        None,
        None,
        event_type in PARTNERO_EVENT_TYPES,
        body=envelope,
    )
    event.email, event.email_problem = _find_email(event)
    return event
