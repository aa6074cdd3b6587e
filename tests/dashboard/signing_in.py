"""People and signing in, the way a team does it: the admin adds people with the command line
(``python -m sync_core users add NAME --role ROLE --password-stdin``), and each one signs in on the sign-in page
("User name", "Password", "Sign in"). Nothing here knows how the dashboard keeps the signed-in person."""

from __future__ import annotations

import io
import sys

import pytest
from streamlit.testing.v1 import AppTest

from sync_core.domain.access import Actor, Role
from tests.dashboard.helpers import assert_clean, by_label, page_text

PASSWORDS = {
    "ada": "ada-admin-passphrase-1",
    "eddie": "eddie-editor-passphrase-2",
    "vera": "vera-viewer-passphrase-3",
}
ROLES = {"ada": Role.ADMIN, "eddie": Role.EDITOR, "vera": Role.VIEWER}
NAME_OF = {Role.ADMIN: "ada", Role.EDITOR: "eddie", Role.VIEWER: "vera"}


def has_users_command() -> bool:
    from sync_core.cli.main import build_parser

    commands = next(a for a in build_parser()._actions if a.dest == "command")
    return "users" in commands.choices  # type: ignore[operator]


def users_command(monkeypatch: pytest.MonkeyPatch, *args: str, stdin: str = "") -> int:
    """``python -m sync_core users …`` in this process (the same parser and handlers)."""
    from sync_core.cli.main import main

    monkeypatch.setattr(sys, "stdin", io.StringIO(stdin))
    return main(["users", *args])


def add_people(monkeypatch: pytest.MonkeyPatch) -> None:
    """An admin (ada), an editor (eddie) and a viewer (vera), with their passwords: with the command line, or
    where it is not there yet, the engine's function it calls."""
    if not has_users_command():
        from sync_core.engine.people import add_person
        from sync_core.engine.workspace import Workspace

        ws = Workspace()
        for name, role in ROLES.items():
            add_person(ws, name, role, password=PASSWORDS[name])
        ws.database.dispose()
        return
    for name, role in ROLES.items():
        command = ("add", name, "--role", role.value, "--password-stdin")
        assert users_command(monkeypatch, *command, stdin=PASSWORDS[name] + "\n") == 0


def actor(role: Role) -> Actor:
    """The person of this role as the workspace knows them, for calls made below the widgets."""
    return Actor(NAME_OF[role], role, kind="user")


def sign_in(app: AppTest, name: str, password: str | None = None) -> AppTest:
    """Open the dashboard and sign in on its sign-in page; checks that it worked."""
    app.run()
    assert [t.value for t in app.title][:1] == ["Sign in"], page_text(app)
    by_label(app.text_input, "User name").input(name)
    by_label(app.text_input, "Password").input(password or PASSWORDS[name])
    by_label(app.button, "Sign in").click().run()
    assert_clean(app)
    sidebar = "\n".join(m.value for m in app.sidebar.markdown) + "\n".join(c.value for c in app.sidebar.caption)
    assert f"Signed in as {name} ({ROLES[name].value})" in sidebar.replace("**", ""), page_text(app)
    app.studio_started = True  # see helpers.open_page: the navigation is registered now
    return app


NOT_IN_NAVIGATION = "(not in the navigation)"


def titles_reached(app: AppTest, paths: list[str]) -> dict[str, str]:
    """Each page → the title the person gets when they go there: the page's own, another one's when the
    dashboard sends them elsewhere, or NOT_IN_NAVIGATION when their navigation does not list it at all."""
    reached = {}
    for path in paths:
        try:
            app.switch_page(path)
        except ValueError:  # AppTest: "not a registered page" of st.navigation
            reached[path] = NOT_IN_NAVIGATION
            continue
        app.run()
        assert_clean(app)
        reached[path] = app.title[0].value if app.title else ""
    return reached
