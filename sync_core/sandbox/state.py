"""The data of one sandbox account (subscribers, groups, fields, webhooks) and how MailerLite renders it.

Rendering mirrors the recorded answers key for key: a subscriber carries every account field (null when unset)
and its groups as full group objects; ids are ~18-digit strings for subscribers and groups and short numeric
strings for fields. Every change marks what it touched, so that the account can store exactly the documents a
request changed (``take_changes``) and take in what other processes stored (``apply_stored``); a legacy JSON
state (``sandbox.json``) can still be read.

While a webhook is enabled, the first change of a subscriber in a request keeps a copy of how they were before
(``remember``), so that the account can say what happened to them (``take_subscriber_changes``) and owe the
webhooks their events.
"""

from __future__ import annotations

import random
import re
from collections import Counter
from collections.abc import Callable, Mapping
from datetime import UTC, datetime, timedelta
from typing import Any

DEFAULT_FIELDS = (  # id, name, key: MailerLite's 8 default fields, all text
    ("1", "Name", "name"),
    ("2", "Last name", "last_name"),
    ("3", "Company", "company"),
    ("4", "Country", "country"),
    ("5", "City", "city"),
    ("6", "Phone", "phone"),
    ("7", "State", "state"),
    ("8", "Zip", "z_i_p"),
)
STATE_VERSION = 1
KINDS = ("field", "group", "subscriber", "webhook")  # the order changes are taken in: groups before subscribers


def _rate(value: float = 0) -> dict[str, Any]:
    return {"float": value, "string": f"{value * 100:g}%"}


def field_key_for(name: str) -> str:
    """MailerLite derives a field's key from its name: "My Field" becomes ``my_field``."""
    key = re.sub(r"[^a-z0-9]+", "_", name.strip().lower()).strip("_")
    return key or "field"


