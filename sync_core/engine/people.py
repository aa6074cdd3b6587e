"""Signing in and the people who may: passwords checked against argon2 hashes, failed attempts slowed down and
recorded, sessions that expire, single sign-on people matched by email, and the first admin from
``SYNC_STUDIO_ADMIN_PASSWORD``.

The dashboard keeps only a session token; every page view asks ``session_actor`` again, so signing out,
removing a person or changing their password ends their sessions at once.
"""

from __future__ import annotations

import hmac
import secrets
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError

from storage.people import PersonRow
from storage.tables import utcnow
from sync_core.domain.access import Actor, NotAllowed, Permission, Role
from sync_core.engine.workspace import Workspace
from sync_core.settings import get_settings, revealed

_HASHER = PasswordHasher()
#: Failed sign-ins counted over this window; from the third on each answer waits longer, and at the tenth the
#: name (and the address) is refused outright until the window has passed.
FAILURE_WINDOW = timedelta(minutes=15)
SLOW_AFTER = 3
LOCK_AFTER = 10
MAX_DELAY_SECONDS = 8.0
MIN_PASSWORD_LENGTH = 10
WRONG = "The user name or the password is not right."


def hash_password(password: str) -> str:
    return _HASHER.hash(password)


def _matches(password_hash: str | None, password: str) -> bool:
    if not password_hash:
        return False
    try:
        return _HASHER.verify(password_hash, password)
    except (VerificationError, InvalidHashError):
        return False


def password_problem(password: str) -> str | None:
    """Why a new password cannot be used, or ``None``."""
    if len(password) < MIN_PASSWORD_LENGTH:
        return f"A password needs at least {MIN_PASSWORD_LENGTH} characters."
    if password.strip() != password:
        return "A password cannot start or end with a space."
    return None


def actor_of(person: PersonRow) -> Actor:
    try:
        role = Role(person.role)
    except ValueError:
        role = Role.VIEWER
    return Actor(person.name, role, kind="user", may_export_bodies=person.may_export_bodies)


# --- signing in ----------------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class SignInResult:
    actor: Actor | None
    token: str | None
    message: str  # what the sign-in page says

    @property
    def ok(self) -> bool:
        return self.actor is not None


def delay_for(failures: int) -> float:
    """How long an answer waits after ``failures`` recent failed sign-ins: 0, then 1, 2, 4, 8 seconds."""
    if failures < SLOW_AFTER - 1:
        return 0.0
    return min(2.0 ** (failures - (SLOW_AFTER - 1)), MAX_DELAY_SECONDS)


def _admin_from_environment(ws: Workspace, name: str, password: str) -> bool:
    """The first admin: ``SYNC_STUDIO_ADMIN_PASSWORD`` for ``SYNC_STUDIO_ADMIN_USER``. Its hash is kept (so the
    People list shows them), never the password."""
    settings = get_settings()
    expected = revealed(settings.admin_password)
    if not expected or name != settings.admin_user:
        return False
    if not hmac.compare_digest(expected.encode("utf-8"), password.encode("utf-8")):
        return False
    person = ws.people.get(name)
    if person is None or person.role != Role.ADMIN or not _matches(person.password_hash, password):
        ws.people.put(name, role=Role.ADMIN.value, password_hash=hash_password(password))
    return True


