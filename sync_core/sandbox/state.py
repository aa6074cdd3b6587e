"""The data of one sandbox account (subscribers, groups, fields) and how MailerLite renders it.

Rendering mirrors the recorded answers key for key: a subscriber carries every account field (null when unset)
and its groups as full group objects; ids are ~18-digit strings for subscribers and groups and short numeric
strings for fields. The state can be written to and read from a JSON file.
"""

from __future__ import annotations

import json
import os
import random
import re
import tempfile
from collections import Counter
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
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
        self.members: dict[str, set[str]] = {}
        self.member_status: dict[str, Counter[str]] = {}
        self.counters = {
            "subscriber": 170_000_000_000_000_000 + rng.randrange(10**15),
            "group": 171_000_000_000_000_000 + rng.randrange(10**15),
            "field": 947_146,
        }
        self._step = random.Random(rng.random())

    # -- time and ids ---------------------------------------------------------------------------------------------

    def now(self) -> datetime:
        return self._wall_clock().astimezone(UTC).replace(tzinfo=None)

    def now_text(self, offset: timedelta = timedelta(0)) -> str:
        return (self.now() + offset).strftime("%Y-%m-%d %H:%M:%S")

    def new_id(self, kind: str) -> str:
        self.counters[kind] += 1 if kind == "field" else self._step.randint(1, 9_999)
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
        subscriber["groups"].append(group_id)
        self.members.setdefault(group_id, set()).add(subscriber["id"])
        self.member_status.setdefault(group_id, Counter())[subscriber["status"]] += 1

    def remove_member(self, subscriber: dict[str, Any], group_id: str) -> bool:
        if group_id not in subscriber["groups"]:
            return False
        subscriber["groups"].remove(group_id)
        self.members.get(group_id, set()).discard(subscriber["id"])
        self.member_status.setdefault(group_id, Counter())[subscriber["status"]] -= 1
        return True

    def set_status(self, subscriber: dict[str, Any], status: str) -> None:
        old = subscriber["status"]
        if old == status:
            return
        for group_id in subscriber["groups"]:
            counts = self.member_status.setdefault(group_id, Counter())
            counts[old] -= 1
            counts[status] += 1
        subscriber["status"] = status
        if status == "unsubscribed":
            subscriber["unsubscribed_at"] = self.now_text()

    def add_subscriber(self, record: dict[str, Any]) -> None:
        groups = record["groups"]
        record["groups"] = []
        self.subscribers[record["id"]] = record
        self.by_email[record["email"]] = record["id"]
        for group_id in groups:
            self.add_member(record, group_id)

    def drop_subscriber(self, subscriber: dict[str, Any]) -> None:
        for group_id in list(subscriber["groups"]):
            self.remove_member(subscriber, group_id)
        self.subscribers.pop(subscriber["id"], None)
        self.by_email.pop(subscriber["email"], None)

    def drop_group(self, group_id: str) -> None:
        for sid in list(self.members.get(group_id, ())):
            self.remove_member(self.subscribers[sid], group_id)
        self.groups.pop(group_id, None)
        self.members.pop(group_id, None)
        self.member_status.pop(group_id, None)

    def drop_field(self, field_id: str) -> None:
        field = self.fields.pop(field_id)
        for subscriber in self.subscribers.values():
            subscriber["fields"].pop(field["key"], None)

    # -- rendering as MailerLite does -----------------------------------------------------------------------

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

    # -- persistence ------------------------------------------------------------------------------------------

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

    def save(self, path: Path) -> None:
        """Write atomically (temporary file, then rename), so a crash never leaves half a file."""
        path.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(prefix=path.name, suffix=".tmp", dir=path.parent)
        try:
            with os.fdopen(fd, "w", encoding="utf-8") as handle:
                json.dump(self.to_json(), handle, separators=(",", ":"))
            os.replace(tmp, path)
        except BaseException:
            Path(tmp).unlink(missing_ok=True)
            raise
