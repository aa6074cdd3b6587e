"""The trigger action "forget" on the pages: Field mapping offers it as "Forget (GDPR)", Preview says the contact
would be forgotten and shows the two requests."""

from __future__ import annotations

from tests.dashboard.helpers import assert_clean, by_label, open_page, page_text
from tests.dashboard.test_preview_page import codes, paste
from tests.engine.test_forget_action import EMAIL, deleted_customer, forgetting_config


def test_field_mapping_offers_forget_as_an_action(app, studio_workspace):
    open_page(app, "pages/field_mapping.py")
    app.button(key="fm_add_trigger").click().run()
    by_label(app.multiselect, "Event types").set_value(["customer.deleted"]).run()
    action = by_label(app.selectbox, "Action")
    assert "Forget (GDPR)" in action.options
    action.set_value("Forget (GDPR)").run()
    app.button(key="ui_save_field_mapping").click().run()
    assert_clean(app)
    (trigger,) = studio_workspace.config().triggers
    assert trigger.action == "forget" and trigger.event_types == ["customer.deleted"]


def test_preview_says_the_contact_would_be_forgotten(app, studio_workspace):
    studio_workspace.save_config(forgetting_config(), author="test")
    open_page(app, "pages/preview.py")
    paste(app, deleted_customer().decode(), source="partnero")
    assert any(s.value.startswith("Synced (Forget (GDPR))") for s in app.success)
    assert "would be forgotten (GDPR)" in page_text(app)
    requests = [code for code in codes(app) if code.startswith(("POST", "GET"))]
    assert requests == [f"GET /api/subscribers/{EMAIL}", "POST /api/subscribers/{subscriber_id}/forget"] * 2
