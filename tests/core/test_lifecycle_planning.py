"""Planning of the lifecycle actions (issue 12), with plain values: the latest event decides, nothing is ever
created, a deleted contact is created again in full, the studio's groups only."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from sync_core.domain.config import load_config
from sync_core.domain.planning import Planner, PlanOutcome, follow_up
from sync_core.domain.state import ContactState
from tests.core.builders import partner

EMAIL = "john.doe@partnero.com"
AT = datetime(2025, 5, 1, tzinfo=UTC)


def planner(action: str, *, also: str | None = None) -> Planner:
    triggers = [
        {
            "name": "Partners",
            "event_types": ["partner.created", "partner.updated"],
            "fields": [{"target": "status", "value": "data.status"}],
        },
        {"name": "Gone", "event_types": ["partner.archived"], "action": action},
    ]
    if also:
        triggers.append({"name": "Also", "event_types": ["partner.archived"], "action": also})
    return Planner(
        load_config(
            {
                "connection": {"default_group": "Partnero"},
                "triggers": triggers,
                "group_rules": [{"group": "Partners"}, {"group": "Active Partners", "mode": "membership"}],
            }
        )
    )


def known(**groups: bool) -> ContactState:
    return ContactState(
        EMAIL, "165968862226941797", "active", {"status": ("active", AT)}, {n: (m, AT) for n, m in groups.items()}
    )


def test_unsubscribe_by_id_when_known_and_after_a_lookup_when_not():
    archived = partner("archived", event="partner.archived")
    (contact,) = planner("unsubscribe").plan([archived], {EMAIL: known()}).contacts
    assert contact.outcome == PlanOutcome.UNSUBSCRIBE and contact.new_state.suppressed
    assert kinds_of(contact) == [("unsubscribe", "PUT", "/api/subscribers/165968862226941797")]
    assert contact.operations[0].body == {"status": "unsubscribed"}
    (new,) = planner("unsubscribe").plan([archived]).contacts
    assert [o.kind for o in new.operations] == ["lookup", "unsubscribe"]
    assert follow_up(new, new.operations[1:], None) == new.operations[1:]  # the sender drops {subscriber_id}
    suppressed = ContactState(EMAIL, "1", "unsubscribed")
    (again,) = planner("unsubscribe").plan([archived], {EMAIL: suppressed}).contacts
    assert again.operations == [] and again.outcome == PlanOutcome.SUPPRESSED


def kinds_of(contact) -> list[tuple[str, str, str]]:
    return [(o.kind, o.method, o.path) for o in contact.operations]


def test_remove_from_the_studios_groups_skips_the_groups_it_knows_they_are_not_in():
    archived = partner("archived", event="partner.archived")
    state = known(Partnero=True, Partners=True, **{"Active Partners": False})
    (contact,) = planner("remove_groups").plan([archived], {EMAIL: state}, group_ids={"Partners": "42"}).contacts
    assert kinds_of(contact) == [
        ("unassign", "DELETE", "/api/subscribers/165968862226941797/groups/{group:Partnero}"),
        ("unassign", "DELETE", "/api/subscribers/165968862226941797/groups/42"),
    ]
    assert contact.groups_removed == ["Partnero", "Partners"]
    assert {name for name, (member, _) in contact.new_state.groups.items() if not member} == {
        "Partnero",
        "Partners",
        "Active Partners",
    }
    subscriber = {"id": "1", "groups": [{"id": "42", "name": "Partners"}, {"id": "7", "name": "Newsletter"}]}
    (new,) = planner("remove_groups").plan([archived], group_ids={"Partners": "42"}).contacts
    kept = follow_up(new, new.operations[1:], subscriber)
    assert [o.group for o in kept] == ["Partners"] and new.groups_removed == ["Partners"]


def test_delete_then_a_later_upsert_creates_the_contact_again_in_full():
    archived = partner("archived", event="partner.archived")
    (contact,) = planner("delete").plan([archived], {EMAIL: known(Partners=True)}).contacts
    assert kinds_of(contact) == [("delete", "DELETE", "/api/subscribers/165968862226941797")]
    assert contact.new_state.deleted and contact.new_state.fields == {}
    later = partner("active", at="2025-08-01T00:00:00Z", event="partner.updated")
    (back,) = planner("delete").plan([later], {EMAIL: contact.new_state}).contacts
    assert back.outcome == PlanOutcome.CREATE
    (upsert,) = back.operations
    assert upsert.body["fields"] == {"status": "active"}
    assert upsert.body["groups"] == ["Partnero", "Partners", "Active Partners"]
    (nothing,) = planner("delete").plan([archived], {EMAIL: contact.new_state}).contacts
    assert nothing.operations == [] and "not in MailerLite" in nothing.reason


@pytest.mark.parametrize("action", ["unsubscribe", "remove_groups", "delete"])
def test_the_latest_event_decides(action):
    created = partner("active", at="2025-05-01T00:00:00Z")
    archived = partner("archived", at="2025-06-01T00:00:00Z", event="partner.archived")
    later = partner("active", at="2025-07-01T00:00:00Z", event="partner.updated")
    (last,) = planner(action).plan([archived, created]).contacts
    assert last.action == action and not [o for o in last.operations if o.kind == "upsert"]
    (superseded,) = planner(action).plan([created, archived, later]).contacts
    assert superseded.action is None and [o.kind for o in superseded.operations] == ["upsert"]
    assert len(superseded.event_ids) == 3


def test_a_lifecycle_action_wins_over_another_trigger_on_the_same_event_but_ignore_wins_over_it():
    archived = partner("archived", event="partner.archived")
    (contact,) = planner("upsert", also="delete").plan([archived]).contacts
    assert contact.action == "delete"
    plan = planner("delete", also="ignore").plan([archived])
    assert plan.contacts == [] and plan.skipped[0].status == "ignored"


def test_an_event_older_than_the_deletion_does_not_bring_the_contact_back():
    archived = partner("archived", at="2025-06-01T00:00:00Z", event="partner.archived")
    (deleted,) = planner("delete").plan([archived], {EMAIL: known(Partners=True)}).contacts
    stored = ContactState.from_dict(deleted.new_state.to_dict())  # as the store keeps it
    assert stored.deleted and stored.deleted_at == archived.occurred_at
    late = partner("active", at="2025-05-01T00:00:00Z", event="partner.updated")  # a delayed webhook
    (contact,) = planner("delete").plan([late], {EMAIL: stored}).contacts
    assert contact.operations == [] and "deleted" in contact.reason
    newer = partner("active", at="2025-07-01T00:00:00Z", event="partner.updated")
    (back,) = planner("delete").plan([late, newer], {EMAIL: stored}).contacts
    assert back.outcome == PlanOutcome.CREATE and len(back.event_ids) == 2
