"""Value transforms a marketer can pick for a field, and the check that a value fits a MailerLite field type.

A transform that cannot apply raises ``ValueProblem`` with a sentence a marketer understands; the mapping turns
it into a per-event error instead of sending a wrong value.
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable
from datetime import UTC, date, datetime
from decimal import Decimal, InvalidOperation
from functools import lru_cache
from typing import Any

from sync_core.domain.events import parse_timestamp


class ValueProblem(ValueError):
    """A value that a transform or a field type cannot take; the message is shown to the user."""


def is_empty(value: Any) -> bool:
    """Missing, ``None``, blank text and empty lists all count as empty. (Runs for every mapped value: the
    common types are tested first, by identity.)"""
    kind = type(value)
    if kind is str:
        return not value or value.isspace()
    if value is None:
        return True
    if kind is list or kind is dict or kind is tuple:
        return not value
    if isinstance(value, str):
        return not value or value.isspace()
    return isinstance(value, (list, tuple, dict)) and not value


#: Numbers beyond this size are refused: MailerLite (and most JSON readers) hold numbers as doubles.
MAX_NUMBER = Decimal("1e308")


def _shown(value: Any) -> str:
    """A value as a message quotes it: short, whatever its size."""
    text = repr(value) if not isinstance(value, int) or value.bit_length() < 1000 else "a very long number"
    return text if len(text) <= 80 else text[:76] + "…" + text[-1]


def _text(value: Any) -> str:
    if isinstance(value, str):
        return value
    if isinstance(value, datetime):
        return to_iso_datetime(value)
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (list, tuple)):
        return ", ".join(_text(item) for item in value)
    return str(value)


def _whole_number(value: Any) -> int:
    if isinstance(value, bool):
        raise ValueProblem(f"{_shown(value)} is not a whole number")
    if isinstance(value, int):
        return value
    if isinstance(value, float) and value.is_integer():
        return int(value)
    if isinstance(value, str) and re.fullmatch(r"\s*-?\d{1,308}\s*", value):
        return int(value)
    raise ValueProblem(f"{_shown(value)} is not a whole number")


def cents_to_decimal(value: Any) -> str:
    """400 → "4.00": Dodo sends amounts in the smallest currency unit; MailerLite gets a decimal."""
    try:
        cents = _whole_number(value)
    except ValueProblem:
        raise ValueProblem(f"{_shown(value)} is not an amount in cents (a whole number such as 1999)") from None
    units, hundredths = divmod(abs(cents), 100)
    return f"{'-' if cents < 0 else ''}{units}.{hundredths:02d}"


def to_number(value: Any) -> int | float:
    """A number from a number or from numeric text ("25", "750.00")."""
    if isinstance(value, bool):
        raise ValueProblem(f"{_shown(value)} is not a number")
    if isinstance(value, (int, float)):
        if not math.isfinite(value) or abs(value) >= MAX_NUMBER:
            raise ValueProblem(f"{_shown(value)} is not a number MailerLite can hold")
        return value
    if isinstance(value, str):
        try:
            number = Decimal(value.strip().replace(",", ""))
        except InvalidOperation:
            raise ValueProblem(f"{_shown(value)} is not a number") from None
        if not number.is_finite() or abs(number) >= MAX_NUMBER:
            raise ValueProblem(f"{_shown(value)} is not a number MailerLite can hold")
        return int(number) if number == number.to_integral_value() and "." not in value else float(number)
    raise ValueProblem(f"{_shown(value)} is not a number")


def _moment(value: Any) -> datetime:
    if type(value) is datetime and value.tzinfo is UTC:
        return value
    if isinstance(value, date) and not isinstance(value, datetime):
        return datetime(value.year, value.month, value.day, tzinfo=UTC)
    parsed = _parse_text_moment(value) if type(value) is str else parse_timestamp(value)
    if parsed is None:
        raise ValueProblem(
            f"{_shown(value)} is not a date or time between the years 1 and 9999 "
            "(expected ISO 8601, e.g. 2025-08-04T05:30:45Z)"
        )
    return parsed


@lru_cache(maxsize=2048)
def _parse_text_moment(text: str) -> datetime | None:
    """Parsing cached: one event's timestamp feeds several date fields, and a batch repeats dates."""
    return parse_timestamp(text)


def to_date(value: Any) -> str:
    """→ ``YYYY-MM-DD`` in UTC, the format MailerLite date fields take."""
    moment = _moment(value)
    return f"{moment.year:04d}-{moment.month:02d}-{moment.day:02d}"


def to_datetime(value: Any) -> str:
    """→ ``yyyy-MM-dd HH:mm:ss`` in UTC, the format of MailerLite's ``subscribed_at`` and friends."""
    m = _moment(value)
    return f"{m.year:04d}-{m.month:02d}-{m.day:02d} {m.hour:02d}:{m.minute:02d}:{m.second:02d}"


