"""Planning: the presets against the source integrations, minimal operations, idempotence and ordering."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from sync_core.domain.config import load_config
from sync_core.domain.events import DODO_PAYMENTS, PARTNERO, NormalizedEvent
from sync_core.domain.planning import Plan, Planner
from sync_core.domain.presets import load_preset
from sync_core.domain.sources import normalize_input
from sync_core.domain.state import ContactState
from tests.core.builders import dodo, partner, partnero_body, referred_customer


@pytest.fixture(scope="module")
def dodo_planner() -> Planner:
    return Planner(load_preset("dodo-payments"))


@pytest.fixture(scope="module")
def partnero_planner() -> Planner:
    return Planner(load_preset("partnero"))


def synced(plan: Plan, states: dict[str, ContactState] | None = None) -> dict[str, ContactState]:
    """The states after every planned operation succeeded (as the engine records them)."""
    states = dict(states or {})
    for number, contact in enumerate(plan.contacts):
        contact.new_state.subscriber_id = contact.new_state.subscriber_id or f"1659688622269{number:05d}"
        contact.new_state.status = contact.new_state.status or "active"
        states[contact.email] = contact.new_state
    return states


def requests(plan: Plan) -> list[dict]:
    return [operation.as_request() for operation in plan.operations()]


def writes(plan: Plan) -> list[dict]:
    """The requests that change something: a plan's lookups (what MailerLite holds) left out."""
    return [operation.as_request() for operation in plan.operations() if operation.kind != "lookup"]


# --- Dodo Payments preset against Dodo's own MailerLite examples -----------------------------------------------


def dodo_example_1(event: dict) -> dict:
    """What Dodo's first MailerLite example (add_customer.js) sends, computed the way its JavaScript does."""
    p = event["data"]
    return {
        "email": p["customer"]["email"],
        "fields": {"name": p["customer"]["name"], "company": p.get("customer_business_name") or "", "last_name": ""},
        "status": "active",
    }


def test_payment_succeeded_sends_what_dodo_example_1_sends_plus_the_default_group(dodo_planner, dodo_examples):
    example = dodo_examples["payment.succeeded"]
    plan = dodo_planner.plan([normalize_input(json.dumps(example), DODO_PAYMENTS)])
    lookup, upsert = requests(plan)  # "customer since" is set only if empty in MailerLite: it is read first
    assert (lookup["method"], lookup["path"]) == ("GET", "/api/subscribers/test@acme.com")
    expected = dodo_example_1(example)
    assert (upsert["method"], upsert["path"]) == ("POST", "/api/subscribers")
    assert upsert["body"]["email"] == expected["email"]
    assert upsert["body"]["status"] == expected["status"]
    for field, value in expected["fields"].items():
        if value == "":  # the example's empty values would erase what MailerLite has: never sent
            assert field not in upsert["body"]["fields"], field
        else:
            assert upsert["body"]["fields"][field] == value, field
    # the example's group ("your-group-id-here") is the Customers group; the default group comes first
    assert upsert["body"]["groups"] == ["Dodo Payments", "Customers"]
    assert plan.contacts[0].outcome == "create"


def test_dodo_example_2_premium_group_from_10000_cents(dodo_planner, dodo_examples):
    example = dodo_examples["payment.succeeded"]
    for amount, premium in [(9999, False), (10000, True), (25000, True)]:
        (upsert,) = writes(dodo_planner.plan([dodo(example, data__total_amount=amount)]))
        assert ("Premium customers" in upsert["body"]["groups"]) is premium
        assert upsert["body"]["fields"]["last_purchase_amount"] == f"{amount / 100:.2f}"
        assert upsert["body"]["fields"]["last_purchase_date"] == "2025-08-04"
        assert upsert["body"]["fields"]["payment_id"] == example["data"]["payment_id"]


def test_dodo_examples_5_and_6_custom_fields_and_automation_trigger(dodo_planner, dodo_examples):
    example = dodo_examples["payment.succeeded"]
    (upsert,) = writes(dodo_planner.plan([normalize_input(json.dumps(example), DODO_PAYMENTS)]))
    fields = upsert["body"]["fields"]
    assert fields["country"] == example["data"]["billing"]["country"]
    assert fields["city"] == example["data"]["billing"]["city"]
    assert "phone" not in fields  # the example has no phone number: an empty value never erases one
    assert fields["total_spent"] == "4.00" and fields["currency"] == "USD" and fields["payment_method"] == "card"
    assert fields["customer_since"] == "2025-08-04"
    assert upsert["body"]["subscribed_at"] == "2025-08-04 05:30:45"
    assert fields["last_payment_trigger"] == "2025-08-04T05:30:45.182Z"
    assert fields["last_payment_amount"] == "4.00"


