"""The navigation, the shared sidebar and the Connection page: key, sandbox, test connection, groups, secrets."""

from __future__ import annotations

from sync_core.domain.config import SyncConfig
from sync_core.domain.presets import load_preset
from sync_core.sandbox import SandboxAccount, serve_sandbox

from .helpers import assert_clean, by_label, open_page, page_text, texts

PAGES = [
    "pages/home.py",
    "pages/connection.py",
    "pages/field_mapping.py",
    "pages/group_rules.py",
    "pages/preview.py",
    "pages/run_sync.py",
    "pages/monitor.py",
]


def test_every_page_opens_on_an_empty_installation_with_the_sandbox_in_the_sidebar(app):
    app.run()
    assert_clean(app)
    assert [t.value for t in app.title] == ["Welcome to the MailerLite sync studio"]  # the studio opens on Home
    sidebar = "\n".join(m.value for m in app.sidebar.markdown) + "\n".join(c.value for c in app.sidebar.caption)
    assert "Sandbox" in sidebar
    assert "Connected" in sidebar
    assert "Nothing saved yet" in sidebar
    titles = []
    for page in PAGES:
        app.switch_page(page).run()
        assert_clean(app)
        titles.append(app.title[0].value)
    assert titles == [
        "Welcome to the MailerLite sync studio",
        "Connection",
        "Field mapping",
        "Group rules",
        "Preview",
        "Run sync",
        "Monitor",
    ]
    assert "No sync yet" in app.info[0].value  # the Monitor of an empty installation says what to do


def test_test_connection_answers_in_plain_words_with_the_account_details(app):
    open_page(app, "pages/connection.py")
    app.button(key="cn_test").click().run()
    assert_clean(app)
    answer = [s.value for s in app.success if s.value.startswith("Connected.")]
    assert answer and "subscribers" in answer[0] and "the sandbox" in answer[0]
    metrics = {m.label: m.value for m in app.metric}
    assert metrics["Subscribers"] == "0"
    assert int(metrics["Fields"]) >= 1
    assert "/" in metrics["Requests left this minute"]


def test_a_revoked_key_gets_a_plain_error_and_no_traceback(app, studio_workspace, monkeypatch):
    account = SandboxAccount()  # a sandbox over HTTP stands in for MailerLite; it accepts only its own key
    with serve_sandbox(account) as server:
        monkeypatch.setenv("MAILERLITE_BASE_URL", server.base_url)
        studio_workspace.set_api_key("revoked-key-0000")
        config = SyncConfig()
        config.connection.sandbox = False
        studio_workspace.save_config(config, author="test")
        open_page(app, "pages/connection.py")
        app.button(key="cn_test").click().run()
    assert_clean(app)
    errors = [e.value for e in app.error]
    assert any("Not connected" in e and "refused the API key" in e for e in errors), errors
    sidebar = "\n".join(m.value for m in app.sidebar.markdown)
    assert "Not connected" in sidebar and "MailerLite" in sidebar
    assert "revoked-key-0000" not in page_text(app)


def test_an_unreachable_mailerlite_is_said_plainly_on_every_page(app, studio_workspace, monkeypatch):
    monkeypatch.setenv("MAILERLITE_BASE_URL", "http://127.0.0.1:9/api")  # nothing listens there
    studio_workspace.set_api_key("some-key-1234567890")
    config = load_preset("dodo-payments")
    config.connection.sandbox = False
    studio_workspace.save_config(config, author="test")
    open_page(app, "pages/connection.py")
    assert any("Not connected: MailerLite could not be reached" in e.value for e in app.error)
    for page in ("pages/field_mapping.py", "pages/group_rules.py"):
        open_page(app, page)
        assert any("cannot be read" in w.value for w in app.warning), page
    open_page(app, "pages/preview.py")
    assert any("could not be read" in c for c in texts(app, "caption"))
    assert [code for code in texts(app, "code") if code.startswith("POST /api/subscribers")]


