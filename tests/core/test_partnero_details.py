"""Partnero's real bodies through the Partnero preset: every mapped path resolves, the tier comes out of the
``custom_fields`` list, and group names taken from the event (``Tier {tier}``) move a contact between groups."""

from __future__ import annotations

import json
from datetime import UTC, datetime

import pytest

from sync_core.domain.config import ConfigError, GroupRule, SyncConfig, load_config
from sync_core.domain.events import MISSING, NormalizedEvent, compile_path
from sync_core.domain.planning import Planner
from sync_core.domain.presets import load_preset
from sync_core.domain.sources import normalize_input
from sync_core.domain.state import ContactState
from tests.reference import partnero_fixture

NOW = datetime(2026, 1, 1, tzinfo=UTC)


def partnero(body: dict) -> NormalizedEvent:
    event = normalize_input(json.dumps(body), "partnero", received_at=NOW)
    assert isinstance(event, NormalizedEvent), event
    return event


def webhook(event_type: str, data: dict, at: str = "2025-06-12T08:15:00Z") -> dict:
    return {"event": event_type, "created_at": at, "data": data}


def with_tier(tier, *, at: str = "2025-06-12T08:15:00Z", key: str = "tier") -> dict:
    body = partnero_fixture("partner-updated-with-tier.json")
    body["created_at"] = at
    body["data"]["custom_fields"] = [{"key": key, "value": tier}, {"key": "region", "value": "EMEA"}]
    return body


# --- the path language: an element of a list picked by one of its keys ----------------------------------------


def test_a_list_element_is_picked_by_key():
    event = partnero(partnero_fixture("partner-updated-with-tier.json"))
    assert compile_path("data.custom_fields[key=tier].value")(event) == "Gold"
    assert compile_path("data.custom_fields[key=region].value")(event) == "EMEA"
    assert compile_path("data.custom_fields[key=Tier].value")(event) == "Gold"  # as a marketer types it
    assert compile_path("data.custom_fields[key=colour].value")(event) is MISSING
    assert compile_path("data.tags[value=premium].value")(event) == "premium"
    assert compile_path("data.status[key=tier].value")(event) is MISSING  # not a list
    assert event.lookup("data.custom_fields[key=tier].value") == "Gold"
    assert event.has("data.custom_fields[key=tier].value") and not event.has("data.custom_fields[key=x].value")


def test_the_selector_reads_flat_records_too():
    flat = NormalizedEvent(
        "records",
        "partner.imported",
        "r1",
        NOW,
        "partner",
        {
            "data.custom_fields.0.key": "region",
            "data.custom_fields.0.value": "EMEA",
            "data.custom_fields.1.key": "tier",
            "data.custom_fields.1.value": "Silver",
        },
        email="a@example.com",
    )
    assert compile_path("data.custom_fields[key=tier].value")(flat) == "Silver"
    assert compile_path("data.custom_fields[key=nope].value")(flat) is MISSING


def test_a_selector_is_a_valid_path_in_mappings_and_conditions():
    config = load_config(
        {
            "triggers": [
                {
                    "name": "Partners",
                    "event_types": ["partner.*"],
                    "fields": [{"target": "tier", "value": "data.tier | data.custom_fields[key=tier].value"}],
                }
            ],
            "group_rules": [
                {"group": "Gold", "conditions": [{"field": "data.custom_fields[key=tier].value", "value": "Gold"}]}
            ],
        }
    )
    assert config.triggers[0].fields[0].paths() == ["data.tier", "data.custom_fields[key=tier].value"]


# --- the Partnero preset on Partnero's documented bodies --------------------------------------------------------


def test_every_partner_path_of_the_preset_resolves_on_the_documented_partner():
    planner = Planner(load_preset("partnero"))
    event = partnero(partnero_fixture("partner-updated-with-tier.json"))
    evaluation = planner.evaluator.evaluate(event, NOW)
    assert evaluation.status == "sync", evaluation.reason
    assert evaluation.values == {
        "name": "John Doe",
        "partner_key": "partner_123",
        "status": "active",
        "total_sales": 8,
        "total_earned": 375,
        "tier": "Gold",
    }