def test_dodo_example_3_subscription_active(dodo_planner, dodo_examples):
    (upsert,) = requests(
        dodo_planner.plan([normalize_input(json.dumps(dodo_examples["subscription.active"]), DODO_PAYMENTS)])
    )
    assert upsert["body"]["fields"] == {
        "name": "Test user",
        "subscription_plan": dodo_examples["subscription.active"]["data"]["product_id"],
        "subscription_amount": "10.00",
        "billing_frequency": "Month",
        "subscription_start": "2025-08-04",
    }
    assert upsert["body"]["groups"] == ["Dodo Payments", "Subscribers", "Active subscriptions"]


def test_dodo_example_4_cancellation_updates_a_known_subscriber_and_moves_it_to_churned(dodo_planner, dodo_examples):
    states = synced(
        dodo_planner.plan([normalize_input(json.dumps(dodo_examples["subscription.active"]), DODO_PAYMENTS)])
    )
    subscriber_id = states["test@acme.com"].subscriber_id
    plan = dodo_planner.plan(
        [normalize_input(json.dumps(dodo_examples["subscription.cancelled"]), DODO_PAYMENTS)],
        states,
        group_ids={"Churned customers": "777", "Active subscriptions": "555"},
    )
    # update only: found first (it may have been deleted in MailerLite since), then updated by id, never upserted
    assert requests(plan) == [
        {"method": "GET", "path": "/api/subscribers/test@acme.com", "body": None},
        {
            "method": "PUT",
            "path": "/api/subscribers/{subscriber_id}",
            "body": {"fields": {"subscription_status": "cancelled", "cancellation_date": "2025-08-04"}},
        },
        {"method": "POST", "path": "/api/subscribers/{subscriber_id}/groups/777", "body": None},
        {"method": "DELETE", "path": "/api/subscribers/{subscriber_id}/groups/555", "body": None},
    ]
    assert subscriber_id
    assert plan.contacts[0].groups_removed == ["Active subscriptions"]


def test_cancellation_of_an_unknown_contact_only_updates_an_existing_subscriber(dodo_planner, dodo_examples):
    plan = dodo_planner.plan([normalize_input(json.dumps(dodo_examples["subscription.cancelled"]), DODO_PAYMENTS)])
    kinds = [operation.kind for operation in plan.operations()]
    assert kinds == ["lookup", "update", "assign", "unassign"]  # the sender removes only if MailerLite says so
    assert plan.operations()[0].path == "/api/subscribers/test@acme.com"
    assert "groups" not in plan.operations()[1].body  # PUT would replace every group: never send groups there


# --- Partnero preset against Partnero's own integration --------------------------------------------------------


def test_active_partner_created(partnero_planner):
    plan = partnero_planner.plan([partner("active")])
    (upsert,) = requests(plan)
    assert upsert["body"] == {
        "email": "john.doe@partnero.com",
        "fields": {
            "name": "John Doe",
            "partner_key": "partner_123",
            "status": "active",
            "total_sales": 25,
            "total_earned": "750.00",
        },
        "groups": ["Partners", "Active Partners"],
    }


def test_partner_updated_to_inactive_leaves_active_partners_only(partnero_planner):
    states = synced(partnero_planner.plan([partner("active")]))
    subscriber_id = states["john.doe@partnero.com"].subscriber_id
    plan = partnero_planner.plan(
        [partner("inactive", event="partner.updated", at="2025-06-01T08:00:00.000000Z")], states
    )
    assert requests(plan) == [
        {
            "method": "POST",
            "path": "/api/subscribers",
            "body": {"email": "john.doe@partnero.com", "fields": {"status": "inactive"}},
        },
        {
            "method": "DELETE",
            "path": f"/api/subscribers/{subscriber_id}/groups/{{group:Active Partners}}",
            "body": None,
        },
    ]
    after = synced(plan, states)["john.doe@partnero.com"]
    assert after.in_group("Partners") is True and after.in_group("Active Partners") is False


def test_referred_customer(partnero_planner):
    (upsert,) = requests(partnero_planner.plan([referred_customer()]))
    assert upsert["body"] == {
        "email": "jane.smith@example.com",
        "fields": {"name": "Jane Smith", "referred_by": "partner_123", "customer_key": "cust_456"},
        "groups": ["Referred Customers"],
    }


