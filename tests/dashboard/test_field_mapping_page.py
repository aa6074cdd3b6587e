"""Field mapping: edit a trigger's table and save (a new version), presets, import/export, missing fields."""

from __future__ import annotations

import json

from sync_core.domain.presets import load_preset, preset_document

from .helpers import assert_clean, by_label, open_page, page_text

PAGE = "pages/field_mapping.py"


def editor_key(app, index: int = 0) -> str:
    return app.data_editor[index].key


def unsaved(app) -> bool:
    return any("Unsaved changes" in m.value for m in app.markdown)


def test_a_preset_shows_one_table_per_trigger_with_no_unsaved_changes(app, studio_workspace):
    studio_workspace.save_config(load_preset("dodo-payments"), author="test")
    open_page(app, PAGE)
    assert len(app.data_editor) == 9
    first = app.data_editor[0].value
    assert list(first["target"]) == ["Name", "Company", "Last name"]  # the account's names, not the keys
    assert list(first["source"]) == ["event field", "event field", "fixed value"]
    assert list(first["value"])[:2] == ["Customer name", "Business name"]  # event fields by label
    assert not unsaved(app)
    assert any("No unsaved changes (version 1)" in c.value for c in app.caption)


def test_an_edit_in_the_table_is_saved_as_a_new_version_with_its_comment(app, studio_workspace):
    studio_workspace.save_config(load_preset("dodo-payments"), author="test")
    open_page(app, PAGE)
    app.session_state[editor_key(app)] = {
        "edited_rows": {0: {"transform": "Title Case"}},
        "added_rows": [
            {
                "target": "phone",
                "source": "event field",
                "value": "data.customer.phone_number",
                "skip_if_empty": False,
                "only_if_empty": False,
                "clear_when_empty": False,
            }
        ],
        "deleted_rows": [2],
    }
    app.run()
    assert_clean(app)
    assert unsaved(app)
    assert any("field mapping" in m.value for m in app.markdown if "Unsaved" in m.value)
    app.text_input(key="ui_comment_field_mapping").input("title-case names, add the phone")
    app.button(key="ui_save_field_mapping").click().run()
    assert_clean(app)
    assert not unsaved(app)
    versions = studio_workspace.configs.versions()
    assert [v.id for v in versions] == [2, 1]
    assert versions[0].comment == "title-case names, add the phone"
    assert versions[0].author == "test@example.com"  # AppTest's signed-in user
    fields = {m.target: m for m in studio_workspace.config().triggers[0].fields}
    assert list(fields) == ["name", "company", "phone"]
    assert fields["name"].transform == "title"
    assert fields["phone"].value == "data.customer.phone_number" and fields["phone"].type == "text"
    assert fields["company"].default == ""  # untouched cells keep their exact values
    with_history = page_text(app)
    assert "Saved as version 2" in with_history


def test_edits_survive_moving_to_another_page_and_back(app, studio_workspace):
    studio_workspace.save_config(load_preset("partnero"), author="test")
    open_page(app, PAGE)
    app.session_state[editor_key(app, 1)] = {
        "edited_rows": {1: {"value": "data.partner_key"}},
        "added_rows": [],
        "deleted_rows": [],
    }
    app.run()
    by_label(app.text_input, "Trigger name").input("Partners (renamed)").run()
    assert unsaved(app)
    open_page(app, "pages/preview.py")
    assert any("Unsaved changes" in c.value for c in app.caption)
    open_page(app, PAGE)
    assert unsaved(app)
    assert by_label(app.text_input, "Trigger name").value == "Partners (renamed)"
    assert list(app.data_editor[1].value["value"])[1] == "Partner key"  # the typed path, shown by its label
    # a second edit after coming back applies to the table as it now is (nothing lost, nothing doubled)
    app.session_state[editor_key(app, 1)] = {
        "edited_rows": {},
        "deleted_rows": [0],
        "added_rows": [
            {
                "target": "tier",
                "value": "data.tier",
                "skip_if_empty": True,
                "only_if_empty": False,
                "clear_when_empty": False,
            }
        ],
    }
    app.run()
    app.button(key="ui_save_field_mapping").click().run()
    assert_clean(app)
    triggers = studio_workspace.config().triggers
    assert triggers[0].name == "Partners (renamed)"
    assert [m.target for m in triggers[1].fields] == ["referred_by", "customer_key", "tier"]
    assert triggers[1].fields[0].value == "data.partner_key"


def test_an_invalid_edit_lists_the_problem_and_cannot_be_saved(app, studio_workspace):
    studio_workspace.save_config(load_preset("partnero"), author="test")
    open_page(app, PAGE)
    by_label(app.multiselect, "Event types").set_value([]).run()
    assert_clean(app)
    errors = [e.value for e in app.error]
    assert any("Fix these before saving" in e and "trigger 'Partners'" in e for e in errors), errors
    assert app.button(key="ui_save_field_mapping").disabled
    app.button(key="ui_discard_field_mapping").click().run()
    assert not unsaved(app)
    assert len(studio_workspace.configs.versions()) == 1


