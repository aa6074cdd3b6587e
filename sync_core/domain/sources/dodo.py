"""Dodo Payments webhooks: envelope ``{business_id, type, timestamp, data}``, contact at ``data.customer.email``.

Event types are the SDK's ``WebhookEventType`` list (reference/event-sources.md §1.4). Types not in it are kept
and marked unknown, because Dodo keeps adding types and a receiver must not fail on them.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import Any

from sync_core.domain.events import CUSTOMER, DODO_PAYMENTS, NormalizedEvent, RejectedInput, parse_timestamp
from sync_core.domain.sources.body import body_id, email_finder, header

DODO_EVENT_TYPES = frozenset(
    [
        "payment.succeeded",
        "payment.failed",
        "payment.processing",
        "payment.cancelled",
        "refund.succeeded",
        "refund.failed",
        "dispute.opened",
        "dispute.expired",
        "dispute.accepted",
        "dispute.cancelled",
        "dispute.challenged",
        "dispute.won",
        "dispute.lost",
        "subscription.active",
        "subscription.renewed",
        "subscription.on_hold",
        "subscription.paused",
        "subscription.cancelled",
        "subscription.failed",
        "subscription.expired",
        "subscription.plan_changed",
        "subscription.updated",
        "subscription.update_payment_method",
        "license_key.created",
        "payout.created",
        "payout.on_hold",
        "payout.in_progress",
        "payout.failed",
        "payout.success",
        "credit.added",
        "credit.deducted",
        "credit.expired",
        "credit.rolled_over",
        "credit.rollover_forfeited",
        "credit.overage_charged",
        "credit.overage_reset",
        "credit.manual_adjustment",
        "credit.balance_low",
        "abandoned_checkout.detected",
        "abandoned_checkout.recovered",
        "dunning.started",
        "dunning.recovered",
        "entitlement_grant.created",
        "entitlement_grant.delivered",
        "entitlement_grant.failed",
        "entitlement_grant.revoked",
    ]
)

EMAIL_PATHS = ("data.customer.email", "data.email")
_find_email = email_finder(EMAIL_PATHS)


def dodo_id(raw: bytes, headers: Mapping[str, str] | None) -> str:
    """The ``webhook-id`` header when there is one (Dodo's idempotency key: a retry carries the same), else a hash
    of the body."""
    return header(headers, "webhook-id") or body_id(raw)


def dodo_event(
    envelope: dict[str, Any],
    event_id: str,
    headers: Mapping[str, str] | None,
    *,
    received_at: datetime | None,
) -> NormalizedEvent | RejectedInput:
    """One decoded Dodo Payments envelope → a normalized event.

    The time is the envelope ``timestamp`` (when the event happened), else the ``webhook-timestamp`` header,
    else ``received_at``.
    """
    event_type = envelope.get("type")
    if not isinstance(event_type, str) or not event_type.strip():
        return RejectedInput(DODO_PAYMENTS, 'the event has no "type" (such as payment.succeeded)', id=event_id)
    event_type = event_type.strip()
    if not isinstance(envelope.get("data"), dict):
        return RejectedInput(DODO_PAYMENTS, f'the {event_type} event has no "data" object', id=event_id)
    occurred_at = (
        parse_timestamp(envelope.get("timestamp"))
        or parse_timestamp(header(headers, "webhook-timestamp"))
        or received_at
    )
    if occurred_at is None:
        return RejectedInput(DODO_PAYMENTS, f'the {event_type} event has no valid "timestamp"', id=event_id)
    event = NormalizedEvent(
        DODO_PAYMENTS,
        event_type,
        event_id,
        occurred_at,
        CUSTOMER,
        None,
        None,
        None,
        event_type in DODO_EVENT_TYPES,
        body=envelope,
    )
    event.email, event.email_problem = _find_email(event)
    return event
