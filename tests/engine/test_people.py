"""Signing in below the pages: passwords checked against their hashes, failed sign-ins slowed down, recorded and
locked out, sessions that end (expired, signed out, password changed, person removed), the first admin from
SYNC_STUDIO_ADMIN_PASSWORD, and the command line that manages people and reads the audit log."""

from __future__ import annotations

import io
import json
import sys
from datetime import timedelta

import pytest
import sqlalchemy as sa

from storage.tables import utcnow
from sync_core.cli.main import main
from sync_core.domain.access import SYSTEM, Actor, NotAllowed, Permission, Role, sign_in_need
from sync_core.engine.people import (
    LOCK_AFTER,
    WRONG,
    add_person,
    change_person,
    delay_for,
    remove_person,
    session_actor,
    sign_in,
    sign_in_by_email,
    sign_out,
)
from sync_core.engine.workspace import Workspace

PASSWORD = "a long enough passphrase"


@pytest.fixture
def ws(tmp_path, monkeypatch) -> Workspace:
    monkeypatch.setenv("SYNC_STUDIO_DATA_DIR", str(tmp_path))
    monkeypatch.delenv("DATABASE_URL", raising=False)
    monkeypatch.delenv("SYNC_STUDIO_ADMIN_PASSWORD", raising=False)
    workspace = Workspace()
    yield workspace
    workspace.database.dispose()


def no_sleep(waits: list[float]):
    return waits.append


def test_a_password_is_stored_only_as_an_argon2_hash_and_signs_in(ws):
    add_person(ws, "ada", Role.ADMIN, password=PASSWORD)
    with ws.database.engine.connect() as connection:
        rows = [tuple(map(str, row)) for row in connection.execute(sa.text("SELECT * FROM person"))]
    assert rows and not any(PASSWORD in cell for row in rows for cell in row)
    assert ws.people.get("ada").password_hash.startswith("$argon2id$")
    result = sign_in(ws, "ada", PASSWORD, sleep=no_sleep([]))
    assert result.ok and result.actor == Actor("ada", Role.ADMIN, kind="user")
    assert session_actor(ws, result.token) == result.actor
    assert [entry.action for entry in ws.audit_log.recent()][:2] == ["signed_in", "user_added"]


def test_a_wrong_password_is_refused_in_words_recorded_and_slowed_down_then_locked(ws):
    add_person(ws, "ada", Role.ADMIN, password=PASSWORD)
    waits: list[float] = []
    for _ in range(LOCK_AFTER):
        result = sign_in(ws, "ada", "not the password", address="203.0.113.9", sleep=no_sleep(waits))
        assert not result.ok and result.message == WRONG and result.token is None
    assert waits == [delay_for(n) for n in range(1, LOCK_AFTER + 1)]
    assert waits[0] == 0 and waits[-1] > waits[3] > 0  # the first mistakes cost nothing, later ones more
    failed = ws.audit_log.recent(action="sign_in_failed")
    assert len(failed) == LOCK_AFTER and {entry.address for entry in failed} == {"203.0.113.9"}
    locked = sign_in(ws, "ada", PASSWORD, sleep=no_sleep(waits))  # even the right password, for a while
    assert not locked.ok and "Too many failed sign-ins" in locked.message
    later = sign_in(ws, "ada", PASSWORD, sleep=no_sleep([]), now=utcnow() + timedelta(minutes=16))
    assert later.ok


def test_an_unknown_name_is_refused_like_a_wrong_password(ws):
    add_person(ws, "ada", Role.ADMIN, password=PASSWORD)
    assert sign_in(ws, "nobody", PASSWORD, sleep=no_sleep([])).message == WRONG


