"""What the pages share: the workspace, the account's health, the configuration being edited, and plain errors.

Not a page (it is not listed in the navigation). Logic lives in ``sync_core``; this module only keeps state in
``st.session_state`` and draws the common parts.

The configuration being edited (the *draft*) is one JSON document in the session, based on a saved version.
Every Setup page edits it; nothing is saved until a Save button is pressed, and every save is a new version.
Moving between pages keeps the draft, because widgets are seeded from it whenever they are drawn afresh.
"""

from __future__ import annotations

import copy
import hashlib
import json
import logging
import os
import threading
from collections.abc import Iterable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import streamlit as st

from storage import Database, data_dir, database_url
from sync_core.domain.config import ConfigError, ConnectionSettings, SyncConfig, load_config
from sync_core.domain.presets import PRESETS, load_preset
from sync_core.engine.account_checks import check_connection
from sync_core.engine.workspace import ActiveConfig, Workspace
from sync_core.live.receiver import WEBHOOK_PATHS
from sync_core.mailerlite import ConnectionReport

log = logging.getLogger("sync_studio.dashboard")

PUBLIC_URL_ENV = "SYNC_STUDIO_PUBLIC_URL"
SECTION_LABELS = {
    "connection": "connection",
    "sources": "sources",
    "triggers": "field mapping",
    "group_rules": "group rules",
    "name": "name",
}

_DRAFT = "ui_draft"
_UIDS = "ui_uids"
_FLASH = "ui_flash"


# --- navigation --------------------------------------------------------------------------------------------------

_navigation = threading.local()  # each script run has its own thread


class inside_navigation:
    """Marks the pages run by dashboard.py's ``st.navigation`` (``with ui.inside_navigation(): nav.run()``)."""

    def __enter__(self) -> None:
        _navigation.active = True

    def __exit__(self, *exc: object) -> None:
        _navigation.active = False


def page_guard(path: str) -> None:
    """Send a page opened on its own back through dashboard.py.

    Because of the ``pages/`` folder, a server that has just started runs in Streamlit's legacy multipage mode
    until dashboard.py first calls ``st.navigation``; a page opened by its address in that moment would run
    alone, without the navigation and the sidebar. It goes through dashboard.py instead, which opens it."""
    if not getattr(_navigation, "active", False):
        st.session_state["ui_wanted_page"] = path
        st.switch_page("dashboard.py")


def open_wanted_page() -> None:
    """In dashboard.py, after ``st.navigation``: open the page that was asked for before it ran."""
    wanted = st.session_state.pop("ui_wanted_page", None)
    if wanted:
        st.switch_page(wanted)


# --- the workspace -----------------------------------------------------------------------------------------------


@st.cache_resource(show_spinner=False)
def _open_workspace(directory: str, url: str) -> Workspace:
    return Workspace(Database(url), directory=Path(directory))


def workspace() -> Workspace | None:
    """This installation's workspace (the data directory and database come from the environment), or ``None``
    with the reason shown when it cannot be opened."""
    try:
        return _open_workspace(str(data_dir()), database_url())
    except Exception as exc:  # noqa: BLE001 - shown in plain words instead of a traceback
        log.exception("the workspace could not be opened")
        st.error(
            f"The studio's storage cannot be opened: {exc}. Check DATABASE_URL and SYNC_STUDIO_DATA_DIR.",
            icon=":material/database:",
        )
        return None


def active(ws: Workspace) -> ActiveConfig:
    return ws.active_config()


# --- messages ----------------------------------------------------------------------------------------------------


def flash(level: str, message: str) -> None:
    """A message shown once, on the next run (for callbacks, which run before the page is drawn)."""
    st.session_state.setdefault(_FLASH, []).append((level, message))


def show_flash() -> None:
    for level, message in st.session_state.pop(_FLASH, []):
        {"success": st.success, "error": st.error, "warning": st.warning}.get(level, st.info)(message)


