"""Group rules: build a rule and save it, groups to create, and how many known contacts each rule matches."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta

from storage.tables import ReceivedEvent
from sync_core.domain.config import Condition, GroupRule, SyncConfig
from sync_core.domain.presets import load_preset
from sync_core.engine.rule_counts import last_received, rule_match_counts, rule_match_summary

from .helpers import assert_clean, by_label, open_page

PAGE = "pages/group_rules.py"


def store_events(workspace, dodo_examples) -> None:
    """Four contacts: two payers (one premium), a partner, a partner from a records file; plus an older event of
    the first payer that must not count (only each contact's newest event does)."""
    base = datetime(2025, 9, 1, tzinfo=UTC)
    payment = dodo_examples["payment.succeeded"]

    def dodo(email: str, total: int) -> bytes:
        event = json.loads(json.dumps(payment))
        event["data"]["customer"]["email"] = email
        event["data"]["total_amount"] = total
        return json.dumps(event).encode()

    partner = {
        "event": "partner.updated",
        "created_at": "2025-09-01T10:00:00Z",
        "data": {"email": "john@example.com", "status": "active", "name": "John"},
    }
    rows = [
        ("dodo_payments", "e0", "payment.succeeded", "test@acme.com", dodo("test@acme.com", 20000), None),
        ("dodo_payments", "e1", "payment.succeeded", "test@acme.com", dodo("test@acme.com", 400), None),
        ("dodo_payments", "e2", "payment.succeeded", "big@example.com", dodo("big@example.com", 15000), None),
        ("partnero", "e3", "partner.updated", "john@example.com", json.dumps(partner).encode(), None),
        (
            "records",
            "e4",
            "partner.imported",
            "rita@example.com",
            json.dumps({"email": "rita@example.com", "status": "archived"}).encode(),
            "partner",
        ),
    ]
    with workspace.database.session() as session:
        for number, (source, event_id, event_type, email, body, kind) in enumerate(rows):
            session.add(
                ReceivedEvent(
                    source=source,
                    event_id=event_id,
                    event_type=event_type,
                    email=email,
                    body=body,
                    kind=kind,
                    received_at=base + timedelta(minutes=number),
                )
            )


RULES = [
    GroupRule(
        group="Premium",
        event_types=["payment.succeeded"],
        conditions=[Condition(field="data.total_amount", operator="gte", value=10000)],
    ),
    GroupRule(
        group="Active Partners",
        mode="membership",
        event_types=["partner.*"],
        conditions=[Condition(field="data.status", operator="equals", value="active")],
    ),
    GroupRule(group="Everyone"),
]


def test_rule_counts_use_each_contacts_newest_event(studio_workspace, dodo_examples):
    config = SyncConfig(group_rules=RULES)
    assert rule_match_counts(studio_workspace, config) == {0: (0, 0), 1: (0, 0), 2: (0, 0)}
    store_events(studio_workspace, dodo_examples)
    counts = rule_match_counts(studio_workspace, config)
    assert counts[0] == (1, 1)  # big@ matches; test@acme.com's newest payment is 400 cents: not added
    assert counts[1] == (1, 2)  # john is active; rita (records) is archived: decided, not matched
    assert counts[2] == (4, 4)
    summary = rule_match_summary(studio_workspace, config, sample=2)
    assert summary.contacts == 2 and summary.limited
    assert set(last_received(studio_workspace)) == {"dodo_payments", "partnero", "records"}


def test_build_a_rule_and_save_it(app, studio_workspace):
    studio_workspace.client().create_group("Premium")
    open_page(app, PAGE)
    assert any("No group rules yet" in i.value for i in app.info)
    app.button(key="gr_add_rule").click().run()
    assert_clean(app)
    by_label(app.selectbox, "Group").set_value("Premium").run()
    assert any("appear once events are received" in i.value for i in app.info)
    by_label(app.multiselect, "Events that decide (scope)").set_value(["payment.succeeded"]).run()
    app.button(key=[b.key for b in app.button if b.label == "Add a condition"][0]).click().run()
    by_label(app.selectbox, "Field").set_value("data.total_amount").run()
    by_label(app.selectbox, "Operator").set_value("gte").run()
    by_label(app.text_input, "Value").input("10000").run()
    assert_clean(app)
    assert any("In MailerLite" in m.value and "Premium" in m.value for m in app.markdown)
    app.text_input(key="ui_comment_group_rules").input("premium customers")
    app.button(key="ui_save_group_rules").click().run()
    assert_clean(app)
    (rule,) = studio_workspace.config().group_rules
    assert rule.group == "Premium" and rule.mode == "add_only" and rule.event_types == ["payment.succeeded"]
    assert rule.conditions == [Condition(field="data.total_amount", operator="gte", value=10000)]
    assert studio_workspace.configs.versions()[0].comment == "premium customers"


def test_list_operators_take_lists_and_empty_checks_take_no_value(app, studio_workspace):
    studio_workspace.save_config(load_preset("partnero"), author="test")
    open_page(app, PAGE)
    operator = [s for s in app.selectbox if s.label == "Operator"][0]
    operator.set_value("in").run()
    values = by_label(app.multiselect, "Values")
    assert values.value == ["active"]
    values.set_value(["active", "pending"]).run()
    app.button(key="ui_save_group_rules").click().run()
    assert studio_workspace.config().group_rules[1].conditions[0].value == ["active", "pending"]
    [s for s in app.selectbox if s.label == "Operator"][0].set_value("is_not_empty").run()
    assert not [t for t in app.text_input if t.label == "Value"]
    # only the rule's second condition (rejected and archived partners leave Active Partners) still takes a list
    assert [m.value for m in app.multiselect if m.label == "Values"] == [["partner.rejected", "partner.archived"]]
    assert any("no value needed" in c.value for c in app.caption)
    app.button(key="ui_save_group_rules").click().run()
    condition = studio_workspace.config().group_rules[1].conditions[0]
    assert condition.operator == "is_not_empty" and condition.value is None


def test_membership_mode_is_explained_and_rules_can_be_disabled_and_deleted(app, studio_workspace):
    studio_workspace.save_config(load_preset("partnero"), author="test")
    open_page(app, PAGE)
    captions = [c.value for c in app.caption]
    assert any("leave when they stop holding" in c for c in captions)
    assert any("never taken out" in c for c in captions)
    by_label(app.toggle, "Enabled").set_value(False).run()
    delete = [b.key for b in app.button if b.label == "Delete this rule"]
    app.button(key=delete[2]).click().run()
    app.button(key="ui_save_group_rules").click().run()
    rules = studio_workspace.config().group_rules
    assert [r.group for r in rules] == ["Partners", "Active Partners", "Tier {tier}"] and rules[0].enabled is False


def test_create_missing_groups_in_the_sandbox(app, studio_workspace):
    studio_workspace.save_config(load_preset("dodo-payments"), author="test")
    open_page(app, PAGE)
    app.button(key="gr_create_missing").click().run()
    assert_clean(app)
    names = sorted(group.name for group in studio_workspace.client().iter_groups())
    assert names == sorted(load_preset("dodo-payments").group_names())
    assert not any("Will be created" in m.value for m in app.markdown)


def test_the_page_shows_how_many_known_contacts_each_rule_matches(app, studio_workspace, dodo_examples):
    studio_workspace.save_config(SyncConfig(group_rules=RULES), author="test")
    store_events(studio_workspace, dodo_examples)
    open_page(app, PAGE)
    counts = [m.value for m in app.markdown if m.value.startswith(":material/groups:")]
    assert counts == [
        ":material/groups: Matches **1** of 4 known contacts now.",
        ":material/groups: Matches **1** of 4 known contacts now; 1 would leave the group.",
        ":material/groups: Matches **4** of 4 known contacts now.",
    ]
