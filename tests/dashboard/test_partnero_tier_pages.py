"""Partnero's tier on the pages: Preview shows it from custom_fields (or says the event has none), and the
Group rules page builds a rule whose group name comes from the event."""

from __future__ import annotations

import json

from sync_core.domain.presets import load_preset
from tests.reference import partnero_fixture

from .helpers import assert_clean, by_label, open_page

PREVIEW = "pages/preview.py"
GROUP_RULES = "pages/group_rules.py"


def paste(app, body: dict) -> None:
    app.get("segmented_control")[0].set_value("Paste JSON").run()
    app.selectbox(key="pv_source").set_value("partnero")
    app.text_area(key="pv_text").input(json.dumps(body)).run()
    assert_clean(app)


def fields_table(app):
    return [d.value for d in app.dataframe if "Check" in d.value.columns][0]


def test_preview_shows_the_tier_from_custom_fields_and_the_tier_group(app, studio_workspace):
    studio_workspace.save_config(load_preset("partnero"), author="test")
    open_page(app, PREVIEW)
    paste(app, partnero_fixture("partner-updated-with-tier.json"))
    table = fields_table(app)
    row = table[table["MailerLite field"] == "Tier"].iloc[0]
    assert row["Value"] == "Gold" and not row["Check"].startswith("Not sent")
    assert any("+ Tier Gold" in m.value for m in app.markdown)
    infos = "\n".join(i.value for i in app.info)
    assert "Tier Gold" in infos and "created in MailerLite when first needed" in infos
    warnings = "\n".join(w.value for w in app.warning)
    assert "Tier Gold" not in warnings  # not one of the groups to create by hand


def test_preview_says_plainly_when_the_event_has_no_tier(app, studio_workspace):
    studio_workspace.save_config(load_preset("partnero"), author="test")
    open_page(app, PREVIEW)
    paste(app, partnero_fixture("partner-created-no-tier.json"))
    table = fields_table(app)
    row = table[table["MailerLite field"] == "Tier"].iloc[0]
    assert row["Check"].startswith("Not sent: This event has no tier")
    infos = "\n".join(i.value for i in app.info)
    assert "this event has no tier" in infos
    assert not any("Tier" in m.value and "+" in m.value for m in app.markdown)


def test_the_group_rules_page_creates_a_templated_rule(app, studio_workspace):
    studio_workspace.save_config(load_preset("dodo-payments"), author="test")
    open_page(app, GROUP_RULES)
    before = len(studio_workspace.active_config().config.group_rules)
    app.button(key="gr_add_rule").click().run()
    assert_clean(app)
    [s for s in app.get("button_group") if s.label == "Group name"][-1].set_value("event").run()
    assert_clean(app)
    assert "Tier {tier}" in "\n".join(c.value for c in app.caption)  # the hint
    by_label(app.text_input, "Group name from the event").input("Plan {data.product_id").run()
    assert "a { without its }" in "\n".join(c.value for c in app.caption)
    by_label(app.text_input, "Group name from the event").input("Plan {data.product_id}").run()
    assert_clean(app)
    captions = "\n".join(c.value for c in app.caption)
    assert "takes a value from the event" in captions
    assert "“Plan pdt_RUST4raxbl0Rfe4VQi1z”" in captions  # a live example of the name, from a sample event
    [r for r in app.radio if r.label == "Mode"][-1].set_value("membership").run()
    app.button(key="ui_save_group_rules").click().run()
    assert_clean(app)
    saved = studio_workspace.active_config().config
    assert len(saved.group_rules) == before + 1
    rule = saved.group_rules[-1]
    assert rule.group == "Plan {data.product_id}" and rule.is_template and rule.mode == "membership"
    assert rule.group not in saved.group_names()  # not a group to create by hand: named by each event
    captions = "\n".join(c.value for c in app.caption)
    assert "created in MailerLite by the sync when first needed: “Plan {data.product_id}”" in captions