class AccountState:
    """Plain data plus the bookkeeping (email index, group membership counts) kept in step with it."""

    def __init__(self, *, seed: int | None = None, wall_clock: Callable[[], datetime] | None = None) -> None:
        self._wall_clock = wall_clock or (lambda: datetime.now(UTC))
        rng = random.Random(seed)
        self.subscribers: dict[str, dict[str, Any]] = {}
        self.by_email: dict[str, str] = {}
        self.groups: dict[str, dict[str, Any]] = {}
        self.fields: dict[str, dict[str, Any]] = {
            fid: {"id": fid, "name": name, "key": key, "type": "text", "is_default": True}
            for fid, name, key in DEFAULT_FIELDS
        }
        self.webhooks: dict[str, dict[str, Any]] = {}
        self.members: dict[str, set[str]] = {}
        self.member_status: dict[str, Counter[str]] = {}
        self.counters = {
            "subscriber": 170_000_000_000_000_000 + rng.randrange(10**15),
            "group": 171_000_000_000_000_000 + rng.randrange(10**15),
            "field": 947_146,
            "webhook": 165_000_000_000_000_000 + rng.randrange(10**15),
        }
        self._step = random.Random(rng.random())
        self.changed: dict[str, set[str]] = {kind: set() for kind in KINDS}
        self.counters_changed = False
        self.before: dict[str, dict[str, Any] | None] = {}  # subscriber id: as they were before this request
        self._applying = False

    def _tables(self) -> dict[str, dict[str, dict[str, Any]]]:
        return {"field": self.fields, "group": self.groups, "subscriber": self.subscribers, "webhook": self.webhooks}

    # -- what changed -------------------------------------------------------------------------------------------

    def mark(self, kind: str, document_id: str) -> None:
        self.changed[kind].add(document_id)

    def remember(self, subscriber_id: str) -> None:
        """Call before changing a subscriber: keeps how they were (None: not there yet), once per request, while
        some webhook would want to hear of it."""
        if self._applying or subscriber_id in self.before:
            return
        if not any(webhook["enabled"] for webhook in self.webhooks.values()):
            return
        record = self.subscribers.get(subscriber_id)
        self.before[subscriber_id] = (
            None if record is None else {**record, "fields": dict(record["fields"]), "groups": list(record["groups"])}
        )

    def take_subscriber_changes(self) -> list[tuple[dict[str, Any] | None, dict[str, Any] | None]]:
        """Each remembered subscriber as they were and as they are now (None: not there), in the order they were
        first changed."""
        changes = [(before, self.subscribers.get(sid)) for sid, before in self.before.items()]
        self.before = {}
        return changes

    def touch(self, subscriber: dict[str, Any]) -> None:
        """The subscriber was changed through the API: MailerLite stamps ``updated_at``."""
        subscriber["updated_at"] = self.now_text()
        self.mark("subscriber", subscriber["id"])

    def put_group(self, group: dict[str, Any]) -> None:
        self.groups[group["id"]] = group
        self.mark("group", group["id"])

    def put_field(self, field: dict[str, Any]) -> None:
        self.fields[field["id"]] = field
        self.mark("field", field["id"])

    def put_webhook(self, webhook: dict[str, Any]) -> None:
        self.webhooks[webhook["id"]] = webhook
        self.mark("webhook", webhook["id"])

    def drop_webhook(self, webhook_id: str) -> None:
        self.webhooks.pop(webhook_id, None)
        self.mark("webhook", webhook_id)

    def take_changes(self) -> tuple[dict[str, dict[str, dict[str, Any] | None]], dict[str, int] | None]:
        """The documents changed since the last call (None for a removed one), and the counters if they moved."""
        tables = self._tables()
        documents = {kind: {i: tables[kind].get(i) for i in sorted(ids)} for kind, ids in self.changed.items() if ids}
        counters = dict(self.counters) if self.counters_changed else None
        self.changed = {kind: set() for kind in KINDS}
        self.counters_changed = False
        return documents, counters

    def apply_stored(
        self, documents: Mapping[str, Mapping[str, dict[str, Any] | None]], counters: Mapping[str, int] | None
    ) -> None:
        """Take in documents stored by another process (None: removed), keeping the bookkeeping in step. Fields and
        groups come in id order, which is the order they were created in (ids only grow)."""
        self._applying = True
        try:
            self._apply_stored(documents, counters)
        finally:
            self._applying = False

    def _apply_stored(
        self, documents: Mapping[str, Mapping[str, dict[str, Any] | None]], counters: Mapping[str, int] | None
    ) -> None:
        for webhook_id, webhook in documents.get("webhook", {}).items():
            if webhook is None:
                self.webhooks.pop(webhook_id, None)
            else:
                self.webhooks[webhook_id] = dict(webhook)
        for kind in ("field", "group"):
            table = self._tables()[kind]
            for document_id in sorted(documents.get(kind, {}), key=int):
                document = documents[kind][document_id]
                if document is None:
                    if kind == "group":
                        self.drop_group(document_id)
                    elif document_id in table:
                        self.drop_field(document_id)
                else:
                    table[document_id] = dict(document)
        for subscriber_id, record in documents.get("subscriber", {}).items():
            old = self.subscribers.get(subscriber_id)
            if old is not None:
                self.drop_subscriber(old)
            if record is not None:
                self.add_subscriber(
                    {
                        **record,
                        "fields": dict(record["fields"]),
                        "groups": [g for g in record["groups"] if g in self.groups],
                    }
                )
        if counters:
            self.counters.update(counters)
        self.take_changes()

    # -- time and ids ---------------------------------------------------------------------------------------------

    def now(self) -> datetime:
        return self._wall_clock().astimezone(UTC).replace(tzinfo=None)

    def now_text(self, offset: timedelta = timedelta(0)) -> str:
        return (self.now() + offset).strftime("%Y-%m-%d %H:%M:%S")

    def new_id(self, kind: str) -> str:
        self.counters[kind] += 1 if kind == "field" else self._step.randint(1, 9_999)
        self.counters_changed = True
        return str(self.counters[kind])

    # -- lookups ----------------------------------------------------------------------------------------------

    def find_subscriber(self, id_or_email: str) -> dict[str, Any] | None:
        if id_or_email in self.subscribers:
            return self.subscribers[id_or_email]
        sid = self.by_email.get(id_or_email.strip().lower())
        return self.subscribers.get(sid) if sid else None

    def field_by_key(self, key: str) -> dict[str, Any] | None:
        for field in self.fields.values():
            if field["key"] == key:
                return field
        return None

    def field_name_taken(self, name: str, *, except_id: str | None = None) -> bool:
        wanted = name.strip().casefold()
        return any(f["name"].strip().casefold() == wanted and f["id"] != except_id for f in self.fields.values())

    def unique_field_key(self, name: str) -> str:
        base = field_key_for(name)
        taken = {field["key"] for field in self.fields.values()} | {"email"}
        key, number = base, 1
        while key in taken:
            number += 1
            key = f"{base}_{number}"
        return key

    # -- membership and status, kept in step with the counts ----------------------------------------------------

    def add_member(self, subscriber: dict[str, Any], group_id: str) -> None:
        if group_id in subscriber["groups"]:
            return
        self.remember(subscriber["id"])
        subscriber["groups"].append(group_id)
        self.mark("subscriber", subscriber["id"])
        self.members.setdefault(group_id, set()).add(subscriber["id"])
        self.member_status.setdefault(group_id, Counter())[subscriber["status"]] += 1

    def remove_member(self, subscriber: dict[str, Any], group_id: str) -> bool:
        if group_id not in subscriber["groups"]:
            return False
        self.remember(subscriber["id"])
        subscriber["groups"].remove(group_id)
        self.mark("subscriber", subscriber["id"])
        self.members.get(group_id, set()).discard(subscriber["id"])
        self.member_status.setdefault(group_id, Counter())[subscriber["status"]] -= 1
        return True

    def set_status(self, subscriber: dict[str, Any], status: str) -> None:
        old = subscriber["status"]
        if old == status:
            return
        self.remember(subscriber["id"])
        for group_id in subscriber["groups"]:
            counts = self.member_status.setdefault(group_id, Counter())
            counts[old] -= 1
            counts[status] += 1
        subscriber["status"] = status
        self.mark("subscriber", subscriber["id"])
        if status == "unsubscribed":
            subscriber["unsubscribed_at"] = self.now_text()

    def add_subscriber(self, record: dict[str, Any]) -> None:
        groups = record["groups"]
        record["groups"] = []
        self.remember(record["id"])
        self.subscribers[record["id"]] = record
        self.by_email[record["email"]] = record["id"]
        self.mark("subscriber", record["id"])
        for group_id in groups:
            self.add_member(record, group_id)

    def drop_subscriber(self, subscriber: dict[str, Any]) -> None:
        self.remember(subscriber["id"])
        for group_id in list(subscriber["groups"]):
            self.remove_member(subscriber, group_id)
        self.subscribers.pop(subscriber["id"], None)
        if self.by_email.get(subscriber["email"]) == subscriber["id"]:
            del self.by_email[subscriber["email"]]
        self.mark("subscriber", subscriber["id"])

    def change_email(self, subscriber: dict[str, Any], email: str) -> None:
        self.remember(subscriber["id"])
        if self.by_email.get(subscriber["email"]) == subscriber["id"]:
            del self.by_email[subscriber["email"]]
        subscriber["email"] = email
        self.by_email[email] = subscriber["id"]
        self.mark("subscriber", subscriber["id"])

    def drop_group(self, group_id: str) -> None:
        for sid in list(self.members.get(group_id, ())):
            self.remove_member(self.subscribers[sid], group_id)
        self.groups.pop(group_id, None)
        self.members.pop(group_id, None)
        self.member_status.pop(group_id, None)
        self.mark("group", group_id)

    def drop_field(self, field_id: str) -> None:
        field = self.fields.pop(field_id)
        self.mark("field", field_id)
        for subscriber in self.subscribers.values():
            if field["key"] in subscriber["fields"]:
                del subscriber["fields"][field["key"]]
                self.mark("subscriber", subscriber["id"])

    # -- rendering as MailerLite does -----------------------------------------------------------------------

    def render_webhook(self, webhook: dict[str, Any]) -> dict[str, Any]:
        keys = ("id", "name", "url", "events", "enabled", "is_blocked", "secret", "created_at", "updated_at")
        out = {key: webhook[key] for key in keys}
        out["events"] = list(webhook["events"])
        out.update(
            batchable=webhook["batchable"],
            version="2022-01",
            last_fired_at=webhook["last_fired_at"],
            response_code=webhook["response_code"],
        )
        return out

    def render_group(self, group: dict[str, Any]) -> dict[str, Any]:
        counts = self.member_status.get(group["id"], Counter())
        return {
            "id": group["id"],
            "name": group["name"],
            "active_count": counts["active"],
            "sent_count": 0,
            "opens_count": 0,
            "open_rate": _rate(),
            "clicks_count": 0,
            "click_rate": _rate(),
            "unsubscribed_count": counts["unsubscribed"],
            "unconfirmed_count": counts["unconfirmed"],
            "bounced_count": counts["bounced"],
            "junk_count": counts["junk"],
            "created_at": group["created_at"],
        }

    def render_field(self, field: dict[str, Any], *, listing: bool = False) -> dict[str, Any]:
        out = {key: field[key] for key in ("id", "name", "key", "type", "is_default")}
        if listing:
            out["used_in_automations"] = False
        return out

    def render_subscriber(
        self, subscriber: dict[str, Any], *, groups: bool = True, forgotten: dict[str, str] | None = None
    ) -> dict[str, Any]:
        out: dict[str, Any] = {
            key: subscriber[key]
            for key in (
                "id",
                "email",
                "status",
                "source",
                "sent",
                "opens_count",
                "clicks_count",
                "open_rate",
                "click_rate",
                "ip_address",
                "subscribed_at",
                "unsubscribed_at",
                "created_at",
                "updated_at",
            )
        }
        if forgotten:
            out.update(forgotten)
        values = subscriber["fields"]
        out["fields"] = {field["key"]: values.get(field["key"]) for field in self.fields.values()}
        if groups:
            out["groups"] = [self.render_group(self.groups[g]) for g in subscriber["groups"] if g in self.groups]
        if forgotten:
            out["location"] = None
        out["opted_in_at"] = subscriber["opted_in_at"]
        out["optin_ip"] = subscriber["optin_ip"]
        return out

    def new_subscriber_record(self, email: str) -> dict[str, Any]:
        now = self.now_text()
        return {
            "id": self.new_id("subscriber"),
            "email": email,
            "status": "active",
            "source": "api",
            "sent": 0,
            "opens_count": 0,
            "clicks_count": 0,
            "open_rate": 0,
            "click_rate": 0,
            "ip_address": None,
            "subscribed_at": now,
            "unsubscribed_at": None,
            "created_at": now,
            "updated_at": now,
            "fields": {},
            "groups": [],
            "opted_in_at": None,
            "optin_ip": None,
        }

    # -- the legacy JSON state ------------------------------------------------------------------------------------------

    def to_json(self) -> dict[str, Any]:
        return {
            "version": STATE_VERSION,
            "counters": dict(self.counters),
            "fields": list(self.fields.values()),
            "groups": list(self.groups.values()),
            "subscribers": list(self.subscribers.values()),
        }

    def load_json(self, data: dict[str, Any]) -> None:
        if data.get("version") != STATE_VERSION:
            raise ValueError(f"unknown sandbox state version {data.get('version')!r}")
        self.counters.update(data["counters"])
        self.fields = {field["id"]: dict(field) for field in data["fields"]}
        self.groups = {group["id"]: dict(group) for group in data["groups"]}
        self.subscribers, self.by_email, self.members, self.member_status = {}, {}, {}, {}
        for record in data["subscribers"]:
            self.add_subscriber(
                {
                    **record,
                    "fields": dict(record["fields"]),
                    "groups": [g for g in record["groups"] if g in self.groups],
                }
            )
