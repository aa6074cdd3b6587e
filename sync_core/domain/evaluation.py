"""One event through the configuration: is it synced, with which values and group decisions, or why not.

This is the per-event half of planning, and what the Preview page shows. The configuration is compiled once:
triggers per (source, event type) are looked up in a cache, mappings and rules are prepared functions.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Literal

from sync_core.domain.config import LIFECYCLE_ACTIONS, SyncConfig, Trigger
from sync_core.domain.events import CUSTOMER, MISSING, PARTNER, SOURCE_LABELS, NormalizedEvent
from sync_core.domain.mapping import CompiledMapping, map_fields
from sync_core.domain.matching import EventTypeMatcher
from sync_core.domain.rules import CompiledRule, decide_groups, decide_named_groups

Status = Literal["sync", "ignored", "invalid"]


@dataclass(slots=True)
class EventEvaluation:
    """The verdict on one event. It keeps what planning needs, not the event itself, so that a streamed
    batch lets each event's body go as soon as it has been evaluated."""

    event_id: str
    event_type: str
    source: str
    email: str | None
    occurred_at: datetime
    status: Status
    reason: str = ""
    action: str | None = None  # when synced: "upsert", "update_only", "forget" or one of the LIFECYCLE_ACTIONS
    subscriber_status: str | None = None
    triggers: list[str] = field(default_factory=list)
    values: dict[str, Any] = field(default_factory=dict)  # MailerLite field or attribute → value
    decisions: dict[str, bool] = field(default_factory=dict)  # group → add (True) or remove (False)
    problems: list[str] | tuple[()] = ()
    volatile: frozenset[str] = frozenset()  # fields whose change alone is no reason to send
    only_if_empty: frozenset[str] = frozenset()  # fields set only while the subscriber has no value
    # membership templates (Tier {tier}) → the group they name now ("" none; None: the event lacks the value)
    named: dict[str, str | None] = field(default_factory=dict)


@dataclass(slots=True)
class _Route:
    """What the configuration does with one (source, event type): decided once, then cached."""

    status: Status
    reason: str = ""
    action: str | None = None
    subscriber_status: str | None = None
    triggers: list[str] = field(default_factory=list)
    mappings: list[CompiledMapping] = field(default_factory=list)
    rules: list[CompiledRule] = field(default_factory=list)  # the rules whose scope holds this event type
    volatile: frozenset[str] = frozenset()
    only_if_empty: frozenset[str] = frozenset()
    fields: dict[str, CompiledMapping] = field(default_factory=dict)  # target → the mapping that fills it
    templated: bool = False  # whether a rule in scope names its group from the event


class _CompiledTrigger:
    __slots__ = ("trigger", "matcher", "mappings")

    def __init__(self, trigger: Trigger):
        self.trigger = trigger
        self.matcher = EventTypeMatcher(trigger.event_types)
        self.mappings = [CompiledMapping(mapping) for mapping in trigger.fields]


class Evaluator:
    def __init__(self, config: SyncConfig):
        self.config = config
        self._triggers = [_CompiledTrigger(t) for t in config.triggers if t.enabled]
        self._rules = [CompiledRule(rule) for rule in config.group_rules if rule.enabled]
        self._routes: dict[tuple[str, str, str, bool], _Route] = {}

    def evaluate(self, event: NormalizedEvent, now: datetime) -> EventEvaluation:
        key = (event.source, event.type, event.kind, event.known_type)
        route = self._routes.get(key)
        if route is None:
            route = self._routes[key] = self._route(event)
        head = (event.id, event.type, event.source, event.email, event.occurred_at)
        if route.status != "sync":
            return EventEvaluation(*head, route.status, route.reason, triggers=route.triggers)
        if event.email is None:
            return EventEvaluation(
                *head, "invalid", event.email_problem or "the event has no email address", triggers=route.triggers
            )
        values, problems = map_fields(route.mappings, event, now)
        if problems:
            return EventEvaluation(*head, "invalid", "; ".join(problems), triggers=route.triggers, problems=problems)
        if route.templated:
            fields = route.fields

            def field_value(target: str) -> Any:
                mapping = fields.get(target)
                if mapping is None or not mapping.present(event):
                    return MISSING
                return values.get(target)

            decisions = decide_groups(route.rules, event, field_value)
            named = decide_named_groups(route.rules, event, field_value)
        else:
            decisions, named = decide_groups(route.rules, event), {}
        return EventEvaluation(
            *head,
            "sync",
            "",
            route.action,
            route.subscriber_status,
            route.triggers,
            values,
            decisions,
            (),
            route.volatile,
            route.only_if_empty,
            named,
        )

    def _route(self, event: NormalizedEvent) -> _Route:
        source_label = SOURCE_LABELS.get(event.source, event.source)
        settings = self.config.source_settings(event.source)
        if not settings.enabled:
            return _Route("ignored", f"the {source_label} source is turned off")
        if event.kind == PARTNER and not settings.sync_partners:
            return _Route("ignored", f'"Sync partners" is off for {source_label}')
        if event.kind == CUSTOMER and not settings.sync_customers:
            return _Route("ignored", f'"Sync customers" is off for {source_label}')
        matched = [
            t
            for t in self._triggers
            if (t.trigger.source is None or t.trigger.source == event.source)
            and (t.matcher.names_exactly(event.type) if not event.known_type else t.matcher.matches(event.type))
        ]
        names = [t.trigger.name for t in matched]
        if not matched:
            if not event.known_type:
                return _Route(
                    "ignored",
                    f"{event.type!r} is not a known {source_label} event type; it is kept "
                    "and ignored (name it in a trigger to sync it)",
                )
            return _Route("ignored", f"no trigger syncs {event.type} events")
        silencing = [t.trigger.name for t in matched if t.trigger.action == "ignore"]
        if silencing:
            return _Route("ignored", f"the trigger {silencing[0]!r} ignores {event.type} events", triggers=names)
        actions = {t.trigger.action for t in matched}
        if "forget" in actions:  # the contact is forgotten: nothing to map, whatever else the event says
            return _Route("sync", "", "forget", None, names)
        lifecycle = next((action for action in LIFECYCLE_ACTIONS if action in actions), None)
        if lifecycle is not None:  # it sends no fields and decides the groups itself: no mapping, no rule
            return _Route("sync", "", lifecycle, None, names)
        action = "upsert" if "upsert" in actions else "update_only"
        status = next((t.trigger.subscriber_status for t in matched if t.trigger.subscriber_status), None)
        # When two triggers fill the same field, the later trigger's mapping is the one used.
        by_target = {mapping.target: mapping for t in matched for mapping in t.mappings}
        rules = [rule for rule in self._rules if rule.scope.matches(event.type)]
        volatile = frozenset(target for target, m in by_target.items() if m.volatile)
        only_if_empty = frozenset(target for target, m in by_target.items() if m.only_if_empty)
        templated = any(rule.template is not None for rule in rules)
        return _Route(
            "sync",
            "",
            action,
            status,
            names,
            list(by_target.values()),
            rules,
            volatile,
            only_if_empty,
            by_target,
            templated,
        )
