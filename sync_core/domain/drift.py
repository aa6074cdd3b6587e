"""Drift: where a MailerLite account no longer holds what the studio decided, and the plan that repairs it.

Someone edits a field in MailerLite, takes a subscriber out of a group by hand, deletes them, or they
unsubscribe: the studio's memory of what it sent (``state.py``) and the account part ways. ``compare`` reads one
subscriber (as ``GET /subscribers?include=groups`` lists it) against the contact's state and names each
difference; ``repair_plan`` turns a contact's differences into the requests that bring MailerLite back to the
studio's decision, as an ordinary ``ContactPlan`` the sender sends. Suppressed subscribers are reported, never
sent to (MailerLite does not allow reactivating them by API), and a deleted one is recreated only when a person
asks. Pure: no I/O.
"""

from __future__ import annotations

import csv
import io
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation
from enum import StrEnum
from typing import Any

from sync_core.domain.config import SyncConfig
from sync_core.domain.planning import (
    SUBSCRIBER_PLACEHOLDER,
    ContactPlan,
    Operation,
    PlanOutcome,
    suppressed_reason,
)
from sync_core.domain.requests import (
    SUBSCRIBERS,
    path_segment,
    plan_path,
    subscriber_body,
    subscriber_group_path,
)
from sync_core.domain.state import SUPPRESSED_STATUSES, ContactState
from sync_core.domain.transforms import SUBSCRIBER_ATTRIBUTES, is_empty


class DriftKind(StrEnum):
    """What kind of difference a contact has; the order is the order a summary names them in."""

    FIELD = "field"  # a mapped field holds another value in MailerLite
    GROUP_REMOVED = "group_removed"  # out of a managed group the studio put them in
    GROUP_ADDED = "group_added"  # in a managed group the studio took them out of
    DELETED = "deleted"  # not in MailerLite any more
    SUPPRESSED = "suppressed"  # unsubscribed, bounced or junk in MailerLite while the studio thinks active


#: How each kind reads in a summary, counting contacts: "8 fields changed in MailerLite".
KIND_WORDS = {
    DriftKind.FIELD: ("field changed in MailerLite", "fields changed in MailerLite"),
    DriftKind.GROUP_REMOVED: ("removed from a group by hand", "removed from a group by hand"),
    DriftKind.GROUP_ADDED: ("added to a group by hand", "added to a group by hand"),
    DriftKind.DELETED: ("deleted in MailerLite", "deleted in MailerLite"),
    DriftKind.SUPPRESSED: ("unsubscribed, bounced or junk", "unsubscribed, bounced or junk"),
}
#: Short labels for a table's filter.
KIND_LABELS = {
    DriftKind.FIELD: "field changed",
    DriftKind.GROUP_REMOVED: "removed from a group",
    DriftKind.GROUP_ADDED: "added to a group",
    DriftKind.DELETED: "deleted",
    DriftKind.SUPPRESSED: "unsubscribed or bounced",
}
#: The columns of the table and of the CSV download, one row per difference.
TABLE_COLUMNS = ("email", "difference", "what", "in the studio", "in MailerLite", "repair")


@dataclass(slots=True, frozen=True)
class Difference:
    kind: DriftKind
    name: str = ""  # the field, the group, or the MailerLite status
    studio: Any = None  # what the studio decided (a value; True/False for a group)
    mailerlite: Any = None  # what MailerLite holds

    def to_json(self) -> dict[str, Any]:
        return {"kind": str(self.kind), "name": self.name, "studio": self.studio, "mailerlite": self.mailerlite}

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> Difference:
        return cls(DriftKind(data["kind"]), str(data.get("name") or ""), data.get("studio"), data.get("mailerlite"))


