"""The one shape every input takes before mapping: a normalized event, or a rejected input with its reason.

Sources never raise on bad input; they return ``RejectedInput`` so that one broken event does not stop a batch,
and the reason can be recorded and shown to the user.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

#: Sources, by the key used in configuration and storage.
DODO_PAYMENTS = "dodo_payments"
PARTNERO = "partnero"
RECORDS = "records"
SOURCE_LABELS = {DODO_PAYMENTS: "Dodo Payments", PARTNERO: "Partnero", RECORDS: "Records file"}
#: MailerLite's own webhooks: events about what the account holds, applied to the studio's memory of a contact
#: (never synced to MailerLite, so not a source a trigger can name).
MAILERLITE = "mailerlite"
#: Everyone whose events the studio receives, for messages.
SENDER_LABELS = {**SOURCE_LABELS, MAILERLITE: "MailerLite"}

#: Contact kinds; the per-source "Sync partners" / "Sync customers" toggles act on them.
PARTNER = "partner"
CUSTOMER = "customer"

#: Largest body accepted from any source. Real events are a few kB (Standard Webhooks advises under 20 kB).
MAX_BODY_BYTES = 1024 * 1024

#: Pseudo-fields of every event, usable in mappings and rule conditions beside the flattened data.
EVENT_FIELDS = ("event.type", "event.source", "event.kind", "event.occurred_at", "event.id")


class _Missing:
    """Marks a path absent from an event (a present value may be ``None``)."""

    __slots__ = ()

    def __repr__(self) -> str:
        return "MISSING"


MISSING: Any = _Missing()


class NormalizedEvent:
    """One input event in the shape the mapping and planning understand.

    ``data`` is the body flattened to dotted paths (``data.customer.name``); lists of plain values stay lists,
    lists of objects are indexed (``data.product_cart.0.product_id``). Flattening a whole webhook costs more than
    mapping it, so a webhook keeps its nested ``body`` and paths are resolved on it; the flat view is built only
    when asked for. ``email`` is the contact identity, or ``None`` with ``email_problem`` saying why; whether
    that matters depends on the configuration (an event no trigger syncs needs no email).
    """

    __slots__ = (
        "source",
        "type",
        "id",
        "occurred_at",
        "kind",
        "email",
        "email_problem",
        "known_type",
        "_flat",
        "_body",
        "position",
    )

    def __init__(
        self,
        source: str,
        type: str,
        id: str,
        occurred_at: datetime,
        kind: str,
        data: dict[str, Any] | None = None,
        email: str | None = None,
        email_problem: str | None = None,
        known_type: bool = True,
        *,
        body: dict[str, Any] | None = None,
        position: str | None = None,
    ):
        if (data is None) == (body is None):
            raise TypeError("give either the flat data or the nested body")
        self.source = source
        self.type = type
        self.id = id
        self.occurred_at = occurred_at
        self.kind = kind
        self.email = email
        self.email_problem = email_problem
        self.known_type = known_type
        self._flat = data
        self._body = body
        self.position = position  # where in its file it came from ("row 12"), for the reports; None for webhooks

    @property
    def body(self) -> dict[str, Any] | None:
        """The nested body as received (``None`` for flat records)."""
        return self._body

    @property
    def data(self) -> dict[str, Any]:
        if self._flat is None:
            self._flat = flatten(self._body)
        return self._flat

    def lookup(self, path: str) -> Any:
        """The value at a flattened path or an ``event.*`` pseudo-field; ``None`` when absent."""
        if path.startswith("event."):
            return self._event_field(path)
        value = self._get(path)
        return None if value is MISSING else value

    def has(self, path: str) -> bool:
        return path.startswith("event.") or self._get(path) is not MISSING

    def _get(self, path: str) -> Any:
        if "[" in path:
            return _select(self._flat, self._body, path)
        if self._flat is not None:
            return self._flat.get(path, MISSING)
        parts = _PATH_PARTS.get(path)
        if parts is None:
            parts = _PATH_PARTS[path] = tuple(path.split("."))
        return _leaf(_walk(self._body, parts, 0))

    def _event_field(self, path: str) -> Any:
        if path == "event.type":
            return self.type
        if path == "event.source":
            return self.source
        if path == "event.kind":
            return self.kind
        if path == "event.occurred_at":
            return self.occurred_at
        if path == "event.id":
            return self.id
        value = self._get(path)
        return None if value is MISSING else value

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, NormalizedEvent):
            return NotImplemented
        return (
            self.source,
            self.type,
            self.id,
            self.occurred_at,
            self.kind,
            self.email,
            self.email_problem,
            self.known_type,
            self.data,
        ) == (
            other.source,
            other.type,
            other.id,
            other.occurred_at,
            other.kind,
            other.email,
            other.email_problem,
            other.known_type,
            other.data,
        )

    def __repr__(self) -> str:
        return (
            f"NormalizedEvent(source={self.source!r}, type={self.type!r}, id={self.id!r}, "
            f"occurred_at={self.occurred_at.isoformat()!r}, kind={self.kind!r}, email={self.email!r})"
        )


_PATH_PARTS: dict[str, tuple[str, ...]] = {}


def flatten(value: Any, prefix: str = "", out: dict[str, Any] | None = None) -> dict[str, Any]:
    """``{"data": {"customer": {"name": "A"}}}`` → ``{"data.customer.name": "A"}``: the dotted paths that
    mappings and rules name.

    Keys whose value is ``None`` are kept (present but empty is not the same as absent). A list of plain values
    stays one list value; a list containing objects is spread by index (``items.0.id``).
    """
    if out is None:
        out = {}
    if isinstance(value, dict):
        if not value and prefix:
            out[prefix] = None
        for key, item in value.items():
            path = f"{prefix}.{key}" if prefix else str(key)
            if isinstance(item, (dict, list)):
                flatten(item, path, out)
            else:
                out[path] = item
    elif isinstance(value, list):
        if any(isinstance(item, (dict, list)) for item in value):
            for index, item in enumerate(value):
                path = f"{prefix}.{index}"
                if isinstance(item, (dict, list)):
                    flatten(item, path, out)
                else:
                    out[path] = item
        else:
            out[prefix] = value
    else:
        out[prefix] = value
    return out


def compile_path(path: str) -> Callable[[NormalizedEvent], Any]:
    """A reader for one path: the value, or ``MISSING`` when the event does not have it.

    Mappings and rules read the same few paths from every event, so the path is split once here and the reader
    indexes straight into the nested body; anything unusual (flat records, list indexes, keys that contain
    dots, ``event.*``) goes through the general lookup.
    """
    if path.startswith("event."):
        return lambda event: event.lookup(path) if event.has(path) else MISSING
    if "[" in path:  # an element of a list picked by key: the general walk
        return lambda event: event._get(path)
    parts = tuple(path.split("."))
    head, last = parts[:-1], parts[-1]

    def read(event: NormalizedEvent) -> Any:
        node = event._body
        if node is None:
            return event._flat.get(path, MISSING)  # type: ignore[union-attr]
        try:
            for part in head:
                node = node[part]
        except (KeyError, TypeError, IndexError):
            return event._get(path)  # lists, keys with dots, or truly absent: the general walk decides
        if type(node) is not dict:
            return event._get(path)
        value = node.get(last, MISSING)  # a miss on the last part cannot be a key with dots
        if value is MISSING:
            return MISSING
        kind = type(value)
        if kind is dict or kind is list:
            return _leaf(value)
        return value

    return read


def _walk(node: Any, parts: tuple[str, ...], start: int) -> Any:
    """Follow ``parts`` from ``start`` down nested dicts and lists, like the flat view's dotted keys (a key
    that itself contains dots is found too)."""
    for index in range(start, len(parts)):
        part = parts[index]
        kind = type(node)
        if kind is dict:
            child = node.get(part, MISSING)
            if child is MISSING:
                for end in range(index + 2, len(parts) + 1):  # a key with dots in it, e.g. metadata "a.b"
                    joined = ".".join(parts[index:end])
                    if joined in node:
                        found = _walk(node[joined], parts, end)
                        if found is not MISSING:
                            return found
                return MISSING
            node = child
        elif kind is list and part.isascii() and part.isdigit() and int(part) < len(node) and _has_containers(node):
            node = node[int(part)]
        else:
            return MISSING
    return node


# --- picking an element of a list by one of its keys: data.custom_fields[key=tier].value --------------------

#: What the Field mapping and Group rules pages say about the path language.
PATH_HELP = (
    "A path names a value of the event with dots: data.customer.name. In a list of objects, pick one by "
    "position (data.product_cart.0.product_id) or by one of its keys: data.custom_fields[key=tier].value is "
    "the value of the element whose key is tier (compared ignoring case)."
)
_SELECTOR = re.compile(r"([^\[\]=]*)\[([^\[\]=]+)=([^\[\]]*)\]")
_SELECTOR_STEPS: dict[str, tuple[tuple[str, tuple[str, str] | None], ...] | None] = {}


def _steps(path: str) -> tuple[tuple[str, tuple[str, str] | None], ...] | None:
    """``a.b[key=x].c`` → ``(("a", None), ("b", ("key", "x")), ("c", None))``; ``None`` when a bracket is
    malformed. Dots inside the brackets belong to the value (``[key=a.b]``)."""
    if path in _SELECTOR_STEPS:
        return _SELECTOR_STEPS[path]
    steps: list[tuple[str, tuple[str, str] | None]] = []
    for part in re.split(r"\.(?![^\[]*\])", path):
        if "[" not in part and "]" not in part:
            steps.append((part, None))
            continue
        match = _SELECTOR.fullmatch(part)
        if match is None:
            _SELECTOR_STEPS[path] = None
            return None
        steps.append((match[1], (match[2].strip(), match[3].strip())))
    result = _SELECTOR_STEPS[path] = tuple(steps)
    return result


def path_problem(path: str) -> str | None:
    """Why ``path`` is not one the path language reads (``None`` when it is)."""
    if ("[" in path or "]" in path) and _steps(path) is None:
        return f"{path!r} is not a valid path: pick a list element by key as in data.custom_fields[key=tier].value"
    return None


def _same_text(value: Any, wanted: str) -> bool:
    return value is not None and str(value).strip().casefold() == wanted.casefold()


def _select(flat: dict[str, Any] | None, body: Any, path: str) -> Any:
    """A path with ``[key=value]`` steps, on the nested body or on the flat view."""
    steps = _steps(path)
    if steps is None:
        return MISSING
    if flat is not None:
        return _select_flat(flat, steps)
    node = body
    for name, selector in steps:
        if name:
            node = _walk(node, (name,), 0)
            if node is MISSING:
                return MISSING
        if selector is not None:
            if type(node) is not list:
                return MISSING
            key, wanted = selector
            node = next(
                (item for item in node if type(item) is dict and _same_text(item.get(key), wanted)),
                MISSING,
            )
            if node is MISSING:
                return MISSING
    return _leaf(node)


def _select_flat(flat: dict[str, Any], steps: tuple[tuple[str, tuple[str, str] | None], ...]) -> Any:
    prefix = ""
    for name, selector in steps:
        if name:
            prefix = f"{prefix}.{name}" if prefix else name
        if selector is None:
            continue
        key, wanted = selector
        index = 0
        while True:
            head = f"{prefix}.{index}"
            if _same_text(flat.get(f"{head}.{key}"), wanted):
                prefix = head
                break
            if not any(path.startswith(head + ".") for path in flat):
                return MISSING
            index += 1
    return flat.get(prefix, MISSING)


def _has_containers(items: list[Any]) -> bool:
    return any(isinstance(item, (dict, list)) for item in items)


def _leaf(value: Any) -> Any:
    """What the flat view holds for a walked value: leaves as they are, an empty object as ``None``, and
    nothing for a non-empty object or a list of objects (those are spread into deeper paths)."""
    kind = type(value)
    if kind is dict:
        return None if not value else MISSING
    if kind is list and _has_containers(value):
        return MISSING
    return value


@dataclass(slots=True)
class RejectedInput:
    """An input that could not become an event (malformed JSON, too large, no type, a broken CSV row...)."""

    source: str
    reason: str
    id: str | None = None
    position: str | None = None  # "line 12", "row 7": where in a file, for bulk inputs
    excerpt: str = field(default="", repr=False)

    def describe(self) -> str:
        where = f" ({self.position})" if self.position else ""
        return f"{SOURCE_LABELS.get(self.source, self.source)} input rejected{where}: {self.reason}"


def parse_timestamp(value: Any) -> datetime | None:
    """An aware UTC datetime from ISO-8601 text or Unix seconds; ``None`` when it is not one, or is one that
    falls outside years 1 to 9999 in UTC."""
    if isinstance(value, datetime):
        return value if value.tzinfo else value.replace(tzinfo=UTC)
    if isinstance(value, bool):
        return None
    if isinstance(value, (int, float)):
        try:
            return datetime.fromtimestamp(value, tz=UTC)
        except (OverflowError, OSError, ValueError):
            return None
    if not isinstance(value, str) or not value.strip():
        return None
    text = value.strip()
    try:
        parsed = datetime.fromisoformat(text)
    except ValueError:
        if text.isascii() and text.isdigit():
            return parse_timestamp(int(text))
        return None
    if parsed.tzinfo is None:
        return parsed.replace(tzinfo=UTC)
    try:
        return parsed.astimezone(UTC)
    except OverflowError:  # 0001-01-01T00:00:00+01:00 is a moment before year 1 in UTC
        return None