def test_partner_csv_backfill_maps_like_the_webhooks(partnero_planner):
    from io import StringIO

    from sync_core.domain.sources import iter_csv_records

    text = "email,name,surname,key,status,total_sales\njohn.doe@partnero.com,John,Doe,partner_123,active,25\n"
    (upsert,) = requests(partnero_planner.plan(iter_csv_records(StringIO(text))))
    assert upsert["body"]["fields"] == {
        "name": "John Doe",
        "partner_key": "partner_123",
        "status": "active",
        "total_sales": "25",
    }
    assert upsert["body"]["groups"] == ["Partners", "Active Partners"]


def test_sync_partners_toggle(partnero_planner):
    config = load_preset("partnero").model_copy(deep=True)
    config.sources["partnero"].sync_partners = False
    plan = Planner(config).plan([partner("active"), referred_customer()])
    assert [c.email for c in plan.contacts] == ["jane.smith@example.com"]
    assert plan.skipped[0].status == "ignored" and "Sync partners" in plan.skipped[0].reason


# --- minimal, idempotent, ordered ------------------------------------------------------------------------------


def test_same_input_twice_sends_nothing(dodo_planner, dodo_examples):
    events = [
        normalize_input(json.dumps(dodo_examples[t]), DODO_PAYMENTS)
        for t in ("payment.succeeded", "subscription.active", "subscription.renewed")
    ]
    states = synced(dodo_planner.plan(events))
    again = dodo_planner.plan(events, states)
    assert again.operations() == []
    assert [c.outcome for c in again.contacts] == ["unchanged"]


def test_many_events_for_one_contact_become_one_upsert(partnero_planner):
    events = [
        partner("pending", at="2025-05-01T00:00:00Z"),
        partner("active", at="2025-05-02T00:00:00Z", event="partner.approved"),
        partner("active", at="2025-05-03T00:00:00Z", event="partner.updated", total_sales=30),
    ]
    plan = partnero_planner.plan(events)
    (upsert,) = requests(plan)
    assert upsert["body"]["fields"]["status"] == "active" and upsert["body"]["fields"]["total_sales"] == 30
    assert upsert["body"]["groups"] == ["Partners", "Active Partners"]
    assert len(plan.contacts[0].event_ids) == 3


def test_an_older_event_never_overwrites_a_newer_value(partnero_planner):
    newer = partner("archived", at="2025-06-01T00:00:00Z", event="partner.updated")
    older = partner("active", at="2025-05-01T00:00:00Z")
    states = synced(partnero_planner.plan([newer]))
    late = partnero_planner.plan([older], states)
    assert late.operations() == []
    state = synced(late, states)["john.doe@partnero.com"]
    assert state.field_value("status") == "archived" and state.in_group("Active Partners") is False


def test_a_duplicate_event_is_processed_once(partnero_planner):
    event = partner("active")
    plan = partnero_planner.plan([event, event])
    assert len(plan.operations()) == 1
    assert [s.status for s in plan.skipped] == ["duplicate"]


@pytest.mark.parametrize("status", ["unsubscribed", "bounced", "junk"])
def test_suppressed_subscribers_are_checked_again_before_anything_is_sent(partnero_planner, status):
    states = {"john.doe@partnero.com": ContactState("john.doe@partnero.com", "1", status)}
    plan = partnero_planner.plan([partner("active")], states)
    assert plan.contacts[0].reads_first
    assert [(o.method, o.path) for o in plan.operations()][0] == ("GET", "/api/subscribers/john.doe@partnero.com")
    assert all("{subscriber_id}" in o.path or o.kind != "unassign" for o in plan.operations())


def test_suppressed_subscribers_with_nothing_new_cost_nothing(partnero_planner):
    states = synced(partnero_planner.plan([partner("active")]))
    states["john.doe@partnero.com"].status = "unsubscribed"
    plan = partnero_planner.plan([partner("active")], states)
    assert plan.operations() == []
    assert plan.contacts[0].outcome == "suppressed" and "unsubscribed" in plan.contacts[0].reason


def test_planning_is_pure_a_dry_run_is_the_same_call(partnero_planner, now):
    states = synced(partnero_planner.plan([partner("active")]))
    snapshot = {email: state.to_dict() for email, state in states.items()}
    events = [partner("archived", at="2025-07-01T00:00:00Z", event="partner.archived"), referred_customer()]
    first = partnero_planner.plan(events, states, now=now)
    second = partnero_planner.plan(events, states, now=now)
    assert requests(first) == requests(second)
    assert {email: state.to_dict() for email, state in states.items()} == snapshot


