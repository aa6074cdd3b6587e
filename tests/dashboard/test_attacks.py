"""Issue 13's attacks on the pages (AppTest on the real dashboard), by someone with no credentials and by the
weakest role signed in: each one must fail to do harm. The webhook side is tests/webhooks/test_attacks.py, the
real browser tests/browser/test_sign_in.py."""

from __future__ import annotations

import csv
import io
import json

import pytest
import streamlit as st

from sync_core.domain.access import NotAllowed, Role
from sync_core.domain.presets import load_preset
from sync_core.sandbox import SandboxAccount, serve_sandbox
from tests.dashboard.helpers import assert_clean, by_label, page_text, texts
from tests.dashboard.signing_in import PASSWORDS, actor, add_people, sign_in
from tests.sandbox.receivers import Receiver

PAGES = [
    "pages/connection.py",
    "pages/field_mapping.py",
    "pages/group_rules.py",
    "pages/preview.py",
    "pages/sandbox_tools.py",
    "pages/run_sync.py",
    "pages/monitor.py",
    "pages/drift.py",
]
STORED_KEY = "ml-stored-key-of-the-real-account-4242"
SIGN_IN_WIDGETS = {"User name", "Password", "Sign in"}


@pytest.fixture
def people(studio_env, monkeypatch):
    monkeypatch.delenv("SYNC_STUDIO_ADMIN_PASSWORD", raising=False)
    monkeypatch.delenv("SYNC_STUDIO_ADMIN_USER", raising=False)
    add_people(monkeypatch)


@pytest.fixture
def downloads(monkeypatch):
    """What each download button drawn would give (AppTest keeps no file to read back)."""
    given: dict[str, object] = {}
    original = st.download_button

    def capture(label, data, *args, **kwargs):  # noqa: ANN001, ANN202
        given[label] = data
        return original(label, data, *args, **kwargs)

    monkeypatch.setattr(st, "download_button", capture)
    return given


def widget_labels(app) -> set[str]:  # noqa: ANN001
    kinds = ("button", "text_input", "toggle", "checkbox", "selectbox", "multiselect", "text_area", "file_uploader")
    return {e.label for kind in kinds for e in getattr(app, kind)} | {e.label for e in app.get("download_button")}


def key_sent_to(receiver: Receiver, key: str) -> list[str]:
    """The requests that reached the receiver carrying the key anywhere (headers, path or body)."""
    return [
        f"{d.method} {d.path}"
        for d in receiver.deliveries
        if key in json.dumps(d.headers) or key in d.path or key.encode() in d.body
    ]


# --- no credentials -------------------------------------------------------------------------------------------------


def test_with_no_credentials_every_page_is_the_sign_in_page_and_a_wrong_password_is_refused(app, people):
    app.run()
    assert_clean(app)
    for path in PAGES:
        try:
            app.switch_page(path)
        except ValueError:  # not even registered: nothing of it can run
            continue
        app.run()
        assert_clean(app)
        assert [t.value for t in app.title] == ["Sign in"], (path, page_text(app))
        assert widget_labels(app) <= SIGN_IN_WIDGETS, (path, widget_labels(app))
        assert not app.dataframe and not app.metric and not app.sidebar.button, path

    by_label(app.text_input, "User name").input("ada")
    by_label(app.text_input, "Password").input("guessed-password")
    by_label(app.button, "Sign in").click().run()
    assert_clean(app)
    assert [t.value for t in app.title] == ["Sign in"]
    refusal = [e.value for e in [*app.error, *app.warning]]
    assert refusal and "guessed-password" not in "".join(refusal), refusal
    assert widget_labels(app) <= SIGN_IN_WIDGETS

    # The admin sees the failed attempt in the audit log.
    sign_in(app, "ada")
    app.switch_page("pages/monitor.py").run()
    tables = "\n".join(frame.value.to_csv() for frame in app.dataframe)
    assert "sign in failed" in tables or "sign_in_failed" in tables, tables
    assert "guessed-password" not in tables and PASSWORDS["ada"] not in tables


