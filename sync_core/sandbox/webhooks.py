"""What the sandbox's webhooks hear: the events a change of subscribers makes, and the bodies each webhook is owed.

The shapes follow the studio's contract for MailerLite deliveries (issue 12), as far as MailerLite documents them
(reference §10): a batchable webhook gets one ``{"events": [...]}`` per API call or person's action, each event
``{"type", "created_at", "data": {"subscriber"[, "group"]}}``; any other webhook gets one event per delivery, the
group events as ``{"type", "data": {"subscriber", "group"}}`` and the others as the subscriber object with its
``event`` name. ``subscriber.deleted`` (also sent when a subscriber is forgotten, as MailerLite's docs say) goes
to batchable webhooks only. The subscriber is rendered as ``GET /api/subscribers/{id}`` would show them then.

What makes which event (a change is a subscriber as they were before the request and as they are after it):
created (then added to each group they joined), deleted, status now unsubscribed / bounced / junk (spam
reported) / active, fields or email changed (updated), each group joined or left (a group that was itself deleted
sends nothing). A request that changes nothing a person would see (the same values again) sends nothing.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

from .state import AccountState

#: The subscriber events the sandbox sends.
SUBSCRIBER_EVENTS = (
    "subscriber.created",
    "subscriber.updated",
    "subscriber.unsubscribed",
    "subscriber.added_to_group",
    "subscriber.removed_from_group",
    "subscriber.bounced",
    "subscriber.spam_reported",
    "subscriber.active",
    "subscriber.deleted",
)
#: Every name MailerLite accepts for a webhook (the campaign and automation ones are accepted, never sent here).
EVENT_NAMES = (
    *SUBSCRIBER_EVENTS,
    "subscriber.added_through_form",
    "subscriber.automation_triggered",
    "subscriber.automation_completed",
    "campaign.sent",
    "campaign.open",
    "campaign.click",
)
#: Events MailerLite sends only to batchable webhooks (and refuses to register otherwise).
BATCHABLE_ONLY = ("subscriber.deleted", "campaign.open", "campaign.click")
GROUP_EVENTS = ("subscriber.added_to_group", "subscriber.removed_from_group")
STATUS_EVENTS = {
    "unsubscribed": "subscriber.unsubscribed",
    "bounced": "subscriber.bounced",
    "junk": "subscriber.spam_reported",
    "active": "subscriber.active",
}

Errors = dict[str, list[str]]


@dataclass(frozen=True)
class SubscriberEvent:
    name: str
    created_at: str
    subscriber: dict[str, Any]
    group: dict[str, str] | None = None

    def batched(self) -> dict[str, Any]:
        data: dict[str, Any] = {"subscriber": self.subscriber}
        if self.group is not None:
            data["group"] = self.group
        return {"type": self.name, "created_at": self.created_at, "data": data}

    def single(self) -> dict[str, Any]:
        if self.name in GROUP_EVENTS:
            return {"type": self.name, "data": {"subscriber": self.subscriber, "group": self.group}}
        return {"event": self.name, **self.subscriber}


# -- validation of a webhook's body ---------------------------------------------------------------------------------


def _is_url(value: Any) -> bool:
    if not isinstance(value, str):
        return False
    parts = urlsplit(value.strip())
    return parts.scheme in ("http", "https") and bool(parts.hostname)


def validate_webhook(body: dict[str, Any], *, current: dict[str, Any] | None = None) -> Errors:
    """MailerLite's 422 rules for creating a webhook (``current`` is None) or updating one (keys may be left out)."""
    errors: Errors = {}
    creating = current is None
    if "url" in body or creating:
        url = body.get("url")
        if url is None or url == "":
            errors["url"] = ["The url field is required."]
        elif not _is_url(url):
            errors["url"] = ["The url must be a valid URL."]
    if "events" in body or creating:
        events = body.get("events")
        if events is None or events == []:
            errors["events"] = ["The events field is required."]
        elif not isinstance(events, list):
            errors["events"] = ["The events must be an array."]
        else:
            for index, name in enumerate(events):
                if name not in EVENT_NAMES:
                    errors[f"events.{index}"] = [f"The selected events.{index} is invalid."]
    if "name" in body and body["name"] is not None:
        if not isinstance(body["name"], str):
            errors["name"] = ["The name must be a string."]
        elif len(body["name"]) > 255:
            errors["name"] = ["The name may not be greater than 255 characters."]
    for key in ("enabled", "batchable"):
        if key in body and not isinstance(body[key], bool):
            errors[key] = [f"The {key} field must be true or false."]
    if errors:
        return errors
    events = body.get("events", (current or {}).get("events", []))
    batchable = body.get("batchable", (current or {}).get("batchable", False))
    needs_batch = [name for name in events if name in BATCHABLE_ONLY]
    if needs_batch and not batchable:
        errors["batchable"] = [f"The batchable must be accepted when events contains {needs_batch[0]}."]
    return errors


# -- events and deliveries ---------------------------------------------------------------------------------------


def _visible_fields(record: dict[str, Any]) -> dict[str, Any]:
    return {key: value for key, value in record["fields"].items() if value is not None}


def subscriber_events(
    state: AccountState, changes: list[tuple[dict[str, Any] | None, dict[str, Any] | None]]
) -> list[SubscriberEvent]:
    now = state.now_text()
    events: list[SubscriberEvent] = []

    def add(name: str, record: dict[str, Any], group_id: str | None = None) -> None:
        group = None
        if group_id is not None:
            if group_id not in state.groups:
                return  # the group itself was deleted
            group = {"id": group_id, "name": state.groups[group_id]["name"]}
        events.append(SubscriberEvent(name, now, state.render_subscriber(record), group))

    for before, after in changes:
        if after is None:
            if before is not None:
                add("subscriber.deleted", before)
            continue
        if before is None:
            add("subscriber.created", after)
            for group_id in after["groups"]:
                add("subscriber.added_to_group", after, group_id)
            continue
        if before["status"] != after["status"] and after["status"] in STATUS_EVENTS:
            add(STATUS_EVENTS[after["status"]], after)
        if _visible_fields(before) != _visible_fields(after) or before["email"] != after["email"]:
            add("subscriber.updated", after)
        for group_id in after["groups"]:
            if group_id not in before["groups"]:
                add("subscriber.added_to_group", after, group_id)
        for group_id in before["groups"]:
            if group_id not in after["groups"]:
                add("subscriber.removed_from_group", after, group_id)
    return events


def owed_deliveries(state: AccountState, events: list[SubscriberEvent]) -> list[tuple[str, str]]:
    """(webhook id, body) for every enabled webhook that asked for some of these events."""
    owed: list[tuple[str, str]] = []
    for webhook_id in sorted(state.webhooks, key=int):
        webhook = state.webhooks[webhook_id]
        if not webhook["enabled"]:
            continue
        wanted = [event for event in events if event.name in webhook["events"]]
        if webhook["batchable"]:
            if wanted:
                owed.append((webhook_id, _json({"events": [event.batched() for event in wanted]})))
        else:
            owed.extend((webhook_id, _json(event.single())) for event in wanted if event.name not in BATCHABLE_ONLY)
    return owed


def _json(body: dict[str, Any]) -> str:
    return json.dumps(body, separators=(",", ":"), ensure_ascii=False)
