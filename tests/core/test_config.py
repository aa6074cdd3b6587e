"""Configuration documents: round trips, presets, and plain-word errors that say where the problem is."""

from __future__ import annotations

import json

import pytest

from sync_core.domain.config import ConfigError, SyncConfig, load_config
from sync_core.domain.presets import PRESETS, UnknownPreset, load_preset, preset_document


@pytest.mark.parametrize("name", list(PRESETS))
def test_presets_load_and_round_trip_through_json(name):
    config = load_preset(name)
    again = load_config(config.to_json())
    assert again == config
    assert json.loads(again.to_json()) == json.loads(config.to_json())


def test_unknown_preset_names_the_choices():
    with pytest.raises(UnknownPreset) as info:
        preset_document("mailchimp")
    assert "partnero" in str(info.value) and "dodo-payments" in str(info.value)


def test_empty_document_is_a_valid_default_configuration():
    config = load_config("{}")
    assert config.connection.base_url == "https://connect.mailerlite.com/api"
    assert config.connection.sandbox is True
    assert set(config.sources) == {"dodo_payments", "partnero", "records"}


def test_field_types_and_groups_are_listed_for_creating_them_in_mailerlite():
    config = load_preset("dodo-payments")
    types = config.field_types()
    assert types["last_purchase_amount"] == "number" and types["customer_since"] == "date"
    assert types["payment_id"] == "text" and "subscribed_at" not in types
    assert config.group_names()[0] == "Dodo Payments"
    assert {"Customers", "Premium customers", "Churned customers"} <= set(config.group_names())


def _with_trigger(**trigger) -> dict:
    base = {"name": "New customer", "event_types": ["payment.succeeded"], "fields": []}
    return {"triggers": [{**base, **trigger}]}


@pytest.mark.parametrize(
    "document,expected",
    [
        ("{not json", "not valid JSON"),
        ("[]", "should be a JSON object"),
        ({"conection": {}}, "conection: is not a known setting (check the spelling)"),
        (_with_trigger(action="destroy"), "trigger 'New customer', action: 'destroy' is not allowed"),
        (
            _with_trigger(action="delete", fields=[{"target": "a", "value": "data.a"}]),
            "trigger 'New customer': a trigger that does \"Delete from MailerLite\" sends no fields",
        ),
        (
            _with_trigger(fields=[{"target": "company", "value": "data.x", "transform": "cents"}]),
            "trigger 'New customer', field 'company', transform: the transform 'cents' is not known",
        ),
        (
            _with_trigger(fields=[{"target": "Company Name", "value": "data.x"}]),
            "'Company Name' is not a MailerLite field key",
        ),
        (
            _with_trigger(fields=[{"target": "total", "value": "data.x", "type": "money"}]),
            "field 'total', type: 'money' is not allowed; choose one of 'text', 'number' or 'date'",
        ),
        (_with_trigger(fields=[{"target": "name", "source": "path"}]), "needs the path of the value"),
        (
            _with_trigger(fields=[{"target": "name", "source": "template", "value": "no placeholder"}]),
            "a template needs at least one {path}",
        ),
        (_with_trigger(event_types=[]), "event types: should not be empty"),
        (
            _with_trigger(fields=[{"target": "a", "value": "data.a"}, {"target": "a", "value": "data.b"}]),
            "the field 'a' is mapped twice",
        ),
        (
            {"group_rules": [{"group": "VIP", "conditions": [{"field": "data.x", "operator": "in", "value": 3}]}]},
            "group rule 'VIP', condition 'data.x': 'is one of' needs a list of values",
        ),
        (
            {"group_rules": [{"group": "VIP", "conditions": [{"field": "data.x", "operator": "gte", "value": None}]}]},
            "'is at least' needs a number",
        ),
        ({"group_rules": [{"group": "x" * 256}]}, "at most 255 characters"),
        ({"sources": {"stripe": {}}}, "'stripe' is not a source"),
        ({"connection": {"base_url": "connect.mailerlite.com"}}, "should start with https://"),
    ],
)
def test_invalid_documents_get_plain_errors_naming_the_place(document, expected):
    with pytest.raises(ConfigError) as info:
        load_config(json.dumps(document) if isinstance(document, (dict, list)) else document)
    assert any(expected in problem for problem in info.value.problems), info.value.problems
    assert "Traceback" not in str(info.value) and "pydantic" not in str(info.value).lower()


def test_every_problem_is_reported_not_only_the_first():
    document = {"triggers": [{"name": "A", "event_types": ["x"], "action": "nope"}], "group_rules": [{"group": ""}]}
    with pytest.raises(ConfigError) as info:
        load_config(document)
    assert len(info.value.problems) == 2


def test_a_field_cannot_have_two_types_across_triggers():
    document = {
        "triggers": [
            {"name": "A", "event_types": ["x"], "fields": [{"target": "amount", "value": "data.a", "type": "number"}]},
            {"name": "B", "event_types": ["y"], "fields": [{"target": "amount", "value": "data.a", "type": "text"}]},
        ]
    }
    with pytest.raises(ConfigError) as info:
        load_config(document)
    assert "'amount' is a number field in trigger 'A' but a text field in trigger 'B'" in str(info.value)


def test_in_operator_accepts_comma_separated_text():
    config = SyncConfig.model_validate(
        {
            "group_rules": [
                {"group": "G", "conditions": [{"field": "data.s", "operator": "in", "value": "active, pending"}]}
            ]
        }
    )
    assert config.group_rules[0].conditions[0].value == ["active", "pending"]


def test_skip_if_empty_and_clear_when_empty_exclude_each_other():
    from sync_core.domain.config import ConfigError, load_config

    document = {
        "triggers": [
            {
                "name": "T",
                "event_types": ["partner.*"],
                "fields": [{"target": "city", "value": "data.city", "skip_if_empty": True, "clear_when_empty": True}],
            }
        ]
    }
    try:
        load_config(document)
    except ConfigError as exc:
        (problem,) = exc.problems
        assert "city" in problem and 'choose either "skip if empty" or "clear when empty"' in problem
    else:
        raise AssertionError("both options were accepted")
    document["triggers"][0]["fields"][0]["skip_if_empty"] = False
    assert load_config(document).triggers[0].fields[0].clear_when_empty
