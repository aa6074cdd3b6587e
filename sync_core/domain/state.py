"""What the product last sent MailerLite for one contact: the memory that makes syncs minimal and ordered.

Each field value keeps the time of the event that set it, so an older event never overwrites a newer value;
each managed group keeps whether the contact is in it and when that was decided; each group rule whose name is
a template (``Tier {tier}``) keeps the group it last named, the one the contact leaves when the value changes.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sync_core.domain.events import parse_timestamp

#: MailerLite statuses that the API must not (and cannot) reactivate.
SUPPRESSED_STATUSES = frozenset({"unsubscribed", "bounced", "junk"})
#: The status the studio keeps for a contact it deleted from MailerLite: known as not there, so the next
#: "create or update" creates them again with everything its events say.
DELETED_STATUS = "deleted"


@dataclass(slots=True)
class ContactState:
    email: str
    subscriber_id: str | None = None
    status: str | None = None  # the MailerLite status last seen
    fields: dict[str, tuple[Any, datetime]] = field(default_factory=dict)
    groups: dict[str, tuple[bool, datetime]] = field(default_factory=dict)
    named: dict[str, tuple[str, datetime]] = field(default_factory=dict)  # template → (group or "", when)
    deleted_at: datetime | None = None  # when the event that deleted them occurred (older events stay out)

    @property
    def suppressed(self) -> bool:
        return self.status in SUPPRESSED_STATUSES

    @property
    def deleted(self) -> bool:
        """Known as not in MailerLite (the studio deleted them)."""
        return self.status == DELETED_STATUS

    def copy(self) -> ContactState:
        """A copy whose fields, groups and named groups can change without changing this one."""
        return ContactState(
            self.email,
            self.subscriber_id,
            self.status,
            dict(self.fields),
            dict(self.groups),
            dict(self.named),
            self.deleted_at,
        )

    def field_value(self, target: str) -> Any:
        entry = self.fields.get(target)
        return None if entry is None else entry[0]

    def in_group(self, group: str) -> bool | None:
        """True or False when the product decided it, ``None`` when it never did."""
        entry = self.groups.get(group)
        return None if entry is None else entry[0]

    def to_dict(self) -> dict[str, Any]:
        data = {
            "email": self.email,
            "subscriber_id": self.subscriber_id,
            "status": self.status,
            "fields": {key: [value, at.isoformat()] for key, (value, at) in self.fields.items()},
            "groups": {name: [member, at.isoformat()] for name, (member, at) in self.groups.items()},
            **({"deleted_at": self.deleted_at.isoformat()} if self.deleted_at else {}),
        }
        if self.named:  # absent from states saved before templated groups, and from those that need none
            data["named"] = {template: [name, at.isoformat()] for template, (name, at) in self.named.items()}
        return data

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> ContactState:
        def when(text: str) -> datetime:
            parsed = parse_timestamp(text)
            if parsed is None:
                raise ValueError(f"bad time in contact state: {text!r}")
            return parsed

        return cls(
            email=data["email"],
            subscriber_id=data.get("subscriber_id"),
            status=data.get("status"),
            fields={key: (value, when(at)) for key, (value, at) in (data.get("fields") or {}).items()},
            groups={name: (bool(member), when(at)) for name, (member, at) in (data.get("groups") or {}).items()},
            named={template: (str(name), when(at)) for template, (name, at) in (data.get("named") or {}).items()},
            deleted_at=when(data["deleted_at"]) if data.get("deleted_at") else None,
        )
