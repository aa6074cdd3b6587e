"""Planning: normalized events + what each contact last received → the minimal MailerLite operations.

The rules of PRODUCT §3 live here: nothing is sent when nothing changed; all of a contact's events in one run
become one upsert; an older event never overwrites a newer value; only membership rules remove from groups.

MailerLite has the last word where the product's memory cannot know: a plan that depends on what the account
holds starts with a lookup, and ``follow_up`` (pure too) turns MailerLite's answer into what is still sent.
"Update existing only" never creates (lookup, then ``PUT`` by id); a removal from a group happens only if the
subscriber is in it; "set only if empty" means empty in MailerLite (one lookup per contact whose value the
product does not know, inside a batch); a suppressed subscriber is checked again when an event for them comes
and nothing is applied while MailerLite keeps them suppressed. A dry run is this same call with nothing sent.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from enum import StrEnum
from typing import Any, Literal

from sync_core.domain.config import LIFECYCLE_ACTIONS, SyncConfig
from sync_core.domain.evaluation import Evaluator, EventEvaluation
from sync_core.domain.events import NormalizedEvent, RejectedInput
from sync_core.domain.requests import (
    SUBSCRIBERS,
    api_relative,
    path_segment,
    plan_path,
    subscriber_body,
    subscriber_forget_path,
    subscriber_group_path,
    subscriber_path,
    unsubscribe_body,
)
from sync_core.domain.state import DELETED_STATUS, ContactState
from sync_core.domain.transforms import SUBSCRIBER_ATTRIBUTES, is_empty


class PlanOutcome(StrEnum):
    """What a plan intends for a contact. What came of it is recorded apart (``storage.statuses.ItemOutcome``):
    a planned create may turn out to be an update, a send may fail."""

    CREATE = "create"
    UPDATE = "update"
    UNSUBSCRIBE = "unsubscribe"
    DELETE = "delete"
    UNCHANGED = "unchanged"
    SUPPRESSED = "suppressed"
    SKIP = "skip"  # nothing is sent on purpose (a drift repair leaves a contact deleted in MailerLite as it is)
    FORGET = "forget"  # a trigger's action "forget" (GDPR): MailerLite forgets them, the studio erases them


class SkipStatus(StrEnum):
    """Why an input leads to no operation (``ignored`` and ``invalid`` are the evaluation's own verdicts)."""

    IGNORED = "ignored"
    INVALID = "invalid"
    DUPLICATE = "duplicate"
    REJECTED = "rejected"


#: Where a subscriber's id goes in a path until MailerLite gives it (the sender fills it in).
SUBSCRIBER_PLACEHOLDER = "{subscriber_id}"
#: Where every upsert goes, as a plan records it (built once, not per contact).
_UPSERT_PATH = plan_path(SUBSCRIBERS)


@dataclass(slots=True)
class Operation:
    """One MailerLite API request. Ids not known yet stay placeholders (``{subscriber_id}``) or group names;
    ``group`` keeps the group's name for the engine to resolve."""

    kind: Literal["upsert", "lookup", "update", "assign", "unassign", "unsubscribe", "delete", "forget"]
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
    previous: ContactState | None = None  # what the product knew before this plan (kept when nothing is applied)
    only_if_empty: list[str] = field(default_factory=list)  # sent only if MailerLite's answer shows them empty
    action: str | None = None  # the lifecycle action this plan carries out (unsubscribe, forget...), None for others
    triggers: list[str] = field(default_factory=list)  # for a forget: the triggers that asked for it

    @property
    def reads_first(self) -> bool:
        """Whether the plan asks MailerLite first (a lookup) and sends the rest according to the answer."""
        return bool(self.operations) and self.operations[0].kind == "lookup"


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
        """One contact's events (already evaluated) against its last synced state.

        The contact's latest event decides its place in MailerLite: a lifecycle action (unsubscribe, remove
        from the studio's groups, delete) that comes last is what the plan does, and the events before it send
        nothing; one followed by a create or update is superseded by it."""
        event_ids = [evaluation.event_id for evaluation in evaluations]
        if any(evaluation.action == "forget" for evaluation in evaluations):
            names = [name for e in evaluations if e.action == "forget" for name in e.triggers]
            return forget_plan(email, event_ids, state, triggers=list(dict.fromkeys(names)))
        ordered = evaluations if len(evaluations) == 1 else sorted(evaluations, key=_occurred_at)
        known_absent = state is not None and state.deleted
        if state is not None and known_absent:
            deleted_at = state.deleted_at
            if deleted_at is not None and ordered[-1].occurred_at < deleted_at:
                reason = "deleted from MailerLite by a later event: this older event does not bring them back"
                return ContactPlan(email, PlanOutcome.UNCHANGED, [], state, event_ids, reason=reason)
            if deleted_at is not None:
                ordered = [evaluation for evaluation in ordered if evaluation.occurred_at >= deleted_at]
            state = None  # deleted by the studio: what it knew of them is gone with them
        if ordered[-1].action in LIFECYCLE_ACTIONS:
            return self._lifecycle_plan(email, ordered[-1], state, event_ids, group_ids, known_absent=known_absent)
        if len(ordered) > 1:
            ordered = [evaluation for evaluation in ordered if evaluation.action not in LIFECYCLE_ACTIONS]
        before_fields = state.fields if state else {}
        before_groups = state.groups if state else {}
        fields = dict(before_fields)
        groups = dict(before_groups)
        named = dict(state.named) if state else {}
        passing: set[str] = set()  # groups a template named in this run and then named another instead
        touched: dict[str, bool] = {}  # field → whether its value is volatile (time of sync)
        decided: dict[str, bool] = {}  # group → member, for the groups this run decided on
        unknown_if_empty: set[str] = set()  # "set only if empty" fields whose MailerLite value is not known here
        for evaluation in ordered:
            at = evaluation.occurred_at
            only_if_empty, volatile = evaluation.only_if_empty, evaluation.volatile
            for target, value in evaluation.values.items():
                current = fields.get(target)
                conditional = target in only_if_empty  # frozensets: an empty one answers at once
                if current is not None:
                    if at < current[1]:
                        continue  # an older event never overwrites a newer value
                    if conditional and not is_empty(current[0]):
                        continue
                if conditional and target not in before_fields:
                    unknown_if_empty.add(target)
                else:
                    unknown_if_empty.discard(target)
                fields[target] = (value, at)
                touched[target] = target in volatile
            for group, member in evaluation.decisions.items():
                current_group = groups.get(group)
                if current_group is None or at >= current_group[1]:
                    groups[group] = (member, at)
                    decided[group] = member
            for template, name in evaluation.named.items():
                if name is None:
                    continue  # the event does not have the value: the contact stays where they are
                current_name = named.get(template)
                if current_name is not None and at < current_name[1]:
                    continue  # an older event never moves the contact back
                previous = current_name[0] if current_name else ""
                if previous and previous != name:
                    groups[previous] = (False, at)
                    decided[previous] = False
                    if previous not in before_groups:
                        passing.add(previous)
                if name:
                    groups[name] = (True, at)
                    decided[name] = True
                    passing.discard(name)
                named[template] = (name, at)
        for name in passing:  # joined and left within this run: nothing to send, nothing to remember
            if not decided.get(name, True):
                del decided[name]
                del groups[name]

        exists = state is not None
        upserts = any(evaluation.action == "upsert" for evaluation in ordered)  # else: update existing only
        creates = upserts and not exists
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
            elif before_group is None or before_group[0]:
                # in the group, or maybe (a contact the product never decided on): what MailerLite answers
                # about the subscriber (a lookup, the upsert) tells the sender whether there is anything to remove
                removed.append(name)

        subscriber_id = state.subscriber_id if state else None
        status = state.status if state else None
        new_state = ContactState(email, subscriber_id, status, fields, groups, named)
        read_if_empty = sorted(target for target in unknown_if_empty if target in changes)
        reads_first = not upserts or bool(read_if_empty) or (state is not None and state.suppressed)
        operations = self._operations(
            email, ordered, state, upserts, creates, reads_first, field_values, attributes, added, removed, group_ids
        )
        outcome = PlanOutcome.CREATE if creates else (PlanOutcome.UPDATE if operations else PlanOutcome.UNCHANGED)
        reason = "" if operations else "nothing changed since the last sync"
        if state is not None and state.suppressed and not operations:
            outcome, reason = PlanOutcome.SUPPRESSED, suppressed_reason(state.status)
        return ContactPlan(
            email,
            outcome,
            operations,
            new_state,
            event_ids,
            changes,
            added,
            removed,
            reason=reason,
            previous=state,
            only_if_empty=read_if_empty,
        )

    def _operations(
        self,
        email: str,
        ordered: list[EventEvaluation],
        state: ContactState | None,
        upserts: bool,
        creates: bool,
        reads_first: bool,
        field_values: dict[str, Any],
        attributes: dict[str, Any],
        added: list[str],
        removed: list[str],
        group_ids: Mapping[str, str],
    ) -> list[Operation]:
        """The requests, in order. ``reads_first`` puts a lookup (``GET /subscribers/{email}``) before the rest,
        which the sender then sends according to MailerLite's answer (``follow_up``): an "update existing
        only" contact (never created: ``PUT /subscribers/{id}`` once found, as ``POST /subscribers`` would
        create it), a "set only if empty" field whose MailerLite value the product does not know, a contact
        last seen suppressed (synced again once MailerLite says it is active)."""
        known = state.subscriber_id if state and not reads_first else None
        subscriber = known or SUBSCRIBER_PLACEHOLDER
        if not (creates or field_values or attributes or added or removed):
            return []
        operations: list[Operation] = []
        if reads_first:
            operations.append(Operation("lookup", "GET", plan_path(subscriber_path(path_segment(email)))))
        if upserts:
            if creates or field_values or attributes or added:
                status = next((e.subscriber_status for e in ordered if e.subscriber_status), None)
                body = subscriber_body(
                    email,
                    fields=field_values or None,
                    groups=[group_ids.get(name, name) for name in added] or None,
                    status=status if creates else None,
                    **attributes,
                )
                operations.append(Operation("upsert", "POST", _UPSERT_PATH, body))
        else:
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
        if len(operations) == 1 and reads_first:
            return []  # a lookup with nothing after it
        if (
            not reads_first
            and all(o.kind != "upsert" for o in operations)
            and any(SUBSCRIBER_PLACEHOLDER in o.path for o in operations)
        ):  # no id known and nothing that would give one: find it first
            operations.insert(0, Operation("lookup", "GET", plan_path(subscriber_path(path_segment(email)))))
        return operations

    def _lifecycle_plan(
        self,
        email: str,
        evaluation: EventEvaluation,
        state: ContactState | None,
        event_ids: list[str],
        group_ids: Mapping[str, str],
        *,
        known_absent: bool,
    ) -> ContactPlan:
        """Unsubscribe, remove from the studio's groups, or delete: by the subscriber's id, so that nothing is
        ever created (a lookup by email first when the id is not known; not found, nothing is sent)."""
        action = evaluation.action
        at = evaluation.occurred_at
        fields = dict(state.fields) if state else {}
        groups = dict(state.groups) if state else {}
        subscriber_id = state.subscriber_id if state else None
        status = state.status if state else None
        subscriber = path_segment(subscriber_id) if subscriber_id else SUBSCRIBER_PLACEHOLDER
        if known_absent:
            gone = ContactState(email, None, DELETED_STATUS, deleted_at=at)
            reason = "not in MailerLite (the studio deleted them), nothing was sent"
            return ContactPlan(email, PlanOutcome.UNCHANGED, [], gone, event_ids, reason=reason, action=action)
        removed: list[str] = []
        if action == "unsubscribe":
            if state is not None and state.suppressed:
                reason = f"already {state.status} in MailerLite: nothing to send"
                return ContactPlan(
                    email, PlanOutcome.SUPPRESSED, [], state, event_ids, reason=reason, previous=state, action=action
                )
            operations = [Operation("unsubscribe", "PUT", plan_path(subscriber_path(subscriber)), unsubscribe_body())]
            new_state = ContactState(email, subscriber_id, "unsubscribed", fields, groups)
            outcome = PlanOutcome.UNSUBSCRIBE
        elif action == "delete":
            operations = [Operation("delete", "DELETE", plan_path(subscriber_path(subscriber)))]
            new_state = ContactState(email, None, DELETED_STATUS, deleted_at=at)
            outcome = PlanOutcome.DELETE
        else:  # remove_groups
            managed = self.config.managed_groups()
            removed = [name for name in managed if state is None or state.in_group(name) is not False]
            operations = [
                Operation("unassign", "DELETE", self._group_path(subscriber, name, group_ids), group=name)
                for name in removed
            ]
            groups.update({name: (False, at) for name in managed})
            new_state = ContactState(email, subscriber_id, status, fields, groups)
            outcome = PlanOutcome.UPDATE if operations else PlanOutcome.UNCHANGED
        if not operations:
            reason = "not in any of the studio's groups: nothing to send"
            return ContactPlan(email, outcome, [], new_state, event_ids, reason=reason, previous=state, action=action)
        if subscriber_id is None:
            operations.insert(0, Operation("lookup", "GET", plan_path(subscriber_path(path_segment(email)))))
        return ContactPlan(
            email, outcome, operations, new_state, event_ids, groups_removed=removed, previous=state, action=action
        )

    @staticmethod
    def _group_path(subscriber: str, group: str, group_ids: Mapping[str, str]) -> str:
        group_ref = group_ids.get(group) or "{group:" + group + "}"
        return plan_path(subscriber_group_path(subscriber, group_ref))


def unknown_groups(plans: Iterable[ContactPlan], group_ids: Mapping[str, str]) -> tuple[set[str], set[str]]:
    """The groups plans join and leave whose MailerLite ids ``group_ids`` does not hold (the groups that
    templated rules name, such as "Tier Gold"): (joined, left only)."""
    joined = {name for plan in plans for name in plan.groups_added if name not in group_ids}
    left = {name for plan in plans for name in plan.groups_removed if name not in group_ids} - joined
    return joined, left


def resolve_groups(plan: ContactPlan, group_ids: Mapping[str, str]) -> None:
    """Put the ids of groups planned by name (those a templated rule named) in place of their names, now that
    the engine knows them. Leaving a group the account does not have (deleted in MailerLite) needs nothing."""
    operations: list[Operation] = []
    for operation in plan.operations:
        name = operation.group
        if operation.kind in ("assign", "unassign") and name is not None and "{group:" in operation.path:
            group_id = group_ids.get(name)
            if group_id is None:
                if operation.kind == "unassign":
                    if name in plan.groups_removed:
                        plan.groups_removed.remove(name)
                    continue
            else:
                path = operation.path.replace("{group:" + name + "}", group_id)
                operation = Operation(operation.kind, operation.method, path, operation.body, name)
        elif operation.kind == "upsert" and operation.body and operation.body.get("groups"):
            body = {**operation.body, "groups": [group_ids.get(group, group) for group in operation.body["groups"]]}
            operation = Operation(operation.kind, operation.method, operation.path, body, name)
        operations.append(operation)
    if operations and all(operation.kind == "lookup" for operation in operations):
        operations = []  # a lookup with nothing after it
    if not operations and plan.outcome == PlanOutcome.UPDATE:
        plan.outcome, plan.reason = PlanOutcome.UNCHANGED, "nothing changed since the last sync"
    plan.operations = operations


def forget_plan(
    email: str, event_ids: list[str], state: ContactState | None, *, triggers: list[str] | None = None
) -> ContactPlan:
    """A contact a trigger forgets (GDPR): whatever else its events say, MailerLite is asked to forget the
    subscriber (found by email first: the id the studio knows may be stale) and the studio then erases the
    contact, every event up to the forget included. Nothing is remembered of them but a tombstone."""
    operations = [
        Operation("lookup", "GET", plan_path(subscriber_path(path_segment(email)))),
        Operation("forget", "POST", plan_path(subscriber_forget_path(SUBSCRIBER_PLACEHOLDER))),
    ]
    reason = "forgotten (GDPR) by a trigger: MailerLite is asked to forget the subscriber, the studio erases them"
    return ContactPlan(
        email,
        PlanOutcome.FORGET,
        operations,
        ContactState(email),
        event_ids,
        reason=reason,
        previous=state,
        action="forget",
        triggers=list(triggers or []),
    )


def suppressed_reason(status: str | None) -> str:
    """Why nothing is applied for a subscriber MailerLite keeps unsubscribed, bounced or junk."""
    return (
        f"the subscriber is {status or 'unsubscribed'} in MailerLite, which does not allow re-adding them by API; "
        "they can only come back through a form or the MailerLite app (the next event for them checks again)"
    )


def follow_up(
    plan: ContactPlan, operations: Iterable[Operation], subscriber: Mapping[str, Any] | None
) -> list[Operation]:
    """The ``operations`` of ``plan`` still worth sending now that MailerLite said what it holds for the contact:
    its subscriber object, from a lookup or an upsert's answer (``None``: not in MailerLite).

    Pure, and it brings the plan in line with what will really happen: a group the subscriber is not in is not
    "removed" (no request), a group they are already in is not "added", and a "set only if empty" field that
    MailerLite already holds is not sent; the product remembers MailerLite's value instead, so the next event
    for the contact needs no lookup for it."""
    groups = (subscriber or {}).get("groups") or []
    member_ids = {str(group.get("id")) for group in groups if isinstance(group, Mapping)}
    member_names = {group.get("name") for group in groups if isinstance(group, Mapping)}

    def is_member(operation: Operation) -> bool:
        group_ref = api_relative(operation.path).rstrip("/").rsplit("/", 1)[-1]
        return operation.group in member_names or group_ref in member_ids

    held: dict[str, Any] = {}  # "only if empty" targets MailerLite already holds, with their values
    if subscriber is not None:
        values = subscriber.get("fields") or {}
        for target in plan.only_if_empty:
            value = subscriber.get(target) if target in SUBSCRIBER_ATTRIBUTES else values.get(target)
            if not is_empty(value):
                held[target] = value
    kept: list[Operation] = []
    for operation in operations:
        if operation.kind == "unassign" and not is_member(operation):
            if operation.group in plan.groups_removed:
                plan.groups_removed.remove(operation.group)
            continue
        if operation.kind == "assign" and subscriber is not None and is_member(operation):
            if operation.group in plan.groups_added:
                plan.groups_added.remove(operation.group)
            continue
        if operation.kind in ("upsert", "update") and held and operation.body:
            body = {key: value for key, value in operation.body.items() if key not in held}
            if isinstance(body.get("fields"), dict):
                body["fields"] = {key: value for key, value in body["fields"].items() if key not in held}
                if not body["fields"]:
                    del body["fields"]
            if not set(body) - {"email", "status"}:
                continue  # nothing left worth sending
            operation = Operation(operation.kind, operation.method, operation.path, body, operation.group)
        kept.append(operation)
    for target, value in held.items():
        plan.changes.pop(target, None)
        entry = plan.new_state.fields.get(target)
        if entry is not None:  # kept with the time of the event that wanted it, like any value it decided
            plan.new_state.fields[target] = (value, entry[1])
    if subscriber is not None:
        plan.new_state.subscriber_id = str(subscriber.get("id") or plan.new_state.subscriber_id or "") or None
    return kept