def test_every_customer_path_of_the_preset_resolves_on_the_documented_customer():
    planner = Planner(load_preset("partnero"))
    customer = partnero_fixture("customer-get-response.json")["data"]
    evaluation = planner.evaluator.evaluate(partnero(webhook("customer.created", customer)), NOW)
    assert evaluation.values == {"name": "Alice Brown", "referred_by": "partner_123", "customer_key": "customer_123"}


def test_a_partner_without_a_tier_is_synced_without_one():
    planner = Planner(load_preset("partnero"))
    documented = partnero(partnero_fixture("partner-created-no-tier.json"))
    evaluation = planner.evaluator.evaluate(documented, NOW)
    assert evaluation.status == "sync" and "tier" not in evaluation.values
    assert evaluation.named == {"Tier {tier}": None}  # no tier in the event: the tier rule decides nothing
    rest = partnero(webhook("partner.updated", partnero_fixture("partner-get-response.json")["data"]))
    assert "tier" not in planner.evaluator.evaluate(rest, NOW).values  # custom_fields: [] has no tier either


# --- group names from the event ---------------------------------------------------------------------------------


def tier_config(mode: str = "membership") -> SyncConfig:
    config = load_preset("partnero")
    config.group_rules = [GroupRule(group="Tier {tier}", mode=mode, event_types=["partner.*"])]  # type: ignore
    return config


def test_a_templated_group_name_is_checked_and_is_not_a_group_to_create():
    config = tier_config()
    assert config.group_rules[0].is_template and config.group_names() == []
    assert GroupRule(group="Region {data.custom_fields[key=region].value}").is_template
    assert not GroupRule(group="Partners").is_template
    for bad, words in [
        ("Tier {tier", "a { without its }"),
        ("Tier }", "a } without its {"),
        ("Tier {}", "empty"),
        ("Tier {Tier Level}", "not a field"),
    ]:
        with pytest.raises(ConfigError) as caught:
            load_config({"group_rules": [{"group": bad}]})
        assert words in str(caught.value), str(caught.value)


def plan(config: SyncConfig, *bodies: dict, state: ContactState | None = None):
    events = [partnero(body) for body in bodies]
    states = {state.email: state} if state else {}
    (contact,) = Planner(config).plan(events, states, now=NOW).contacts
    return contact


def test_a_tier_change_leaves_the_old_tier_group_and_joins_the_new_one():
    config = tier_config()
    first = plan(config, with_tier("Gold"))
    assert first.groups_added == ["Tier Gold"] and first.groups_removed == []
    assert first.new_state.named["Tier {tier}"][0] == "Tier Gold"
    second = plan(config, with_tier("Silver", at="2025-07-01T00:00:00Z"), state=first.new_state)
    assert second.groups_added == ["Tier Silver"] and second.groups_removed == ["Tier Gold"]
    assert second.new_state.in_group("Tier Gold") is False and second.new_state.in_group("Tier Silver") is True
    kinds = [(operation.kind, operation.group) for operation in second.operations]
    assert ("unassign", "Tier Gold") in kinds
    same = plan(config, with_tier("Silver", at="2025-07-02T00:00:00Z"), state=second.new_state)
    assert same.groups_added == same.groups_removed == []


def test_an_older_event_never_moves_the_contact_back():
    config = tier_config()
    now_silver = plan(config, with_tier("Silver", at="2025-07-01T00:00:00Z"))
    late_gold = plan(config, with_tier("Gold", at="2025-06-01T00:00:00Z"), state=now_silver.new_state)
    assert late_gold.groups_added == late_gold.groups_removed == []


