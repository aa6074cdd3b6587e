"""The words pages show for the studio's raw names, the mapping suggested by name and the value check in words."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from sync_core.domain.config import ACTION_LABELS, OPERATOR_LABELS, FieldMapping
from sync_core.domain.labels import (
    action_label,
    field_label,
    mailerlite_field_choices,
    mailerlite_field_label,
    operator_label,
    template_label,
)
from sync_core.domain.mapping import check_value, suggest_by_name
from tests.core.builders import partner

NOW = datetime(2025, 6, 1, tzinfo=UTC)


@pytest.mark.parametrize(
    ("source", "path", "label"),
    [
        ("dodo_payments", "data.customer.name", "Customer name"),
        ("partnero", "data.status", "Partner status"),
        ("partnero", "data.total_sales | data.referrals.sales_count", "Total sales"),
        ("dodo_payments", "data.total_amount", "Payment amount"),
        ("partnero", "data.key | data.id", "Partner key"),
        (None, "event.type", "Event type"),
        ("records", "data.lifetime_value", "Lifetime value"),  # not known: made from the path
        ("dodo_payments", "data.shipping.city", "Shipping city"),  # a generic name keeps its parent
        ("partnero", "data.custom_fields[key=region].value", "Region"),
        ("dodo_payments", "data.product_cart.0.product_id", "Product ID"),
    ],
)
def test_an_event_field_reads_as_a_marketer_names_it(source, path, label):
    assert field_label(source, path) == label


def test_a_template_is_named_by_what_it_is_made_of():
    assert template_label("partnero", "{data.name} {data.surname}") == "First name + Last name"


def test_operators_and_actions_read_as_words():
    assert operator_label("equals") == "is"
    assert operator_label("is_not_empty") == "has a value"
    assert operator_label("gte") == "is at least"
    assert action_label("upsert") == "Create or update" and action_label("update_only") == "Update only"
    assert not any(symbol in label for label in OPERATOR_LABELS.values() for symbol in "<>=")
    assert "upsert" not in " ".join(ACTION_LABELS.values()).lower()


def test_a_mailerlite_field_is_named_as_the_account_names_it():
    assert mailerlite_field_label("z_i_p", {"z_i_p": "Zip"}) == "Zip"
    assert mailerlite_field_label("z_i_p") == "ZIP"  # not in the account: a readable name from its key
    assert mailerlite_field_label("total_sales") == "Total sales"
    assert mailerlite_field_label("partner_key", {"partner_key": "partner_key"}) == "Partner key"  # named by its key
    choices = mailerlite_field_choices(["name", "nickname"], {"name": "Name", "nickname": "Name"})
    assert choices == {"Name (name)": "name", "Name (nickname)": "nickname"}  # one name, told apart by key


def test_map_by_name_suggests_the_fields_named_alike_once_each():
    fields = {"name": "text", "city": "text", "total_amount": "number", "company": "text", "phone": "text"}
    paths = ["data.customer.name", "data.billing.city", "data.total_amount", "data.customer.email", "data.name"]
    suggested = suggest_by_name(paths, fields, {"name": "Name"}, mapped=["company"])
    assert suggested == [
        {"target": "name", "source": "path", "value": "data.customer.name", "type": "text"},
        {"target": "city", "source": "path", "value": "data.billing.city", "type": "text"},
        {"target": "total_amount", "source": "path", "value": "data.total_amount", "type": "number"},
    ]  # data.name finds name taken; nothing is named like company (mapped already) or phone


def test_map_by_name_matches_an_account_name_and_a_label():
    suggested = suggest_by_name(
        ["data.total_sales", "data.key"],
        {"sales": "number", "pkey": "text"},
        {"sales": "Total sales", "pkey": "Partner key"},
        label=lambda path: field_label("partnero", path),
    )
    assert [(s["target"], s["value"], s["type"]) for s in suggested] == [
        ("sales", "data.total_sales", "number"),
        ("pkey", "data.key", "text"),
    ]
    assert suggest_by_name(["data.total_sales"], {"total_sales": "number"}, mapped=["total_sales"]) == []


def test_the_value_check_says_in_words_whether_a_value_will_send():
    event = partner(total_sales="lots", total_earned="750.00")
    right = check_value(FieldMapping(target="total_earned", value="data.total_earned", type="number"), event, NOW)
    assert right.status == "ok" and right.words == "Looks right: 750.00 is a number"
    wrong = check_value(FieldMapping(target="total_sales", value="data.total_sales", type="number"), event, NOW)
    assert wrong.status == "problem"
    assert wrong.words == "This will not send: 'lots' does not fit a number field; use a number such as 12 or 4.50"
    text = check_value(FieldMapping(target="name", source="template", value="{data.name} {data.surname}"), event, NOW)
    assert text.words == "Looks right: “John Doe” is text"
    absent = check_value(FieldMapping(target="tier", value="data.tier"), event, NOW)
    assert absent.status == "absent" and "does not have" in absent.words
