"""Drift in plain values: a subscriber as MailerLite lists it against what the studio decided for the contact, the
summary in a marketer's words, and the plan that repairs it."""

from __future__ import annotations

import csv
import io

from sync_core.domain.drift import (
    ContactDrift,
    DriftKind,
    Scope,
    compare,
    count_kinds,
    deleted,
    drift_csv,
    matches,
    repair_plan,
    same_value,
    summary,
    table_rows,
)
from sync_core.domain.planning import Planner, PlanOutcome
from sync_core.domain.presets import load_preset
from tests.core.builders import partner

CONFIG = load_preset("partnero")
SCOPE = Scope.of(CONFIG)


def synced_state():
    plan = Planner(CONFIG).plan([partner("active")]).contacts[0]
    state = plan.new_state
    state.subscriber_id, state.status = "111", "active"
    return state


def subscriber(state, *, fields=None, groups=None, status="active"):
    values = {target: value for target, (value, _) in state.fields.items()}
    values.update(fields or {})
    names = groups if groups is not None else [name for name, (member, _) in state.groups.items() if member]
    return {
        "id": state.subscriber_id,
        "email": state.email,
        "status": status,
        "fields": {**values, "company": None},
        "groups": [{"id": str(n), "name": name} for n, name in enumerate(names)],
    }


def test_a_subscriber_as_the_studio_left_it_has_no_drift():
    state = synced_state()
    assert state.groups["Active Partners"][0] is True
    assert compare(state, subscriber(state), SCOPE) == []
    # MailerLite's own spelling of the same values is no drift: a number for a number field, text for text
    number = subscriber(state, fields={"total_sales": 25.0, "total_earned": "750"})
    assert compare(state, number, SCOPE) == []


def test_each_kind_of_change_is_found():
    state = synced_state()
    edited = subscriber(state, fields={"name": "Johnny D", "total_sales": 30})
    found = compare(state, edited, SCOPE)
    assert [(d.kind, d.name, d.studio, d.mailerlite) for d in found] == [
        (DriftKind.FIELD, "name", "John Doe", "Johnny D"),
        (DriftKind.FIELD, "total_sales", 25, 30),
    ]
    left = compare(state, subscriber(state, groups=["Partners"]), SCOPE)
    assert [(d.kind, d.name) for d in left] == [(DriftKind.GROUP_REMOVED, "Active Partners")]
    # a group the studio took them out of, joined by hand
    state.groups["Active Partners"] = (False, state.groups["Active Partners"][1])
    joined = compare(state, subscriber(state, groups=["Partners", "Active Partners"]), SCOPE)
    assert [(d.kind, d.name) for d in joined] == [(DriftKind.GROUP_ADDED, "Active Partners")]
    # groups the configuration does not manage are nobody's business
    assert compare(state, subscriber(state, groups=["Partners", "VIP"]), SCOPE) == []


def test_a_suppressed_subscriber_is_reported_once_and_nothing_else():
    state = synced_state()
    found = compare(state, subscriber(state, fields={"name": "X"}, status="unsubscribed"), SCOPE)
    assert [(d.kind, d.mailerlite) for d in found] == [(DriftKind.SUPPRESSED, "unsubscribed")]
    state.status = "unsubscribed"  # the studio knows already
    assert compare(state, subscriber(state, status="unsubscribed"), SCOPE) == []


def test_values_compare_as_mailerlite_stores_them():
    assert same_value("12.50", 12.5, "number") and not same_value("12.50", 12.6, "number")
    assert same_value(12, "12", "text") and same_value(None, "", "text") and not same_value("a", None)
    assert same_value("2025-01-02", "2025-01-02 00:00:00", "date")
    assert not same_value("2025-01-02", "2025-01-03", "date")


def test_summary_counts_contacts_in_marketer_words():
    drifts = [ContactDrift(f"p{n}@example.com", str(n), []) for n in range(12)]
    state = synced_state()
    for drift in drifts[:8]:
        drift.differences = compare(state, subscriber(state, fields={"name": "Other"}), SCOPE)
    for drift in drifts[8:11]:
        drift.differences = compare(state, subscriber(state, groups=["Partners"]), SCOPE)
    drifts[11].differences = [deleted(state)]
    text = summary(len(drifts), count_kinds(drifts))
    assert text == (
        "12 contacts differ: 8 fields changed in MailerLite, 3 removed from a group by hand, 1 deleted in MailerLite"
    )
    assert summary(0, {}) == "MailerLite holds what the studio decided: no contact differs."


