"""Each role signed in on the real dashboard (AppTest): a viewer sees Monitor and Preview only and cannot change
the configuration or start a sync; an editor maps, previews, runs syncs and retries but never sees or changes the
connection's secrets; an admin sees everything, the audit log included. The rules hold below the widgets too."""

from __future__ import annotations

import pytest

from sync_core.domain.access import NotAllowed, Permission, Role
from sync_core.domain.config import SyncConfig
from sync_core.domain.presets import load_preset
from tests.dashboard.helpers import assert_clean, by_label, finished, page_text, run_until
from tests.dashboard.signing_in import NOT_IN_NAVIGATION, actor, add_people, sign_in, titles_reached

HOME = "Welcome to the MailerLite sync studio"  # the title of Home, where everyone lands
TITLES = {
    "pages/home.py": HOME,
    "pages/connection.py": "Connection",
    "pages/field_mapping.py": "Field mapping",
    "pages/group_rules.py": "Group rules",
    "pages/preview.py": "Preview",
    "pages/sandbox_tools.py": "Sandbox tools",
    "pages/run_sync.py": "Run sync",
    "pages/monitor.py": "Monitor",
    "pages/drift.py": "Compare with MailerLite",
}
SECRET_WIDGETS = (
    "MailerLite API key",
    "Dodo Payments signing secret",
    "Partnero signing secret",
    "MailerLite API base URL",
)
SECRET_BUTTONS = (
    "Save key",
    "Replace key",
    "Remove the saved key",
    "Save secret",
    "Rotate secret",
    "Generate a secret",
    "Register MailerLite webhook",
    "Test connection",
)
API_KEY = "ml-stored-key-never-shown-7f3a9c"
DODO_SECRET = "whsec_c3luYy1zdHVkaW8tcm9sZXMtdGVzdC1zZWNyZXQ="
MORE_PARTNERS = b"email,name,surname,key,status,total_sales\nnew1@example.com,Nia,New,n1,active,3\n"


@pytest.fixture
def people(studio_env, monkeypatch):
    monkeypatch.delenv("SYNC_STUDIO_ADMIN_PASSWORD", raising=False)
    monkeypatch.delenv("SYNC_STUDIO_ADMIN_USER", raising=False)
    add_people(monkeypatch)


def labels(app) -> set[str]:  # noqa: ANN001
    """The labels of every widget drawn (main area and sidebar)."""
    kinds = ("button", "text_input", "toggle", "checkbox", "selectbox", "multiselect", "text_area", "number_input")
    found = {element.label for kind in kinds for element in getattr(app, kind)}
    return found | {element.label for element in app.get("download_button")}


def shown(app) -> str:  # noqa: ANN001
    """Every text of the page, the labels of its tabs and expanders included."""
    return "\n".join([page_text(app), *(tab.label for tab in app.tabs), *(box.label for box in app.expander)])


def arranged_workspace(ws) -> None:  # noqa: ANN001
    """A configured studio with a stored key and secrets, a run with failures, and records waiting to sync."""
    from sync_core.engine.run import SyncEngine
    from tests.dashboard.test_run_and_monitor_pages import arrange
    from tests.engine.conftest import failing_batches_client

    arrange(ws)
    client, _ = failing_batches_client(ws.sandbox())
    SyncEngine(ws, client=client).run()  # 12 failures, to be retried
    ws.set_api_key(API_KEY)
    ws.set_webhook_secret("dodo_payments", DODO_SECRET)


# --- viewer ---------------------------------------------------------------------------------------------------------


def test_a_viewer_sees_only_monitor_and_preview(app, people, studio_workspace):
    arranged_workspace(studio_workspace)
    sign_in(app, "vera")
    assert app.title[0].value == HOME  # where a viewer lands, as everyone
    reached = titles_reached(app, list(TITLES))
    assert {path: title for path, title in reached.items() if title == TITLES[path]} == {
        "pages/home.py": HOME,
        "pages/preview.py": "Preview",
        "pages/monitor.py": "Monitor",
    }, reached
    for path, title in reached.items():
        assert title in (TITLES[path], NOT_IN_NAVIGATION, HOME, "Monitor", "Preview"), (path, title)