def sign_in(
    ws: Workspace,
    name: str,
    password: str,
    *,
    address: str = "",
    sleep: Callable[[float], None] = time.sleep,
    now: datetime | None = None,
) -> SignInResult:
    """Check a user name and password; a success starts a session that lasts ``SYNC_STUDIO_SESSION_HOURS``."""
    name = name.strip()
    now = now or utcnow()
    failures = ws.audit_log.failures("sign_in_failed", actor=name, address=address, since=now - FAILURE_WINDOW)
    if failures >= LOCK_AFTER:
        ws.audit_log.record(
            "sign_in_failed", actor=name, address=address, detail={"reason": "too many failed sign-ins"}
        )
        minutes = int(FAILURE_WINDOW.total_seconds() // 60)
        return SignInResult(None, None, f"Too many failed sign-ins. Try again in {minutes} minutes.")
    settings = get_settings()
    if settings.admin_password is not None and name == settings.admin_user:
        # The environment's admin: only SYNC_STUDIO_ADMIN_PASSWORD counts, so changing it retires the old one.
        person = ws.people.get(name) if _admin_from_environment(ws, name, password) else None
    else:
        person = ws.people.get(name) if name else None
        if person is not None and not _matches(person.password_hash, password):
            person = None
    if person is None:
        ws.audit_log.record("sign_in_failed", actor=name, address=address, detail={"reason": "wrong name or password"})
        sleep(delay_for(failures + 1))
        return SignInResult(None, None, WRONG)
    actor = actor_of(person)
    token = _start_session(ws, actor, address=address, method="password", now=now)
    return SignInResult(actor, token, f"Signed in as {actor.name}.")


def sign_in_by_email(ws: Workspace, email: str, *, address: str = "", now: datetime | None = None) -> SignInResult:
    """A person signed in by single sign-on (``st.login``): known by their email, or the admin named by
    ``SYNC_STUDIO_ADMIN_EMAIL``; anyone else is told to ask an admin."""
    email = email.strip().lower()
    person = ws.people.get(email) if email else None
    admin_email = (get_settings().admin_email or "").strip().lower()
    if person is None and email and admin_email and hmac.compare_digest(email, admin_email):
        person = ws.people.put(email, role=Role.ADMIN.value)
    if person is None:
        ws.audit_log.record("sign_in_failed", actor=email, address=address, detail={"reason": "not a known person"})
        return SignInResult(
            None, None, f"{email or 'This account'} may not use this studio yet. Ask an admin to add you."
        )
    actor = actor_of(person)
    token = _start_session(ws, actor, address=address, method="single sign-on", now=now or utcnow())
    return SignInResult(actor, token, f"Signed in as {actor.name}.")


def _start_session(ws: Workspace, actor: Actor, *, address: str, method: str, now: datetime) -> str:
    token = secrets.token_urlsafe(32)
    hours = get_settings().session_hours
    ws.people.start_session(token, actor.name, now + timedelta(hours=hours))
    ws.audit_log.record(
        "signed_in", actor=actor.name, role=actor.role.value, address=address, detail={"method": method}
    )
    return token


def session_actor(ws: Workspace, token: str | None) -> Actor | None:
    """Who a session token belongs to now (``None``: expired, signed out, or the person was removed)."""
    if not token:
        return None
    person = ws.people.session_person(token)
    return actor_of(person) if person else None


def sign_out(ws: Workspace, token: str | None) -> None:
    if not token:
        return
    person = ws.people.session_person(token)
    ws.people.end_session(token)
    if person is not None:
        ws.audit_log.record("signed_out", actor=person.name, role=person.role, address=ws.address)


def sign_in_set_up() -> bool:
    """Whether a password sign-in exists without any person stored yet: the environment's first admin."""
    return revealed(get_settings().admin_password) is not None


# --- people --------------------------------------------------------------------------------------------------


def add_person(
    ws: Workspace, name: str, role: Role, *, password: str | None = None, may_export_bodies: bool = False
) -> PersonRow:
    """Add someone who may sign in: with a password, or (no password) by single sign-on with this email."""
    ws.require(Permission.MANAGE_USERS)
    name = name.strip()
    if not name:
        raise ValueError("Give the person a user name (or their email, for single sign-on).")
    if len(name) > 200:
        raise ValueError("A user name has at most 200 characters.")
    if ws.people.get(name) is not None:
        raise ValueError(f"{name} can already sign in; change their role or password instead.")
    if role is not Role.ADMIN and ws.people.count() == 0 and not sign_in_set_up():
        raise ValueError(
            "The first person added must be an admin (you), so that someone can sign in and manage the others."
        )
    if password is not None:
        problem = password_problem(password)
        if problem:
            raise ValueError(problem)
    else:
        name = name.lower()
    person = ws.people.put(
        name,
        role=role.value,
        password_hash=hash_password(password) if password is not None else None,
        may_export_bodies=may_export_bodies,
    )
    ws.audit("user_added", name, role=role.value, password=password is not None)
    return person


def change_person(
    ws: Workspace,
    name: str,
    *,
    role: Role | None = None,
    password: str | None = None,
    may_export_bodies: bool | None = None,
) -> PersonRow:
    ws.require(Permission.MANAGE_USERS)
    person = ws.people.get(name)
    if person is None:
        raise ValueError(f"No one called {name} can sign in.")
    if role is not None and role is not Role.ADMIN and person.role == Role.ADMIN.value:
        _keep_an_admin(ws, name)
    if password is not None:
        problem = password_problem(password)
        if problem:
            raise ValueError(problem)
    changed = ws.people.put(
        name,
        role=role.value if role is not None else None,
        password_hash=hash_password(password) if password is not None else None,
        may_export_bodies=may_export_bodies,
    )
    what = {
        key: value
        for key, value in (
            ("role", role.value if role else None),
            ("password", "changed" if password is not None else None),
            ("may_export_bodies", may_export_bodies),
        )
        if value is not None
    }
    ws.audit("user_changed", name, **what)
    return changed


def remove_person(ws: Workspace, name: str) -> None:
    ws.require(Permission.MANAGE_USERS)
    person = ws.people.get(name)
    if person is None:
        raise ValueError(f"No one called {name} can sign in.")
    if person.role == Role.ADMIN.value:
        _keep_an_admin(ws, name)
    ws.people.remove(name)
    ws.audit("user_removed", name)


def _keep_an_admin(ws: Workspace, leaving: str) -> None:
    admins = [person for person in ws.people.all() if person.role == Role.ADMIN.value and person.name != leaving]
    if not admins and not sign_in_set_up():
        raise NotAllowed(f"{leaving} is the last admin; make someone else an admin first.")


__all__ = [
    "SignInResult",
    "WRONG",
    "actor_of",
    "add_person",
    "change_person",
    "delay_for",
    "hash_password",
    "password_problem",
    "remove_person",
    "session_actor",
    "sign_in",
    "sign_in_by_email",
    "sign_out",
    "sign_in_set_up",
]