def test_the_repair_sends_the_studio_decision_back():
    state = synced_state()
    edited = subscriber(state, fields={"name": "Johnny D"}, groups=["Partners"])
    drift = ContactDrift(state.email, "111", compare(state, edited, SCOPE))
    plan = repair_plan(drift, state, group_ids={"Active Partners": "900", "Partners": "800"})
    assert plan.outcome == PlanOutcome.UPDATE
    assert [o.as_request() for o in plan.operations] == [
        {
            "method": "POST",
            "path": "/api/subscribers",
            "body": {"email": state.email, "fields": {"name": "John Doe"}, "groups": ["900"]},
        }
    ]
    assert plan.changes == {"name": ("Johnny D", "John Doe")} and plan.groups_added == ["Active Partners"]
    assert plan.new_state.fields == state.fields

    state.groups["Active Partners"] = (False, state.groups["Active Partners"][1])
    joined = ContactDrift(
        state.email, "111", compare(state, subscriber(state, groups=["Partners", "Active Partners"]), SCOPE)
    )
    leave = repair_plan(joined, state, group_ids={"Active Partners": "900"})
    assert [(o.method, o.path) for o in leave.operations] == [("DELETE", "/api/subscribers/111/groups/900")]
    assert leave.groups_removed == ["Active Partners"]


def test_the_repair_leaves_suppressed_and_deleted_contacts_alone_unless_asked():
    state = synced_state()
    unsubscribed = ContactDrift(state.email, "111", compare(state, subscriber(state, status="unsubscribed"), SCOPE))
    plan = repair_plan(unsubscribed, state)
    assert plan.operations == [] and plan.outcome == PlanOutcome.SUPPRESSED
    assert plan.new_state.status == "unsubscribed"

    gone = ContactDrift(state.email, "111", [deleted(state)])
    kept = repair_plan(gone, state)
    assert kept.operations == [] and "not recreated" in kept.reason
    back = repair_plan(gone, state, group_ids={"Partners": "800", "Active Partners": "900"}, recreate_deleted=True)
    assert back.outcome == PlanOutcome.CREATE
    (upsert,) = back.operations
    assert upsert.body["email"] == state.email and sorted(upsert.body["groups"]) == ["800", "900"]
    assert upsert.body["fields"]["name"] == "John Doe"
    assert back.new_state.subscriber_id is None  # MailerLite gives a new id


def test_the_table_and_its_csv_say_what_differs_and_what_the_repair_does():
    state = synced_state()
    edited = ContactDrift(state.email, "111", compare(state, subscriber(state, fields={"name": "X"}), SCOPE))
    gone = ContactDrift("gone@example.com", "222", [deleted(state)])
    rows = list(csv.DictReader(io.StringIO(drift_csv([edited, gone]))))
    assert rows[0] == {
        "email": state.email,
        "difference": "field changed",
        "what": "name",
        "in the studio": "John Doe",
        "in MailerLite": "X",
        "repair": "sent again",
    }
    assert rows[1]["difference"] == "deleted" and rows[1]["repair"].startswith("left deleted")
    assert table_rows([gone], recreate_deleted=True)[0]["repair"] == "recreated"
    assert matches(gone, ["deleted"]) and not matches(gone, ["field"]) and matches(edited, [], "JOHN")


def test_a_contact_that_had_unsubscribed_is_never_recreated():
    state = synced_state()
    state.status = "unsubscribed"
    gone = ContactDrift(state.email, "111", [deleted(state)])
    plan = repair_plan(gone, state, recreate_deleted=True)
    assert plan.operations == [] and plan.outcome == PlanOutcome.SUPPRESSED
    assert gone.repair_words(recreate_deleted=True).startswith("left deleted: they had unsubscribed")


def test_the_repair_sends_the_decision_as_it_stands_now():
    state = synced_state()
    drift = ContactDrift(state.email, "111", compare(state, subscriber(state, fields={"name": "X"}), SCOPE))
    name, at = state.fields["name"]
    state.fields["name"] = ("John Newer", at)  # a sync since the check
    plan = repair_plan(drift, state)
    assert plan.operations[0].body["fields"] == {"name": "John Newer"}
    assert plan.changes == {"name": ("X", "John Newer")}