def test_add_and_remove_triggers(app, studio_workspace):
    open_page(app, PAGE)
    assert any("No triggers yet" in i.value for i in app.info)
    app.button(key="fm_add_trigger").click().run()
    assert_clean(app)
    by_label(app.multiselect, "Event types").set_value(["refund.succeeded"]).run()
    by_label(app.selectbox, "Source").set_value("dodo_payments").run()
    app.session_state[editor_key(app)] = {
        "edited_rows": {},
        "deleted_rows": [],
        "added_rows": [
            {
                "target": "refund_amount",
                "source": "event field",
                "value": "data.amount",
                "transform": "cents → decimal, 2 places",
                "type": "number",
                "skip_if_empty": False,
                "only_if_empty": False,
                "clear_when_empty": False,
            }
        ],
    }
    app.run()
    app.button(key="ui_save_field_mapping").click().run()
    assert_clean(app)
    (trigger,) = studio_workspace.config().triggers
    assert trigger.event_types == ["refund.succeeded"] and trigger.source == "dodo_payments"
    assert trigger.fields[0].transform == "cents_to_decimal" and trigger.fields[0].type == "number"
    app.button(key=[b.key for b in app.button if b.label == "Remove this trigger"][0]).click().run()
    assert unsaved(app)
    app.button(key="ui_save_field_mapping").click().run()
    assert studio_workspace.config().triggers == []


def test_load_a_preset_after_confirming(app, studio_workspace):
    open_page(app, PAGE)
    app.selectbox(key="fm_preset").set_value("partnero").run()
    app.button(key="fm_preset_ask").click().run()
    assert any("replaces the field mapping" in w.value for w in app.warning)
    assert studio_workspace.configs.versions() == []
    app.button(key="fm_preset_yes").click().run()
    assert_clean(app)
    assert studio_workspace.config().name == "Partnero → MailerLite"
    assert studio_workspace.configs.versions()[0].comment == "Loaded the preset Partnero → MailerLite"
    assert len(app.data_editor) == 3
    sidebar = "\n".join(c.value for c in app.sidebar.caption)
    assert "Version 1 — Partnero → MailerLite" in sidebar


def test_import_an_invalid_configuration_lists_the_problems_and_saves_nothing(app, studio_workspace):
    open_page(app, PAGE)
    document = json.loads(preset_document("partnero"))
    document["triggers"][0]["fields"][0]["transform"] = "shout"
    document["group_rules"][1]["mode"] = "sometimes"
    app.file_uploader[0].set_value(("broken.json", json.dumps(document).encode(), "application/json")).run()
    assert_clean(app)
    (error,) = [e.value for e in app.error if "broken.json cannot be imported" in e.value]
    assert "trigger 'Partners', field 'name', transform: the transform 'shout' is not known" in error
    assert "group rule 'Active Partners', mode: 'sometimes' is not allowed" in error
    assert studio_workspace.configs.versions() == []
    app.file_uploader[0].set_value(("notjson.json", b"{not json", "application/json")).run()
    assert any("the document is not valid JSON" in e.value for e in app.error)
    assert studio_workspace.configs.versions() == []


def test_import_a_valid_configuration_and_export_it(app, studio_workspace):
    open_page(app, PAGE)
    app.file_uploader[0].set_value(("partnero.json", preset_document("partnero").encode(), "application/json"))
    app.run()
    assert any("partnero.json is valid" in i.value for i in app.info)
    app.button(key="fm_import_go").click().run()
    assert_clean(app)
    assert studio_workspace.config().name == "Partnero → MailerLite"
    assert studio_workspace.configs.versions()[0].comment == "Imported partnero.json"
    export = app.get("download_button")[0]
    assert export.label == "Download the configuration (JSON)"
    assert not export.disabled


def test_create_missing_fields_in_the_sandbox_with_their_types(app, studio_workspace):
    studio_workspace.save_config(load_preset("partnero"), author="test")
    open_page(app, PAGE)
    assert any("7 mapped fields are not in MailerLite yet" in m.value for m in app.markdown)
    checks = app.dataframe[[d.key for d in app.dataframe].index(None)].value  # the first read-only check table
    assert "Not in MailerLite yet: not in the MailerLite account yet" in "".join(checks["In MailerLite"])
    app.button(key="fm_create_missing").click().run()
    assert_clean(app)
    assert any("Created in MailerLite" in s.value for s in app.success)
    fields = {f.key: f.type for f in studio_workspace.client().iter_fields()}
    assert fields["total_sales"] == "number" and fields["total_earned"] == "number"
    assert fields["partner_key"] == "text" and fields["customer_key"] == "text"
    assert not any("not in MailerLite yet" in m.value for m in app.markdown)
    assert any("all 6 fields exist in MailerLite with the same type" in c.value for c in app.caption)


