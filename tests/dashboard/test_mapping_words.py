"""Mapping that helps (issue 14): MailerLite fields picked by their names, event fields by label, Map by name, a
value check per row in words, operators in words, and a Preview button that says what happens to the contact."""

from __future__ import annotations

import json

from sync_core.domain.presets import load_preset

from .helpers import assert_clean, open_page, page_text
from .test_field_mapping_page import PAGE, editor_key

PREVIEW = "pages/preview.py"
GROUP_RULES = "pages/group_rules.py"


def checks(app, index: int = 0):
    return [d.value for d in app.dataframe if "Value check" in d.value.columns][index]


def save(app) -> None:
    app.button(key="ui_save_field_mapping").click().run()
    assert_clean(app)


def test_map_by_name_adds_the_account_fields_named_like_the_events_fields(app, studio_workspace):
    studio_workspace.save_config(load_preset("dodo-payments"), author="test")
    open_page(app, PAGE)
    button = [b for b in app.button if b.label == "Map by name"][0]
    button.click().run()
    assert_clean(app)
    (message,) = [s.value for s in app.success if s.value.startswith("Mapped by name")]
    assert "City ← Billing city" in message and "Country ← Billing country" in message
    assert "State ← Billing state" in message
    assert "Name ←" not in message  # already mapped
    assert list(app.data_editor[0].value["target"]) == ["Name", "Company", "Last name", "City", "Country", "State"]
    save(app)
    fields = {m.target: m.value for m in studio_workspace.config().triggers[0].fields}
    assert fields["city"] == "data.billing.city" and fields["state"] == "data.billing.state"
    [b for b in app.button if b.label == "Map by name"][0].click().run()  # nothing left to suggest
    assert any("found nothing new" in i.value for i in app.info)


def test_a_field_picked_by_its_name_and_an_event_field_by_its_label_are_stored_as_key_and_path(app, studio_workspace):
    studio_workspace.save_config(load_preset("dodo-payments"), author="test")
    open_page(app, PAGE)
    column = app.data_editor[0].value
    assert "Zip" not in list(column["target"])
    app.session_state[editor_key(app)] = {
        "edited_rows": {},
        "deleted_rows": [],
        "added_rows": [
            {
                "target": "Zip",  # the account's name of the field z_i_p
                "source": "event field",
                "value": "Billing ZIP code",  # the label of data.billing.zipcode
                "skip_if_empty": False,
                "only_if_empty": False,
                "clear_when_empty": False,
            }
        ],
    }
    app.run()
    assert_clean(app)
    save(app)
    added = studio_workspace.config().triggers[0].fields[-1]
    assert added.target == "z_i_p" and added.value == "data.billing.zipcode"
    open_page(app, "pages/preview.py")
    open_page(app, PAGE)  # drawn afresh from the saved version: the row shows the names again
    assert list(app.data_editor[0].value["target"])[-1] == "Zip"
    assert list(app.data_editor[0].value["value"])[-1] == "Billing ZIP code"


def test_the_advanced_switch_shows_the_paths_and_keys_and_no_upsert_outside_it(app, studio_workspace):
    studio_workspace.save_config(load_preset("dodo-payments"), author="test")
    open_page(app, PAGE)
    assert "upsert" not in [s.value for s in app.selectbox if s.label == "Action"]
    assert "data.customer.name" not in list(app.data_editor[0].value["value"])
    app.toggle(key="fm_raw_view").set_value(True).run()
    assert_clean(app)
    first = app.data_editor[0].value
    assert list(first["target"]) == ["name", "company", "last_name"]
    assert list(first["value"])[:2] == ["data.customer.name", "data.customer_business_name"]
    assert not any("Unsaved changes" in m.value for m in app.markdown)  # switching views changed nothing


def test_each_row_is_checked_in_words_with_a_sample_event(app, studio_workspace):
    studio_workspace.save_config(load_preset("partnero"), author="test")
    open_page(app, PAGE)
    table = checks(app)
    rows = dict(zip(table["MailerLite field"], table["Value check"]))
    assert rows["Total sales"] == "Looks right: 25 is a number"
    assert rows["Name"] == "Looks right: “John Doe” is text"
    assert any("Checked with the sample event “Partnero · partner.created" in c.value for c in app.caption)
    app.session_state[editor_key(app)] = {"edited_rows": {0: {"type": "number"}}, "added_rows": [], "deleted_rows": []}
    app.run()
    assert_clean(app)
    rows = dict(zip(checks(app)["MailerLite field"], checks(app)["Value check"]))
    assert rows["Name"].startswith("This will not send: 'John Doe' does not fit a number field")


def test_the_preview_button_previews_a_pasted_event_and_says_what_happens(app, studio_workspace):
    studio_workspace.save_config(load_preset("partnero"), author="test")
    open_page(app, PREVIEW)
    app.get("segmented_control")[0].set_value("Paste JSON").run()
    assert any("Paste the JSON of one event" in i.value for i in app.info)
    body = {
        "event": "partner.created",
        "timestamp": "2025-05-07T10:30:00Z",
        "data": {"email": "ann@example.com", "name": "Ann", "surname": "Lee", "status": "active", "key": "ann1"},
    }
    app.text_area(key="pv_text").input(json.dumps(body))
    app.button(key="pv_go").click().run()
    assert_clean(app)
    (summary,) = [m.value for m in app.markdown if m.value.startswith("**What happens to ann@example.com**")]
    assert "If MailerLite does not have them yet: **created**, with 3 fields (Name, Partner key, Status)" in summary
    assert "joins Partners, Active Partners" in summary
    assert "If they are already synced: **updated**" in summary
    advanced = [e for e in app.expander if e.label.startswith("Advanced: all fields of the event")]
    assert advanced and any(c.value.startswith("Event ID: `sha256:") for c in advanced[0].caption)
    requests = [e for e in app.expander if e.label == "Advanced: the requests to MailerLite"]
    assert requests and any(c.value.startswith("POST /api/subscribers") for c in requests[0].code)


def test_group_rules_speak_in_words(app, studio_workspace):
    studio_workspace.save_config(load_preset("dodo-payments"), author="test")
    open_page(app, GROUP_RULES)
    app.button(key="gr_add_rule").click().run()
    assert_clean(app)
    assert any(e.label.startswith("New rule") for e in app.expander)
    assert not any("choose a group" in e.label for e in app.expander)
    operator = [s for s in app.selectbox if s.label == "Operator"][0]
    assert operator.value == "gte" and "is at least" in operator.options and "has a value" in operator.options
    field = [s for s in app.selectbox if s.label == "Field"][0]
    assert field.value == "data.total_amount" and "Payment amount" in field.options
    assert "data.total_amount" not in field.options
    text = page_text(app)
    assert ">=" not in text
