"""The one shape every input takes before mapping: a normalized event, or a rejected input with its reason.

Sources never raise on bad input; they return ``RejectedInput`` so that one broken event does not stop a batch,
and the reason can be recorded and shown to the user.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timezone
from typing import Any

#: Sources, by the key used in configuration and storage.
DODO_PAYMENTS = "dodo_payments"
PARTNERO = "partnero"
RECORDS = "records"
SOURCE_LABELS = {DODO_PAYMENTS: "Dodo Payments", PARTNERO: "Partnero", RECORDS: "Records file"}

#: Contact kinds; the per-source "Sync partners" / "Sync customers" toggles act on them.
PARTNER = "partner"
CUSTOMER = "customer"

#: Largest body accepted from any source. Real events are a few kB (Standard Webhooks advises under 20 kB).
MAX_BODY_BYTES = 1024 * 1024

#: Pseudo-fields of every event, usable in mappings and rule conditions beside the flattened data.
EVENT_FIELDS = ("event.type", "event.source", "event.kind", "event.occurred_at", "event.id")


@dataclass(slots=True)
class NormalizedEvent:
    """One input event in the shape the mapping and planning understand.

    ``data`` is the body flattened to dotted paths (``data.customer.name``); lists of plain values stay lists,
    lists of objects are indexed (``data.product_cart.0.product_id``). ``email`` is the contact identity, or
    ``None`` with ``email_problem`` saying why; whether that matters depends on the configuration (an event no
    trigger syncs needs no email).
    """

    source: str
    type: str
    id: str
    occurred_at: datetime
    kind: str
    data: dict[str, Any]
    email: str | None = None
    email_problem: str | None = None
    known_type: bool = True

    def lookup(self, path: str) -> Any:
        """The value at a flattened path or an ``event.*`` pseudo-field; ``None`` when absent."""
        if path.startswith("event."):
            return self._event_field(path)
        return self.data.get(path)

    def has(self, path: str) -> bool:
        return path.startswith("event.") or path in self.data

    def _event_field(self, path: str) -> Any:
        if path == "event.type":
            return self.type
        if path == "event.source":
            return self.source
        if path == "event.kind":
            return self.kind
        if path == "event.occurred_at":
            return self.occurred_at
        if path == "event.id":
            return self.id
        return self.data.get(path)


@dataclass(slots=True)
class RejectedInput:
    """An input that could not become an event (malformed JSON, too large, no type, a broken CSV row...)."""

    source: str
    reason: str
    id: str | None = None
    position: str | None = None  # "line 12", "row 7": where in a file, for bulk inputs
    excerpt: str = field(default="", repr=False)

    def describe(self) -> str:
        where = f" ({self.position})" if self.position else ""
        return f"{SOURCE_LABELS.get(self.source, self.source)} input rejected{where}: {self.reason}"


def parse_timestamp(value: Any) -> datetime | None:
    """An aware UTC datetime from ISO-8601 text or Unix seconds; ``None`` when it is not one."""
    if isinstance(value, datetime):
        return value if value.tzinfo else value.replace(tzinfo=timezone.utc)
    if isinstance(value, bool):
        return None
    if isinstance(value, (int, float)):
        try:
            return datetime.fromtimestamp(value, tz=timezone.utc)
        except (OverflowError, OSError, ValueError):
            return None
    if not isinstance(value, str) or not value.strip():
        return None
    text = value.strip()
    try:
        parsed = datetime.fromisoformat(text)
    except ValueError:
        if text.isdigit():
            return parse_timestamp(int(text))
        return None
    if parsed.tzinfo is None:
        return parsed.replace(tzinfo=timezone.utc)
    return parsed.astimezone(timezone.utc)