def test_a_type_that_differs_from_the_account_is_flagged(app, studio_workspace):
    client = studio_workspace.client()
    client.create_field("total_sales", "text")
    studio_workspace.save_config(load_preset("partnero"), author="test")
    open_page(app, PAGE)
    table = [d.value for d in app.dataframe if d.key is None and "In MailerLite" in d.value.columns][0]
    (row,) = [row for _, row in table.iterrows() if row["In MailerLite"].startswith("Type differs")]
    assert "total_sales as a text field" in row["In MailerLite"] and "set the type to text" in row["In MailerLite"]


def test_the_version_history_lists_author_time_and_comment_and_restores(app, studio_workspace):
    studio_workspace.save_config(load_preset("partnero"), author="ann", comment="first")
    studio_workspace.save_config(load_preset("dodo-payments"), author="bob", comment="second")
    open_page(app, PAGE)
    history = [d.value for d in app.dataframe if "Version" in d.value.columns][0]
    assert list(history["Version"]) == [2, 1]
    assert list(history["By"]) == ["bob", "ann"] and list(history["Comment"]) == ["second", "first"]
    assert "UTC" in history["Saved"][0]
    app.button(key="ui_restore_field_mapping").click().run()
    assert_clean(app)
    assert studio_workspace.config().name == "Partnero → MailerLite"
    assert studio_workspace.configs.versions()[0].comment == "Restored version 1"


def test_a_broken_saved_configuration_is_explained_and_a_preset_fixes_it(app, studio_workspace):
    studio_workspace.configs.save({"version": 1, "triggers": [{"name": "x", "event_types": []}]}, author="x")
    open_page(app, PAGE)
    (error,) = [e.value for e in app.error if "cannot be used" in e.value]
    assert "trigger 'x', event types" in error
    for page in ("pages/connection.py", "pages/group_rules.py", "pages/preview.py"):
        open_page(app, page)
    open_page(app, PAGE)
    app.button(key="ui_fix_field_mapping_partnero").click().run()
    assert_clean(app)
    assert studio_workspace.active_config().problem is None
    assert studio_workspace.config().name == "Partnero → MailerLite"


def test_loading_a_preset_keeps_the_connection_settings(app, studio_workspace):
    """The default group, the sandbox switch and the address chosen on the Connection page survive a preset."""
    mine = load_preset("dodo-payments")
    mine.connection.default_group = "Newsletter"
    mine.connection.sandbox = False
    mine.connection.base_url = "https://mailerlite.example.com/api"
    studio_workspace.save_config(mine, author="test")
    open_page(app, PAGE)
    app.selectbox(key="fm_preset").set_value("partnero").run()
    app.button(key="fm_preset_ask").click().run()
    assert any("connection settings" in w.value and "are kept" in w.value for w in app.warning)
    app.button(key="fm_preset_yes").click().run()
    assert_clean(app)
    config = studio_workspace.config()
    assert config.name == "Partnero → MailerLite" and len(config.triggers) == 3
    assert config.connection.default_group == "Newsletter"
    assert config.connection.sandbox is False
    assert config.connection.base_url == "https://mailerlite.example.com/api"
    open_page(app, "pages/connection.py")  # the Connection page shows the group still chosen
    assert app.selectbox(key=[s.key for s in app.selectbox if "cn_default_group" in s.key][0]).value == "Newsletter"


def test_clear_when_empty_is_a_checkbox_off_by_default_and_saved(app, studio_workspace):
    studio_workspace.save_config(load_preset("dodo-payments"), author="test")
    open_page(app, PAGE)
    first = app.data_editor[0].value
    assert list(first["clear_when_empty"]) == [False, False, False]  # the preset never erases
    app.session_state[editor_key(app)] = {
        "edited_rows": {2: {"clear_when_empty": True}},
        "added_rows": [],
        "deleted_rows": [],
    }
    app.run()
    assert_clean(app)
    assert unsaved(app)
    app.button(key="ui_save_field_mapping").click().run()
    assert_clean(app)
    fields = {m.target: m for m in studio_workspace.config().triggers[0].fields}
    assert fields["last_name"].clear_when_empty and not fields["name"].clear_when_empty
    text = page_text(app)
    assert "one lookup per contact" in text  # what "only if empty" costs, said on the page


def test_skip_and_clear_when_empty_together_are_explained_not_saved(app, studio_workspace):
    studio_workspace.save_config(load_preset("dodo-payments"), author="test")
    open_page(app, PAGE)
    app.session_state[editor_key(app)] = {
        "edited_rows": {0: {"clear_when_empty": True, "skip_if_empty": True}},
        "added_rows": [],
        "deleted_rows": [],
    }
    app.run()
    assert_clean(app)
    assert 'choose either "skip if empty" or "clear when empty"' in page_text(app)
    assert [v.id for v in studio_workspace.configs.versions()] == [1]
