"""Forgetting a contact from the Monitor's contact lookup: a confirmation that says what will happen, then a
plain result; the contact is gone from the store and from the sandbox, and the forget is recorded."""

from __future__ import annotations

from sync_core.engine.run import SyncEngine
from tests.dashboard.helpers import assert_clean, by_label, open_page, page_text
from tests.dashboard.test_run_and_monitor_pages import arrange


def test_forget_this_contact_from_the_monitor(app, studio_workspace):
    arrange(studio_workspace)
    SyncEngine(studio_workspace).run()
    account = studio_workspace.sandbox()
    assert account.state.find_subscriber("p3@example.com") is not None
    open_page(app, "pages/monitor.py")
    app.text_input(key="monitor_email").set_value("P3@example.com").run()
    assert_clean(app)
    text = page_text(app)
    assert "cannot be undone" in text and "hashed tombstone" in text
    button = by_label(app.button, "Forget this contact")
    assert button.disabled  # not before the person confirms
    by_label(app.checkbox, "I understand: forget p3@example.com for good").check().run()
    by_label(app.button, "Forget this contact").click().run()
    assert_clean(app)
    [done] = [s.value for s in app.success if "Forgotten" in s.value]
    assert "Sandbox was asked to forget the subscriber" in done and "p3@example.com" not in done
    assert "Nothing is known about p3@example.com" in page_text(app)
    assert studio_workspace.events.for_email("p3@example.com") == []
    assert studio_workspace.runs.items(email="p3@example.com") == []
    assert (
        account.handle(
            "GET", "/api/subscribers/p3@example.com", headers={"Authorization": f"Bearer {account.default_key}"}
        ).status
        == 404
    )
    [record] = studio_workspace.forgotten.records()
    assert record.origin == "dashboard" and "p3@" not in record.result
    assert record.requested_by == "test@example.com"  # the signed-in user (AppTest signs one in)
    assert studio_workspace.events.for_email("p4@example.com")  # the others are kept