@dataclass(slots=True)
class ContactDrift:
    """One contact whose MailerLite subscriber differs from what the studio decided."""

    email: str
    subscriber_id: str | None
    differences: list[Difference] = field(default_factory=list)

    @property
    def kinds(self) -> list[DriftKind]:
        return sorted({d.kind for d in self.differences}, key=list(DriftKind).index)

    def repair_words(self, *, recreate_deleted: bool = False) -> str:
        if DriftKind.SUPPRESSED in self.kinds:
            return "left alone: MailerLite does not allow re-adding them by API"
        if DriftKind.DELETED in self.kinds:
            if any(d.studio in SUPPRESSED_STATUSES for d in self.differences):
                return "left deleted: they had unsubscribed, bounced or been marked junk"
            return "recreated" if recreate_deleted else "left deleted (unless you choose to recreate it)"
        return "sent again"

    def rows(self, *, recreate_deleted: bool = False) -> list[dict[str, Any]]:
        """Table rows (``TABLE_COLUMNS``), one per difference."""
        repair = self.repair_words(recreate_deleted=recreate_deleted)
        return [
            {
                "email": self.email,
                "difference": KIND_LABELS[d.kind],
                "what": d.name,
                "in the studio": _cell(d.studio, d.kind),
                "in MailerLite": _cell(d.mailerlite, d.kind),
                "repair": repair,
            }
            for d in self.differences
        ]

    def to_json(self) -> dict[str, Any]:
        return {
            "email": self.email,
            "subscriber_id": self.subscriber_id,
            "kinds": [str(kind) for kind in self.kinds],
            "differences": [d.to_json() for d in self.differences],
        }


@dataclass(slots=True, frozen=True)
class Scope:
    """What of a contact the comparison looks at: the fields the configuration maps (with their types) and the
    groups its rules manage (names, or names with a placeholder such as ``Tier {data.tier}``)."""

    field_types: Mapping[str, str]
    groups: frozenset[str]
    group_patterns: tuple[re.Pattern[str], ...] = ()

    @classmethod
    def of(cls, config: SyncConfig) -> Scope:
        names = config.group_names()
        patterns = tuple(
            re.compile("".join(".+" if part.startswith("{") else re.escape(part) for part in _template_parts(n)))
            for n in names
            if "{" in n
        )
        return cls(config.field_types(), frozenset(n for n in names if "{" not in n), patterns)

    def manages(self, group: str) -> bool:
        return group in self.groups or any(pattern.fullmatch(group) for pattern in self.group_patterns)


def _template_parts(name: str) -> list[str]:
    return [part for part in re.split(r"(\{[^}]*\})", name) if part]


def compare(state: ContactState, subscriber: Mapping[str, Any], scope: Scope) -> list[Difference]:
    """How ``subscriber`` (MailerLite's object, with its groups) differs from the studio's ``state``.

    A subscriber MailerLite keeps suppressed while the studio thinks them active is that one difference (their
    fields do not matter: nothing will be sent to them). Fields are compared only where the studio decided a
    value and the configuration still maps the field; groups only where the studio decided and a rule manages
    the group."""
    status = str(subscriber.get("status") or "")
    if status in SUPPRESSED_STATUSES:
        if state.status in SUPPRESSED_STATUSES:
            return []  # the studio knows already
        return [Difference(DriftKind.SUPPRESSED, status, state.status or "active", status)]
    differences: list[Difference] = []
    values = subscriber.get("fields") or {}
    for target, (value, _) in sorted(state.fields.items()):
        if target in SUBSCRIBER_ATTRIBUTES or target not in scope.field_types:
            continue
        held = values.get(target)
        if not same_value(value, held, scope.field_types[target]):
            differences.append(Difference(DriftKind.FIELD, target, value, held))
    groups = subscriber.get("groups")
    if groups is not None:  # a listing without include=groups says nothing about them
        member_of = {str(g.get("name")) for g in groups if isinstance(g, Mapping)}
        for name, (member, _) in sorted(state.groups.items()):
            if not scope.manages(name):
                continue
            if member and name not in member_of:
                differences.append(Difference(DriftKind.GROUP_REMOVED, name, True, False))
            elif not member and name in member_of:
                differences.append(Difference(DriftKind.GROUP_ADDED, name, False, True))
    return differences


