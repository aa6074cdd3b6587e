"""Reading a raw body safely: size limit, JSON decoding, a stable id, the contact's email."""

from __future__ import annotations

import hashlib
import json
import math
from collections.abc import Callable, Iterable, Mapping
from typing import Any

import orjson

from sync_core.domain.emails import InvalidEmail, normalize_email
from sync_core.domain.events import MAX_BODY_BYTES, MISSING, RECORDS, NormalizedEvent, RejectedInput, compile_path


def as_bytes(body: bytes | str) -> bytes:
    """Text as UTF-8; a lone surrogate is kept (as bytes that are not UTF-8) so that ``decode_object`` refuses
    the body with its reason instead of the encoding failing here."""
    return body.encode("utf-8", "surrogatepass") if isinstance(body, str) else bytes(body)


def body_id(raw: bytes) -> str:
    """A stable id for a body that carries none: the same bytes always give the same id."""
    return "sha256:" + hashlib.sha256(raw).hexdigest()[:40]


def decode_object(raw: bytes, source: str, *, limit: int | None = MAX_BODY_BYTES) -> dict[str, Any] | RejectedInput:
    """The JSON object in ``raw`` (a webhook body, or a record when ``source`` is ``records``), or the reason it
    is not one. ``limit`` is checked before parsing; ``None`` when the caller has refused larger bodies already."""
    what = "the record" if source == RECORDS else "the body"
    if limit is not None and len(raw) > limit:
        return RejectedInput(
            source, f"{what} is {len(raw) / 1024 / 1024:.1f} MB; the limit is {limit // 1024 // 1024} MB per event"
        )
    try:
        decoded = parse_json(raw)
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        return RejectedInput(
            source, f"{what} is not valid JSON ({_json_error(exc)})", excerpt=raw[:200].decode("utf-8", "replace")
        )
    except UnsendableValue as exc:
        return RejectedInput(source, f"{what} {exc}", excerpt=raw[:200].decode("utf-8", "replace"))
    if not isinstance(decoded, dict):
        shape = (
            f'a record should be one JSON object such as {{"email": "ann@example.com"}}, not a JSON {_json_kind(decoded)}'
            if source == RECORDS
            else f"the body should be a JSON object, not a JSON {_json_kind(decoded)}"
        )
        return RejectedInput(source, shape, excerpt=raw[:200].decode("utf-8", "replace"))
    return decoded


#: Deepest nesting of objects and lists accepted. Real events nest a few levels; far deeper ones would exhaust
#: the stack of the recursive code that reads, flattens and encodes them.
MAX_DEPTH = 64
#: Longest integer accepted: a number longer than this does not fit a double (what orjson, MailerLite and most
#: JSON readers turn numbers into) and Python will not even turn 4,301 digits into text.
MAX_NUMBER_DIGITS = 308


class UnsendableValue(ValueError):
    """JSON that parses but holds a value that cannot be sent on (NaN, an infinity, a lone surrogate, an absurd
    number or nesting): the message says what and where, in plain words."""


class _Unsendable:
    """What the standard library's hooks put in place of such a value, so that the walk can say where it was."""

    __slots__ = ("what",)

    def __init__(self, what: str):
        self.what = what


def parse_json(raw: bytes | str) -> Any:
    """``json.loads``, three times faster, refusing what cannot be sent on (``UnsendableValue``).

    orjson parses the common case, and itself refuses NaN, infinities, lone surrogates and nesting beyond 1,024;
    anything it refuses is left to the standard library, which has the last word and gives the error message,
    with hooks that mark those values so that ``check_sendable`` names the first one and where it is."""
    try:
        value = orjson.loads(raw)
    except orjson.JSONDecodeError:
        pass
    else:
        text = raw if isinstance(raw, bytes) else raw.encode("utf-8", "surrogatepass")
        if text.count(b"[") + text.count(b"{") > MAX_DEPTH:  # only then can it be nested too deep
            check_sendable(value)
        return value
    try:
        value = json.loads(raw, parse_constant=_Unsendable, parse_float=_finite_float, parse_int=_bounded_int)
    except RecursionError:
        raise UnsendableValue(f"is nested more than {MAX_DEPTH} levels deep") from None
    check_sendable(value)
    return value


