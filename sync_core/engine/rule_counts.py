"""Questions the dashboard asks of the stored events: how many known contacts each group rule matches now, and
when each source last sent something.

A contact's newest stored event stands for the contact (one query, a bounded sample), normalized again from its
raw body exactly as the sync engine would, and each rule decides on it: added (matched), removed or not added
(decided but not matched), or no decision (the event is out of the rule's scope, or lacks a field).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime

from sync_core.domain.config import SyncConfig
from sync_core.domain.events import PARTNER, SOURCE_LABELS, NormalizedEvent
from sync_core.domain.rules import CompiledRule
from sync_core.domain.sources import normalize_input

DEFAULT_SAMPLE = 5000


@dataclass(slots=True)
class RuleCounts:
    """``counts[rule index] = (matched, decided)`` over ``contacts`` contacts (their newest event each)."""

    counts: dict[int, tuple[int, int]] = field(default_factory=dict)
    contacts: int = 0  # contacts whose newest event could be read
    unreadable: int = 0  # newest events that could not be normalized again
    limited: bool = False  # the sample bound was reached: more contacts are known than were counted


def _event(source: str, body: bytes, kind: str | None, received_at: datetime | None) -> NormalizedEvent | None:
    received_at = received_at or datetime.now(UTC)
    if received_at.tzinfo is None:
        received_at = received_at.replace(tzinfo=UTC)
    item = normalize_input(body, source, kind=kind or PARTNER, received_at=received_at, position="stored", limit=None)
    return item if isinstance(item, NormalizedEvent) else None


def rule_match_summary(workspace, config: SyncConfig, *, sample: int = DEFAULT_SAMPLE) -> RuleCounts:
    """Every group rule of ``config`` (enabled or not, by index) against the newest event of up to ``sample``
    known contacts."""
    result = RuleCounts(counts={index: (0, 0) for index in range(len(config.group_rules))})
    if not config.group_rules or sample <= 0:
        return result
    rules = [CompiledRule(rule) for rule in config.group_rules]
    matched = [0] * len(rules)
    decided = [0] * len(rules)
    rows = workspace.events.newest_per_contact(sample + 1, sources=list(SOURCE_LABELS))  # not MailerLite's own
    if len(rows) > sample:
        result.limited = True
        rows = rows[:sample]
    for source, body, kind, received_at in rows:
        event = _event(source, bytes(body), kind, received_at)
        if event is None:
            result.unreadable += 1
            continue
        result.contacts += 1
        for index, rule in enumerate(rules):
            decision = rule.decide(event)
            if decision is None:
                continue
            decided[index] += 1
            if decision:
                matched[index] += 1
    result.counts = {index: (matched[index], decided[index]) for index in range(len(rules))}
    return result


def rule_match_counts(workspace, config: SyncConfig, *, sample: int = DEFAULT_SAMPLE) -> dict[int, tuple[int, int]]:
    """Rule index → (contacts it matches, contacts it decides on), over the newest stored event of each known
    contact (at most ``sample`` contacts). All zeros when no event has been received yet."""
    return rule_match_summary(workspace, config, sample=sample).counts


def last_received(workspace) -> dict[str, datetime]:
    """Source → when its newest event was received (sources that never sent anything are absent)."""
    newest = workspace.events.last_received(SOURCE_LABELS)
    return {source: when for source, when in newest.items() if when is not None}


__all__ = ["DEFAULT_SAMPLE", "RuleCounts", "last_received", "rule_match_counts", "rule_match_summary"]