def deleted(state: ContactState) -> Difference:
    """A contact the studio synced that MailerLite no longer lists (``studio``: the status the studio knew)."""
    return Difference(DriftKind.DELETED, "", state.status or "active", "missing")


def same_value(studio: Any, mailerlite: Any, field_type: str = "text") -> bool:
    """Whether MailerLite holds the value the studio sent, as MailerLite stores it: a number field gives back a
    number for the text "12.50", a text field gives back text for 12, an empty value is ``null``, a date may
    come back with a time of midnight."""
    if is_empty(studio) or is_empty(mailerlite):
        return is_empty(studio) and is_empty(mailerlite)
    if field_type == "number":
        a, b = _number(studio), _number(mailerlite)
        if a is not None and b is not None:
            return a == b
    text_a, text_b = str(studio).strip(), str(mailerlite).strip()
    if field_type == "date":
        return text_a.removesuffix(" 00:00:00")[:10] == text_b.removesuffix(" 00:00:00")[:10]
    return text_a == text_b


def _number(value: Any) -> Decimal | None:
    if isinstance(value, bool):
        return None
    try:
        return Decimal(str(value).strip())
    except (InvalidOperation, ValueError):
        return None


# --- the report ---------------------------------------------------------------------------------------------------


def count_kinds(drifts: Iterable[ContactDrift]) -> dict[str, int]:
    """Contacts per kind of difference (a contact with two kinds counts in both)."""
    counts: dict[str, int] = {}
    for drift in drifts:
        for kind in drift.kinds:
            counts[kind] = counts.get(kind, 0) + 1
    return counts


def summary(contacts: int, counts: Mapping[str, int]) -> str:
    """The check in a marketer's words: "12 contacts differ: 8 fields changed in MailerLite, 3 removed from a
    group by hand, 1 deleted in MailerLite"."""
    if not contacts:
        return "MailerLite holds what the studio decided: no contact differs."
    parts = []
    for kind in DriftKind:
        number = counts.get(kind, 0)
        if number:
            one, many = KIND_WORDS[kind]
            parts.append(f"{number:,} {one if number == 1 else many}")
    head = f"{contacts:,} contact{' differs' if contacts == 1 else 's differ'}"
    return head + (": " + ", ".join(parts) if parts else "")


def matches(drift: ContactDrift, kinds: Iterable[str] | None = None, email_contains: str = "") -> bool:
    """Whether a contact passes the table's filters: one of these kinds (any when none), the text in its email."""
    wanted = set(kinds or ())
    if wanted and not wanted.intersection(drift.kinds):
        return False
    return email_contains.strip().lower() in drift.email.lower()


def table_rows(drifts: Iterable[ContactDrift], *, recreate_deleted: bool = False) -> list[dict[str, Any]]:
    return [row for drift in drifts for row in drift.rows(recreate_deleted=recreate_deleted)]


def drift_csv(drifts: Iterable[ContactDrift], *, recreate_deleted: bool = False) -> str:
    """The table as CSV text, for a download."""
    buffer = io.StringIO()
    writer = csv.DictWriter(buffer, fieldnames=TABLE_COLUMNS)
    writer.writeheader()
    writer.writerows(table_rows(drifts, recreate_deleted=recreate_deleted))
    return buffer.getvalue()


def _cell(value: Any, kind: DriftKind) -> str:
    if kind in (DriftKind.GROUP_ADDED, DriftKind.GROUP_REMOVED):
        return "member" if value else "not a member"
    if value is None:
        return ""
    return value if isinstance(value, str) else str(value)


# --- the repair ---------------------------------------------------------------------------------------------------


#: Why a contact's repair sends nothing.
NOT_RECREATED = (
    "deleted in MailerLite; not recreated (choose “Recreate deleted contacts” to bring them back with what the "
    "studio decided)"
)