def show_problems(title: str, problems: Iterable[str], *, level: str = "error") -> None:
    items = [p for p in problems if p]
    text = title + ("\n" + "\n".join(f"- {p}" for p in items) if items else "")
    (st.error if level == "error" else st.warning)(text)


def plain_error(action: str, exc: BaseException) -> None:
    """An unexpected failure of ``action`` in plain words (the details go to the log, never to the page)."""
    log.exception("dashboard action failed: %s", action)
    message = str(exc).strip() or type(exc).__name__
    st.error(f"Could not {action}: {message}")


# --- the account and its health ----------------------------------------------------------------------------------


def _account_token(ws: Workspace, connection: ConnectionSettings) -> str:
    """Identifies the account a report belongs to, without the key itself."""
    try:
        key = ws.api_key()
    except Exception:  # noqa: BLE001 - an unreadable key: its own cache entry, the report says why
        key = "unreadable"
    sandbox = ws.uses_sandbox(connection) if key != "unreadable" else connection.sandbox
    who = "sandbox" if sandbox else hashlib.sha256((key or "").encode()).hexdigest()[:16]
    base = os.environ.get("MAILERLITE_BASE_URL") or connection.base_url
    return f"{ws.directory}|{ws.database.url}|{who}|{base}"


@st.cache_data(ttl=300, show_spinner=False, max_entries=32)
def _cached_report(token: str, _ws: Workspace, connection_json: str) -> ConnectionReport:
    connection = ConnectionSettings.model_validate_json(connection_json)
    return check_connection(_ws, connection)


def connection_report(
    ws: Workspace, connection: ConnectionSettings | None = None, *, refresh: bool = False
) -> ConnectionReport:
    """*Test connection* for these settings (the saved ones by default), cached for five minutes."""
    if connection is None:
        connection = active(ws).config.connection
    if refresh:
        _cached_report.clear()
    return _cached_report(_account_token(ws, connection), ws, connection.model_dump_json())


def refresh_account() -> None:
    """Forget the cached account reports (after a key change, or creating fields or groups)."""
    _cached_report.clear()


def working_connection(ws: Workspace) -> ConnectionSettings:
    """The connection settings being edited when they are valid, else the saved ones."""
    doc = draft(ws)
    try:
        return ConnectionSettings.model_validate(doc.get("connection") or {})
    except Exception:  # noqa: BLE001
        return active(ws).config.connection


def account_report(ws: Workspace, *, refresh: bool = False) -> ConnectionReport:
    """The account the pages work with: the one the connection settings being edited point at."""
    return connection_report(ws, working_connection(ws), refresh=refresh)


# --- the configuration being edited --------------------------------------------------------------------------------


def _normalized(document: dict[str, Any]) -> dict[str, Any]:
    """The document as it would be saved (defaults filled in, text trimmed), or as it is while invalid."""
    try:
        return load_config(document).model_dump(mode="json")
    except ConfigError:
        return document


def _canonical(document: dict[str, Any]) -> str:
    return json.dumps(_normalized(document), sort_keys=True, default=str)


def draft(ws: Workspace) -> dict[str, Any]:
    """The configuration document being edited (mutable, kept in the session), based on the version in force."""
    current = active(ws)
    state = st.session_state.get(_DRAFT)
    if state is None or state.get("data_dir") != str(ws.directory):
        _start_draft(current)
        return st.session_state[_DRAFT]["doc"]
    if state["base"] != current.version_id:
        if not is_dirty():
            _start_draft(current)
        else:
            state["newer"] = current.version_id
    return st.session_state[_DRAFT]["doc"]


def _start_draft(current: ActiveConfig, document: dict[str, Any] | None = None) -> None:
    saved = current.config.model_dump(mode="json")
    directory = str(data_dir())
    st.session_state[_DRAFT] = {
        "base": current.version_id,
        "saved": saved,
        "data_dir": directory,
        "doc": copy.deepcopy(document if document is not None else saved),
        "newer": None,
        "epoch": epoch() + 1,
    }
    st.session_state[_UIDS] = {}


