"""The stored API key goes only to the address it was saved for: typing another address on the Connection page
(without saving) and pressing *Test connection* sends it nowhere (issue 13's first attack), and nothing below
the page sends it elsewhere either."""

from __future__ import annotations

import pytest

from sync_core.domain.config import SyncConfig
from sync_core.engine.workspace import KeyAddressError
from sync_core.sandbox import SandboxAccount, serve_sandbox
from tests.sandbox.receivers import Receiver

from .helpers import assert_clean, by_label, open_page, page_text

KEY = "eyJ0eXAiOiJKV1QiLCJhbGciOiJSUzI1NiJ9.stored-admin-key-7781"


@pytest.fixture
def saved_account(studio_workspace):
    """A real-looking account (a sandbox over HTTP) whose key and address an admin saved, sandbox off."""
    account = SandboxAccount(keys=[KEY])
    with serve_sandbox(account) as server:
        config = SyncConfig()
        config.connection.sandbox = False
        config.connection.base_url = server.base_url
        studio_workspace.save_config(config, author="admin")
        studio_workspace.set_api_key(KEY)  # bound to the address in use: the saved one
        yield server


def test_test_connection_never_sends_the_stored_key_to_an_address_typed_on_the_page(
    app, studio_workspace, saved_account
):
    with Receiver() as thief:
        open_page(app, "pages/connection.py")
        assert any(s.value.startswith("Connected.") for s in app.success)  # the saved address works
        by_label(app.text_input, "MailerLite API base URL").set_value(f"http://127.0.0.1:{thief.port}/api").run()
        app.button(key="cn_test").click().run()
        assert_clean(app)
        carried = [d for d in thief.deliveries if KEY in str(d.headers)]
        assert not carried, "the stored API key was sent to an address nobody saved"
        shown = page_text(app)
        assert "The API key was saved for 127.0.0.1:" in shown and "enter the key again" in shown
        assert any(field.label == "Enter the API key for this address" for field in app.text_input)
        assert KEY not in shown


def test_saving_the_key_with_the_address_being_edited_binds_it_there(app, studio_workspace, saved_account):
    other = SandboxAccount(keys=["second-account-key-5566"])
    with serve_sandbox(other) as server:
        open_page(app, "pages/connection.py")
        by_label(app.text_input, "MailerLite API base URL").set_value(server.base_url).run()
        by_label(app.text_input, "Enter the API key for this address").input("second-account-key-5566")
        [submit] = [b for b in app.button if (b.key or "").startswith("FormSubmitter:cn_key_form")]
        submit.click().run()
        assert_clean(app)
        app.button(key="cn_test").click().run()
        assert any(s.value.startswith("Connected.") for s in app.success), page_text(app)
        saved = studio_workspace.config().connection
        assert studio_workspace.key_refusal(saved) is not None  # the saved address needs its key again
        assert studio_workspace.key_refusal(saved.model_copy(update={"base_url": server.base_url})) is None


def test_the_workspace_refuses_a_client_for_another_address(studio_workspace, saved_account):
    elsewhere = studio_workspace.config().connection.model_copy(update={"base_url": "https://attacker.example/api"})
    with pytest.raises(KeyAddressError, match="The API key was saved for 127.0.0.1:"):
        studio_workspace.client(elsewhere)
    from sync_core.engine.account_checks import check_connection

    report = check_connection(studio_workspace, elsewhere)
    assert not report.ok and "enter the key again to use it with this address" in report.problem
    assert KEY not in report.problem
    with studio_workspace.client() as client:  # the saved address still gets it
        assert client.settings.base_url.rstrip("/") == saved_account.base_url.rstrip("/")


def test_the_environment_key_goes_only_to_its_own_address_or_mailerlite(studio_workspace, monkeypatch):
    monkeypatch.setenv("MAILERLITE_API_KEY", "environment-key-3344")
    connection = SyncConfig().connection.model_copy(update={"sandbox": False})
    assert studio_workspace.key_refusal(connection) is None  # MailerLite's own address
    elsewhere = connection.model_copy(update={"base_url": "https://attacker.example/api"})
    with pytest.raises(KeyAddressError, match="MAILERLITE_BASE_URL"):
        studio_workspace.client(elsewhere)
    monkeypatch.setenv("MAILERLITE_BASE_URL", "https://eu.mailerlite.example/api")
    assert studio_workspace.key_refusal(elsewhere) is None  # the environment's address wins over the typed one
    assert studio_workspace.base_url(elsewhere) == "https://eu.mailerlite.example/api"


def test_the_sandbox_needs_no_key_and_a_key_saved_before_addresses_were_kept_goes_to_mailerlite_only(studio_workspace):
    assert studio_workspace.key_refusal() is None
    with studio_workspace.client() as client:
        assert list(client.iter_groups()) == []  # the sandbox answers, with no key
    studio_workspace.secrets.set("mailerlite_api_key", "legacy-key-1122")  # as stored before: no address sealed
    official = SyncConfig().connection.model_copy(update={"sandbox": False})
    assert studio_workspace.key_refusal(official) is None
    assert "saved for connect.mailerlite.com" in studio_workspace.key_refusal(
        official.model_copy(update={"base_url": "https://attacker.example/api"})
    )