# --- 1. the API key stolen through Test connection -------------------------------------------------------------------


@pytest.fixture
def real_account(studio_workspace):
    """A real-looking account served on 127.0.0.1 and saved by an admin as the address, with its key stored."""
    account = SandboxAccount(keys=[STORED_KEY])
    with serve_sandbox(account) as server:
        config = load_preset("partnero")
        config.connection.sandbox = False
        config.connection.base_url = server.base_url
        studio_workspace.save_config(config, author="admin")
        studio_workspace.set_api_key(STORED_KEY)
        yield server


@pytest.fixture
def attacker():
    with Receiver() as receiver:
        yield receiver


def attackers_address(receiver: Receiver) -> str:
    return f"http://127.0.0.1:{receiver.port}/api"


def open_connection(app, who: str):  # noqa: ANN001
    if who == "local":  # the dashboard on this machine with no sign-in set up: its user is an admin
        app.run()
        app.switch_page("pages/connection.py").run()
    else:
        sign_in(app, who)
        app.switch_page("pages/connection.py").run()
    assert_clean(app)
    assert app.title[0].value == "Connection"
    return app


@pytest.mark.parametrize("who", ["local", "ada"])
def test_test_connection_never_sends_the_stored_key_to_an_address_typed_but_not_saved(
    app, studio_env, monkeypatch, real_account, attacker, who
):
    if who != "local":
        add_people(monkeypatch)
    open_connection(app, who)
    app.button(key="cn_test").click().run()
    assert any("Connected" in s.value for s in app.success), page_text(app)  # the saved address gets the key

    by_label(app.text_input, "MailerLite API base URL").input(attackers_address(attacker)).run()
    app.button(key="cn_test").click().run()
    assert_clean(app)
    assert key_sent_to(attacker, STORED_KEY) == []
    assert STORED_KEY not in page_text(app)


def test_an_address_changed_and_saved_by_an_admin_does_not_get_the_stored_key(
    app, studio_env, studio_workspace, real_account, attacker
):
    open_connection(app, "local")
    by_label(app.text_input, "MailerLite API base URL").input(attackers_address(attacker)).run()
    app.button(key="ui_save_connection").click().run()
    assert_clean(app)
    app.button(key="cn_test").click().run()
    app.switch_page("pages/monitor.py").run()  # the sidebar checks the account on every page
    assert key_sent_to(attacker, STORED_KEY) == []
    assert studio_workspace.config().connection.base_url == attackers_address(attacker)
    # The key stays bound to the address it was saved for: the new address asks for the key again.
    refusal = studio_workspace.key_refusal()
    assert refusal and "enter the key again" in refusal
    app.switch_page("pages/connection.py").run()
    assert "Enter the API key for this address" in [field.label for field in app.text_input]


def test_an_editor_cannot_point_the_key_elsewhere_by_importing_a_configuration(
    app, people, studio_workspace, real_account, attacker
):
    document = json.loads(studio_workspace.config().to_json())
    document["connection"]["base_url"] = attackers_address(attacker)
    sign_in(app, "eddie")
    app.switch_page("pages/field_mapping.py").run()
    app.file_uploader[0].set_value(("mine.json", json.dumps(document).encode(), "application/json"))
    app.run()
    if [b for b in app.button if b.key == "fm_import_go"]:
        app.button(key="fm_import_go").click().run()
    assert_clean(app)
    for path in ("pages/monitor.py", "pages/run_sync.py", "pages/field_mapping.py"):
        app.switch_page(path).run()
    assert studio_workspace.config().connection.base_url == real_account.base_url
    assert key_sent_to(attacker, STORED_KEY) == []


# --- 2, 3 and 4: secrets and the key replaced, by a viewer or an editor ---------------------------------------------