def epoch() -> int:
    """Changes whenever the draft is replaced as a whole, so that widgets bound to it are drawn afresh."""
    return int((st.session_state.get(_DRAFT) or {}).get("epoch", 0))


def key(name: str) -> str:
    """A widget key bound to the current draft."""
    return f"{name}@{epoch()}"


def replace_draft(ws: Workspace, document: dict[str, Any]) -> None:
    """Replace the whole draft (widgets are drawn afresh from it)."""
    _start_draft(active(ws), document)


def discard_draft(ws: Workspace) -> None:
    _start_draft(active(ws))


def is_dirty() -> bool:
    state = st.session_state.get(_DRAFT)
    return bool(state) and _canonical(state["doc"]) != _canonical(state["saved"])


def dirty_sections() -> list[str]:
    """Which parts of the configuration the unsaved changes touch, in words."""
    state = st.session_state.get(_DRAFT)
    if not state:
        return []
    saved, doc = _normalized(state["saved"]), _normalized(state["doc"])
    if json.dumps(saved, sort_keys=True, default=str) == json.dumps(doc, sort_keys=True, default=str):
        return []
    return [
        label
        for section, label in SECTION_LABELS.items()
        if json.dumps(saved.get(section), sort_keys=True, default=str)
        != json.dumps(doc.get(section), sort_keys=True, default=str)
    ]


def validate_draft(ws: Workspace) -> tuple[SyncConfig | None, list[str]]:
    try:
        return load_config(draft(ws)), []
    except ConfigError as exc:
        return None, exc.problems


def working_config(ws: Workspace) -> tuple[SyncConfig, bool]:
    """The configuration to preview with: the draft when it is valid (True), else the saved one (False)."""
    config, _ = validate_draft(ws)
    if config is not None:
        return config, True
    return active(ws).config, False


def author() -> str:
    name = st.session_state.get("ui_author") or ""
    if name.strip():
        return name.strip()
    try:
        email = st.user.get("email")
    except Exception:  # noqa: BLE001 - no sign-in configured
        email = None
    return str(email or "dashboard")


def _save_callback(ws: Workspace, comment_key: str) -> None:
    state = st.session_state.get(_DRAFT)
    if not state:
        return
    try:
        config = load_config(state["doc"])
    except ConfigError as exc:
        flash("error", "This configuration cannot be saved:\n" + "\n".join(f"- {p}" for p in exc.problems))
        return
    comment = (st.session_state.get(comment_key) or "").strip()
    try:
        version = ws.save_config(config, author=author(), comment=comment)
    except Exception as exc:  # noqa: BLE001
        log.exception("saving the configuration failed")
        flash("error", f"The configuration could not be saved: {exc}")
        return
    state["base"] = version
    state["saved"] = config.model_dump(mode="json")
    state["newer"] = None
    st.session_state[comment_key] = ""
    flash("success", f"Saved as version {version}. It is the configuration in force now.")


def _discard_callback(ws: Workspace) -> None:
    discard_draft(ws)
    flash("info", "Your unsaved changes were discarded.")


def save_bar(ws: Workspace, page: str) -> None:
    """Unsaved changes, problems that block saving, a comment, Save and Discard."""
    state = st.session_state.get(_DRAFT) or {}
    current = active(ws)
    config, problems = validate_draft(ws)
    dirty = is_dirty()
    with st.container(border=True):
        if state.get("newer") and dirty:
            st.warning(
                f"Version {state['newer']} was saved elsewhere since you started editing. Saving now makes "
                "your version the newest one; discard your changes to start from it instead."
            )
        if not dirty:
            where = f"version {current.version_id}" if current.version_id else "nothing saved yet"
            st.caption(f":material/check_circle: No unsaved changes ({where}).")
            return
        sections = dirty_sections()
        st.markdown(
            f":orange-badge[:material/edit: Unsaved changes] "
            f"{'in ' + ', '.join(sections) if sections else ''} — saved only when you press **Save**."
        )
        if problems:
            show_problems("Fix these before saving:", problems)
        comment_key = f"ui_comment_{page}"
        left, right = st.columns([3, 2])
        left.text_input(
            "What changed? (optional, shown in the history)",
            key=comment_key,
            placeholder="e.g. added the premium group",
        )
        right.text_input("Your name (optional)", key="ui_author", persist_state="session")
        buttons = st.container(horizontal=True)
        buttons.button(
            "Save",
            type="primary",
            icon=":material/save:",
            key=f"ui_save_{page}",
            disabled=config is None,
            on_click=_save_callback,
            args=(ws, comment_key),
        )
        buttons.button(
            "Discard changes", icon=":material/undo:", key=f"ui_discard_{page}", on_click=_discard_callback, args=(ws,)
        )


