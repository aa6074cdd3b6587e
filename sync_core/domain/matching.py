"""Event-type patterns (``payment.succeeded``, ``partner.*``, ``*``) compiled once and matched fast."""

from __future__ import annotations

from collections.abc import Iterable


class EventTypeMatcher:
    """Matches exact types and ``prefix.*`` wildcards; an empty pattern list matches everything."""

    __slots__ = ("_exact", "_prefixes", "_everything")

    def __init__(self, patterns: Iterable[str]):
        patterns = list(patterns)
        self._everything = not patterns or "*" in patterns
        self._exact = frozenset(p for p in patterns if "*" not in p)
        self._prefixes = tuple(p[:-1] for p in patterns if p.endswith(".*"))

    def matches(self, event_type: str) -> bool:
        return self._everything or event_type in self._exact or event_type.startswith(self._prefixes)

    def names_exactly(self, event_type: str) -> bool:
        """True when the type is listed by name, not only through a wildcard."""
        return event_type in self._exact