def test_sessions_end_when_they_expire_sign_out_a_new_password_or_removal(ws, monkeypatch):
    add_person(ws, "ada", Role.ADMIN, password=PASSWORD)
    add_person(ws, "eddie", Role.EDITOR, password=PASSWORD)
    monkeypatch.setenv("SYNC_STUDIO_SESSION_HOURS", "1")
    old = sign_in(ws, "eddie", PASSWORD, sleep=no_sleep([]), now=utcnow() - timedelta(hours=2))
    assert session_actor(ws, old.token) is None  # expired an hour ago
    first = sign_in(ws, "eddie", PASSWORD, sleep=no_sleep([]))
    sign_out(ws, first.token)
    assert session_actor(ws, first.token) is None
    second = sign_in(ws, "eddie", PASSWORD, sleep=no_sleep([]))
    change_person(ws, "eddie", password="another long passphrase")
    assert session_actor(ws, second.token) is None
    third = sign_in(ws, "eddie", "another long passphrase", sleep=no_sleep([]))
    assert session_actor(ws, third.token).role is Role.EDITOR
    change_person(ws, "eddie", role=Role.VIEWER)  # a new role holds at the next look
    assert session_actor(ws, third.token).role is Role.VIEWER
    remove_person(ws, "eddie")
    assert session_actor(ws, third.token) is None


def test_the_first_admin_comes_from_the_environment_and_its_password_is_not_stored(ws, monkeypatch):
    monkeypatch.setenv("SYNC_STUDIO_ADMIN_PASSWORD", "the admin's passphrase")
    assert not sign_in(ws, "admin", "wrong", sleep=no_sleep([])).ok
    result = sign_in(ws, "admin", "the admin's passphrase", sleep=no_sleep([]))
    assert result.ok and result.actor.role is Role.ADMIN
    assert "passphrase" not in (ws.people.get("admin").password_hash or "")
    monkeypatch.setenv("SYNC_STUDIO_ADMIN_PASSWORD", "a rotated passphrase")
    assert not sign_in(ws, "admin", "the admin's passphrase", sleep=no_sleep([])).ok  # the environment rules
    assert sign_in(ws, "admin", "a rotated passphrase", sleep=no_sleep([])).ok


def test_single_sign_on_knows_people_by_email_and_the_admin_named_by_the_environment(ws, monkeypatch):
    refused = sign_in_by_email(ws, "stranger@example.com")
    assert not refused.ok and "Ask an admin" in refused.message
    monkeypatch.setenv("SYNC_STUDIO_ADMIN_EMAIL", "Boss@Example.com")
    boss = sign_in_by_email(ws, "boss@example.com")
    assert boss.ok and boss.actor.role is Role.ADMIN
    add_person(ws.acting_as(boss.actor), "Vera@Example.com", Role.VIEWER)
    vera = sign_in_by_email(ws, "vera@example.com")
    assert vera.ok and vera.actor.role is Role.VIEWER


def test_only_admins_manage_people_and_the_last_admin_stays(ws):
    add_person(ws, "ada", Role.ADMIN, password=PASSWORD)
    editor = ws.acting_as(Actor("eddie", Role.EDITOR))
    with pytest.raises(NotAllowed, match="manage who may sign in"):
        add_person(editor, "mallory", Role.ADMIN, password=PASSWORD)
    with pytest.raises(NotAllowed, match="last admin"):
        change_person(ws, "ada", role=Role.VIEWER)
    with pytest.raises(ValueError, match="at least 10"):
        add_person(ws, "short", Role.VIEWER, password="short")


def test_the_first_person_added_is_an_admin(ws):
    with pytest.raises(ValueError, match="first person added must be an admin"):
        add_person(ws, "vera", Role.VIEWER, password=PASSWORD)