@pytest.mark.parametrize("role", [Role.VIEWER, Role.EDITOR])
def test_a_viewer_or_an_editor_cannot_rotate_generate_or_replace_a_secret(app, people, studio_workspace, role):
    studio_workspace.set_api_key(STORED_KEY)
    studio_workspace.set_webhook_secret("dodo_payments", "whsec_dGhlLXJlYWwtZG9kby1zZWNyZXQtMDEyMzQ1")
    studio_workspace.set_webhook_secret("partnero", "the-real-partnero-secret")
    sign_in(app, {Role.VIEWER: "vera", Role.EDITOR: "eddie"}[role])
    for path in PAGES:
        try:
            app.switch_page(path)
        except ValueError:
            continue
        app.run()
        drawn = widget_labels(app)
        for label in ("Rotate secret", "Save secret", "Generate a secret", "Save key", "Replace key"):
            assert label not in drawn, (role, path, label)
        assert not [label for label in drawn if "signing secret" in label or "API key" in label], (role, path)
        assert "the-real-partnero-secret" not in page_text(app)

    weak = studio_workspace.acting_as(actor(role))
    with pytest.raises(NotAllowed, match=role.value):
        weak.set_webhook_secret("dodo_payments", "whsec_YXR0YWNrZXItY2hvc2VuLXNlY3JldC0wMDAw")
    with pytest.raises(NotAllowed, match=role.value):
        weak.set_webhook_secret("partnero", "attacker-chosen")
    with pytest.raises(NotAllowed, match=role.value):
        weak.set_api_key("attackers-own-key-000000")
    with pytest.raises(NotAllowed, match=role.value):
        weak.clear_api_key()
    assert studio_workspace.webhook_secret("dodo_payments") == "whsec_dGhlLXJlYWwtZG9kby1zZWNyZXQtMDEyMzQ1"
    assert studio_workspace.webhook_secret("partnero") == "the-real-partnero-secret"
    assert studio_workspace.api_key() == STORED_KEY


# --- 5. the data exported -------------------------------------------------------------------------------------------


@pytest.fixture
def synced(studio_workspace):
    """A dry run then a sandbox sync of 12 partners: items with the requests sent and the changes they would
    make (emails and values)."""
    from sync_core.engine.run import SyncEngine
    from tests.dashboard.test_run_and_monitor_pages import arrange

    arrange(studio_workspace)
    SyncEngine(studio_workspace).run(dry_run=True)
    run = SyncEngine(studio_workspace).run()
    assert run.created == 12
    return studio_workspace


def monitor_export(app, downloads) -> list[dict[str, str]]:  # noqa: ANN001
    app.switch_page("pages/monitor.py").run()
    assert_clean(app)
    data = downloads["Export these items as CSV"]
    text = data() if callable(data) else data
    text = text.decode() if isinstance(text, bytes) else text
    return list(csv.DictReader(io.StringIO(text)))


def test_a_viewers_monitor_export_has_no_request_bodies_and_no_configuration(app, people, synced, downloads):
    sign_in(app, "vera")
    rows = monitor_export(app, downloads)
    assert len(rows) >= 12 and any(row.get("Email") == "p1@example.com" for row in rows)
    assert all(row.get("Requests sent") in (None, "", "[]") for row in rows), rows[0]
    assert not [row for row in rows if "Pat" in json.dumps(row)]  # no value sent (the names) in the export
    assert not [code for code in texts(app, "code") if '"body"' in code]  # nor on the page
    assert "Download the configuration (JSON)" not in downloads
    app.switch_page("pages/preview.py").run()
    assert "Download the configuration (JSON)" not in downloads


def test_an_editors_monitor_export_has_the_request_bodies(app, people, synced, downloads):
    sign_in(app, "eddie")
    rows = monitor_export(app, downloads)
    assert any("p1@example.com" in (row.get("Requests sent") or "") for row in rows)


def test_with_no_credentials_nothing_can_be_exported(app, people, synced, downloads):
    app.run()
    for path in PAGES:
        try:
            app.switch_page(path)
        except ValueError:
            continue
        app.run()
    assert downloads == {}
    assert not app.get("download_button")
