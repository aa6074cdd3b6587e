"""Group rules: which MailerLite groups an event puts its contact into, or takes it out of.

A condition is true, false, or undecided when the field it reads is absent from the event. A membership rule
decides nothing on an undecided event (a partial update must not remove anyone); an add-only rule simply does
not add.

A rule whose group name is a template (``Tier {tier}``) names its group from each event. A membership template
gives the group the contact belongs in now (``decide_named_groups``): planning then takes the contact out of the
group the same rule named before, so a tier going from Gold to Silver leaves "Tier Gold" and joins "Tier
Silver". An empty value names no group (the previous one is left); an event without the value decides nothing.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from decimal import Decimal, InvalidOperation
from typing import Any

from sync_core.domain.config import Condition, GroupRule
from sync_core.domain.events import MISSING, NormalizedEvent, compile_path, parse_timestamp
from sync_core.domain.matching import EventTypeMatcher
from sync_core.domain.transforms import is_empty

Test = Callable[[NormalizedEvent], bool | None]
#: The value a MailerLite field gets from the event being decided on (``MISSING`` when the event lacks it).
FieldValue = Callable[[str], Any]
MAX_GROUP_NAME = 255
_PLACEHOLDER = re.compile(r"\{([^{}]+)\}")
_SPACES = re.compile(r"\s+")


def _no_fields(target: str) -> Any:
    return MISSING


def _number(value: Any) -> int | float | Decimal | None:
    """A comparable number from a number or numeric text; ints stay ints (fast and exact)."""
    kind = type(value)
    if kind is int or kind is float:
        return value
    if kind is str:
        text = value.strip()
        if text.isascii() and text.isdigit():
            return int(text)
        try:
            number = Decimal(text)
        except InvalidOperation:
            return None
        return number if number.is_finite() else None
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        return value
    return None


def values_equal(left: Any, right: Any) -> bool:
    """Equality as a marketer means it: 10000 equals "10000", "Active" equals "active"."""
    if left is None or right is None:
        return is_empty(left) and is_empty(right)
    left_number, right_number = _number(left), _number(right)
    if left_number is not None and right_number is not None:
        return left_number == right_number
    if isinstance(left, bool) or isinstance(right, bool):
        return str(left).strip().lower() == str(right).strip().lower()
    return str(left).strip().casefold() == str(right).strip().casefold()


def _compare(left: Any, right: Any) -> int | None:
    """-1/0/1 comparing numbers, or dates when both are dates; ``None`` when they cannot be compared."""
    left_number, right_number = _number(left), _number(right)
    if left_number is not None and right_number is not None:
        return (left_number > right_number) - (left_number < right_number)
    left_time, right_time = parse_timestamp(left), parse_timestamp(right)
    if left_time is not None and right_time is not None and isinstance(left, str) and isinstance(right, str):
        return (left_time > right_time) - (left_time < right_time)
    return None


def _text(value: Any) -> str:
    return "" if value is None else str(value).casefold()


def evaluate_operator(operator: str, actual: Any, expected: Any) -> bool:
    """One operator applied to a present value."""
    if operator == "equals":
        return values_equal(actual, expected)
    if operator == "not_equals":
        return not values_equal(actual, expected)
    if operator == "in":
        return any(values_equal(actual, item) for item in expected)
    if operator == "not_in":
        return not any(values_equal(actual, item) for item in expected)
    if operator == "contains":
        if isinstance(actual, (list, tuple)):
            return any(values_equal(item, expected) for item in actual)
        return _text(expected) in _text(actual)
    if operator == "starts_with":
        return _text(actual).startswith(_text(expected).strip())
    if operator == "is_empty":
        return is_empty(actual)
    if operator == "is_not_empty":
        return not is_empty(actual)
    order = _compare(actual, expected)
    if order is None:
        return False
    return {"gt": order > 0, "gte": order >= 0, "lt": order < 0, "lte": order <= 0}[operator]


def compile_condition(condition: Condition) -> Test:
    read = compile_path(condition.field)
    operator, expected = condition.operator, condition.value
    decides_when_absent = operator in ("is_empty", "is_not_empty")

    def test(event: NormalizedEvent) -> bool | None:
        actual = read(event)
        if actual is MISSING:
            return evaluate_operator(operator, None, expected) if decides_when_absent else None
        return evaluate_operator(operator, actual, expected)

    return test


class GroupNameTemplate:
    """``Tier {tier}`` → the group name one event gives: ``{tier}`` is the value the event gives the MailerLite
    field ``tier`` (after its mapping), ``{data.tier}`` a value of the event itself."""

    __slots__ = ("template", "_pieces")

    def __init__(self, template: str):
        self.template = template
        pieces: list[str | tuple[str, Callable[[NormalizedEvent], Any] | None]] = []
        for index, part in enumerate(_PLACEHOLDER.split(template)):
            if index % 2 == 0:
                pieces.append(part)
                continue
            name = part.strip()
            pieces.append((name, compile_path(name) if "." in name else None))
        self._pieces = pieces

    def render(self, event: NormalizedEvent, field_value: FieldValue = _no_fields) -> str | None:
        """The group's name for this event; ``""`` when a value is empty (no group); ``None`` when the event
        does not have a value (nothing is decided)."""
        out: list[str] = []
        empty = False
        for piece in self._pieces:
            if isinstance(piece, str):
                out.append(piece)
                continue
            name, read = piece
            value = read(event) if read is not None else field_value(name)
            if value is MISSING:
                return None
            if is_empty(value):
                empty = True
                continue
            out.append(_name_text(value))
        if empty:
            return ""
        return _SPACES.sub(" ", "".join(out)).strip()[:MAX_GROUP_NAME].strip()


def _name_text(value: Any) -> str:
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    if isinstance(value, bool):
        return "yes" if value else "no"
    return str(value).strip()


class CompiledRule:
    """A ``GroupRule`` ready to decide on events; ``template`` is set when the group's name is one."""

    __slots__ = ("rule", "scope", "_tests", "_all", "template")

    def __init__(self, rule: GroupRule):
        self.rule = rule
        self.scope = EventTypeMatcher(rule.event_types)
        self._tests = [compile_condition(condition) for condition in rule.conditions]
        self._all = rule.match == "all"
        self.template = GroupNameTemplate(rule.group) if rule.is_template else None

    def holds(self, event: NormalizedEvent) -> bool | None:
        """Whether the conditions hold for the event; ``None`` when a field they need is absent."""
        undecided = False
        for test in self._tests:
            result = test(event)
            if result is None:
                undecided = True
            elif result is not self._all:  # a False under "all", or a True under "any", settles it
                return result
        if undecided:
            return None
        return self._all or not self._tests

    def decide(self, event: NormalizedEvent) -> bool | None:
        """True: add to the rule's group; False: remove (membership rules only); None: no decision."""
        if not self.scope.matches(event.type):
            return None
        return self.decide_in_scope(event)

    def decide_in_scope(self, event: NormalizedEvent) -> bool | None:
        """``decide`` for an event already known to be in the rule's scope."""
        holds = self.holds(event)
        if holds:
            return True
        if holds is False and self.rule.mode == "membership":
            return False
        return None