def config_problem(ws: Workspace, page: str) -> None:
    """When the newest saved version cannot be read: say why, and offer a preset to start again."""
    current = active(ws)
    if not current.problem:
        return
    st.error(
        f"The saved configuration (version {current.version_id}) cannot be used, so an empty one is in force "
        f"until you save a new version.\n\n{current.problem}",
        icon=":material/error:",
    )
    columns = st.columns(len(PRESETS))
    for column, name in zip(columns, PRESETS):
        column.button(
            f"Start again from the “{load_preset(name).name}” preset",
            key=f"ui_fix_{page}_{name}",
            on_click=_load_preset_callback,
            args=(ws, name),
        )


def _load_preset_callback(ws: Workspace, name: str) -> None:
    config = load_preset(name)
    version = ws.save_config(config, author=author(), comment=f"Loaded the preset {config.name}")
    _start_draft(active(ws))
    flash("success", f"The preset “{config.name}” is now the configuration in force (version {version}).")


def load_preset_now(ws: Workspace, name: str) -> int:
    config = load_preset(name)
    version = ws.save_config(config, author=author(), comment=f"Loaded the preset {config.name}")
    _start_draft(active(ws))
    return version


# --- stable keys for lists being edited ----------------------------------------------------------------------------


def uids(kind: str, count: int) -> list[str]:
    """Stable ids for the items of one list in the draft (triggers, rules, a rule's conditions), so that each
    item's widgets keep their state when another item is added or removed."""
    registry: dict[str, list[str]] = st.session_state.setdefault(_UIDS, {})
    items = registry.setdefault(kind, [])
    while len(items) < count:
        items.append(_new_uid())
    del items[count:]
    return items


def _new_uid() -> str:
    number = st.session_state.get("ui_uid_counter", 0) + 1
    st.session_state["ui_uid_counter"] = number
    return f"u{number}"


def remove_uid(kind: str, index: int) -> None:
    registry: dict[str, list[str]] = st.session_state.setdefault(_UIDS, {})
    items = registry.get(kind, [])
    if 0 <= index < len(items):
        del items[index]


def seed(key: str, value: Any) -> None:
    """Give a widget its value from the draft when it is drawn afresh (first visit, or back from another page)."""
    if key not in st.session_state:
        st.session_state[key] = value


# --- versions ----------------------------------------------------------------------------------------------------


def when(moment: datetime | None) -> str:
    if moment is None:
        return "—"
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    seconds = (datetime.now(UTC) - moment).total_seconds()
    if seconds < 60:
        ago = "just now"
    elif seconds < 3600:
        ago = f"{int(seconds // 60)} min ago"
    elif seconds < 86400:
        ago = f"{int(seconds // 3600)} h ago"
    else:
        ago = f"{int(seconds // 86400)} days ago"
    return f"{moment:%Y-%m-%d %H:%M} UTC ({ago})"


