"""Builders of realistic events for the core's tests."""

from __future__ import annotations

import json
from typing import Any

from sync_core.domain.events import DODO_PAYMENTS, PARTNERO
from sync_core.domain.sources import normalize_input


def partnero_body(
    event: str, data: dict[str, Any], created_at: str = "2025-05-07T10:30:00.000000Z", *, old_envelope: bool = False
) -> str:
    if old_envelope:
        return json.dumps({"event": event, "data": data, "timestamp": created_at})
    return json.dumps(
        {
            "event": event,
            "url": "https://example.com/webhooks/partnero",
            "webhook_key": "wh_abc123",
            "created_at": created_at,
            "data": data,
        }
    )


def partner(
    status: str = "active",
    *,
    at: str = "2025-05-07T10:30:00.000000Z",
    event: str = "partner.created",
    email: str = "john.doe@partnero.com",
    **extra: Any,
):
    data = {
        "id": "partner_123",
        "key": "partner_123",
        "email": email,
        "name": "John",
        "surname": "Doe",
        "status": status,
        "total_sales": 25,
        "total_earned": "750.00",
        "created_at": at,
        **extra,
    }
    return normalize_input(partnero_body(event, data, at), PARTNERO)


def referred_customer(*, at: str = "2025-05-08T09:00:00.000000Z", email: str = "jane.smith@example.com"):
    data = {
        "key": "cust_456",
        "partner": "partner_123",
        "email": email,
        "name": "Jane",
        "surname": "Smith",
        "status": "active",
        "created_at": at,
    }
    return normalize_input(partnero_body("customer.created", data, at), PARTNERO)


def dodo(example: dict[str, Any], **changes: Any):
    """An official example with ``changes`` applied: top-level keys, or ``data__x`` for ``data.x``."""
    event = json.loads(json.dumps(example))
    for key, value in changes.items():
        if key.startswith("data__"):
            event["data"][key[6:]] = value
        else:
            event[key] = value
    return normalize_input(json.dumps(event), DODO_PAYMENTS)
