"""MailerLite's webhooks also echo what the studio itself just sent (a subscriber created or updated by a sync,
added to a group). An echo must not move the times the studio keeps with each value: otherwise a source event
that occurred before the echo arrived (a delayed Dodo webhook, a file of older rows) would count as older than
MailerLite's copy of the studio's own value, and be dropped."""

from __future__ import annotations

from datetime import UTC, datetime

from sync_core.domain.sources.mailerlite import MailerLiteEvent, apply_event
from sync_core.domain.state import ContactState

SENT = datetime(2026, 12, 1, 10, 0, 0, tzinfo=UTC)
ECHO = datetime(2026, 12, 1, 10, 0, 5, tzinfo=UTC)


def echo(kind: str, *, fields: dict | None = None, group: dict | None = None) -> MailerLiteEvent:
    person = {"id": "1001", "email": "ada@example.com", "status": "active", "fields": fields or {}}
    return MailerLiteEvent("e1", kind, "ada@example.com", person, group, ECHO, {})


def known() -> ContactState:
    return ContactState(
        "ada@example.com",
        "1001",
        "active",
        fields={"total_sales": (5, SENT)},
        groups={"Partners": (True, SENT)},
    )


def test_an_echo_of_the_studios_own_values_keeps_their_times():
    state, _ = apply_event(known(), echo("subscriber.updated", fields={"total_sales": 5}), ["total_sales"], now=ECHO)
    assert state.fields["total_sales"] == (5, SENT)


def test_an_echo_of_a_group_the_studio_joined_keeps_its_time():
    group = {"id": "9", "name": "Partners"}
    state, _ = apply_event(known(), echo("subscriber.added_to_group", group=group), [], now=ECHO)
    assert state.groups["Partners"] == (True, SENT)


def test_a_change_made_in_mailerlite_is_remembered_with_its_time():
    state, said = apply_event(known(), echo("subscriber.updated", fields={"total_sales": 9}), ["total_sales"], now=ECHO)
    assert state.fields["total_sales"] == (9, ECHO) and "total_sales" in said
    group = {"id": "9", "name": "Partners"}
    state, _ = apply_event(known(), echo("subscriber.removed_from_group", group=group), [], now=ECHO)
    assert state.groups["Partners"] == (False, ECHO)