def version_history(ws: Workspace, page: str) -> None:
    """The saved versions (who, when, why), with a way to bring an older one back."""
    versions = ws.configs.versions(limit=50)
    with st.expander(
        f"Version history ({len(versions)}{'+' if len(versions) == 50 else ''} saved)",
        icon=":material/history:",
        key=f"ui_history_{page}",
    ):
        if not versions:
            st.caption("Nothing saved yet. Every save will appear here, and older versions are always kept.")
            return
        rows = [
            {
                "Version": v.id,
                "Saved": when(v.created_at),
                "By": v.author or "—",
                "Comment": v.comment or "—",
                "Name": (v.document or {}).get("name") or "—",
            }
            for v in versions
        ]
        st.dataframe(rows, hide_index=True, width="stretch")
        ids = [v.id for v in versions[1:]]
        if ids:
            left, right = st.columns([2, 3], vertical_alignment="bottom")
            chosen = left.selectbox(
                "Bring back an older version", ids, key=f"ui_restore_pick_{page}", format_func=lambda i: f"version {i}"
            )
            right.button(
                "Restore it (saved as a new version)",
                key=f"ui_restore_{page}",
                on_click=_restore_callback,
                args=(ws, chosen),
            )


def _restore_callback(ws: Workspace, version_id: int) -> None:
    row = ws.configs.get(version_id)
    if row is None:
        flash("error", f"Version {version_id} no longer exists.")
        return
    try:
        config = load_config(row.document)
    except ConfigError as exc:
        flash("error", f"Version {version_id} cannot be restored:\n" + "\n".join(f"- {p}" for p in exc.problems))
        return
    version = ws.save_config(config, author=author(), comment=f"Restored version {version_id}")
    _start_draft(active(ws))
    flash("success", f"Version {version_id} is back in force, saved as version {version}.")


# --- the sidebar -------------------------------------------------------------------------------------------------


def _refresh_callback() -> None:
    refresh_account()


def sidebar(ws: Workspace) -> None:
    """Which account is connected, its health, and the configuration version in force."""
    current = active(ws)
    config = current.config
    st.markdown("**MailerLite account**")
    try:
        key_hint, key_source = ws.api_key_hint(), ws.api_key_source()
        sandbox = ws.uses_sandbox(config.connection)
    except Exception as exc:  # noqa: BLE001
        key_hint, key_source, sandbox = None, None, config.connection.sandbox
        st.error(f"The stored API key cannot be read: {exc}")
    if sandbox:
        st.badge("Sandbox", icon=":material/science:", color="orange")
        why = "switched on" if config.connection.sandbox else "no MailerLite API key is set"
        st.caption(f"The built-in sandbox account answers like MailerLite ({why}); nothing reaches MailerLite.")
    else:
        st.badge("MailerLite", icon=":material/mail:", color="green")
        source = " (from the environment)" if key_source == "environment" else ""
        st.caption(f"API key {key_hint or '—'}{source}")
    report = connection_report(ws, config.connection)
    if report.ok:
        st.markdown(
            f":green[:material/check_circle: Connected] · {report.subscriber_count or 0:,} subscribers, "
            f"{len(report.groups)} groups, {len(report.fields)} fields"
        )
    else:
        st.markdown(f":red[:material/error: Not connected]  \n{report.problem}")
    st.button(
        "Check again", icon=":material/refresh:", key="ui_sidebar_refresh", on_click=_refresh_callback, type="tertiary"
    )
    st.divider()
    st.markdown("**Configuration in force**")
    if current.version_id is None:
        st.caption("Nothing saved yet: an empty configuration is in force.")
    elif current.problem:
        st.markdown(f":red[:material/error: Version {current.version_id} cannot be read]")
    else:
        latest = ws.configs.get(current.version_id)
        saved = f" · saved {when(latest.created_at)}" if latest else ""
        by = f" by {latest.author}" if latest and latest.author else ""
        name = f" — {config.name}" if config.name else ""
        st.caption(f"Version {current.version_id}{name}{saved}{by}")
    if is_dirty():
        sections = dirty_sections()
        st.markdown(
            ":orange-badge[:material/edit: Unsaved changes]" + (f"  \n{', '.join(sections)}" if sections else "")
        )


# --- webhooks ----------------------------------------------------------------------------------------------------


def public_base_url() -> str:
    """Where senders reach this process: ``SYNC_STUDIO_PUBLIC_URL``, else the address the browser uses."""
    configured = os.environ.get(PUBLIC_URL_ENV)
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
