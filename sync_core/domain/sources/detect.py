"""Telling a Dodo Payments event from a Partnero one when the caller does not say which it is."""

from __future__ import annotations

import json
from collections.abc import Mapping
from datetime import datetime
from typing import Any

from sync_core.domain.events import DODO_PAYMENTS, PARTNERO, NormalizedEvent, RejectedInput
from sync_core.domain.sources.body import as_bytes, decode_object
from sync_core.domain.sources.dodo import normalize_dodo
from sync_core.domain.sources.partnero import normalize_partnero

NORMALIZERS = {DODO_PAYMENTS: normalize_dodo, PARTNERO: normalize_partnero}


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


def normalize_webhook(
    body: bytes | str,
    source: str | None = None,
    headers: Mapping[str, str] | None = None,
    *,
    received_at: datetime | None = None,
) -> NormalizedEvent | RejectedInput:
    """Normalize one webhook body from ``source``, or from whichever source its shape says."""
    raw = as_bytes(body)
    if source is None:
        envelope = decode_object(raw, "webhook")
        if isinstance(envelope, RejectedInput):
            return envelope
        source = detect_source(envelope, headers)
        if source is None:
            return RejectedInput(
                "webhook",
                'cannot tell the source: a Dodo Payments event has "type" and "data", a Partnero event has '
                '"event" and "data"',
                excerpt=json.dumps(envelope)[:200],
            )
    normalizer = NORMALIZERS.get(source)
    if normalizer is None:
        return RejectedInput(source, f"unknown webhook source {source!r}; expected one of {', '.join(NORMALIZERS)}")
    return normalizer(raw, headers, received_at=received_at)
