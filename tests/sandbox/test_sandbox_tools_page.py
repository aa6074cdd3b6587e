"""The Sandbox tools page (dashboard, AppTest): find a sandbox subscriber, act on them as a MailerLite user would,
see what happened and what the registered webhooks were sent."""

from __future__ import annotations

import pytest

from sync_core.sandbox import sandbox_client
from tests.dashboard.conftest import app, studio_env, studio_workspace  # noqa: F401 - the dashboard's fixtures
from tests.dashboard.helpers import assert_clean, by_label, open_page, page_text, run_until
from tests.sandbox.helpers import call
from tests.sandbox.receivers import Receiver

PAGE = "pages/sandbox_tools.py"


@pytest.fixture
def sandbox(studio_workspace):  # noqa: F811
    account = studio_workspace.sandbox()
    with sandbox_client(account) as client:
        group = client.create_group("Partners")
        client.upsert_subscriber("ada@example.com", fields={"name": "Ada"}, groups=[group.id])
    return account


def _register(account, url: str) -> dict:  # noqa: ANN001
    body = {"name": "Studio", "events": ["subscriber.unsubscribed"], "url": url, "batchable": False}
    return call(account, "POST", "webhooks", body)["data"]


def find(app, email: str):  # noqa: ANN001, F811
    by_label(app.text_input, "Subscriber's email").input(email)
    by_label(app.button, "Find").click().run()
    assert_clean(app)


def test_find_a_subscriber_unsubscribe_them_and_see_the_webhook_sent(app, sandbox):  # noqa: F811
    with Receiver() as receiver:
        webhook = _register(sandbox, receiver.url)
        open_page(app, PAGE)
        assert "Studio" in page_text(app) and receiver.url in page_text(app)

        find(app, "ADA@example.com")
        text = page_text(app)
        assert "ada@example.com" in text and "Active" in text and "Partners" in text

        by_label(app.button, "Unsubscribe").click().run()
        assert_clean(app)
        assert "ada@example.com is now unsubscribed." in [s.value for s in app.success]
        assert "Unsubscribed" in page_text(app)
        assert sandbox.find("ada@example.com")["status"] == "unsubscribed"

        (delivery,) = receiver.wait_for(1)
        assert delivery.signed_with(webhook["secret"]) and delivery.json()["event"] == "subscriber.unsubscribed"
        run_until(app, lambda a: "answered 200" in page_text(a))


def test_someone_who_is_not_in_the_sandbox_is_said_so(app, sandbox):  # noqa: F811
    open_page(app, PAGE)
    find(app, "nobody@example.com")
    assert "No subscriber with that email in the sandbox." in page_text(app)
    assert not [b for b in app.button if b.label == "Unsubscribe"]


def test_group_and_field_actions_from_the_page(app, sandbox):  # noqa: F811
    open_page(app, PAGE)
    find(app, "ada@example.com")
    by_label(app.selectbox, "Group").select("Partners").run()
    by_label(app.button, "Remove from group").click().run()
    assert "ada@example.com was removed from Partners." in [s.value for s in app.success]
    assert sandbox.find("ada@example.com")["groups"] == []
    by_label(app.selectbox, "Field").select("Name").run()
    by_label(app.text_input, "New value").input("Grace").run()
    by_label(app.button, "Save the value").click().run()
    assert "Name of ada@example.com is now Grace." in [s.value for s in app.success]
    assert sandbox.find("ada@example.com")["fields"]["name"] == "Grace"


def test_the_page_says_so_when_the_sandbox_is_not_the_account_in_use(app, studio_workspace, monkeypatch):  # noqa: F811
    monkeypatch.setenv("MAILERLITE_API_KEY", "real-account-key-0001")
    config = studio_workspace.config()
    config.connection.sandbox = False
    studio_workspace.save_config(config, author="test", comment="sandbox off")
    open_page(app, PAGE)
    assert "only while the sandbox is the account in use" in page_text(app)
    assert not [t for t in app.text_input if t.label == "Subscriber's email"]
