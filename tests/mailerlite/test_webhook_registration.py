"""Registering the MailerLite webhook in one click (issue 12), against respx in place of MailerLite: created once,
repaired (not duplicated) the second time, its secret stored encrypted and never printed; and its state told in
plain words by ``python -m sync_core webhooks status``."""

from __future__ import annotations

import json

import httpx
import pytest

from sync_core.cli.main import main
from sync_core.domain.sources.mailerlite import MAILERLITE_EVENT_TYPES
from sync_core.engine.mailerlite_webhook import register_mailerlite_webhook, webhook_state
from tests.mailerlite.conftest import API_KEY, BASE_URL

PUBLIC = "https://studio.example.com"
URL = PUBLIC + "/webhooks/mailerlite"
SECRET = "Zx9wq1-ml-webhook-secret-never-printed-77"


def webhook(**changes) -> dict:
    """A webhook as MailerLite answers it (the fields of the reference's §10)."""
    return {
        "id": "1234567890",
        "name": "MailerLite sync studio",
        "url": URL,
        "events": list(MAILERLITE_EVENT_TYPES),
        "enabled": True,
        "batchable": True,
        "secret": SECRET,
        "version": "2022-01",
        "is_blocked": False,
        "last_fired_at": None,
        "response_code": None,
        "created_at": "2026-12-01 10:00:00",
        "updated_at": "2026-12-01 10:00:00",
        **changes,
    }


class FakeAccount:
    """Just enough of MailerLite's webhook endpoints, on respx: a list that POST adds to and PUT changes."""

    def __init__(self, api, hooks: list[dict] | None = None):
        self.hooks = hooks or []
        self.created: list[dict] = []
        self.updated: list[dict] = []
        api.get("/webhooks").mock(side_effect=lambda request: httpx.Response(200, json={"data": self.hooks}))
        api.post("/webhooks").mock(side_effect=self._create)
        api.put(url__regex=r".*/webhooks/\d+$").mock(side_effect=self._update)

    def _create(self, request: httpx.Request) -> httpx.Response:
        body = json.loads(request.content)
        self.created.append(body)
        hook = webhook(**body, id=str(1234567890 + len(self.hooks)))
        self.hooks.append(hook)
        return httpx.Response(201, json={"data": hook})

    def _update(self, request: httpx.Request) -> httpx.Response:
        body = json.loads(request.content)
        self.updated.append(body)
        hook = next(h for h in self.hooks if request.url.path.endswith("/" + h["id"]))
        hook.update(body)
        return httpx.Response(200, json={"data": hook})


def test_register_creates_once_then_repairs_and_stores_the_secret_encrypted(api, client, workspace):
    account = FakeAccount(api)
    first = register_mailerlite_webhook(workspace, client, URL)
    assert first.action == "created"
    assert account.created == [
        {
            "name": "MailerLite sync studio",
            "events": list(MAILERLITE_EVENT_TYPES),
            "url": URL,
            "enabled": True,
            "batchable": True,
        }
    ]
    assert workspace.webhook_secret("mailerlite") == SECRET
    with workspace.database.engine.connect() as connection:
        stored = connection.exec_driver_sql("SELECT * FROM secret").all()
    assert [row[0] for row in stored] == ["webhook_secret:mailerlite"]
    assert not [cell for cell in stored[0] if SECRET in str(cell) or SECRET[-4:] in str(cell)]
    assert SECRET not in first.summary() and SECRET not in repr(first)

    # Someone disabled it in MailerLite and it lost an event: the second click repairs the same webhook.
    account.hooks[0].update(enabled=False, events=["subscriber.created"])
    second = register_mailerlite_webhook(workspace, client, URL)
    assert second.action == "repaired"
    assert len(account.hooks) == 1 and len(account.created) == 1
    assert account.updated == [{"events": list(MAILERLITE_EVENT_TYPES), "url": URL, "enabled": True}]
    assert second.state.healthy


def test_the_state_in_plain_words(api, client):
    account = FakeAccount(api)
    assert not webhook_state(client, URL).healthy
    assert "No MailerLite webhook sends to" in webhook_state(client, URL).sentences()[0]
    account.hooks.append(webhook(last_fired_at="2026-12-01 11:30:00", response_code=200))
    words = " ".join(webhook_state(client, URL).sentences())
    assert "Enabled" in words and "Last sent 2026-12-01 11:30 UTC; the studio answered 200 (accepted)" in words
    account.hooks[0].update(enabled=False, response_code=500, events=["subscriber.updated"])
    words = " ".join(webhook_state(client, URL).sentences())
    assert "Disabled" in words and "answered 500 (not accepted)" in words and "subscriber.unsubscribed" in words
    assert SECRET not in json.dumps(webhook_state(client, URL).details())


@pytest.fixture
def cli_env(workspace, monkeypatch):
    monkeypatch.setenv("MAILERLITE_API_KEY", API_KEY)
    monkeypatch.setenv("MAILERLITE_BASE_URL", BASE_URL)
    monkeypatch.setenv("SYNC_STUDIO_PUBLIC_URL", PUBLIC + "/")
    monkeypatch.setenv("DATABASE_URL", workspace.database.url)
    config = workspace.config()
    config.connection.sandbox = False
    workspace.save_config(config)
    return workspace


def test_the_command_line_registers_and_reports_without_printing_the_secret(api, cli_env, capsys):
    account = FakeAccount(api)
    assert main(["webhooks", "status"]) == 1
    assert "No MailerLite webhook sends to https://studio.example.com/webhooks/mailerlite" in capsys.readouterr().out
    assert main(["webhooks", "register"]) == 0
    assert main(["webhooks", "register"]) == 0
    out = capsys.readouterr().out
    assert "is registered" in out and "already existed and is repaired" in out
    assert len(account.hooks) == 1
    assert main(["webhooks", "status"]) == 0
    out = capsys.readouterr().out
    assert "Enabled" in out and "Signing secret: saved on " in out
    assert main(["webhooks", "status", "--json"]) == 0
    out += capsys.readouterr().out
    assert SECRET not in out and SECRET[-8:] not in out
    assert cli_env.webhook_secret("mailerlite") == SECRET


def test_without_a_public_address_the_command_says_what_to_set(cli_env, monkeypatch, capsys):
    monkeypatch.delenv("SYNC_STUDIO_PUBLIC_URL")
    assert main(["webhooks", "register"]) == 2
    assert "set SYNC_STUDIO_PUBLIC_URL" in capsys.readouterr().err