def test_a_viewer_cannot_change_the_configuration_start_a_sync_or_retry(app, people, studio_workspace):
    arranged_workspace(studio_workspace)
    sign_in(app, "vera")
    for path in ("pages/monitor.py", "pages/preview.py"):
        app.switch_page(path).run()
        assert_clean(app)
        drawn = labels(app)
        for forbidden in (
            "Start the sync",
            "Start the dry run",
            "Import the file",
            "Retry all failed",
            "Forget this contact",
            "Load preset…",
            "Compare with MailerLite",
            "Save",
            *SECRET_WIDGETS,
            *SECRET_BUTTONS,
        ):
            assert not [label for label in drawn if label.startswith(forbidden)], (path, forbidden, drawn)
        assert "Audit log" not in shown(app)
    assert API_KEY not in page_text(app)

    # Below the widgets: the workspace refuses the viewer whatever calls it.
    viewer = studio_workspace.acting_as(actor(Role.VIEWER))
    before = studio_workspace.active_config().version_id
    with pytest.raises(NotAllowed, match=r"viewer"):
        viewer.save_config(SyncConfig())
    assert studio_workspace.active_config().version_id == before
    with pytest.raises(NotAllowed):
        viewer.require(Permission.RUN_SYNC)


def test_a_viewer_cannot_start_a_sync_or_a_retry_below_the_widgets(people, studio_workspace):
    from sync_core.engine import run_requests
    from sync_core.engine.run import SyncEngine

    arranged_workspace(studio_workspace)
    viewer = studio_workspace.acting_as(actor(Role.VIEWER))
    with pytest.raises(NotAllowed):
        run_requests.request_run(viewer, dry_run=False, limit=None)
    with pytest.raises(NotAllowed):
        SyncEngine(viewer).retry()
    assert studio_workspace.runs.recent(limit=5)[0].id == 1  # no run started


# --- editor ---------------------------------------------------------------------------------------------------------


def test_an_editor_maps_previews_runs_and_retries_but_the_connection_page_is_not_theirs(app, people, studio_workspace):
    arranged_workspace(studio_workspace)
    sign_in(app, "eddie")
    reached = titles_reached(app, list(TITLES))
    assert reached["pages/connection.py"] != "Connection", reached
    for path in ("pages/field_mapping.py", "pages/group_rules.py", "pages/preview.py", "pages/run_sync.py"):
        assert reached[path] == TITLES[path], reached
    assert reached["pages/monitor.py"] == "Monitor"

    for path in [p for p, title in reached.items() if title not in (NOT_IN_NAVIGATION, "")]:
        app.switch_page(path).run()
        drawn = labels(app)
        for forbidden in (*SECRET_WIDGETS, *SECRET_BUTTONS):
            assert forbidden not in drawn, (path, forbidden)
        text = page_text(app)
        assert API_KEY not in text and DODO_SECRET not in text
        assert "Audit log" not in shown(app), path
    assert all(API_KEY not in str(value) and DODO_SECRET not in str(value) for value in app.session_state.values())

    # The editor's own work: retry the failures and start a dry run.
    app.switch_page("pages/monitor.py").run()
    by_label(app.button, "Retry all failed").click().run()
    assert_clean(app)
    assert any("Retried in run 2" in s.value for s in app.success), page_text(app)
    app.switch_page("pages/run_sync.py").run()
    app.file_uploader[0].set_value(("more.csv", MORE_PARTNERS, "text/csv"))
    app.run()
    by_label(app.button, "Import the file").click().run()
    assert_clean(app)
    by_label(app.button, "Start the dry run").click().run()
    run_until(app, finished("Dry run 3 finished"))


def test_an_editor_saves_a_mapping_as_a_new_version(app, people, studio_workspace):
    sign_in(app, "eddie")
    app.switch_page("pages/field_mapping.py").run()
    app.button(key="fm_preset_ask").click().run()
    app.button(key="fm_preset_yes").click().run()
    assert_clean(app)
    assert studio_workspace.active_config().version_id == 1
    assert studio_workspace.configs.versions()[0].author.startswith("eddie")


def test_an_editor_cannot_change_secrets_or_the_connection_below_the_widgets(people, studio_workspace):
    arranged_workspace(studio_workspace)
    editor = studio_workspace.acting_as(actor(Role.EDITOR))
    with pytest.raises(NotAllowed, match=r"editor"):
        editor.set_api_key("attackers-own-key-0000")
    with pytest.raises(NotAllowed):
        editor.clear_api_key()
    with pytest.raises(NotAllowed):
        editor.set_webhook_secret("dodo_payments", "whsec_YXR0YWNrZXJzLW93bi1zZWNyZXQ=")
    with pytest.raises(NotAllowed):
        editor.set_webhook_secret("partnero", "attackers-own-secret")
    assert studio_workspace.api_key() == API_KEY
    assert studio_workspace.webhook_secret("dodo_payments") == DODO_SECRET
    assert studio_workspace.webhook_secret("partnero") is None

    # A mapping change is theirs; the connection inside the configuration is not (the sandbox switch, the address).
    config = load_preset("partnero")
    editor.save_config(config)
    version = studio_workspace.active_config()
    moved = version.config.model_copy(deep=True)
    moved.connection.base_url = "http://127.0.0.1:9/api"
    moved.connection.sandbox = not version.config.connection.sandbox
    try:  # refused, or saved with the connection in force kept: either way it does not move
        editor.save_config(moved)
    except NotAllowed:
        pass
    connection = studio_workspace.config().connection
    assert (connection.base_url, connection.sandbox) == (
        version.config.connection.base_url,
        version.config.connection.sandbox,
    )


