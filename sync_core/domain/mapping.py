"""Field mapping: the values a trigger's mappings produce for one event, checked against MailerLite types.

Mappings are compiled once per configuration into small functions, because a bulk import runs them for every
event. A value that cannot be produced or does not fit its field makes the event invalid with a reason: nothing
half-right is sent.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Literal

from sync_core.domain.config import FieldMapping
from sync_core.domain.events import MISSING, NormalizedEvent, compile_path
from sync_core.domain.transforms import (
    FIELD_TYPES,
    TRANSFORM_OUTPUT_TYPES,
    TRANSFORMS,
    ValueProblem,
    fit_value,
    is_empty,
)

_PLACEHOLDER = re.compile(r"\{([^{}]+)\}")
_SPACES = re.compile(r"\s+")


#: What ``apply`` returns when the mapping has nothing to send.
SKIP: Any = MISSING
#: What ``apply`` returns for an empty value of a "clear when empty" mapping: MailerLite clears a field sent as null.
CLEAR: Any = None


Reader = Callable[[NormalizedEvent, datetime], Any]


class CompiledMapping:
    """A ``FieldMapping`` turned into one function of (event, now): ``apply`` returns the value to send,
    ``SKIP`` when there is nothing to send, or raises ``ValueProblem`` saying why not. The function keeps what
    it needs in local variables; it runs for every mapped field of every event.

    ``volatile`` marks a value that changes on every sync (time of sync), which alone is no reason to send
    anything; ``only_if_empty`` a value set only while the subscriber has none.

    An empty value (after the default) is never sent, so it never erases what MailerLite holds, unless the
    mapping says ``clear_when_empty``: then it is ``CLEAR`` (``null``, which clears the field)."""

    __slots__ = ("mapping", "target", "apply", "volatile", "only_if_empty", "_readers")

    def __init__(self, mapping: FieldMapping):
        self.mapping = mapping
        self.target = mapping.target
        self.apply = _compile(mapping)
        self.volatile = mapping.source == "now"
        self.only_if_empty = mapping.only_if_empty
        self._readers = (
            [compile_path(path) for path in mapping.paths()] if mapping.source in ("path", "template") else None
        )

    def present(self, event: NormalizedEvent) -> bool:
        """Whether the event has what the value is made of (a path of it, even empty): an event without any of
        them says nothing about the field, unlike one whose value is empty."""
        if self._readers is None:
            return True
        return any(read(event) is not MISSING for read in self._readers)


def _compile(mapping: FieldMapping) -> Callable[[NormalizedEvent, datetime], Any]:
    read = _reader(mapping)
    transform = None if mapping.transform == "none" else TRANSFORMS[mapping.transform][1]
    value_type = mapping.value_type()
    is_text = value_type == "text"
    target, default, clear_when_empty = mapping.target, mapping.default, mapping.clear_when_empty
    # values already in the format the field wants: a transform's own output
    transform_fits = TRANSFORM_OUTPUT_TYPES.get(mapping.transform) == value_type
    origin = _origin(mapping)

    paths = mapping.paths() if mapping.source == "path" else []
    read_path = compile_path(paths[0]) if len(paths) == 1 else None
    plain_text = is_text and transform is None

    def apply(event: NormalizedEvent, now: datetime) -> Any:
        if read_path is not None:
            value = read_path(event)
            if type(value) is str and plain_text and value and not value.isspace():
                return value  # the common case: text copied as it is
            if value is MISSING:
                value = None
        else:
            value = read(event, now)
        kind = type(value)  # is_empty, inlined: this line runs for every mapped value of every event
        empty = (
            (not value or value.isspace())
            if kind is str
            else (value is None or ((kind is list or kind is dict) and not value))
        )
        if not empty and transform is not None:
            try:
                value = transform(value)
            except ValueProblem as exc:
                raise ValueProblem(f"{target}: {exc} (from {origin})") from None
            empty = is_empty(value)
        from_transform = transform_fits and not empty
        if empty and default is not None:
            value = default
            empty = is_empty(value)
        if value is None or empty:
            return CLEAR if clear_when_empty else SKIP
        if not (type(value) is str and (is_text or from_transform)):
            try:
                value = fit_value(value, value_type)
            except ValueProblem as exc:
                raise ValueProblem(f"{target}: {exc} (from {origin})") from None
        return value

    return apply


def _origin(mapping: FieldMapping) -> str:
    if mapping.source in ("path", "template"):
        return f"{mapping.value}"
    return {"constant": "the fixed value", "event_time": "the event time", "now": "the time of sync"}[mapping.source]


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
    readers = [compile_path(path) for path in mapping.paths()]
    if len(readers) == 1:
        (read,) = readers
        return lambda event, now: None if (value := read(event)) is MISSING else value

    def first_present(event: NormalizedEvent, now: datetime) -> Any:
        for read in readers:
            value = read(event)
            if value is not MISSING and not is_empty(value):
                return value
        return None

    return first_present


def _template_reader(template: str) -> Reader:
    parts = _PLACEHOLDER.split(template)  # text, path, text, path, ..., text
    pieces: list[str | Callable[[NormalizedEvent], Any]] = [
        compile_path(part.strip()) if index % 2 else part for index, part in enumerate(parts)
    ]

    def render(event: NormalizedEvent, now: datetime) -> str:
        out = []
        for piece in pieces:
            if type(piece) is str:
                out.append(piece)
            else:
                value = piece(event)  # type: ignore[operator]
                out.append("" if value is MISSING or is_empty(value) else str(value))
        return _SPACES.sub(" ", "".join(out)).strip()

    return render


def map_fields(
    mappings: list[CompiledMapping], event: NormalizedEvent, now: datetime
) -> tuple[dict[str, Any], list[str]]:
    """Every mapping applied to the event: target → value, and the problems (all of them, not just the first).

    Values are plain (text, numbers), so the dict is one the garbage collector does not track: a batch makes
    one per event."""
    values: dict[str, Any] = {}
    problems: list[str] = []
    for mapping in mappings:
        try:
            value = mapping.apply(event, now)
        except ValueProblem as exc:
            problems.append(str(exc))
            continue
        if value is not SKIP:
            values[mapping.target] = value
    return values, problems


# --- helping a person map: suggestions by name, a value check in words ------------------------------------------

_NOT_ALNUM = re.compile(r"[^0-9a-z]+")
#: What a value is, said of a field type: "25 is a number".
_TYPE_WORDS = {"text": "text", "number": "a number", "date": "a date", "datetime": "a date and time", "ip": "an IP"}


def _name_key(text: str) -> str:
    """``Total sales``, ``total_sales`` and ``TotalSales`` all become ``totalsales``."""
    return _NOT_ALNUM.sub("", (text or "").casefold())


def suggest_by_name(
    paths: Iterable[str],
    fields: Mapping[str, str],
    names: Mapping[str, str] | None = None,
    *,
    mapped: Iterable[str] = (),
    label: Callable[[str], str] | None = None,
) -> list[dict[str, Any]]:
    """Mappings for the account's fields (key → type; ``names``: key → name) that an event field is named like
    (its last segment, its label or its whole path: ``data.billing.city`` for City), in the order of ``paths``.
    Fields already ``mapped`` and paths already used are left out; each path fills one field at most."""
    taken = set(mapped)
    wanted: dict[str, str] = {}  # a name, normalised → the field key
    for key in fields:
        if key in taken:
            continue
        for name in (key, (names or {}).get(key, "")):
            if _name_key(name):
                wanted.setdefault(_name_key(name), key)
    out: list[dict[str, Any]] = []
    used: set[str] = set()
    for path in paths:
        if path in used or path.startswith("event.") or not path.strip():
            continue
        segments = [s for s in path.split(".") if s and not s.isdigit()]
        whole = [s for s in segments if s != "data"]
        candidates = [segments[-1] if segments else path, "".join(whole)]
        if label is not None:
            candidates.append(label(path))
        for candidate in candidates:
            found = wanted.get(_name_key(candidate))
            if found is None or found in taken:
                continue
            key = found
            kind = fields[key] if fields[key] in FIELD_TYPES else "text"
            out.append({"target": key, "source": "path", "value": path, "type": kind})
            taken.add(key)
            used.add(path)
            break
    return out


@dataclass(frozen=True, slots=True)
class ValueCheck:
    """One mapping row tried on an example event: ``ok`` (a value that fits), ``problem`` (it would not be
    sent), ``empty`` (nothing to send) or ``absent`` (the example does not have the field); ``words`` says it."""

    status: Literal["ok", "problem", "empty", "absent"]
    words: str
    value: Any = None


def check_value(mapping: FieldMapping, event: NormalizedEvent, now: datetime) -> ValueCheck:
    """What this mapping makes of ``event``, in a marketer's words: "Looks right: 25 is a number", "This will not
    send: 'lots' is not a number"."""
    compiled = CompiledMapping(mapping)
    try:
        value = compiled.apply(event, now)
    except ValueProblem as exc:
        reason = str(exc).removeprefix(f"{mapping.target}: ")
        reason = re.sub(r" \(from [^()]*\)$", "", reason)
        return ValueCheck("problem", f"This will not send: {reason}")
    if value is SKIP:
        if not compiled.present(event):
            return ValueCheck("absent", "The example event does not have this value, so nothing is sent")
        return ValueCheck("empty", "Empty in the example: nothing is sent, MailerLite keeps what it has")
    if value is CLEAR:
        return ValueCheck("empty", "Empty in the example: the field is cleared in MailerLite")
    kind = _TYPE_WORDS.get(mapping.value_type(), mapping.value_type())
    numeric = mapping.value_type() == "number" or (isinstance(value, (int, float)) and not isinstance(value, bool))
    shown = _short(value) if numeric else f"“{_short(value)}”"
    return ValueCheck("ok", f"Looks right: {shown} is {kind}", value)


def _short(value: Any) -> str:
    text = value.isoformat() if isinstance(value, datetime) else str(value)
    return text if len(text) <= 40 else text[:37] + "…"
