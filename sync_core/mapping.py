"""Field mapping: the values a trigger's mappings produce for one event, checked against MailerLite types.

Mappings are compiled once per configuration into small functions, because a bulk import runs them for every
event. A value that cannot be produced or does not fit its field makes the event invalid with a reason: nothing
half-right is sent.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Callable

from sync_core.config import FieldMapping
from sync_core.events import NormalizedEvent
from sync_core.transforms import SUBSCRIBER_ATTRIBUTES, TRANSFORMS, ValueProblem, fit_value, is_empty

_PLACEHOLDER = re.compile(r"\{([^{}]+)\}")
_SPACES = re.compile(r"\s+")


@dataclass(slots=True, frozen=True)
class MappedValue:
    """One value ready for MailerLite. ``attribute`` marks a top-level subscriber attribute (subscribed_at)
    rather than a field; ``volatile`` marks a value that changes on every sync (time of sync), which alone is
    no reason to send anything."""

    target: str
    value: Any
    attribute: bool = False
    volatile: bool = False
    only_if_empty: bool = False


Reader = Callable[[NormalizedEvent, datetime], Any]


class CompiledMapping:
    """A ``FieldMapping`` turned into a function of (event, now)."""

    __slots__ = ("mapping", "_read", "_transform", "_value_type", "_attribute", "_volatile")

    def __init__(self, mapping: FieldMapping):
        self.mapping = mapping
        self._read = _reader(mapping)
        transform = TRANSFORMS[mapping.transform][1]
        self._transform = None if mapping.transform == "none" else transform
        self._value_type = mapping.value_type()
        self._attribute = mapping.target in SUBSCRIBER_ATTRIBUTES
        self._volatile = mapping.source == "now"

    def apply(self, event: NormalizedEvent, now: datetime) -> MappedValue | None:
        """The value to send, ``None`` when there is nothing to send, or ``ValueProblem`` saying why not."""
        mapping = self.mapping
        value = self._read(event, now)
        if not is_empty(value) and self._transform is not None:
            try:
                value = self._transform(value)
            except ValueProblem as exc:
                raise ValueProblem(f"{mapping.target}: {exc} (from {self._origin()})") from None
        if is_empty(value) and mapping.default is not None:
            value = mapping.default
        if value is None or (is_empty(value) and (mapping.skip_if_empty or self._value_type != "text")):
            return None
        try:
            value = fit_value(value, self._value_type)
        except ValueProblem as exc:
            raise ValueProblem(f"{mapping.target}: {exc} (from {self._origin()})") from None
        return MappedValue(mapping.target, value, self._attribute, self._volatile, mapping.only_if_empty)

    def _origin(self) -> str:
        mapping = self.mapping
        if mapping.source in ("path", "template"):
            return f"{mapping.value}"
        return {"constant": "the fixed value", "event_time": "the event time", "now": "the time of sync"}[
            mapping.source]


def _reader(mapping: FieldMapping) -> Reader:
    source = mapping.source
    if source == "constant":
        constant = mapping.value
        return lambda event, now: constant
    if source == "event_time":
        return lambda event, now: event.occurred_at
    if source == "now":
        return lambda event, now: now
    if source == "template":
        return _template_reader(str(mapping.value))
    paths = mapping.paths()
    if len(paths) == 1:
        path = paths[0]
        if path.startswith("event."):
            return lambda event, now: event.lookup(path)
        return lambda event, now: event.data.get(path)

    def first_present(event: NormalizedEvent, now: datetime) -> Any:
        for path in paths:
            value = event.lookup(path)
            if not is_empty(value):
                return value
        return None

    return first_present


def _template_reader(template: str) -> Reader:
    parts = _PLACEHOLDER.split(template)  # text, path, text, path, ..., text

    def render(event: NormalizedEvent, now: datetime) -> str:
        out = []
        for index, part in enumerate(parts):
            if index % 2:
                value = event.lookup(part.strip())
                out.append("" if is_empty(value) else str(value))
            else:
                out.append(part)
        return _SPACES.sub(" ", "".join(out)).strip()

    return render


def map_fields(mappings: list[CompiledMapping], event: NormalizedEvent, now: datetime
               ) -> tuple[list[MappedValue], list[str]]:
    """Every mapping applied to the event: the values, and the problems (all of them, not just the first)."""
    values: list[MappedValue] = []
    problems: list[str] = []
    for mapping in mappings:
        try:
            mapped = mapping.apply(event, now)
        except ValueProblem as exc:
            problems.append(str(exc))
            continue
        if mapped is not None:
            values.append(mapped)
    return values, problems
