"""MailerLite's own webhook deliveries → what the studio learns about a contact (pure: no I/O, time passed in).

These events are not synced *to* MailerLite: they say what MailerLite now holds (a subscriber unsubscribed,
bounced, reported spam, came back, was deleted, edited, or moved between groups by hand), and the studio's memory
of the contact (``ContactState``) follows, so that planning suppresses, re-sends or stays minimal accordingly.

A delivery is batched (``{"events": [EVENT, ...]}``, each ``{"type", "created_at", "data": {"subscriber",
"group"?}}``) or single (``{"type", "data": {...}}`` for the group events, the flat subscriber object with its
``event`` name for the others). The event name is read under ``type`` or ``event`` in either shape. Each event of
a delivery becomes one ``MailerLiteEvent`` (or a ``RejectedInput`` saying why not); its id is a hash of its
content, so that MailerLite's retry of the same delivery is stored once.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sync_core.domain.emails import InvalidEmail, normalize_email
from sync_core.domain.events import MAILERLITE, RejectedInput, parse_timestamp
from sync_core.domain.sources.body import body_id, decode_object
from sync_core.domain.state import DELETED_STATUS, ContactState
from sync_core.domain.transforms import SUBSCRIBER_ATTRIBUTES

#: Where MailerLite's deliveries arrive, after the studio's public address.
MAILERLITE_WEBHOOK_PATH = "/webhooks/mailerlite"

CREATED = "subscriber.created"
UPDATED = "subscriber.updated"
UNSUBSCRIBED = "subscriber.unsubscribed"
ADDED_TO_GROUP = "subscriber.added_to_group"
REMOVED_FROM_GROUP = "subscriber.removed_from_group"
BOUNCED = "subscriber.bounced"
SPAM_REPORTED = "subscriber.spam_reported"
ACTIVE = "subscriber.active"
DELETED = "subscriber.deleted"

#: Every event the studio registers for and understands, in the order MailerLite's documentation lists them.
MAILERLITE_EVENT_TYPES = (
    CREATED,
    UPDATED,
    UNSUBSCRIBED,
    ADDED_TO_GROUP,
    REMOVED_FROM_GROUP,
    BOUNCED,
    SPAM_REPORTED,
    ACTIVE,
    DELETED,
)
GROUP_EVENTS = (ADDED_TO_GROUP, REMOVED_FROM_GROUP)
#: The MailerLite status each status event means.
STATUS_OF_EVENT = {UNSUBSCRIBED: "unsubscribed", BOUNCED: "bounced", SPAM_REPORTED: "junk", ACTIVE: "active"}
KNOWN_STATUSES = frozenset({"active", "unsubscribed", "unconfirmed", "bounced", "junk"})


@dataclass(slots=True)
class MailerLiteEvent:
    """One event of a delivery. ``item`` is the event as received (stored as the event's body)."""

    id: str
    type: str
    email: str
    subscriber: dict[str, Any]
    group: dict[str, Any] | None
    occurred_at: datetime | None
    item: dict[str, Any]

    @property
    def body(self) -> bytes:
        return canonical_json(self.item)


def canonical_json(value: Any) -> bytes:
    """The same JSON text for the same content, whatever the key order or spacing it came with."""
    return json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode("utf-8")


def read_delivery(raw: bytes) -> list[MailerLiteEvent | RejectedInput] | RejectedInput:
    """A delivery's events, each read or rejected with its reason; a ``RejectedInput`` when the body as a whole
    is no delivery (not JSON, not an object, no event in it)."""
    decoded = decode_object(raw, MAILERLITE, limit=None)
    if isinstance(decoded, RejectedInput):
        decoded.id = body_id(raw)
        return decoded
    if "events" in decoded:
        events = decoded["events"]
        if not isinstance(events, list) or not events:
            return RejectedInput(
                MAILERLITE, 'a batched delivery should hold a non-empty list under "events"', id=body_id(raw)
            )
        read = [read_event(item, position) for position, item in enumerate(events)]
        for item, event in zip(events, read):
            if isinstance(event, RejectedInput):  # kept with the reason, without the rest of the delivery
                event.excerpt = _excerpt(item)
        return read
    item = read_event(decoded)
    if isinstance(item, RejectedInput):
        item.id = body_id(raw)
        return item
    return [item]


def read_event(item: Any, position: int = 0) -> MailerLiteEvent | RejectedInput:
    """One event, in the batched shape or the single one (see the module's docstring); ``position``: its place
    in its delivery."""
    if not isinstance(item, dict):
        return RejectedInput(MAILERLITE, "an event should be a JSON object", id=_item_id(item))
    name = item.get("type") if isinstance(item.get("type"), str) else item.get("event")
    if not isinstance(name, str) or not name.strip():
        return RejectedInput(
            MAILERLITE, 'the event has no name (MailerLite names it under "type" or "event")', id=_item_id(item)
        )
    name = name.strip()
    if name not in MAILERLITE_EVENT_TYPES:
        return RejectedInput(
            MAILERLITE,
            f"{name!r} is not a MailerLite subscriber event the studio handles "
            f"(it handles {', '.join(MAILERLITE_EVENT_TYPES)})",
            id=_item_id(item),
        )
    data = item.get("data")
    if isinstance(data, dict) and isinstance(data.get("subscriber"), dict):
        subscriber, group = data["subscriber"], data.get("group")
    elif "email" in item:  # the flat subscriber object of a single delivery
        subscriber, group = {key: value for key, value in item.items() if key not in ("event", "type")}, None
    else:
        return RejectedInput(
            MAILERLITE, f"the {name} event holds no subscriber (no data.subscriber, no email)", id=_item_id(item)
        )
    try:
        email = normalize_email(subscriber.get("email"))
    except InvalidEmail as exc:
        return RejectedInput(MAILERLITE, f"the {name} event's subscriber: {exc}", id=_item_id(item))
    if name in GROUP_EVENTS and not (isinstance(group, dict) and isinstance(group.get("name"), str)):
        return RejectedInput(MAILERLITE, f"the {name} event names no group (data.group.name)", id=_item_id(item))
    occurred_at = parse_timestamp(item.get("created_at")) or parse_timestamp(subscriber.get("updated_at"))
    return MailerLiteEvent(
        event_id(name, subscriber, item, position), name, email, subscriber, group if isinstance(group, dict) else None,
        occurred_at, item,
    )  # fmt: skip


def event_id(name: str, subscriber: Mapping[str, Any], item: Any, position: int = 0) -> str:
    """The same event delivered again gets the same id: a hash of its name, subscriber, time and content.

    The id starts with the event's time and its place in its delivery, so that ids sort in the order MailerLite
    sent the events (the store writes the events of one moment in the order of their ids)."""
    digest = hashlib.sha256()
    created_at = str(_get(item, "created_at") or "")
    for part in (name, str(subscriber.get("id") or ""), created_at):
        digest.update(part.encode("utf-8") + b"\n")
    digest.update(canonical_json(item))
    stamp = "".join(ch for ch in created_at if ch.isdigit())[:14].ljust(14, "0")
    return f"mailerlite:{stamp}.{min(position, 9999):04d}.{digest.hexdigest()[:40]}"


def _item_id(item: Any) -> str:
    try:
        return "mailerlite:" + hashlib.sha256(canonical_json(item)).hexdigest()[:40]
    except (TypeError, ValueError):
        return "mailerlite:" + hashlib.sha256(repr(item).encode("utf-8", "replace")).hexdigest()[:40]


def _excerpt(item: Any, limit: int = 4000) -> str:
    try:
        return canonical_json(item)[:limit].decode("utf-8", "replace")
    except (TypeError, ValueError):
        return repr(item)[:limit]


def _get(item: Any, key: str) -> Any:
    return item.get(key) if isinstance(item, dict) else None


# --- what the studio learns ---------------------------------------------------------------------------------


def apply_event(
    state: ContactState | None, event: MailerLiteEvent, mapped_fields: Iterable[str], *, now: datetime
) -> tuple[ContactState, str]:
    """The contact as the studio knows it after ``event`` (a new state; ``state`` is not changed), and what
    happened in plain words (``"MailerLite said: unsubscribed"``). ``mapped_fields``: the MailerLite fields the
    configuration fills, whose remembered values follow a ``subscriber.updated``."""
    at = event.occurred_at or now
    if state is None:
        state = ContactState(event.email)
    new = state.copy()
    said = event.type.removeprefix("subscriber.").replace("_", " ")
    subscriber_id = event.subscriber.get("id")
    if event.type == DELETED:
        # Not in MailerLite any more: planned as a contact never synced (the next upsert sends it whole).
        new.subscriber_id, new.status, new.fields, new.groups = None, DELETED_STATUS, {}, {}
        return new, "MailerLite said: deleted (the next upsert sends the whole contact again)"
    if subscriber_id not in (None, ""):
        new.subscriber_id = str(subscriber_id)
    if event.type in STATUS_OF_EVENT:
        new.status = STATUS_OF_EVENT[event.type]
    elif event.subscriber.get("status") in KNOWN_STATUSES:
        new.status = str(event.subscriber["status"])
    if event.type in GROUP_EVENTS and event.group is not None:
        name = str(event.group["name"])
        member = event.type == ADDED_TO_GROUP
        current = new.groups.get(name)
        if current is None or (at >= current[1] and current[0] != member):  # an echo keeps the studio's time
            new.groups[name] = (member, at)
        return new, f"MailerLite said: {'added to' if member else 'removed from'} the group “{name}”"
    if event.type in (UPDATED, CREATED):
        given = event.subscriber.get("fields")
        values: dict[str, Any] = given if isinstance(given, dict) else {}
        changed = []
        for target in set(mapped_fields) | set(new.fields):
            held: dict[str, Any] = event.subscriber if target in SUBSCRIBER_ATTRIBUTES else values
            if target not in held:
                continue
            current_field = new.fields.get(target)
            if current_field is None or (at >= current_field[1] and current_field[0] != held[target]):
                changed.append(target)  # changed in MailerLite; an echo of the studio's value keeps its time
                new.fields[target] = (held[target], at)
        if changed:
            return new, f"MailerLite said: {said} ({', '.join(sorted(changed))} now as in MailerLite)"
    return new, f"MailerLite said: {said}"


__all__ = [
    "MAILERLITE_WEBHOOK_PATH",
    "MAILERLITE_EVENT_TYPES",
    "MailerLiteEvent",
    "apply_event",
    "canonical_json",
    "read_delivery",
    "read_event",
]
