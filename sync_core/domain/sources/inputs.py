"""Any input → a normalized event: a webhook body as received or as stored, a sample, a pasted event, a record.

Every way into the mapping goes through ``normalize_input``, so an event reads the same wherever it comes from:
the webhook route, the sync run reading it again from the store, the dashboard's preview, the CLI, a file import.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping
from datetime import datetime
from typing import Any, NamedTuple

from sync_core.domain.events import DODO_PAYMENTS, MAX_BODY_BYTES, PARTNERO, RECORDS, NormalizedEvent, RejectedInput
from sync_core.domain.sources.body import UnsendableValue, as_bytes, body_id, check_sendable, decode_object
from sync_core.domain.sources.dodo import dodo_event, dodo_id
from sync_core.domain.sources.partnero import partnero_event, partnero_id
from sync_core.domain.sources.records import normalize_record

Item = NormalizedEvent | RejectedInput


class WebhookSource(NamedTuple):
    event_id: Callable[[bytes, Mapping[str, str] | None], str]  # the id of a raw body, given its headers
    read: Callable[..., Item]  # a decoded envelope → an event


WEBHOOK_SOURCES = {
    DODO_PAYMENTS: WebhookSource(dodo_id, dodo_event),
    PARTNERO: WebhookSource(partnero_id, partnero_event),
}
INPUT_SOURCES = (*WEBHOOK_SOURCES, RECORDS)


def detect_source(envelope: Mapping[str, Any], headers: Mapping[str, str] | None = None) -> str | None:
    """``dodo_payments`` for a ``{type, data}`` envelope or Standard Webhooks headers, ``partnero`` for
    ``{event, data}`` or a ``Signature`` header; ``None`` when neither fits."""
    names = {name.lower() for name in (headers or {})}
    if "webhook-signature" in names:
        return DODO_PAYMENTS
    if "signature" in names or "x-partnero-signature" in names:
        return PARTNERO
    if "event" in envelope and "data" in envelope:
        return PARTNERO
    if "type" in envelope and "data" in envelope:
        return DODO_PAYMENTS
    return None


def normalize_input(
    body: bytes | str | dict[str, Any],
    source: str | None = None,
    *,
    kind: str | None = None,
    headers: Mapping[str, str] | None = None,
    event_id: str | None = None,
    received_at: datetime | None = None,
    position: str | None = None,
    limit: int | None = MAX_BODY_BYTES,
) -> Item:
    """One input → the event the mapping reads, or the reason it cannot be one (never raises on bad input).

    ``body`` is raw (bytes or text: checked against ``limit``, then parsed once) or an already decoded JSON
    object. ``source=None`` tells a Dodo Payments event from a Partnero one by its shape and ``headers``.
    ``kind`` (records) is guessed from the columns when not given. ``event_id`` is the id the input is already
    known by (a stored event's, a file line's hash); it wins over the one the body would give. ``position`` says
    where a rejected input was. ``limit=None``: the caller has refused larger bodies already (the webhook route,
    before reading them whole; the store, when they came in).
    """
    if source == RECORDS:
        record = normalize_record(body, kind=kind, received_at=received_at, position=position, limit=limit)
        record.id = event_id or record.id
        return record
    if source is not None and source not in WEBHOOK_SOURCES:
        return RejectedInput(
            source, f"unknown source {source!r}; expected one of {', '.join(INPUT_SOURCES)}", position=position
        )
    raw: bytes | None = None  # a decoded body's bytes are needed only for its id
    if isinstance(body, dict):
        try:
            check_sendable(body)
        except UnsendableValue as exc:
            return RejectedInput(source or "webhook", f"the event {exc}", id=event_id, position=position)
        envelope = body
    else:
        raw = as_bytes(body)
        decoded = decode_object(raw, source or "webhook", limit=limit)
        if isinstance(decoded, RejectedInput):
            decoded.id, decoded.position = event_id or _webhook_id(source, raw, headers), position
            return decoded
        envelope = decoded
    if source is None:
        source = detect_source(envelope, headers)
        if source is None:
            return RejectedInput(
                "webhook",
                'cannot tell the source: a Dodo Payments event has "type" and "data", a Partnero event has '
                '"event" and "data"',
                position=position,
                excerpt=json.dumps(envelope)[:200],
            )
    if not event_id:
        event_id = _webhook_id(source, raw or json.dumps(body).encode("utf-8"), headers)
    item = WEBHOOK_SOURCES[source].read(envelope, event_id, headers, received_at=received_at)
    if isinstance(item, RejectedInput):
        item.position = position
    return item


def _webhook_id(source: str | None, raw: bytes, headers: Mapping[str, str] | None) -> str:
    """A webhook body's id by its source's rule; a hash of its bytes when the source is not known."""
    return WEBHOOK_SOURCES[source].event_id(raw, headers) if source else body_id(raw)