def test_the_workspace_refuses_what_a_role_may_not_do_and_records_what_it_did(ws):
    viewer = ws.acting_as(Actor("vera", Role.VIEWER), address="198.51.100.7")
    with pytest.raises(NotAllowed, match=r"viewer\) cannot change the API key"):
        viewer.set_api_key("mlsk_" + "x" * 40)
    with pytest.raises(NotAllowed):
        viewer.save_config(ws.config())
    editor = ws.acting_as(Actor("eddie", Role.EDITOR))
    with pytest.raises(NotAllowed):
        editor.set_webhook_secret("partnero", "a-known-value")
    changed = ws.config().model_copy(deep=True)
    changed.connection.sandbox = not changed.connection.sandbox
    with pytest.raises(NotAllowed, match="connection"):
        editor.save_config(changed)
    version = editor.save_config(ws.config())
    assert ws.configs.get(version).author == "eddie"
    assert ws.actor is SYSTEM  # the shared workspace is untouched
    entry = ws.audit_log.recent(limit=1)[0]
    assert (entry.actor, entry.role, entry.action) == ("eddie", "editor", "config_saved")


@pytest.mark.parametrize(
    ("address", "client", "headers", "required"),
    [
        ("127.0.0.1", None, {}, False),
        ("localhost", None, {}, False),
        ("::1", None, {}, False),
        ("0.0.0.0", None, {}, True),
        (None, None, {}, True),  # Streamlit's default: every interface
        ("127.0.0.1", "192.0.2.4", {}, True),
        ("127.0.0.1", None, {"X-Forwarded-For": "192.0.2.4"}, True),
        ("127.0.0.1", None, {"Forwarded": "for=192.0.2.4"}, True),
    ],
)
def test_sign_in_is_needed_whenever_the_studio_is_served_to_others(address, client, headers, required):
    need = sign_in_need(
        server_address=address,
        client_address=client,
        headers=headers,
        admin_password_set=False,
        people_exist=False,
        single_sign_on=False,
    )
    assert need.required is required and need.reason


def test_viewers_may_view_and_export_but_not_bodies_unless_allowed():
    viewer = Actor("vera", Role.VIEWER)
    assert viewer.may(Permission.VIEW) and viewer.may(Permission.EXPORT)
    assert not viewer.may(Permission.EXPORT_BODIES) and not viewer.may(Permission.RUN_SYNC)
    assert Actor("vera", Role.VIEWER, may_export_bodies=True).may(Permission.EXPORT_BODIES)


def run_cli(monkeypatch, capsys, *args: str, stdin: str = "") -> tuple[int, str, str]:
    monkeypatch.setattr(sys, "stdin", io.StringIO(stdin))
    code = main(list(args))
    out, err = capsys.readouterr()
    return code, out, err


def test_the_command_line_manages_people_and_prints_the_audit_log(ws, monkeypatch, capsys):
    code, out, _ = run_cli(
        monkeypatch, capsys, "users", "add", "ada", "--role", "admin", "--password-stdin", stdin=PASSWORD + "\n"
    )
    assert code == 0 and "ada may sign in with their password, as admin" in out
    assert sign_in(ws, "ada", PASSWORD, sleep=no_sleep([])).ok  # the newline is not part of the password
    assert run_cli(monkeypatch, capsys, "users", "add", "vera", "--role", "viewer")[0] == 0
    code, out, _ = run_cli(monkeypatch, capsys, "users", "list", "--json")
    listed = {row["name"]: row for row in json.loads(out)}
    assert listed["vera"]["signs_in_with"] == "single sign-on" and listed["ada"]["role"] == "admin"
    code, _, err = run_cli(monkeypatch, capsys, "users", "remove", "ada")
    assert code == 2 and "last admin" in err and "Traceback" not in err
    assert run_cli(monkeypatch, capsys, "users", "set-role", "vera", "editor")[0] == 0
    code, out, _ = run_cli(monkeypatch, capsys, "audit", "--json")
    actions = [entry["action"] for entry in json.loads(out)]
    assert actions[:3] == ["user_changed", "user_added", "signed_in"] or actions[0] == "user_changed"
    assert "user_added" in actions and all(PASSWORD not in json.dumps(entry) for entry in json.loads(out))