def test_the_api_key_is_saved_encrypted_and_never_shown_again(app, studio_workspace):
    open_page(app, "pages/connection.py")
    secret = "eyJ0eXAiOiJKV1QiLCJhbGciOiJSUzI1NiJ9.test-key-abcd1234"
    app.text_input(key="cn_api_key").input(secret)
    app.button(key="FormSubmitter:cn_key_form-Save key").click().run()
    assert_clean(app)
    assert studio_workspace.api_key() == secret
    assert any("API key is saved" in s.value for s in app.success)
    assert secret not in page_text(app)
    assert "1234" not in page_text(app)  # nothing of the key: no "last four characters" either
    assert any(m.value.startswith("API key saved on ") for m in app.markdown)
    assert all(secret not in str(value) for value in app.session_state.values())
    # The sandbox stays on until it is switched off and saved; then the sidebar names MailerLite.
    by_label(app.toggle, "Use the sandbox").set_value(False).run()
    app.button(key="ui_save_connection").click().run()
    assert_clean(app)
    assert studio_workspace.config().connection.sandbox is False
    sidebar = "\n".join(m.value for m in app.sidebar.markdown) + "\n".join(c.value for c in app.sidebar.caption)
    assert "MailerLite" in sidebar and "API key saved on " in sidebar and "1234" not in sidebar


def test_sources_toggles_and_the_default_group_are_saved_as_a_new_version(app, studio_workspace):
    open_page(app, "pages/connection.py")
    app.text_input(key="cn_new_group").input("Customers")
    app.button(key="FormSubmitter:cn_group_form-Create group").click().run()
    assert_clean(app)
    names = [group.name for group in studio_workspace.client().iter_groups()]
    assert names == ["Customers"]
    by_label(app.toggle, "Sync partners").set_value(False).run()  # the first one: Dodo Payments
    assert any("Unsaved changes" in m.value for m in app.markdown)
    app.text_input(key="ui_comment_connection").input("customers only from Dodo")
    app.button(key="ui_save_connection").click().run()
    assert_clean(app)
    config = studio_workspace.config()
    assert config.connection.default_group == "Customers"
    assert config.sources["dodo_payments"].sync_partners is False
    versions = studio_workspace.configs.versions()
    assert len(versions) == 1 and versions[0].comment == "customers only from Dodo"
    assert any("Saved as version 1" in s.value for s in app.success)


def test_webhook_urls_and_secrets(app, studio_workspace):
    open_page(app, "pages/connection.py")
    codes = [c.value for c in app.code]
    assert any(code.endswith("/webhooks/dodo-payments") for code in codes)
    assert any(code.endswith("/webhooks/partnero") for code in codes)
    # Dodo's secret must be the whsec_ one Dodo gives.
    app.text_input(key="cn_secret_dodo_payments").input("not-a-dodo-secret")
    app.button(key="FormSubmitter:cn_secret_form_dodo_payments-Save secret").click().run()
    assert any("starts with whsec_" in e.value for e in app.error)
    assert studio_workspace.webhook_secret("dodo_payments") is None
    app.text_input(key="cn_secret_dodo_payments").input("whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw")
    app.button(key="FormSubmitter:cn_secret_form_dodo_payments-Save secret").click().run()
    assert studio_workspace.webhook_secret("dodo_payments") == "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"
    assert "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw" not in page_text(app)
    assert "LaSw" not in page_text(app)
    assert any(m.value.startswith("Signing secret saved on ") for m in app.markdown)
    # Partnero: a generated secret is shown once, to be copied into Partnero, and kept nowhere in the session.
    app.button(key="cn_generate_partnero").click().run()
    generated = studio_workspace.webhook_secret("partnero")
    assert generated and len(generated) >= 24
    assert generated in [c.value for c in app.code]
    assert all(generated not in str(value) for value in app.session_state.values())
    app.run()
    assert generated not in page_text(app)
    assert all(generated not in str(value) for value in app.session_state.values())
    # Generating again rotates it: the first one is still accepted for the grace period, and the page says so.
    app.button(key="cn_generate_partnero").click().run()
    assert studio_workspace.webhook_secret("partnero") != generated
    assert any("previous secret is still accepted until" in m.value for m in app.markdown)