def test_two_changes_in_one_run_end_in_the_last_group_only():
    config = tier_config()
    contact = plan(config, with_tier("Gold", at="2025-06-01T00:00:00Z"), with_tier("Silver", at="2025-07-01T00:00:00Z"))
    assert contact.groups_added == ["Tier Silver"] and contact.groups_removed == []  # never in Gold: nothing to leave


def test_an_empty_tier_leaves_the_group_and_a_missing_one_decides_nothing():
    config = tier_config()
    gold = plan(config, with_tier("Gold"))
    emptied = plan(config, with_tier("", at="2025-07-01T00:00:00Z"), state=gold.new_state)
    assert emptied.groups_added == [] and emptied.groups_removed == ["Tier Gold"]
    silent = plan(
        config, webhook("partner.updated", {"email": "john.doe@example.com", "status": "active"}), state=gold.new_state
    )
    assert silent.groups_removed == [] and silent.new_state.named["Tier {tier}"][0] == "Tier Gold"


def test_an_add_only_template_joins_each_new_group_and_never_leaves():
    config = tier_config(mode="add_only")
    gold = plan(config, with_tier("Gold"))
    silver = plan(config, with_tier("Silver", at="2025-07-01T00:00:00Z"), state=gold.new_state)
    assert silver.groups_added == ["Tier Silver"] and silver.groups_removed == []


def test_event_paths_work_in_group_names_too():
    config = load_preset("partnero")
    config.group_rules = [
        GroupRule(group="Region {data.custom_fields[key=region].value}", mode="membership", event_types=["partner.*"])
    ]
    assert plan(config, with_tier("Gold")).groups_added == ["Region EMEA"]


def test_the_preset_sorts_partners_by_tier():
    contact = plan(load_preset("partnero"), with_tier("Gold"))
    assert "Tier Gold" in contact.groups_added


# --- what was saved before still loads ---------------------------------------------------------------------------

OLD_PARTNERO_DOCUMENT = {
    "version": 1,
    "name": "Partnero → MailerLite",
    "connection": {"default_group": None, "sandbox": True},
    "triggers": [
        {
            "name": "Partners",
            "event_types": ["partner.created", "partner.updated"],
            "action": "upsert",
            "fields": [
                {
                    "target": "tier",
                    "source": "path",
                    "value": "data.tier | data.custom_fields.tier",
                    "skip_if_empty": True,
                }
            ],
        }
    ],
    "group_rules": [
        {"group": "Partners", "mode": "add_only", "event_types": ["partner.*"]},
        {
            "group": "Active Partners",
            "mode": "membership",
            "event_types": ["partner.*"],
            "conditions": [{"field": "data.status", "operator": "equals", "value": "active"}],
        },
    ],
}


def test_a_configuration_saved_before_templates_still_loads_and_works():
    config = load_config(OLD_PARTNERO_DOCUMENT)
    assert config.group_names() == ["Partners", "Active Partners"]
    assert not any(rule.is_template for rule in config.group_rules)
    contact = plan(config, webhook("partner.updated", {"email": "a@example.com", "status": "active", "tier": "Gold"}))
    assert contact.groups_added == ["Partners", "Active Partners"] and contact.changes["tier"] == (None, "Gold")


def test_a_contact_state_saved_before_templates_still_loads():
    old = {
        "email": "a@example.com",
        "subscriber_id": "1",
        "status": "active",
        "fields": {"tier": ["Gold", "2025-06-01T00:00:00+00:00"]},
        "groups": {"Partners": [True, "2025-06-01T00:00:00+00:00"]},
    }
    state = ContactState.from_dict(old)
    assert state.named == {} and state.in_group("Partners") is True
    again = ContactState.from_dict(state.to_dict())
    assert again == state
    contact = plan(tier_config(), with_tier("Gold", at="2025-07-01T00:00:00Z"), state=state)
    assert contact.groups_added == ["Tier Gold"]
