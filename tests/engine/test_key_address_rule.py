"""Every way the studio sends the stored API key goes through ``Workspace.client``, which sends it only to the
address it was saved for: the command line, a run, a drift check and webhook registration refuse another one,
in plain words, and nothing reaches that address."""

from __future__ import annotations

import pytest

from sync_core.cli.main import main
from sync_core.domain.config import SyncConfig
from sync_core.engine import drift
from sync_core.engine.mailerlite_webhook import register_mailerlite_webhook
from sync_core.engine.run import SyncEngine
from sync_core.engine.workspace import KeyAddressError
from tests.sandbox.receivers import Receiver

KEY = "stored-admin-key-for-mailerlite-4455"


@pytest.fixture
def elsewhere(workspace, monkeypatch):
    """A key saved for MailerLite, then a configuration (saved by anyone) that points at another address."""
    monkeypatch.setenv("DATABASE_URL", workspace.database.url)
    workspace.set_api_key(KEY)  # bound to MailerLite's own address, the one in use when it was saved
    with Receiver() as thief:
        config = SyncConfig()
        config.connection.sandbox = False
        config.connection.base_url = f"http://127.0.0.1:{thief.port}/api"
        workspace.save_config(config, author="someone")
        yield thief


def test_the_command_line_says_why_and_sends_nothing(elsewhere, capsys):
    assert main(["test-connection"]) == 2
    err = capsys.readouterr().err
    assert "The API key was saved for connect.mailerlite.com; enter the key again" in err and KEY not in err
    assert main(["webhooks", "status", "--url", "https://studio.example.com/webhooks/mailerlite"]) == 2
    assert not elsewhere.deliveries


def test_runs_drift_checks_and_registration_refuse_the_other_address(workspace, elsewhere):
    with pytest.raises(KeyAddressError):
        SyncEngine(workspace).run()
    with pytest.raises(KeyAddressError):
        drift.check(workspace)
    with pytest.raises(KeyAddressError):
        register_mailerlite_webhook(workspace, workspace.client(), "https://studio.example.com/webhooks/mailerlite")
    assert not elsewhere.deliveries
