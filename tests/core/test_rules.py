"""Group rules: operators as a marketer reads them, all/any, scopes, and undecided membership."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from hypothesis import given
from hypothesis import strategies as st

from sync_core.domain.config import Condition, GroupRule
from sync_core.domain.events import NormalizedEvent
from sync_core.domain.rules import CompiledRule, decide_groups, evaluate_operator, values_equal

AT = datetime(2025, 1, 1, tzinfo=UTC)


def event(event_type: str = "partner.updated", **data) -> NormalizedEvent:
    return NormalizedEvent(
        "partnero",
        event_type,
        "id-1",
        AT,
        "partner",
        {f"data.{key}": value for key, value in data.items()},
        email="a@example.com",
    )


def rule(group="G", mode="add_only", match="all", event_types=(), conditions=()) -> CompiledRule:
    return CompiledRule(
        GroupRule(
            group=group,
            mode=mode,
            match=match,
            event_types=list(event_types),
            conditions=[Condition(**c) for c in conditions],
        )
    )


@pytest.mark.parametrize(
    "operator,actual,expected,result",
    [
        ("equals", "Active", "active", True),
        ("equals", 10000, "10000", True),
        ("equals", 1.0, 1, True),
        ("equals", "a", "b", False),
        ("not_equals", "a", "b", True),
        ("in", "pending", ["active", "pending"], True),
        ("not_in", "archived", ["active", "pending"], True),
        ("contains", "Premium Plan", "plan", True),
        ("contains", ["vip", "beta"], "VIP", True),
        ("contains", ["vip"], "beta", False),
        ("starts_with", "pdt_RUST", "pdt_", True),
        ("gt", 10001, 10000, True),
        ("gte", 10000, 10000, True),
        ("gte", 9999, 10000, False),
        ("lt", "5", 10, True),
        ("lte", "abc", 10, False),
        ("gt", "2025-08-04T05:30:00Z", "2025-01-01", True),
        ("is_empty", "", None, True),
        ("is_empty", [], None, True),
        ("is_not_empty", "x", None, True),
    ],
)
def test_operators(operator, actual, expected, result):
    assert evaluate_operator(operator, actual, expected) is result


values = st.one_of(st.integers(-1000, 1000), st.text(max_size=5), st.sampled_from(["Active", "active", "10"]))


@given(values, values)
def test_not_equals_is_the_negation_of_equals(left, right):
    assert evaluate_operator("not_equals", left, right) is not evaluate_operator("equals", left, right)


@given(values, st.lists(values, min_size=1, max_size=4))
def test_in_is_any_equals_and_not_in_its_negation(actual, options):
    assert evaluate_operator("in", actual, options) == any(values_equal(actual, o) for o in options)
    assert evaluate_operator("not_in", actual, options) is not evaluate_operator("in", actual, options)


@given(st.integers(-(10**6), 10**6), st.integers(-(10**6), 10**6))
def test_order_operators_are_consistent(left, right):
    gt, lt = evaluate_operator("gt", left, right), evaluate_operator("lt", left, right)
    eq = evaluate_operator("equals", left, right)
    assert [gt, lt, eq].count(True) == 1
    assert evaluate_operator("gte", left, right) == (gt or eq)
    assert evaluate_operator("lte", str(left), right) == (lt or eq)  # numeric text compares as a number


@given(st.lists(st.booleans(), min_size=1, max_size=5), st.sampled_from(["all", "any"]))
def test_all_and_any_combine_conditions(flags, match):
    data = {f"f{i}": "yes" if flag else "no" for i, flag in enumerate(flags)}
    compiled = rule(match=match, conditions=[{"field": f"data.f{i}", "value": "yes"} for i in range(len(flags))])
    assert compiled.holds(event(**data)) is (all(flags) if match == "all" else any(flags))


def test_membership_rule_adds_and_removes_within_its_scope_only():
    active_partners = rule(
        "Active Partners",
        "membership",
        event_types=["partner.*"],
        conditions=[{"field": "data.status", "value": "active"}],
    )
    assert active_partners.decide(event(status="active")) is True
    assert active_partners.decide(event(status="archived")) is False
    assert active_partners.decide(event("customer.created", status="archived")) is None


def test_membership_rule_decides_nothing_when_its_field_is_absent():
    active_partners = rule("Active Partners", "membership", conditions=[{"field": "data.status", "value": "active"}])
    assert active_partners.decide(event(name="no status here")) is None
    assert active_partners.decide(event(status=None)) is False


def test_add_only_rule_never_removes():
    premium = rule("Premium", conditions=[{"field": "data.total_amount", "operator": "gte", "value": 10000}])
    assert premium.decide(event(total_amount=25000)) is True
    assert premium.decide(event(total_amount=400)) is None


def test_event_type_condition():
    churn = rule(
        "Churned",
        conditions=[
            {"field": "event.type", "operator": "in", "value": ["subscription.cancelled", "subscription.expired"]}
        ],
    )
    assert churn.decide(event("subscription.expired")) is not None
    assert churn.decide(event("subscription.active")) is None


def test_is_empty_decides_even_when_the_field_is_absent():
    no_tier = rule("No tier", "membership", conditions=[{"field": "data.tier", "operator": "is_empty"}])
    assert no_tier.decide(event()) is True
    assert no_tier.decide(event(tier="gold")) is False


def test_adding_wins_when_two_rules_disagree_on_one_group():
    rules = [
        rule("VIP", "membership", conditions=[{"field": "data.a", "value": "1"}]),
        rule("VIP", "add_only", conditions=[{"field": "data.b", "value": "1"}]),
    ]
    assert decide_groups(rules, event(a="0", b="1")) == {"VIP": True}
    assert decide_groups(rules, event(a="0", b="0")) == {"VIP": False}
