"""The configuration being edited (the *draft*): one JSON document in the session, based on a saved version.

Every Setup page edits it; nothing is saved until a Save button is pressed, and every save is a new version.
Moving between pages keeps the draft, because widgets are seeded from it whenever they are drawn afresh. Here
too: the widget keys and list ids bound to the draft, the save bar, the version history and the presets.

Not a page (it is not listed in the navigation).
"""

from __future__ import annotations

import copy
import json
import logging
from typing import Any

import streamlit as st

from pages.widgets import flash, show_problems, when
from sync_core.domain.access import Permission
from sync_core.domain.config import ConfigError, ConnectionSettings, SyncConfig, load_config
from sync_core.domain.presets import PRESETS, load_preset
from sync_core.engine.workspace import Workspace

log = logging.getLogger("sync_studio.dashboard")

SECTION_LABELS = {
    "connection": "connection",
    "sources": "sources",
    "triggers": "field mapping",
    "group_rules": "group rules",
    "name": "name",
}

_DRAFT = "ui_draft"
_UIDS = "ui_uids"


# --- the document ------------------------------------------------------------------------------------------------


def _normalized(document: dict[str, Any]) -> dict[str, Any]:
    """The document as it would be saved (defaults filled in, text trimmed), or as it is while invalid."""
    try:
        return load_config(document).model_dump(mode="json")
    except ConfigError:
        return document


def _canonical(document: dict[str, Any]) -> str:
    return json.dumps(_normalized(document), sort_keys=True, default=str)


def document(ws: Workspace) -> dict[str, Any]:
    """The configuration document being edited (mutable, kept in the session), based on the version in force."""
    current = ws.active_config()
    state = st.session_state.get(_DRAFT)
    if state is None or state.get("data_dir") != str(ws.directory):
        _start(ws)
        return st.session_state[_DRAFT]["doc"]
    if state["base"] != current.version_id:
        if not is_dirty():
            _start(ws)
        else:
            state["newer"] = current.version_id
    return st.session_state[_DRAFT]["doc"]


def _start(ws: Workspace, document: dict[str, Any] | None = None) -> None:
    """A new draft based on the version in force (``document`` instead of it, when given)."""
    current = ws.active_config()
    saved = current.config.model_dump(mode="json")
    st.session_state[_DRAFT] = {
        "base": current.version_id,
        "saved": saved,
        "data_dir": str(ws.directory),
        "doc": copy.deepcopy(document if document is not None else saved),
        "newer": None,
        "epoch": epoch() + 1,
    }
    st.session_state[_UIDS] = {}


def replace(ws: Workspace, document: dict[str, Any]) -> None:
    """Replace the whole draft (widgets are drawn afresh from it)."""
    _start(ws, document)


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


def validate(ws: Workspace) -> tuple[SyncConfig | None, list[str]]:
    try:
        return load_config(document(ws)), []
    except ConfigError as exc:
        return None, exc.problems


def working_config(ws: Workspace) -> tuple[SyncConfig, bool]:
    """The configuration to preview with: the draft when it is valid (True), else the saved one (False)."""
    config, _ = validate(ws)
    if config is not None:
        return config, True
    return ws.active_config().config, False


def working_connection(ws: Workspace) -> ConnectionSettings:
    """The connection settings being edited when they are valid, else the saved ones."""
    doc = document(ws)
    try:
        return ConnectionSettings.model_validate(doc.get("connection") or {})
    except Exception:  # noqa: BLE001
        return ws.active_config().config.connection


# --- widgets bound to the draft ----------------------------------------------------------------------------------


def epoch() -> int:
    """Changes whenever the draft is replaced as a whole, so that widgets bound to it are drawn afresh."""
    return int((st.session_state.get(_DRAFT) or {}).get("epoch", 0))


def key(name: str) -> str:
    """A widget key bound to the current draft."""
    return f"{name}@{epoch()}"


def seed(key: str, value: Any) -> None:
    """Give a widget its value from the draft when it is drawn afresh (first visit, or back from another page)."""
    if key not in st.session_state:
        st.session_state[key] = value


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


# --- saving ------------------------------------------------------------------------------------------------------


def keep_connection(ws: Workspace, config: SyncConfig) -> None:
    """For someone who may not change the connection (an editor), the connection in force stays whatever the
    version they save, restore or import says."""
    if not ws.actor.may(Permission.MANAGE_CONNECTION):
        config.connection = _saved_connection(ws)


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
    keep_connection(ws, config)
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
    _start(ws)
    flash("info", "Your unsaved changes were discarded.")


def save_bar(ws: Workspace, page: str) -> None:
    """Unsaved changes, problems that block saving, a comment, Save and Discard."""
    state = st.session_state.get(_DRAFT) or {}
    current = ws.active_config()
    config, problems = validate(ws)
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


# --- presets and versions ----------------------------------------------------------------------------------------


def config_problem(ws: Workspace, page: str) -> None:
    """When the newest saved version cannot be read: say why, and offer a preset to start again."""
    current = ws.active_config()
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
    version = load_preset_now(ws, name)
    flash("success", f"The preset “{config.name}” is now the configuration in force (version {version}).")


def load_preset_now(ws: Workspace, name: str) -> int:
    """Save the preset as the version in force and start a draft from it; returns its version number. The
    connection settings in force (default group, sandbox, address) are kept: a preset is about what syncs, not
    where to."""
    config = load_preset(name)
    config.connection = _saved_connection(ws)
    version = ws.save_config(config, author=author(), comment=f"Loaded the preset {config.name}")
    _start(ws)
    return version


def _saved_connection(ws: Workspace) -> ConnectionSettings:
    """The connection settings of the newest saved version; when that version cannot be read as a whole, its
    connection part alone if it can, else the defaults."""
    current = ws.active_config()
    if not current.problem:
        return current.config.connection.model_copy(deep=True)
    latest = ws.configs.latest()
    raw = (latest.document or {}).get("connection") if latest is not None else None
    try:
        return ConnectionSettings.model_validate(raw) if isinstance(raw, dict) else ConnectionSettings()
    except ValueError:
        return ConnectionSettings()


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
    keep_connection(ws, config)
    version = ws.save_config(config, author=author(), comment=f"Restored version {version_id}")
    _start(ws)
    flash("success", f"Version {version_id} is back in force, saved as version {version}.")