# --- admin ----------------------------------------------------------------------------------------------------------


def test_an_admin_sees_every_page_and_the_audit_log_on_monitor(app, people, studio_workspace):
    arranged_workspace(studio_workspace)
    sign_in(app, "ada")
    reached = titles_reached(app, list(TITLES))
    assert reached == TITLES
    app.switch_page("pages/connection.py").run()
    drawn = labels(app)
    for needed in ("MailerLite API key", "Test connection", "Rotate secret", "Generate a secret"):
        assert any(label.startswith(needed) for label in drawn), (needed, drawn)
    assert API_KEY not in page_text(app)  # shown masked even to the admin

    app.switch_page("pages/monitor.py").run()
    assert_clean(app)
    assert "Audit log" in shown(app), shown(app)
    tables = "\n".join(frame.value.to_csv() for frame in app.dataframe)
    assert "ada" in tables and ("signed in" in tables or "signed_in" in tables), tables  # her sign-in, just now


def test_an_editor_restoring_an_older_version_keeps_the_connection_in_force_without_a_traceback(
    app, people, studio_workspace
):
    older = load_preset("partnero")  # version 1: the sandbox, as when the studio was new
    studio_workspace.save_config(older, author="admin")
    newer = load_preset("dodo-payments")  # version 2: an admin switched the sandbox off
    newer.connection.sandbox = False
    newer.connection.base_url = "http://127.0.0.1:9/api"
    studio_workspace.save_config(newer, author="admin")
    sign_in(app, "eddie")
    app.switch_page("pages/field_mapping.py").run()
    app.button(key="ui_restore_field_mapping").click().run()
    assert_clean(app)
    in_force = studio_workspace.config()
    assert (in_force.connection.sandbox, in_force.connection.base_url) == (False, "http://127.0.0.1:9/api")
    assert in_force.name == older.name  # the mapping came back; where to sync did not move


# --- single sign-on (st.login) --------------------------------------------------------------------------------------

PROVIDER = {
    "redirect_uri": "http://localhost:8501/oauth2callback",
    "cookie_secret": "a-cookie-secret-of-the-test-0123456789",
    "client_id": "studio",
    "client_secret": "provider-secret",
    "server_metadata_url": "https://accounts.example.com/.well-known/openid-configuration",
}


def test_single_sign_on_lets_in_only_the_people_added_by_email_with_their_role(app, people, studio_workspace):
    from sync_core.engine.people import add_person

    add_person(studio_workspace, "Vic@Example.com", Role.VIEWER)  # no password: signs in with the provider
    app.secrets["auth"] = PROVIDER
    app.user = {"is_logged_in": True, "email": "stranger@example.com", "name": "Stranger"}
    app.run()
    assert_clean(app)
    assert [t.value for t in app.title] == ["Sign in"]
    assert any("Ask an admin" in e.value for e in app.error), page_text(app)  # refused in plain words
    assert {b.label for b in app.button} <= {"Sign out", "Sign in", "Sign in with your company account"}
    assert not app.text_input or {t.label for t in app.text_input} <= {"User name", "Password"}

    app.user = {"is_logged_in": True, "email": "vic@example.com", "name": "Vic"}
    app.run()
    assert_clean(app)
    sidebar = "\n".join(c.value for c in app.sidebar.caption).replace("**", "")
    assert "Signed in as vic@example.com (viewer)" in sidebar, sidebar
    reached = titles_reached(app, list(TITLES))
    assert [path for path, title in reached.items() if title == TITLES[path]] == [
        "pages/home.py",
        "pages/preview.py",
        "pages/monitor.py",
    ], reached


# --- a role changed or a person removed takes effect at the next click -------------------------------------------


def test_a_demoted_editor_loses_the_editors_pages_and_a_removed_one_is_signed_out_at_once(
    app, people, studio_workspace
):
    from sync_core.engine.people import change_person, remove_person

    sign_in(app, "eddie")
    app.switch_page("pages/field_mapping.py").run()
    assert app.title[0].value == "Field mapping"
    change_person(studio_workspace, "eddie", role=Role.VIEWER)  # an admin, elsewhere
    app.run()
    assert_clean(app)
    assert app.title[0].value != "Field mapping" and not app.get("data_editor"), page_text(app)
    assert "Signed in as eddie (viewer)" in "\n".join(c.value for c in app.sidebar.caption).replace("**", "")
    remove_person(studio_workspace, "eddie")
    app.run()
    assert_clean(app)
    assert [t.value for t in app.title] == ["Sign in"]
