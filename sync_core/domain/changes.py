"""What a sync would change for one contact, in a shape people read: created or updated, each field's value
before (what the studio knows of MailerLite) and after, groups added and removed, or why nothing is sent.

A dry run shows these contact by contact (the Run sync page, ``sync --dry-run``). They are made from the plan
(``from_plan``) or from what a run recorded of it (``from_record``), so both say the same thing. Pure: no I/O.
"""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from sync_core.domain.planning import ContactPlan, PlanOutcome

#: How each outcome reads in a dry run (what would happen), by the names runs record outcomes under.
OUTCOME_WORDS = {
    "created": "would be created",
    "updated": "would be updated",
    "unsubscribed": "would be unsubscribed",
    "deleted": "would be deleted",
    "unchanged": "nothing to send",
    "suppressed": "not sent: unsubscribed in MailerLite",
    "skipped": "skipped",
    "invalid": "skipped: invalid",
    "failed": "failed",
    "dead": "failed (gave up)",
    "ignored": "skipped: not synced by the configuration",
    "forgotten": "would be forgotten (GDPR)",
}
_PLAN_OUTCOMES = {
    PlanOutcome.CREATE: "created",
    PlanOutcome.UPDATE: "updated",
    PlanOutcome.UNSUBSCRIBE: "unsubscribed",
    PlanOutcome.DELETE: "deleted",
    PlanOutcome.UNCHANGED: "unchanged",
    PlanOutcome.SUPPRESSED: "suppressed",
    PlanOutcome.SKIP: "skipped",
    PlanOutcome.FORGET: "forgotten",
}
#: Outcomes that are the change itself (their reason says nothing more).
_DONE = ("created", "updated", "unsubscribed", "deleted")
#: The columns of the table and of the CSV download, one row per field changed (or one for the contact).
TABLE_COLUMNS = ("email", "outcome", "field", "before", "after", "groups added", "groups removed", "why")


@dataclass(slots=True, frozen=True)
class FieldChange:
    name: str
    before: Any  # None: MailerLite has no value the studio knows of
    after: Any


@dataclass(slots=True)
class ContactChange:
    email: str
    outcome: str  # an ItemOutcome name: created, updated, unchanged, suppressed, skipped, invalid...
    fields: list[FieldChange] = field(default_factory=list)
    groups_added: list[str] = field(default_factory=list)
    groups_removed: list[str] = field(default_factory=list)
    reason: str = ""

    def in_words(self) -> str:
        """One line a marketer reads: ``ada@example.com would be updated: name "Ada" → "Ada L."; + Partners``,
        ``ada@example.com would leave Active subscriptions`` when leaving groups is all that changes."""
        if self.outcome == "updated" and self.groups_removed and not (self.fields or self.groups_added):
            return f"{self.email} would leave {', '.join(self.groups_removed)}"
        parts = [f"{f.name} {_show(f.before)} → {_show(f.after)}" for f in self.fields]
        parts += [f"+ {group}" for group in self.groups_added]
        parts += [f"− {group}" for group in self.groups_removed]
        text = f"{self.email} {OUTCOME_WORDS.get(self.outcome, self.outcome)}"
        if parts:
            text += ": " + "; ".join(parts)
        if self.reason and self.outcome not in _DONE:
            text += f" ({self.reason})"
        return text

    def to_json(self) -> dict[str, Any]:
        """Every detail, for machines (``sync --dry-run --json`` prints one per line)."""
        return {
            "email": self.email,
            "outcome": self.outcome,
            "fields": {f.name: {"before": f.before, "after": f.after} for f in self.fields},
            "groups_added": list(self.groups_added),
            "groups_removed": list(self.groups_removed),
            "reason": self.reason,
        }

    def rows(self) -> list[dict[str, Any]]:
        """Table rows (``TABLE_COLUMNS``): one per field changed, or one for the contact when no field is."""
        common = {
            "email": self.email,
            "outcome": OUTCOME_WORDS.get(self.outcome, self.outcome),
            "groups added": ", ".join(self.groups_added),
            "groups removed": ", ".join(self.groups_removed),
            "why": "" if self.outcome in _DONE else self.reason,
        }
        if not self.fields:
            return [{**common, "field": "", "before": "", "after": ""}]
        return [{**common, "field": f.name, "before": _cell(f.before), "after": _cell(f.after)} for f in self.fields]


def from_record(
    email: str,
    outcome: str,
    changes: Mapping[str, Sequence[Any]] | None,
    groups: Iterable[tuple[str, str]] = (),
    reason: str = "",
) -> ContactChange:
    """A change as a run recorded it: ``changes`` maps a field to ``[before, after]``, ``groups`` are
    (group, "added" | "removed") pairs."""
    fields = [FieldChange(str(name), *_pair(value)) for name, value in (changes or {}).items()]
    pairs = list(groups)
    return ContactChange(
        email,
        str(outcome),
        fields,
        [group for group, action in pairs if action == "added"],
        [group for group, action in pairs if action == "removed"],
        reason,
    )


def from_plan(plan: ContactPlan) -> ContactChange:
    """What a plan would change (its fields against the contact's state before the run)."""
    return ContactChange(
        plan.email,
        _PLAN_OUTCOMES[plan.outcome],
        [FieldChange(name, before, after) for name, (before, after) in plan.changes.items()],
        list(plan.groups_added),
        list(plan.groups_removed),
        plan.reason,
    )


def count_outcomes(changes: Iterable[ContactChange]) -> dict[str, int]:
    counts: dict[str, int] = {}
    for change in changes:
        counts[change.outcome] = counts.get(change.outcome, 0) + 1
    return counts


def table_rows(changes: Iterable[ContactChange]) -> list[dict[str, Any]]:
    return [row for change in changes for row in change.rows()]


def changes_csv(changes: Iterable[ContactChange]) -> str:
    """The table as CSV text, for a download (a spreadsheet opens it)."""
    buffer = io.StringIO()
    writer = csv.DictWriter(buffer, fieldnames=TABLE_COLUMNS)
    writer.writeheader()
    writer.writerows(table_rows(changes))
    return buffer.getvalue()


def matches(change: ContactChange, outcomes: Iterable[str] | None = None, email_contains: str = "") -> bool:
    """Whether a change passes the table's filters: one of these outcomes (any when none), and the text in its
    email (case does not matter)."""
    wanted = set(outcomes or ())
    if wanted and change.outcome not in wanted:
        return False
    return email_contains.strip().lower() in change.email.lower()


def _pair(value: Sequence[Any] | Any) -> tuple[Any, Any]:
    if isinstance(value, (list, tuple)) and len(value) == 2:
        return value[0], value[1]
    return None, value  # a malformed record: show what there is as the new value


def _cell(value: Any) -> str:
    """A value in a table cell: empty for "no value known", JSON for lists and objects."""
    if value is None:
        return ""
    if isinstance(value, str):
        return value
    return json.dumps(value, ensure_ascii=False, default=str)


def _show(value: Any) -> str:
    if value is None:
        return "(empty)"
    return json.dumps(value, ensure_ascii=False, default=str) if not isinstance(value, str) else f'"{value}"'