def test_time_of_sync_alone_is_no_reason_to_send(now):
    config = load_config(
        {
            "triggers": [
                {
                    "name": "T",
                    "event_types": ["partner.*"],
                    "fields": [
                        {"target": "status", "value": "data.status"},
                        {"target": "synced_at", "source": "now", "transform": "datetime"},
                    ],
                }
            ]
        }
    )
    planner = Planner(config)
    states = synced(planner.plan([partner("active")], now=now))
    later = planner.plan([partner("active", at="2025-05-09T00:00:00Z")], states, now=now + timedelta(days=1))
    assert later.operations() == []
    changed = planner.plan([partner("archived", at="2025-05-09T00:00:00Z")], states, now=now + timedelta(days=1))
    assert requests(changed)[0]["body"]["fields"] == {"status": "archived", "synced_at": "2026-01-02 12:00:00"}


def test_set_only_if_empty_keeps_the_first_value(dodo_planner, dodo_examples):
    first = dodo(dodo_examples["payment.succeeded"])
    second = dodo(
        dodo_examples["payment.succeeded"],
        timestamp="2025-09-10T10:00:00Z",
        data__total_amount=1500,
        data__payment_id="pay_second",
    )
    states = synced(dodo_planner.plan([first]))
    (upsert,) = requests(dodo_planner.plan([second], states))
    assert "customer_since" not in upsert["body"]["fields"] and "subscribed_at" not in upsert["body"]
    assert upsert["body"]["fields"]["last_purchase_amount"] == "15.00"
    assert "groups" not in upsert["body"] and "status" not in upsert["body"]


def test_known_group_ids_replace_names(partnero_planner):
    (upsert,) = requests(partnero_planner.plan([partner("active")], group_ids={"Partners": "1001"}))
    assert upsert["body"]["groups"] == ["1001", "Active Partners"]


# --- bad input in a batch: per-event reasons, the rest goes through -------------------------------------------


def test_bad_events_are_reported_one_by_one_and_the_batch_goes_on(dodo_planner, dodo_examples):
    good = dodo_examples["payment.succeeded"]
    items = [
        normalize_input(b'{"type": "payment.succeeded", "data": {', DODO_PAYMENTS),
        dodo(good, data__customer={"email": "not-an-email", "name": "X", "customer_id": "c"}),
        dodo(good, data__customer={"name": "X", "customer_id": "c"}),
        dodo(
            good,
            data__total_amount="abc",
            data__customer={"email": "abc@example.com", "name": "Y", "customer_id": "c2"},
        ),
        dodo(good, type="payment.teleported"),
        normalize_input(json.dumps(good), DODO_PAYMENTS),
    ]
    plan = dodo_planner.plan(items)
    assert [c.email for c in plan.contacts] == ["test@acme.com"]
    reasons = {s.status + ": " + s.reason for s in plan.skipped}
    assert len(plan.skipped) == 5
    assert any(r.startswith("rejected: the body is not valid JSON") for r in reasons)
    assert any("invalid: 'not-an-email' is not a valid email address" in r for r in reasons)
    assert any("invalid: the event has no email address" in r for r in reasons)
    assert any("last_purchase_amount: 'abc' is not an amount in cents" in r for r in reasons)
    assert any("ignored: 'payment.teleported' is not a known Dodo Payments event type" in r for r in reasons)


def test_a_value_that_does_not_fit_its_field_is_reported_not_sent():
    config = load_config(
        {
            "triggers": [
                {
                    "name": "T",
                    "event_types": ["customer.created"],
                    "fields": [{"target": "signup_date", "value": "data.created_at", "type": "date"}],
                }
            ]
        }
    )
    plan = Planner(config).plan([referred_customer()])
    assert plan.operations() == []
    assert "does not fit a date field" in plan.skipped[0].reason and 'date" transform' in plan.skipped[0].reason


# --- properties: order and batching do not change the result ---------------------------------------------------

STATUSES = ["active", "pending", "archived"]
partner_updates = st.lists(
    st.tuples(st.integers(0, 10_000), st.sampled_from(STATUSES), st.integers(0, 50)),
    min_size=1,
    max_size=8,
    unique_by=lambda t: t[0],
)


def partner_events(updates) -> list[NormalizedEvent]:
    base = datetime(2025, 1, 1, tzinfo=UTC)
    events = []
    for minute, status, sales in updates:
        at = (base + timedelta(minutes=minute)).isoformat()
        data = {"key": "p1", "email": "p1@example.com", "name": "P", "status": status, "total_sales": sales}
        events.append(normalize_input(partnero_body("partner.updated", data, at), PARTNERO))
    return events


