"""Preview: samples and pasted JSON through the configuration, with the exact requests and plain-word advice."""

from __future__ import annotations

import json

from sync_core.domain.config import FieldMapping, SyncConfig, Trigger
from sync_core.domain.presets import load_preset
from sync_core.engine.samples import all_samples

from .helpers import assert_clean, open_page

PAGE = "pages/preview.py"


def codes(app) -> list[str]:
    return [c.value for c in app.code]


def choose(app, label: str) -> None:
    app.selectbox(key="pv_sample").set_value(label).run()
    assert_clean(app)


def paste(app, text: str, source: str = "auto") -> None:
    app.get("segmented_control")[0].set_value("Paste JSON").run()
    app.selectbox(key="pv_source").set_value(source)
    app.text_area(key="pv_text").input(text).run()
    assert_clean(app)


def test_an_official_dodo_event_shows_the_requests_for_a_new_and_an_existing_contact(app, studio_workspace):
    studio_workspace.save_config(load_preset("dodo-payments"), author="test")
    open_page(app, PAGE)
    assert app.selectbox(key="pv_sample").value == "Dodo Payments · payment.succeeded"
    requests = [code for code in codes(app) if code.startswith(("POST", "PUT", "GET", "DELETE"))]
    # "customer since" is set only if empty in MailerLite: each contact is read first, then upserted
    assert len(requests) == 4 and requests[0] == requests[2] == "GET /api/subscribers/test@acme.com"
    new_contact = json.loads(requests[1].split("\n", 1)[1])
    assert requests[1].startswith("POST /api/subscribers\n")
    assert new_contact["email"] == "test@acme.com"
    assert new_contact["fields"]["last_purchase_amount"] == "4.00"
    assert "last_name" not in new_contact["fields"]  # Dodo's empty last name never erases one
    assert new_contact["groups"] == ["Dodo Payments", "Customers"]
    existing = json.loads(requests[3].split("\n", 1)[1])
    assert existing["groups"] == ["Customers"] and "status" not in existing
    assert any(s.value.startswith("Synced (Create or update)") for s in app.success)
    markdown = "\n".join(m.value for m in app.markdown)
    assert "test@acme.com" in markdown and "`payment.succeeded`" in markdown
    fields = [d.value for d in app.dataframe if "Check" in d.value.columns][0]
    row = fields[fields["MailerLite field"] == "Last purchase amount"].iloc[0]
    assert row["Value"] == "4.00" and row["Type"] == "number"
    assert row["Check"].startswith("Warning: not in the MailerLite account yet")  # the sandbox has no such field yet
    warnings = "\n".join(w.value for w in app.warning)
    assert "Create missing fields" in warnings and "Create missing groups" in warnings
    flat = [d.value for d in app.dataframe if "Path" in d.value.columns][0]
    assert "data.customer.email" in list(flat["Path"])


def test_every_sample_event_can_be_previewed(app, studio_workspace):
    studio_workspace.save_config(load_preset("partnero"), author="test")
    open_page(app, PAGE)
    labels = app.selectbox(key="pv_sample").options
    assert len(labels) == len(all_samples()) == 29
    for label in labels:
        choose(app, label)
        assert app.subheader[0].value == "The event"
    choose(app, "Partnero · partner.updated (now inactive)")
    assert any("− Active Partners" in m.value for m in app.markdown)
    choose(app, "Records · a customer row (customers file)")
    requests = [code for code in codes(app) if code.startswith("POST /api/subscribers")]
    assert requests and "grace.hopper@example.com" in requests[0] and "Referred Customers" in requests[0]


def test_an_event_no_trigger_syncs_says_how_to_fix_it(app, studio_workspace):
    studio_workspace.save_config(load_preset("dodo-payments"), author="test")
    open_page(app, PAGE)
    choose(app, "Dodo Payments · payment.processing")
    (warning,) = [w.value for w in app.warning if "not synced" in w.value]
    assert "no trigger syncs payment.processing events" in warning
    assert "Add a trigger for payment.processing on the Field mapping page" in warning
    assert not [code for code in codes(app) if code.startswith("POST")]


def test_a_value_that_does_not_fit_a_date_field_points_at_the_date_transform(app, studio_workspace):
    trigger = Trigger(
        name="Payments",
        event_types=["payment.succeeded"],
        fields=[
            FieldMapping(target="paid_on", value="data.created_at", type="date"),
            FieldMapping(target="amount", value="data.total_amount", type="number", transform="cents_to_decimal"),
        ],
    )
    studio_workspace.save_config(SyncConfig(triggers=[trigger]), author="test")
    open_page(app, PAGE)
    errors = "\n".join(e.value for e in app.error)
    assert "does not fit a date field" in errors and 'use the "date" transform' in errors
    assert "Field mapping page" in errors
    fields = [d.value for d in app.dataframe if "Check" in d.value.columns][0]
    assert fields[fields["MailerLite field"] == "Paid on"].iloc[0]["Check"].startswith("Problem: ")
    assert fields[fields["MailerLite field"] == "Amount"].iloc[0]["Value"] == "4.00"


def test_pasted_malformed_json_gets_a_plain_error(app):
    open_page(app, PAGE)
    paste(app, '{"type": "payment.succeeded", "data": {"customer": ')
    (error,) = [e.value for e in app.error]
    assert error.startswith("This event cannot be read: the body is not valid JSON")
    paste(app, '{"hello": "world"}')
    assert any("cannot tell the source" in e.value for e in app.error)
    paste(app, "[1, 2]", "records:partner")
    assert any("a record should be one JSON object" in e.value for e in app.error)


def test_pasted_events_are_detected_or_read_as_the_chosen_source(app, studio_workspace):
    studio_workspace.save_config(load_preset("partnero"), author="test")
    open_page(app, PAGE)
    body = {
        "event": "partner.created",
        "timestamp": "2025-05-07T10:30:00Z",
        "data": {"email": "Ann@Example.com ", "name": "Ann", "surname": "Lee", "status": "active", "key": "ann1"},
    }
    paste(app, json.dumps(body))
    markdown = "\n".join(m.value for m in app.markdown)
    assert "Partnero" in markdown and "ann@example.com" in markdown
    assert any("Active Partners" in code for code in codes(app))
    paste(app, json.dumps({"email": "bob@example.com", "name": "Bob", "customer_key": "c9"}), "records:customer")
    assert "customer.imported" in "\n".join(m.value for m in app.markdown)
    paste(app, json.dumps({"event": "partner.created", "data": {"name": "No Mail"}}))
    assert any("No contact email" in e.value for e in app.error)
    # the pasted text and the source are kept when moving to another page and back
    open_page(app, "pages/group_rules.py")
    open_page(app, PAGE)
    assert app.text_area(key="pv_text").value.startswith('{"event": "partner.created"')


def test_the_preview_uses_unsaved_changes_when_they_are_valid(app, studio_workspace):
    studio_workspace.save_config(load_preset("dodo-payments"), author="test")
    open_page(app, "pages/connection.py")
    app.get("selectbox")[0]  # the default group picker exists
    studio_workspace.client().create_group("VIP")
    app.button(key="ui_sidebar_refresh").click().run()
    default_group = [s for s in app.selectbox if s.label == "Default group"][0]
    default_group.set_value("VIP").run()
    open_page(app, PAGE)
    assert any("Previewing with your unsaved changes" in c.value for c in app.caption)
    request = [code for code in codes(app) if code.startswith("POST /api/subscribers")][0]
    assert '"VIP"' in request and '"Dodo Payments"' not in request