def decide_groups(
    rules: list[CompiledRule], event: NormalizedEvent, field_value: FieldValue = _no_fields
) -> dict[str, bool]:
    """Group → add (True) or remove (False), from the rules in scope for one event; where rules disagree,
    adding wins. An add-only template adds to the group its values name; membership templates are
    ``decide_named_groups``'s."""
    decisions: dict[str, bool] = {}
    for rule in rules:
        member = rule.decide_in_scope(event)
        if member is None:
            continue
        group = rule.rule.group
        if rule.template is not None:
            if rule.rule.mode == "membership" or not member:
                continue
            group = rule.template.render(event, field_value) or ""
            if not group:
                continue
        if not decisions.get(group, False):
            decisions[group] = member
    return decisions


def decide_named_groups(
    rules: list[CompiledRule], event: NormalizedEvent, field_value: FieldValue = _no_fields
) -> dict[str, str | None]:
    """Template → the group a membership template puts the contact in now: a name, ``""`` for none (its
    value is empty, or its conditions do not hold), ``None`` when the event does not have the value (nothing
    is decided: the contact stays where they are)."""
    named: dict[str, str | None] = {}
    for rule in rules:
        if rule.template is None or rule.rule.mode != "membership":
            continue
        member = rule.decide_in_scope(event)
        if member is None:
            continue
        named[rule.rule.group] = rule.template.render(event, field_value) if member else ""
    return named