def repair_plan(
    drift: ContactDrift,
    state: ContactState,
    *,
    group_ids: Mapping[str, str] | None = None,
    recreate_deleted: bool = False,
) -> ContactPlan:
    """The requests that bring one drifted contact back to the studio's ``state`` (its remembered decision).

    A changed field and a group left by hand are sent again in one upsert (``POST /subscribers`` adds groups and
    sets fields, never removes anything); a group joined by hand is left with ``DELETE
    /subscribers/{id}/groups/{group}``. A deleted contact is recreated whole (every field and group the studio
    decided) only with ``recreate_deleted``; a suppressed one gets nothing. ``changes`` say MailerLite's value
    before and the studio's after, as a dry run shows them."""
    group_ids = group_ids or {}
    kinds = drift.kinds
    base = ContactState(
        state.email, state.subscriber_id, state.status, dict(state.fields), dict(state.groups)
    )  # what is remembered once it is sent: the same decision
    if DriftKind.SUPPRESSED in kinds:
        status = next(d.mailerlite for d in drift.differences if d.kind == DriftKind.SUPPRESSED)
        base.status = str(status)
        return ContactPlan(
            drift.email, PlanOutcome.SUPPRESSED, [], base, [], reason=suppressed_reason(base.status), previous=state
        )
    if DriftKind.DELETED in kinds:
        if state.suppressed:  # recreating them would subscribe someone who left
            return ContactPlan(
                drift.email,
                PlanOutcome.SUPPRESSED,
                [],
                base,
                [],
                reason=suppressed_reason(state.status),
                previous=state,
            )
        if not recreate_deleted:
            return ContactPlan(drift.email, PlanOutcome.SKIP, [], base, [], reason=NOT_RECREATED, previous=state)
        fields = {t: v for t, (v, _) in state.fields.items() if t not in SUBSCRIBER_ATTRIBUTES and not is_empty(v)}
        members = [name for name, (member, _) in state.groups.items() if member]
        base.subscriber_id, base.status = None, None  # MailerLite gives a new id
        body = subscriber_body(
            drift.email, fields=fields or None, groups=[group_ids.get(n, n) for n in members] or None
        )
        return ContactPlan(
            drift.email,
            PlanOutcome.CREATE,
            [Operation("upsert", "POST", plan_path(SUBSCRIBERS), body)],
            base,
            [],
            changes={target: (None, value) for target, value in fields.items()},
            groups_added=members,
            previous=state,
        )
    # the studio's decision as it stands now (a sync since the check may have changed it)
    fields = {
        d.name: state.field_value(d.name)
        for d in drift.differences
        if d.kind == DriftKind.FIELD and d.name in state.fields
    }
    rejoin = [d.name for d in drift.differences if d.kind == DriftKind.GROUP_REMOVED and state.in_group(d.name)]
    leave = [d.name for d in drift.differences if d.kind == DriftKind.GROUP_ADDED and state.in_group(d.name) is False]
    operations: list[Operation] = []
    if fields or rejoin:
        body = subscriber_body(drift.email, fields=fields or None, groups=[group_ids.get(n, n) for n in rejoin] or None)
        operations.append(Operation("upsert", "POST", plan_path(SUBSCRIBERS), body))
    subscriber = path_segment(drift.subscriber_id) if drift.subscriber_id else SUBSCRIBER_PLACEHOLDER
    for name in leave:
        group_ref = group_ids.get(name) or "{group:" + name + "}"
        path = plan_path(subscriber_group_path(subscriber, path_segment(group_ref) if name in group_ids else group_ref))
        operations.append(Operation("unassign", "DELETE", path, group=name))
    held = {d.name: d.mailerlite for d in drift.differences if d.kind == DriftKind.FIELD}
    return ContactPlan(
        drift.email,
        PlanOutcome.UPDATE if operations else PlanOutcome.UNCHANGED,
        operations,
        base,
        [],
        changes={name: (held[name], value) for name, value in fields.items()},
        groups_added=rejoin,
        groups_removed=leave,
        reason="" if operations else "nothing to send",
        previous=state,
    )
