"""Who may do what: the three roles, what each may do, and when the dashboard must ask people to sign in.

Pure: the pages ask it which pages and buttons to draw, and the workspace asks it again before it changes
anything (``Workspace.require``), so a rule holds even when a widget is bypassed.
"""

from __future__ import annotations

import ipaddress
from dataclasses import dataclass
from enum import StrEnum


class Role(StrEnum):
    ADMIN = "admin"
    EDITOR = "editor"
    VIEWER = "viewer"


class Permission(StrEnum):
    MANAGE_SECRETS = "manage_secrets"  # the API key, webhook signing secrets, the MailerLite webhook
    MANAGE_CONNECTION = "manage_connection"  # the sandbox switch, the API address
    MANAGE_USERS = "manage_users"
    VIEW_AUDIT = "view_audit"
    EDIT_CONFIG = "edit_config"  # mapping, rules, default group, sources
    RUN_SYNC = "run_sync"  # a sync, a dry run, an import, a comparison with MailerLite and its repair
    RETRY = "retry"
    FORGET = "forget"
    USE_SANDBOX_TOOLS = "use_sandbox_tools"
    EXPORT = "export"
    EXPORT_BODIES = "export_bodies"  # exports with the requests' bodies (emails and values sent)
    VIEW = "view"  # Monitor and Preview


ROLE_LABELS = {Role.ADMIN: "Admin", Role.EDITOR: "Editor", Role.VIEWER: "Viewer"}
ROLE_HELP = {
    Role.ADMIN: "everything: the connection, the API key, webhook secrets, people and the audit log",
    Role.EDITOR: "mapping, group rules, preview, syncs and retries; not the connection or its secrets",
    Role.VIEWER: "the Monitor and Preview only; exports without the requests' bodies unless allowed",
}

_EDITOR = frozenset(
    {
        Permission.EDIT_CONFIG,
        Permission.RUN_SYNC,
        Permission.RETRY,
        Permission.FORGET,
        Permission.USE_SANDBOX_TOOLS,
        Permission.EXPORT,
        Permission.EXPORT_BODIES,
        Permission.VIEW,
    }
)
ROLE_PERMISSIONS: dict[Role, frozenset[Permission]] = {
    Role.ADMIN: frozenset(Permission),
    Role.EDITOR: _EDITOR,
    Role.VIEWER: frozenset({Permission.VIEW, Permission.EXPORT}),
}

#: What a refusal says the role cannot do, in a marketer's words.
DOING = {
    Permission.MANAGE_SECRETS: "change the API key or the webhook signing secrets",
    Permission.MANAGE_CONNECTION: "change the connection to MailerLite",
    Permission.MANAGE_USERS: "manage who may sign in",
    Permission.VIEW_AUDIT: "read the audit log",
    Permission.EDIT_CONFIG: "change the mapping, the group rules or the sources",
    Permission.RUN_SYNC: "start a sync, a dry run, an import or a comparison",
    Permission.RETRY: "retry contacts",
    Permission.FORGET: "forget a contact",
    Permission.USE_SANDBOX_TOOLS: "use the sandbox tools",
    Permission.EXPORT: "export data",
    Permission.EXPORT_BODIES: "export the requests sent to MailerLite",
    Permission.VIEW: "open the studio",
}


class NotAllowed(PermissionError):
    """An actor tried something its role does not allow; the message is safe to show."""


@dataclass(frozen=True, slots=True)
class Actor:
    """Who is acting: a signed-in person, the local user of an unshared dashboard, or the studio itself (the
    command line and the worker, run by whoever owns the data directory)."""

    name: str
    role: Role
    kind: str = "user"  # "user", "local" or "system"
    may_export_bodies: bool = False  # a viewer allowed to export the requests' bodies

    def may(self, permission: Permission) -> bool:
        if self.kind == "nobody":
            return False
        if permission is Permission.EXPORT_BODIES and self.may_export_bodies:
            return True
        return permission in ROLE_PERMISSIONS[self.role]

    def require(self, permission: Permission) -> None:
        if not self.may(permission):
            raise NotAllowed(f"Your role ({self.role.value}) cannot {DOING[permission]}. Ask an admin.")

    @property
    def label(self) -> str:
        return f"{self.name} ({self.role.value})"


SYSTEM = Actor("command line", Role.ADMIN, kind="system")
LOCAL_ADMIN = Actor("local user", Role.ADMIN, kind="local")
#: Before the door let anyone in: may do nothing.
NOBODY = Actor("nobody", Role.VIEWER, kind="nobody")


# --- when sign-in is needed --------------------------------------------------------------------------------------


def is_loopback(address: str | None) -> bool:
    """Whether a listening or client address is this machine only (``localhost``, 127.0.0.0/8, ``::1``)."""
    if not address:
        return False
    host = address.strip().strip("[]")
    if host.lower() == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


PROXY_HEADERS = ("x-forwarded-for", "forwarded", "x-real-ip", "x-forwarded-host")


@dataclass(frozen=True, slots=True)
class SignInNeed:
    """Whether this page view must be signed in, and why (said on the sign-in page)."""

    required: bool
    reason: str


def sign_in_need(
    *,
    server_address: str | None,
    client_address: str | None,
    headers: dict[str, str],
    admin_password_set: bool,
    people_exist: bool,
    single_sign_on: bool,
) -> SignInNeed:
    """Sign-in is required as soon as it is set up (a password, people, single sign-on), and whenever the
    dashboard is served to other machines: a listening address that is not loopback (an unset one means every
    interface), a visitor from another address, or a request through a reverse proxy."""
    if admin_password_set or people_exist or single_sign_on:
        return SignInNeed(True, "sign-in is set up")
    if not is_loopback(server_address):
        return SignInNeed(True, f"the studio listens on {server_address or 'every network interface'}")
    if client_address and not is_loopback(client_address):
        return SignInNeed(True, "this page was opened from another machine")
    lowered = {name.lower() for name in headers}
    if any(name in lowered for name in PROXY_HEADERS):
        return SignInNeed(True, "this page was opened through a proxy")
    return SignInNeed(False, "the studio is only reachable from this machine")


__all__ = [
    "Actor",
    "LOCAL_ADMIN",
    "NOBODY",
    "NotAllowed",
    "Permission",
    "ROLE_HELP",
    "ROLE_LABELS",
    "ROLE_PERMISSIONS",
    "Role",
    "SYSTEM",
    "SignInNeed",
    "is_loopback",
    "sign_in_need",
]