@settings(max_examples=60, deadline=None)
@given(partner_updates, st.randoms(use_true_random=False), st.integers(1, 4))
def test_any_order_and_any_batching_end_in_the_newest_state(updates, rnd, batches):
    planner = Planner(load_preset("partnero"))
    events = partner_events(updates)
    newest = max(updates)
    shuffled = events[:]
    rnd.shuffle(shuffled)
    states: dict[str, ContactState] = {}
    size = max(1, len(shuffled) // batches)
    for start in range(0, len(shuffled), size):
        states = synced(planner.plan(shuffled[start : start + size], states))
    state = states["p1@example.com"]
    assert state.field_value("status") == newest[1]
    assert state.field_value("total_sales") == newest[2]
    assert state.in_group("Active Partners") is (newest[1] == "active")
    assert state.in_group("Partners") is True
    # and replaying everything, in any order, sends nothing
    rnd.shuffle(shuffled)
    assert planner.plan(shuffled, states).operations() == []


# --- what MailerLite said decides the rest (issue 11 E) ---------------------------------------------------------


def test_follow_up_keeps_only_what_mailerlite_makes_needed(dodo_planner, dodo_examples):
    from sync_core.domain.planning import follow_up

    payment = normalize_input(json.dumps(dodo_examples["payment.succeeded"]), DODO_PAYMENTS)
    cancel = normalize_input(json.dumps(dodo_examples["subscription.cancelled"]), DODO_PAYMENTS)
    (contact,) = dodo_planner.plan([payment]).contacts
    assert contact.only_if_empty == ["customer_since", "subscribed_at"]
    lookup, upsert = contact.operations
    held = {"id": "42", "status": "active", "subscribed_at": "2020-01-01 00:00:00", "groups": []}
    held["fields"] = {"customer_since": "2023-01-15", "last_name": "Smith"}
    (sent,) = follow_up(contact, [upsert], held)
    assert "customer_since" not in sent.body["fields"] and sent.body["fields"]["name"] == "Test user"
    assert "subscribed_at" not in sent.body and "customer_since" not in contact.changes
    assert contact.new_state.field_value("customer_since") == "2023-01-15"  # known now: no lookup next time
    assert contact.new_state.subscriber_id == "42"

    (contact,) = dodo_planner.plan([payment]).contacts
    (sent,) = follow_up(contact, contact.operations[1:], None)  # not in MailerLite: everything goes
    assert sent.body["fields"]["customer_since"] == "2025-08-04"

    (cancelled,) = dodo_planner.plan([cancel], group_ids={"Active subscriptions": "555"}).contacts
    outside = {"id": "7", "status": "active", "fields": {}, "groups": [{"id": "999", "name": "Other"}]}
    kinds = [o.kind for o in follow_up(cancelled, cancelled.operations[1:], outside)]
    assert kinds == ["update", "assign"] and cancelled.groups_removed == []
    (cancelled,) = dodo_planner.plan([cancel], group_ids={"Active subscriptions": "555"}).contacts
    inside = {**outside, "groups": [{"id": "555", "name": "Active subscriptions"}]}
    kinds = [o.kind for o in follow_up(cancelled, cancelled.operations[1:], inside)]
    assert kinds == ["update", "assign", "unassign"] and cancelled.groups_removed == ["Active subscriptions"]


def test_update_only_never_upserts_even_a_contact_the_product_knows(dodo_planner, dodo_examples):
    active = normalize_input(json.dumps(dodo_examples["subscription.active"]), DODO_PAYMENTS)
    cancel = normalize_input(json.dumps(dodo_examples["subscription.cancelled"]), DODO_PAYMENTS)
    states = synced(dodo_planner.plan([active]))
    plan = dodo_planner.plan([cancel], states)
    assert [o.method for o in plan.operations()] == ["GET", "PUT", "POST", "DELETE"]
    assert all(o.path != "/api/subscribers" for o in plan.operations())


def test_an_empty_value_is_not_sent_unless_clear_when_empty():
    config = load_config(
        {
            "triggers": [
                {
                    "name": "T",
                    "event_types": ["partner.*"],
                    "fields": [
                        {"target": "last_name", "source": "constant", "value": ""},
                        {"target": "company", "value": "data.company"},
                        {"target": "city", "value": "data.city", "clear_when_empty": True},
                        {"target": "total", "value": "data.total", "type": "number", "clear_when_empty": True},
                    ],
                }
            ]
        }
    )
    (upsert,) = requests(Planner(config).plan([partner("active")]))
    assert upsert["body"]["fields"] == {"city": None, "total": None}  # null clears; nothing else is touched
