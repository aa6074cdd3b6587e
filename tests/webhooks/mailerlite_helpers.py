"""MailerLite's webhook deliveries as the contract of issue 12 describes them, signed the way MailerLite signs
(hex HMAC-SHA256 of the raw body, keyed with the webhook's secret), built here by hand."""

from __future__ import annotations

import hashlib
import hmac
import json
from typing import Any

MAILERLITE_SECRET = "mlwh_Secret-0f-the-Test-Webhook-42"


def subscriber(email: str, *, id: str = "1001", status: str = "active", **fields: Any) -> dict[str, Any]:
    """A subscriber object as ``GET /api/subscribers/{id}`` gives its ``data``."""
    return {
        "id": id,
        "email": email,
        "status": status,
        "source": "api",
        "sent": 0,
        "opens_count": 0,
        "clicks_count": 0,
        "open_rate": 0,
        "click_rate": 0,
        "ip_address": None,
        "subscribed_at": "2026-01-01 10:00:00",
        "unsubscribed_at": None,
        "created_at": "2026-01-01 10:00:00",
        "updated_at": "2026-01-02 10:00:00",
        "fields": {"name": None, "last_name": None, **fields},
        "opted_in_at": None,
        "optin_ip": None,
    }


def event(name: str, person: dict[str, Any], *, at: str = "2030-01-02 10:00:00", group: dict | None = None) -> dict:
    data: dict[str, Any] = {"subscriber": person}
    if group is not None:
        data["group"] = group
    return {"type": name, "created_at": at, "data": data}


def batched(*events: dict) -> bytes:
    return json.dumps({"events": list(events)}).encode()


def single(name: str, person: dict[str, Any], *, group: dict | None = None) -> bytes:
    """A delivery of a webhook created with ``batchable: false``."""
    if group is not None:
        return json.dumps({"type": name, "data": {"subscriber": person, "group": group}}).encode()
    return json.dumps({"event": name, **person}).encode()


def signed(body: bytes, secret: str = MAILERLITE_SECRET) -> dict[str, str]:
    return {
        "Signature": hmac.new(secret.encode("utf-8"), body, hashlib.sha256).hexdigest(),
        "Content-Type": "application/json",
    }