def test_a_stored_key_that_cannot_be_decrypted_is_explained(app, studio_workspace):
    from storage.tables import Secret

    studio_workspace.set_api_key("a-key-that-will-be-unreadable")
    with studio_workspace.database.session() as session:
        session.get(Secret, "mailerlite_api_key").ciphertext = "not-a-fernet-token"
    for page in PAGES[:4]:
        open_page(app, page)
    open_page(app, "pages/connection.py")
    errors = "\n".join(texts(app, "error"))
    assert "cannot be decrypted with this encryption key" in errors and "Enter the secret again" in errors
    # entering the key again repairs it
    app.text_input(key="cn_api_key").input("a-new-key-1234567890")
    app.button(key="FormSubmitter:cn_key_form-Replace key").click().run()
    assert_clean(app)
    assert studio_workspace.api_key() == "a-new-key-1234567890"


def test_counts_come_from_the_account_after_a_sync_run_elsewhere(app, studio_workspace):
    """A sync by the worker or the command line (not from this page) shows in the sidebar and on the Connection
    page at the next look, without waiting for the cache or pressing anything."""
    import io

    from storage.events import EventStore
    from sync_core.engine.file_import import import_file
    from sync_core.engine.run import SyncEngine

    studio_workspace.save_config(load_preset("partnero"), author="test")
    open_page(app, "pages/connection.py")
    sidebar = "\n".join(m.value for m in app.sidebar.markdown)
    assert "0 subscribers" in sidebar  # the account is empty, and this answer is cached now
    rows = "email,name,surname,key,status,total_sales\n" + "".join(
        f"p{n}@example.com,Pat,N{n},k{n},{'active' if n % 2 else 'pending'},{n}\n" for n in range(12)
    )
    import_file(EventStore(studio_workspace.database), io.BytesIO(rows.encode()), name="partners.csv")
    run = SyncEngine(studio_workspace).run(trigger="worker")
    assert run.created == 12, run.error
    open_page(app, "pages/connection.py")
    sidebar = "\n".join(m.value for m in app.sidebar.markdown)
    assert "12 subscribers" in sidebar, sidebar
    assert {m.label: m.value for m in app.metric}["Subscribers"] == "12"
    groups = app.dataframe[0].value
    active = dict(zip(groups["Group"], groups["Active subscribers"]))
    assert active["Partners"] == 12 and active["Active Partners"] == 6


def test_register_mailerlite_webhook_in_one_click_then_its_state_in_plain_words(app, studio_workspace, monkeypatch):
    """The Connection page against respx in place of a MailerLite account: the click creates the webhook with
    the public URL, saves its secret encrypted (never shown), and the page says it is enabled."""
    import httpx
    import respx

    from tests.mailerlite.test_webhook_registration import SECRET, FakeAccount

    monkeypatch.setenv("SYNC_STUDIO_PUBLIC_URL", "https://studio.example.com")
    monkeypatch.setenv("MAILERLITE_BASE_URL", "https://ml.test/api")
    studio_workspace.set_api_key("mlk_test_key_for_the_page_0001")
    config = SyncConfig()
    config.connection.sandbox = False
    studio_workspace.save_config(config, author="test")
    with respx.mock(base_url="https://ml.test/api", assert_all_called=False) as api:
        api.get("/subscribers").mock(return_value=httpx.Response(200, json={"total": 0}))
        api.get("/groups").mock(return_value=httpx.Response(200, json={"data": [], "meta": {"last_page": 1}}))
        api.get("/fields").mock(return_value=httpx.Response(200, json={"data": [], "meta": {"last_page": 1}}))
        account = FakeAccount(api)
        open_page(app, "pages/connection.py")
        assert "No MailerLite webhook sends to https://studio.example.com/webhooks/mailerlite" in page_text(app)
        app.button(key="cn_register_mailerlite").click().run()
        assert_clean(app)
        assert len(account.hooks) == 1 and account.hooks[0]["url"].endswith("/webhooks/mailerlite")
        assert any("The MailerLite webhook is registered" in s.value for s in app.success), page_text(app)
        assert any(s.value.startswith("Enabled") for s in app.success), page_text(app)
        app.button(key="cn_register_mailerlite").click().run()  # a second click repairs, never duplicates
        assert len(account.hooks) == 1 and len(account.updated) == 1
    assert studio_workspace.webhook_secret("mailerlite") == SECRET
    shown = page_text(app) + "\n".join(str(j.value) for j in app.json)
    assert SECRET not in shown and SECRET[-4:] not in shown and "Signing secret saved on " in shown
