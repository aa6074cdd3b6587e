"""What the pages share besides the draft and the widgets: the workspace, the way into the navigation, the
account's health, and the addresses senders post webhooks to.

Not a page (it is not listed in the navigation). Logic lives in ``sync_core``; this module only keeps state in
``st.session_state`` and caches. The configuration being edited is in ``pages.draft``, the messages and other
small shared pieces in ``pages.widgets``, the sidebar in ``pages.sidebar``.
"""

from __future__ import annotations

import hashlib
import logging
import threading
from pathlib import Path
from urllib.parse import urlsplit

import streamlit as st

from pages.access import PAGE_PERMISSIONS
from pages.draft import working_connection
from sync_core.domain.access import NOBODY, Actor, Permission
from sync_core.domain.config import ConnectionSettings
from sync_core.domain.messages import plain_message
from sync_core.engine.account_checks import check_connection
from sync_core.engine.workspace import Workspace, default_location
from sync_core.live.receiver import WEBHOOK_PATHS
from sync_core.mailerlite import ConnectionReport
from sync_core.settings import get_settings

log = logging.getLogger("sync_studio.dashboard")


# --- navigation --------------------------------------------------------------------------------------------------

_navigation = threading.local()  # each script run has its own thread


class inside_navigation:
    """Marks the pages run by dashboard.py's ``st.navigation`` (``with ui.inside_navigation(): nav.run()``)."""

    def __enter__(self) -> None:
        _navigation.active = True

    def __exit__(self, *exc: object) -> None:
        _navigation.active = False


def enter(actor: Actor, address: str = "") -> None:
    """In dashboard.py, once the door let someone in: the pages of this run act as ``actor``."""
    _navigation.actor = actor
    _navigation.address = address


def actor() -> Actor:
    """Who this run acts as (nobody, who may do nothing, until dashboard.py's door let someone in)."""
    return getattr(_navigation, "actor", None) or NOBODY


def may(permission: Permission) -> bool:
    return actor().may(permission)


def page_guard(path: str, permission: Permission | None = None) -> None:
    """Send a page opened on its own back through dashboard.py, and refuse it to a role that may not open it.

    Because of the ``pages/`` folder, a server that has just started runs in Streamlit's legacy multipage mode
    until dashboard.py first calls ``st.navigation``; a page opened by its address in that moment would run
    alone, without the navigation and the sidebar. It goes through dashboard.py instead, which opens it."""
    if not getattr(_navigation, "active", False):
        st.session_state["ui_wanted_page"] = path
        st.switch_page("dashboard.py")
    permission = permission or PAGE_PERMISSIONS.get(path)
    if permission is not None and not may(permission):
        st.error(f"Your role ({actor().role.value}) cannot open this page.", icon=":material/block:")
        st.stop()


def open_wanted_page() -> None:
    """In dashboard.py, after ``st.navigation``: open the page that was asked for before it ran."""
    wanted = st.session_state.pop("ui_wanted_page", None)
    if wanted:
        st.switch_page(wanted)


# --- the workspace -----------------------------------------------------------------------------------------------


@st.cache_resource(show_spinner=False)
def _open_workspace(directory: str, url: str) -> Workspace:
    return Workspace.at(Path(directory), url)


def workspace() -> Workspace | None:
    """This installation's workspace (the data directory and database come from the environment), acting as
    the person signed in, or ``None`` with the reason shown when it cannot be opened."""
    base = shared_workspace()
    return base.acting_as(actor(), address=getattr(_navigation, "address", "")) if base is not None else None


def shared_workspace() -> Workspace | None:
    """The process's one workspace, acting as the studio itself: for the door, which decides who acts."""
    try:
        directory, url = default_location()
        return _open_workspace(str(directory), url)
    except Exception as exc:  # noqa: BLE001 - shown in plain words instead of a traceback
        log.exception("the workspace could not be opened")
        st.error(
            f"The studio's storage cannot be opened: {plain_message(exc)}. Check DATABASE_URL and "
            "SYNC_STUDIO_DATA_DIR.",
            icon=":material/database:",
        )
        return None


# --- the account and its health ----------------------------------------------------------------------------------


def _account_token(ws: Workspace, connection: ConnectionSettings) -> str:
    """Identifies the account a report belongs to, without the key itself, and the newest run that ended: a
    run from this page, the worker or the command line changes the counts, so the next look asks again."""
    try:
        key = ws.api_key()
    except Exception:  # noqa: BLE001 - an unreadable key: its own cache entry, the report says why
        key = "unreadable"
    sandbox = ws.uses_sandbox(connection) if key != "unreadable" else connection.sandbox
    who = "sandbox" if sandbox else hashlib.sha256((key or "").encode()).hexdigest()[:16]
    base = ws.base_url(connection)
    try:
        last_run = ws.runs.latest_finished_id()
    except Exception:  # noqa: BLE001 - the database cannot be read: the report is still worth showing
        last_run = None
    return f"{ws.directory}|{ws.database.url}|{who}|{base}|run {last_run}"


@st.cache_data(ttl=300, show_spinner=False, max_entries=32)
def _cached_report(token: str, _ws: Workspace, connection_json: str) -> ConnectionReport:
    connection = ConnectionSettings.model_validate_json(connection_json)
    return check_connection(_ws, connection)


def connection_report(
    ws: Workspace, connection: ConnectionSettings | None = None, *, refresh: bool = False
) -> ConnectionReport:
    """*Test connection* for these settings (the saved ones by default), cached for five minutes."""
    if connection is None:
        connection = ws.active_config().config.connection
    if refresh:
        _cached_report.clear()
    return _cached_report(_account_token(ws, connection), ws, connection.model_dump_json())


def refresh_account() -> None:
    """Forget the cached account reports (after a key change, or creating fields or groups)."""
    _cached_report.clear()


def account_report(ws: Workspace, *, refresh: bool = False) -> ConnectionReport:
    """The account the pages work with: the one the connection settings being edited point at."""
    return connection_report(ws, working_connection(ws), refresh=refresh)


# --- webhooks ----------------------------------------------------------------------------------------------------


def public_base_url() -> str:
    """Where senders reach this process: ``SYNC_STUDIO_PUBLIC_URL``, else the address the browser uses."""
    configured = get_settings().public_url
    if configured:
        return configured.rstrip("/")
    try:
        url = st.context.url
    except Exception:  # noqa: BLE001
        url = None
    if url:
        parts = urlsplit(url)
        if parts.scheme and parts.netloc:
            return f"{parts.scheme}://{parts.netloc}"
    try:
        host = st.context.headers.get("Host") if st.context.headers else None
    except Exception:  # noqa: BLE001
        host = None
    if host:
        return f"http://{host}"
    port = st.get_option("server.port") or 8501
    return f"http://localhost:{port}"


def webhook_url(source: str) -> str:
    return public_base_url() + WEBHOOK_PATHS[source]


def own_server_url() -> str:
    """This process's own server as this machine reaches it (the webhook routes are served beside the pages):
    where *Send a test event* posts, whatever the public address says."""
    address = (st.get_option("server.address") or "127.0.0.1").strip()
    if address in ("", "0.0.0.0", "::", "localhost"):
        address = "127.0.0.1"
    host = f"[{address}]" if ":" in address else address
    return f"http://{host}:{st.get_option('server.port') or 8501}"