def to_iso_datetime(value: Any) -> str:
    """→ ``2025-08-04T05:30:45.182Z``, what JavaScript's ``toISOString()`` gives (Dodo's examples use it)."""
    m = _moment(value)
    return (
        f"{m.year:04d}-{m.month:02d}-{m.day:02d}T{m.hour:02d}:{m.minute:02d}:{m.second:02d}."
        f"{m.microsecond // 1000:03d}Z"
    )


def first_word(value: Any) -> str:
    words = _text(value).split()
    return words[0] if words else ""


def last_word(value: Any) -> str:
    """The last word when there are several ("Ada King Lovelace" → "Lovelace"); empty for a single word, so
    that a first name is not copied into a last name."""
    words = _text(value).split()
    return words[-1] if len(words) > 1 else ""


#: Transform name → (label shown to marketers, function). "none" passes the value through.
TRANSFORMS: dict[str, tuple[str, Callable[[Any], Any]]] = {
    "none": ("as is", lambda value: value),
    "trim": ("trim spaces", lambda value: _text(value).strip()),
    "lower": ("lower case", lambda value: _text(value).lower()),
    "upper": ("upper case", lambda value: _text(value).upper()),
    "title": ("Title Case", lambda value: _text(value).title()),
    "first_word": ("first word (e.g. first name)", first_word),
    "last_word": ("last word (e.g. last name)", last_word),
    "cents_to_decimal": ("cents → decimal, 2 places", cents_to_decimal),
    "number": ("number", to_number),
    "date": ("date (YYYY-MM-DD)", to_date),
    "datetime": ("date and time (YYYY-MM-DD HH:MM:SS)", to_datetime),
    "iso_datetime": ("ISO date and time (…T…Z)", to_iso_datetime),
}


#: Transform → the value type whose format it always produces; such values need no second check.
TRANSFORM_OUTPUT_TYPES = {"cents_to_decimal": "number", "number": "number", "date": "date", "datetime": "datetime"}


def apply_transform(name: str, value: Any) -> Any:
    return TRANSFORMS[name][1](value)


# --- MailerLite field types -------------------------------------------------------------------------------

FIELD_TYPES = ("text", "number", "date")
#: Top-level subscriber attributes that a mapping may target besides ``fields``, with the format they need.
SUBSCRIBER_ATTRIBUTES = {
    "subscribed_at": "datetime",
    "opted_in_at": "datetime",
    "unsubscribed_at": "datetime",
    "ip_address": "ip",
    "optin_ip": "ip",
}

_NUMERIC_TEXT = re.compile(r"-?\d+(\.\d+)?")
_DATE_TEXT = re.compile(r"\d{4}-\d{2}-\d{2}")
_DATETIME_TEXT = re.compile(r"\d{4}-\d{2}-\d{2} \d{2}:\d{2}:\d{2}")
_IPV4 = re.compile(r"(25[0-5]|2[0-4]\d|1?\d?\d)(\.(25[0-5]|2[0-4]\d|1?\d?\d)){3}")


def fit_value(value: Any, field_type: str) -> Any:
    """The value as MailerLite's field of ``field_type`` will take it, or ``ValueProblem`` saying how to fix it.

    Numbers may be JSON numbers or numeric text ("4.00", as Dodo's examples send). Dates must be ``YYYY-MM-DD``.
    Text takes anything plain (numbers become text; a list becomes "a, b").
    """
    if value is None:
        return None
    if field_type == "text":
        if isinstance(value, dict):
            raise ValueProblem("an object cannot go into a text field; map one of its inner fields instead")
        return _text(value)
    if field_type == "number":
        if isinstance(value, bool) or not (
            isinstance(value, (int, float)) or (isinstance(value, str) and _NUMERIC_TEXT.fullmatch(value.strip()))
        ):
            hint = ' (an amount in cents? use the "cents → decimal" transform)' if isinstance(value, int) else ""
            raise ValueProblem(f"{_shown(value)} does not fit a number field{hint}; use a number such as 12 or 4.50")
        return value.strip() if isinstance(value, str) else value
    if isinstance(value, datetime) and field_type in ("date", "datetime"):
        return to_date(value) if field_type == "date" else to_datetime(value)
    if field_type == "date":
        if isinstance(value, str) and _DATE_TEXT.fullmatch(value.strip()) and _valid_date(value.strip()):
            return value.strip()
        raise ValueProblem(
            f'{_shown(value)} does not fit a date field, which takes YYYY-MM-DD; use the "date" transform'
        )
    if field_type == "datetime":
        if isinstance(value, str) and _DATETIME_TEXT.fullmatch(value.strip()):
            return value.strip()
        raise ValueProblem(
            f'{_shown(value)} is not in the format YYYY-MM-DD HH:MM:SS; use the "date and time" transform'
        )
    if field_type == "ip":
        if isinstance(value, str) and (_IPV4.fullmatch(value.strip()) or ":" in value):
            return value.strip()
        raise ValueProblem(f"{_shown(value)} is not an IP address")
    raise ValueProblem(f"unknown field type {field_type!r}")


def _valid_date(text: str) -> bool:
    try:
        date.fromisoformat(text)
    except ValueError:
        return False
    return True
