"""Lifecycle actions on the Field mapping page (issue 12): a marketer picks them in their own words, sees what
each does, and the presets' lifecycle triggers are there to read and edit."""

from __future__ import annotations

from sync_core.domain.presets import load_preset

from .helpers import assert_clean, by_label, open_page, page_text
from .test_field_mapping_page import PAGE


def test_every_action_is_offered_in_marketer_words_and_a_lifecycle_action_is_saved(app, studio_workspace):
    open_page(app, PAGE)
    app.button(key="fm_add_trigger").click().run()
    assert_clean(app)
    action = by_label(app.selectbox, "Action")
    assert list(action.options) == [
        "Create or update",
        "Update only",
        "Unsubscribe",
        "Remove from the studio's groups",
        "Delete from MailerLite",
        "Forget (GDPR)",
        "Ignore",
    ]
    by_label(app.multiselect, "Event types").set_value(["refund.succeeded"]).run()
    by_label(app.selectbox, "Source").set_value("dodo_payments").run()
    by_label(app.selectbox, "Action").set_value("Delete from MailerLite").run()
    assert_clean(app)
    assert "**delete** the subscriber from MailerLite" in page_text(app)
    assert not app.data_editor  # a lifecycle action sends no fields: no table to fill
    app.button(key="ui_save_field_mapping").click().run()
    assert_clean(app)
    (trigger,) = studio_workspace.config().triggers
    assert trigger.action == "delete" and trigger.event_types == ["refund.succeeded"] and trigger.fields == []


def test_the_presets_lifecycle_triggers_are_visible_and_editable(app, studio_workspace):
    studio_workspace.save_config(load_preset("partnero"), author="test")
    open_page(app, PAGE)
    labels = [expander.label for expander in app.expander]
    assert any(
        "Partner rejected or archived" in label and "partner.rejected, partner.archived" in label for label in labels
    )
    actions = [s for s in app.selectbox if s.label == "Action"]
    assert [s.value for s in actions] == ["Create or update", "Create or update", "Update only"]
    actions[2].set_value("Remove from the studio's groups").run()
    assert_clean(app)
    assert "out of every group the studio manages" in page_text(app)
    assert "Remove from the studio's groups sends no fields" in page_text(app)  # the trigger still maps status
