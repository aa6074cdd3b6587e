"""The words a marketer reads for the studio's own names: an event's fields ("Customer name" for
``data.customer.name``), the operators of conditions, the actions of triggers, MailerLite's fields by their names.

The raw names stay what the configuration stores; these labels are only what the pages show (the raw name goes in
a tooltip or an *Advanced* view).
"""

from __future__ import annotations

import re
from collections.abc import Mapping

from sync_core.domain.config import ACTION_LABELS, OPERATOR_LABELS
from sync_core.domain.events import DODO_PAYMENTS, PARTNERO, RECORDS

#: The fields of the studio's own view of an event, whatever its source.
EVENT_FIELD_LABELS = {
    "event.type": "Event type",
    "event.source": "Source",
    "event.kind": "Contact kind",
    "event.occurred_at": "Event time",
    "event.id": "Event ID",
}
#: Partnero's partner and customer fields (webhooks and records files share them, under ``data.``).
PARTNERO_FIELD_LABELS = {
    "data.email": "Email",
    "data.name": "First name",
    "data.surname": "Last name",
    "data.key": "Partner key",
    "data.id": "Partner ID",
    "data.status": "Partner status",
    "data.approved": "Approved",
    "data.total_sales": "Total sales",
    "data.total_earned": "Total earned",
    "data.referrals.sales_count": "Sales count",
    "data.commissions.paid": "Commissions paid",
    "data.tier": "Tier",
    "data.custom_fields[key=tier].value": "Tier",
    "data.custom_field_values[key=tier].value": "Tier",
    "data.custom_fields.tier": "Tier",
    "data.referred_by": "Referred by",
    "data.partner": "Referring partner",
    "data.partner.key": "Referring partner",
    "data.customer_key": "Customer key",
    "data.created_at": "Created on",
    "data.updated_at": "Updated on",
    "created_at": "Event time",
    "timestamp": "Event time",
}
#: Dodo Payments' payment, subscription, refund and dispute fields.
DODO_FIELD_LABELS = {
    "data.customer.name": "Customer name",
    "data.customer.email": "Customer email",
    "data.customer.customer_id": "Customer ID",
    "data.customer.phone_number": "Customer phone",
    "data.customer_business_name": "Business name",
    "data.total_amount": "Payment amount",
    "data.amount": "Refund amount",
    "data.currency": "Currency",
    "data.payment_id": "Payment ID",
    "data.payment_method": "Payment method",
    "data.product_id": "Product",
    "data.subscription_id": "Subscription ID",
    "data.recurring_pre_tax_amount": "Subscription amount",
    "data.payment_frequency_interval": "Billing frequency",
    "data.status": "Status",
    "data.dispute_status": "Dispute status",
    "data.cancelled_at": "Cancellation date",
    "data.created_at": "Created on",
    "data.billing.country": "Billing country",
    "data.billing.city": "Billing city",
    "data.billing.state": "Billing state",
    "data.billing.street": "Billing street",
    "data.billing.zipcode": "Billing ZIP code",
    "timestamp": "Event time",
}
SOURCE_FIELD_LABELS: dict[str, dict[str, str]] = {
    DODO_PAYMENTS: DODO_FIELD_LABELS,
    PARTNERO: PARTNERO_FIELD_LABELS,
    RECORDS: PARTNERO_FIELD_LABELS,
}
#: Last segments that say little alone: their parent is named with them ("Billing city", not "City").
_GENERIC = {"name", "email", "id", "key", "status", "amount", "city", "country", "state", "type", "value", "code"}
_SELECTOR = re.compile(r"\[([^\[\]=]+)=([^\[\]]*)\]")
_ACRONYMS = {"id": "ID", "url": "URL", "ip": "IP", "zip": "ZIP", "vat": "VAT", "iso": "ISO"}


def first_path(expression: str) -> str:
    """``data.key | data.id`` → ``data.key``: a value with alternatives is named after its first."""
    return (expression or "").split("|", 1)[0].strip()


def words(name: str) -> str:
    """``total_sales`` → "Total sales", ``z_i_p`` → "ZIP", ``customerId`` → "Customer ID"."""
    text = re.sub(r"(?<=[a-z0-9])(?=[A-Z])", " ", name.strip())
    parts = [part for part in re.split(r"[\s_\-.]+", text) if part]
    if parts and all(len(part) == 1 for part in parts) and len(parts) > 1:
        parts = ["".join(parts)]  # z_i_p: a word spelt out, not three words
    out = [_ACRONYMS.get(part.lower(), part.lower()) for part in parts]
    if not out:
        return ""
    head = out[0]
    out[0] = head if head.isupper() else head[:1].upper() + head[1:]
    return " ".join(out)


def _fallback(path: str) -> str:
    selected = _SELECTOR.search(path)
    if selected:  # data.custom_fields[key=tier].value → "Tier"
        return words(selected.group(2))
    segments = [s for s in path.split(".") if s and not s.isdigit() and s not in ("data", "event")]
    if not segments:
        return words(path) or path
    last = segments[-1]
    if last.lower() in _GENERIC and len(segments) > 1:
        return words(f"{segments[-2]} {last}")
    return words(last)


def field_label(source: str | None, path: str) -> str:
    """A marketer's name for an event field (or the first of alternatives): "Customer name" for
    ``data.customer.name``; a readable name built from the path for the fields the studio has no word for."""
    path = first_path(path)
    if path in EVENT_FIELD_LABELS:
        return EVENT_FIELD_LABELS[path]
    tables = [SOURCE_FIELD_LABELS[source]] if source in SOURCE_FIELD_LABELS else list(SOURCE_FIELD_LABELS.values())
    for table in tables:
        if path in table:
            return table[path]
    return _fallback(path)


def template_label(source: str | None, template: str) -> str:
    """``{data.name} {data.surname}`` → "First name + Last name": what a template is made of."""
    names = [field_label(source, part.strip()) for part in re.findall(r"\{([^{}]+)\}", template or "")]
    return " + ".join(dict.fromkeys(names)) if names else template


def operator_label(operator: str) -> str:
    """``gte`` → "is at least"."""
    return OPERATOR_LABELS.get(operator, words(operator).lower())


def action_label(action: str) -> str:
    """``upsert`` → "Create or update"."""
    return ACTION_LABELS.get(action, words(action))


def mailerlite_field_label(key: str, names: Mapping[str, str] | None = None) -> str:
    """A MailerLite field as people see it: its name in the account (``z_i_p`` → "Zip"), or one made from its
    key when the account does not have it (yet)."""
    name = (names or {}).get(key)
    if name and name != key:
        return name
    return words(key) or key  # a field the studio created is named by its key: partner_key → "Partner key"


def mailerlite_field_choices(keys: list[str], names: Mapping[str, str] | None = None) -> dict[str, str]:
    """Label → key for a picker of MailerLite fields by name; two fields with one name are told apart by key."""
    labels = [mailerlite_field_label(key, names) for key in keys]
    out: dict[str, str] = {}
    for key, label in zip(keys, labels):
        if labels.count(label) > 1 or label in out:
            label = f"{label} ({key})"
        out[label] = key
    return out


__all__ = [
    "EVENT_FIELD_LABELS",
    "SOURCE_FIELD_LABELS",
    "action_label",
    "field_label",
    "first_path",
    "mailerlite_field_choices",
    "mailerlite_field_label",
    "operator_label",
    "template_label",
    "words",
]