def _finite_float(text: str) -> float | _Unsendable:
    number = float(text)
    return number if math.isfinite(number) else _Unsendable(f"{text[:20]}, too large")


def _bounded_int(text: str) -> int | _Unsendable:
    digits = len(text.lstrip("-"))
    return int(text) if digits <= MAX_NUMBER_DIGITS else _Unsendable(f"a whole number of {digits:,} digits")


def check_sendable(value: Any) -> None:
    """``UnsendableValue`` naming the first value in ``value`` that JSON cannot carry on (``json.dumps(...,
    allow_nan=False)`` and UTF-8 would fail, or the nesting is absurd), with its dotted path; nothing otherwise.
    Iterative, so that depth itself cannot break it."""
    stack: list[tuple[Any, str, int]] = [(value, "", 0)]
    while stack:
        node, path, depth = stack.pop()
        kind = type(node)
        if kind is dict or kind is list:
            if depth >= MAX_DEPTH:
                raise UnsendableValue(f"is nested more than {MAX_DEPTH} levels deep")
            items = node.items() if kind is dict else enumerate(node)
            for key, item in items:
                if type(key) is str and not _is_utf8(key):
                    raise UnsendableValue(f"holds a name that is not valid text (a lone surrogate){_at(path)}")
                stack.append((item, f"{path}.{key}" if path else str(key), depth + 1))
        elif kind is str:
            if not _is_utf8(node):
                raise UnsendableValue(f"holds text that is not valid Unicode (a lone surrogate){_at(path)}")
        elif kind is float:
            if not math.isfinite(node):
                raise UnsendableValue(f"holds a number JSON cannot carry ({node}){_at(path)}")
        elif kind is _Unsendable:
            raise UnsendableValue(f"holds a number JSON cannot carry ({node.what}){_at(path)}")
        elif kind is int and node.bit_length() > MAX_NUMBER_DIGITS * 10 // 3:
            raise UnsendableValue(f"holds a number JSON cannot carry (one that long){_at(path)}")


def _is_utf8(text: str) -> bool:
    if text.isascii():
        return True
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return False
    return True


def _at(path: str) -> str:
    return f" at {path}" if path else ""


def header(headers: Mapping[str, str] | None, name: str) -> str | None:
    """A header value by case-insensitive name."""
    if not headers:
        return None
    value = headers.get(name)
    if value is None:
        lowered = name.lower()
        for key, item in headers.items():
            if key.lower() == lowered:
                return item
    return value


def find_email(lookup: Callable[[str], Any], paths: Iterable[str]) -> tuple[str | None, str | None]:
    """The contact email at the first path with a value, as ``(email, None)`` or ``(None, problem)``."""
    for path in paths:
        value = lookup(path)
        if value is not MISSING and value is not None and value != "":
            try:
                return normalize_email(value), None
            except InvalidEmail as exc:
                return None, f"{exc} (at {path})"
    return None, f"the event has no email address (looked at {', '.join(paths)})"


def email_finder(paths: tuple[str, ...]) -> Callable[[NormalizedEvent], tuple[str | None, str | None]]:
    """``find_email`` over compiled paths, for a source that reads the same paths from every event."""
    readers = {path: compile_path(path) for path in paths}
    return lambda event: find_email(lambda path: readers[path](event), paths)


def _json_error(exc: Exception) -> str:
    if isinstance(exc, json.JSONDecodeError):
        return f"{exc.msg} at line {exc.lineno}, column {exc.colno}"
    return "it is not UTF-8 text"


def _json_kind(value: Any) -> str:
    return {list: "array", str: "string", int: "number", float: "number", bool: "boolean"}.get(type(value), "null")
