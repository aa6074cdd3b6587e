"""Planning: normalized events + what each contact last received → the minimal MailerLite operations.

The rules of PRODUCT §3 live here: nothing is sent when nothing changed; all of a contact's events in one run
become one upsert; an older event never overwrites a newer value; only membership rules remove from groups;
suppressed subscribers are never touched. A dry run is this same call with nothing sent afterwards.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from enum import StrEnum
from typing import Any, Literal

from sync_core.domain.config import SyncConfig
from sync_core.domain.evaluation import Evaluator, EventEvaluation
from sync_core.domain.events import NormalizedEvent, RejectedInput
from sync_core.domain.requests import (
    SUBSCRIBERS,
    path_segment,
    plan_path,
    subscriber_body,
    subscriber_group_path,
    subscriber_path,
)
from sync_core.domain.state import ContactState
from sync_core.domain.transforms import SUBSCRIBER_ATTRIBUTES, is_empty


class PlanOutcome(StrEnum):
    """What a plan intends for a contact. What came of it is recorded apart (``storage.statuses.ItemOutcome``):
    a planned create may turn out to be an update, a send may fail."""

    CREATE = "create"
    UPDATE = "update"
    UNCHANGED = "unchanged"
    SUPPRESSED = "suppressed"


class SkipStatus(StrEnum):
    """Why an input leads to no operation (``ignored`` and ``invalid`` are the evaluation's own verdicts)."""

    IGNORED = "ignored"
    INVALID = "invalid"
    DUPLICATE = "duplicate"
    REJECTED = "rejected"


#: Where a subscriber's id goes in a path until MailerLite gives it (the sender fills it in).
SUBSCRIBER_PLACEHOLDER = "{subscriber_id}"


@dataclass(slots=True)
class Operation:
    """One MailerLite API request. Ids not known yet stay placeholders (``{subscriber_id}``) or group names;
    ``group`` keeps the group's name for the engine to resolve."""

    kind: Literal["upsert", "lookup", "update", "assign", "unassign"]
    method: str
    path: str
    body: dict[str, Any] | None = None
    group: str | None = None

    def as_request(self) -> dict[str, Any]:
        return {"method": self.method, "path": self.path, "body": self.body}


@dataclass(slots=True)
class ContactPlan:
    """What one contact gets in this run, and what the product will remember once it is sent."""

    email: str
    outcome: PlanOutcome
    operations: list[Operation]
    new_state: ContactState
    event_ids: list[str]
    changes: dict[str, tuple[Any, Any]] = field(default_factory=dict)  # field → (before, after)
    groups_added: list[str] = field(default_factory=list)
    groups_removed: list[str] = field(default_factory=list)
    reason: str = ""


@dataclass(slots=True)
class SkippedEvent:
    """An input that leads to no operation, with why: ignored, invalid, duplicate or rejected."""

    status: SkipStatus
    reason: str
    source: str
    event_id: str | None
    event_type: str | None = None
    email: str | None = None
    position: str | None = None


@dataclass(slots=True)
class Plan:
    contacts: list[ContactPlan] = field(default_factory=list)
    skipped: list[SkippedEvent] = field(default_factory=list)

    def operations(self) -> list[Operation]:
        return [operation for contact in self.contacts for operation in contact.operations]

    def counts(self) -> dict[str, int]:
        counts: dict[str, int] = {}
        for contact in self.contacts:
            counts[contact.outcome] = counts.get(contact.outcome, 0) + 1
        for skipped in self.skipped:
            counts[skipped.status] = counts.get(skipped.status, 0) + 1
        return counts


def _occurred_at(evaluation: EventEvaluation) -> datetime:
    return evaluation.occurred_at


class Planner:
    """Plans batches for one configuration (compiled once, reused for every batch)."""

    def __init__(self, config: SyncConfig):
        self.config = config
        self.evaluator = Evaluator(config)
        self.default_group = config.connection.default_group

    def plan(
        self,
        items: Iterable[NormalizedEvent | RejectedInput],
        states: Mapping[str, ContactState] | None = None,
        *,
        group_ids: Mapping[str, str] | None = None,
        now: datetime | None = None,
    ) -> Plan:
        """Plan one batch. ``states`` holds each known contact's last synced state (missing = never synced);
        ``group_ids`` maps group names to MailerLite ids where they are known."""
        plan = Plan()
        for result in self.iter_plan(items, states, group_ids=group_ids, now=now):
            (plan.contacts if isinstance(result, ContactPlan) else plan.skipped).append(result)  # type: ignore
        return plan

    def iter_plan(
        self,
        items: Iterable[NormalizedEvent | RejectedInput],
        states: Mapping[str, ContactState] | None = None,
        *,
        group_ids: Mapping[str, str] | None = None,
        now: datetime | None = None,
    ) -> Iterator[ContactPlan | SkippedEvent]:
        """``plan`` one result at a time: skipped events as they are read, then one plan per contact.

        A caller that sends and records each contact plan as it comes keeps only the batch's evaluations in
        memory, not every plan at once."""
        now = now or datetime.now(UTC)
        states = states or {}
        group_ids = group_ids or {}
        seen: set[tuple[str, str]] = set()
        by_contact: dict[str, list[EventEvaluation]] = {}
        for item in items:
            if isinstance(item, RejectedInput):
                yield SkippedEvent(SkipStatus.REJECTED, item.reason, item.source, item.id, position=item.position)
                continue
            key = (item.source, item.id)
            if key in seen:
                yield SkippedEvent(
                    SkipStatus.DUPLICATE,
                    "the same event was already in this batch",
                    item.source,
                    item.id,
                    item.type,
                    item.email,
                )
                continue
            seen.add(key)
            evaluation = self.evaluator.evaluate(item, now)
            if evaluation.status != "sync":
                yield SkippedEvent(
                    SkipStatus(evaluation.status), evaluation.reason, item.source, item.id, item.type, item.email
                )
                continue
            by_contact.setdefault(item.email, []).append(evaluation)  # type: ignore[arg-type]
        for email, evaluations in by_contact.items():
            yield self.plan_contact(email, evaluations, states.get(email), group_ids)

    def plan_contact(
        self,
        email: str,
        evaluations: list[EventEvaluation],
        state: ContactState | None,
        group_ids: Mapping[str, str],
    ) -> ContactPlan:
        """One contact's events (already evaluated) against its last synced state."""
        event_ids = [evaluation.event_id for evaluation in evaluations]
        if state is not None and state.suppressed:
            return ContactPlan(
                email,
                PlanOutcome.SUPPRESSED,
                [],
                state,
                event_ids,
                reason=f"the subscriber is {state.status} in MailerLite, which does not allow re-adding them "
                "by API; they can only come back through a form or the MailerLite app",
            )
        ordered = evaluations if len(evaluations) == 1 else sorted(evaluations, key=_occurred_at)
        before_fields = state.fields if state else {}
        before_groups = state.groups if state else {}
        fields = dict(before_fields)
        groups = dict(before_groups)
        touched: dict[str, bool] = {}  # field → whether its value is volatile (time of sync)
        decided: dict[str, bool] = {}  # group → member, for the groups this run decided on
        for evaluation in ordered:
            at = evaluation.occurred_at
            only_if_empty, volatile = evaluation.only_if_empty, evaluation.volatile
            for target, value in evaluation.values.items():
                current = fields.get(target)
                if current is not None:
                    if at < current[1]:
                        continue  # an older event never overwrites a newer value
                    if only_if_empty and target in only_if_empty and not is_empty(current[0]):
                        continue
                fields[target] = (value, at)
                touched[target] = bool(volatile) and target in volatile
            for group, member in evaluation.decisions.items():
                current_group = groups.get(group)
                if current_group is None or at >= current_group[1]:
                    groups[group] = (member, at)
                    decided[group] = member

        exists = state is not None
        creates = False
        if not exists:
            for evaluation in ordered:
                if evaluation.action == "upsert":
                    creates = True
                    break
        default_group = self.default_group
        if creates and default_group and default_group not in groups:
            groups = {default_group: (True, ordered[0].occurred_at), **groups}
            decided = {default_group: True, **decided}

        changes: dict[str, tuple[Any, Any]] = {}
        field_values: dict[str, Any] = {}  # what goes into "fields"; attributes (subscribed_at) go top-level
        attributes: dict[str, Any] = {}
        material = False  # a change worth sending: anything but the time of sync
        attribute_names = SUBSCRIBER_ATTRIBUTES
        for target, is_volatile in touched.items():
            value = fields[target][0]
            before = before_fields.get(target)
            if before is None:
                changes[target] = (None, value)
            elif before[0] != value:
                changes[target] = (before[0], value)
            else:
                continue
            if target in attribute_names:
                attributes[target] = value
            else:
                field_values[target] = value
            material = material or not is_volatile
        if changes and not material:
            for target in changes:  # only the time of sync moved: nothing worth sending, nothing to remember
                if target in before_fields:
                    fields[target] = before_fields[target]
                else:
                    del fields[target]
            changes, field_values, attributes = {}, {}, {}
        added: list[str] = []
        removed: list[str] = []
        for name, member in decided.items():
            before_group = before_groups.get(name)
            if member:
                if before_group is None or not before_group[0]:
                    added.append(name)
            elif exists and (before_group is None or before_group[0]):
                removed.append(name)  # in the group, or maybe (a known contact the product never decided on)

        subscriber_id = state.subscriber_id if state else None
        status = state.status if state else None
        new_state = ContactState(email, subscriber_id, status, fields, groups)
        operations = self._operations(
            email, ordered, state, creates, field_values, attributes, added, removed, group_ids
        )
        outcome = PlanOutcome.CREATE if creates else (PlanOutcome.UPDATE if operations else PlanOutcome.UNCHANGED)
        return ContactPlan(
            email,
            outcome,
            operations,
            new_state,
            event_ids,
            changes,
            added,
            removed,
            reason="" if operations else "nothing changed since the last sync",
        )

    def _operations(
        self,
        email: str,
        ordered: list[EventEvaluation],
        state: ContactState | None,
        creates: bool,
        field_values: dict[str, Any],
        attributes: dict[str, Any],
        added: list[str],
        removed: list[str],
        group_ids: Mapping[str, str],
    ) -> list[Operation]:
        subscriber = (state.subscriber_id if state else None) or SUBSCRIBER_PLACEHOLDER
        operations: list[Operation] = []
        if creates or state is not None:
            if creates or field_values or attributes or added:
                status = next((e.subscriber_status for e in ordered if e.subscriber_status), None)
                body = subscriber_body(
                    email,
                    fields=field_values or None,
                    groups=[group_ids.get(name, name) for name in added] or None,
                    status=status if creates else None,
                    **attributes,
                )
                operations.append(Operation("upsert", "POST", plan_path(SUBSCRIBERS), body))
        elif field_values or attributes or added:
            # "Update existing only" for a contact this product never synced: find it first; the engine skips
            # the rest when MailerLite does not know the address.
            operations.append(Operation("lookup", "GET", plan_path(subscriber_path(path_segment(email)))))
            if field_values or attributes:
                body = subscriber_body(fields=field_values or None, **attributes)
                operations.append(Operation("update", "PUT", plan_path(subscriber_path(subscriber)), body))
            for name in added:
                operations.append(
                    Operation("assign", "POST", self._group_path(subscriber, name, group_ids), group=name)
                )
        for name in removed:
            operations.append(
                Operation("unassign", "DELETE", self._group_path(subscriber, name, group_ids), group=name)
            )
        return operations

    @staticmethod
    def _group_path(subscriber: str, group: str, group_ids: Mapping[str, str]) -> str:
        group_ref = group_ids.get(group) or "{group:" + group + "}"
        return plan_path(subscriber_group_path(subscriber, group_ref))
