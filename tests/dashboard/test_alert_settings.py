"""The Connection page's Alerts section: an admin saves where alerts go, *Send a test alert* reaches the local
mail server and the local Slack-compatible receiver (127.0.0.1) and says so in words, the secrets are never
shown back; a person who is not an admin neither sees nor changes it (on the page or below it)."""

from __future__ import annotations

import pytest

from sync_core.domain.access import NotAllowed, Role
from sync_core.engine.alerts import alert_setup, save_alert_settings, send_test_alert
from tests.dashboard.helpers import assert_clean, by_label, open_page, page_text
from tests.dashboard.signing_in import NOT_IN_NAVIGATION, actor, add_people, sign_in, titles_reached
from tests.engine.alert_receivers import SLACK_TOKEN, MailServer, Receiver, hook_url, webhook_texts

ALERT_WIDGETS = ("Email alerts to", "Mail server (SMTP address)", "Slack-compatible webhook address")


@pytest.fixture(autouse=True)
def no_alert_environment(monkeypatch):
    for variable in ("SYNC_STUDIO_ALERT_SLACK_URL", "SYNC_STUDIO_ALERT_EMAIL", "SYNC_STUDIO_SMTP_URL"):
        monkeypatch.delenv(variable, raising=False)


def test_an_admin_saves_destinations_and_a_test_alert_reaches_them(app, studio_workspace):
    with MailServer() as mail, Receiver() as slack:
        smtp_url = mail.url
        open_page(app, "pages/connection.py")
        assert "Alerts" in [header.value for header in app.subheader]
        assert "No alert sent yet." in page_text(app)
        by_label(app.text_input, "Email alerts to").input("team@example.com")
        by_label(app.text_input, "Mail server (SMTP address)").input(smtp_url)
        by_label(app.text_input, "Slack-compatible webhook address").input(hook_url(slack))
        by_label(app.button, "Save alert settings").click().run()
        assert_clean(app)
        assert any("The alert settings are saved" in s.value for s in app.success), page_text(app)
        text = page_text(app)
        assert hook_url(slack) not in text and SLACK_TOKEN not in text  # only the host is shown back
        assert "Slack-compatible webhook: 127.0.0.1 (saved on" in text
        assert f"Mail server: 127.0.0.1:{mail.port} (saved on" in text
        assert by_label(app.text_input, "Slack-compatible webhook address").value == ""

        by_label(app.button, "Send a test alert").click().run()
        assert_clean(app)
        successes = [s.value for s in app.success]
        assert "Email to team@example.com: delivered." in successes, page_text(app)
        assert "The webhook at 127.0.0.1: delivered." in successes
        assert mail.recipients == [["team@example.com"]]
        assert "This is a test alert" in mail.bodies()[0]
        assert len(webhook_texts(slack)) == 1 and "monitor?view=" in webhook_texts(slack)[0]
        (recent,) = [frame.value for frame in app.dataframe if "What" in frame.value.columns]  # the recent alerts
        assert list(recent["What"]) == ["Test alert"] and "delivered to 2 of 2" in recent["Sent"][0]
    assert alert_setup(studio_workspace).emails == ("team@example.com",)


def test_a_destination_that_cannot_be_reached_is_said_in_words(app, studio_workspace):
    save_alert_settings(
        studio_workspace,
        enabled=True,
        threshold=0.9,
        emails="team@example.com",
        smtp_url="smtp://127.0.0.1:9?from=studio@example.com",
    )
    open_page(app, "pages/connection.py")
    by_label(app.button, "Send a test alert").click().run()
    assert_clean(app)
    errors = [e.value for e in app.error]
    assert "Email to team@example.com: not delivered, the mail server 127.0.0.1:9 could not be reached." in errors
    assert "Errno" not in page_text(app) and "ConnectionRefused" not in page_text(app)


@pytest.mark.parametrize("name", ["eddie", "vera"])
def test_someone_who_is_not_an_admin_cannot_see_or_change_the_alerts(
    app, studio_env, studio_workspace, monkeypatch, name
):
    monkeypatch.delenv("SYNC_STUDIO_ADMIN_PASSWORD", raising=False)
    add_people(monkeypatch)
    save_alert_settings(studio_workspace, enabled=True, threshold=0.9, emails="team@example.com")
    sign_in(app, name)
    pages = ["pages/connection.py", "pages/monitor.py", "pages/run_sync.py", "pages/preview.py"]
    reached = titles_reached(app, pages)
    assert reached["pages/connection.py"] != "Connection", reached
    for path in [page for page, title in reached.items() if title not in (NOT_IN_NAVIGATION, "")]:
        app.switch_page(path).run()
        drawn = {element.label for element in app.text_input} | {element.label for element in app.button}
        assert not set(ALERT_WIDGETS) & drawn and "Send a test alert" not in drawn, path
        assert "team@example.com" not in page_text(app), path
    for role in (Role.EDITOR, Role.VIEWER):
        other = studio_workspace.acting_as(actor(role))
        with pytest.raises(NotAllowed):
            save_alert_settings(other, enabled=True, threshold=0.5, emails="attacker@example.com")
        with pytest.raises(NotAllowed):
            send_test_alert(other)
    assert alert_setup(studio_workspace).emails == ("team@example.com",)
