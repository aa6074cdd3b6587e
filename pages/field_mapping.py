"""Field mapping: per trigger, which events sync and which MailerLite fields they fill (an editable table), with
a type check against the account, one-click creation of missing fields, presets, import and export."""

from __future__ import annotations

import math
import re
from datetime import UTC, datetime
from functools import lru_cache
from typing import Any

import pandas as pd
import streamlit as st

from pages import draft, ui, widgets
from sync_core.domain.config import (
    ACTION_LABELS,
    LIFECYCLE_ACTIONS,
    VALUE_SOURCE_LABELS,
    ConfigError,
    FieldMapping,
    load_config,
)
from sync_core.domain.events import PARTNERO, PATH_HELP, RECORDS, SOURCE_LABELS, NormalizedEvent
from sync_core.domain.labels import (
    field_label,
    mailerlite_field_choices,
    mailerlite_field_label,
    template_label,
)
from sync_core.domain.mapping import check_value, suggest_by_name
from sync_core.domain.matching import EventTypeMatcher
from sync_core.domain.presets import PRESETS, load_preset
from sync_core.domain.transforms import FIELD_TYPES, SUBSCRIBER_ATTRIBUTES, TRANSFORMS
from sync_core.engine.account_checks import (
    account_fields,
    check_field,
    create_fields,
    interactive_client,
    missing_fields,
)
from sync_core.engine.samples import all_samples, known_event_types, sample_event

COLUMNS = [
    "target",
    "source",
    "value",
    "transform",
    "type",
    "default",
    "skip_if_empty",
    "only_if_empty",
    "clear_when_empty",
]
CHECKBOXES = ("skip_if_empty", "only_if_empty", "clear_when_empty")
#: What "only if empty" costs, said once on the page and in the column's help.
ONLY_IF_EMPTY_COST = (
    "To know, the sync reads the subscriber from MailerLite first: one lookup per contact whose value the studio "
    "does not know yet (inside a batch, so not an extra call of the 120 per minute); once known, no lookup."
)
SOURCE_BY_LABEL = {label: name for name, label in VALUE_SOURCE_LABELS.items()}
TRANSFORM_LABELS = {name: label for name, (label, _) in TRANSFORMS.items()}
TRANSFORM_BY_LABEL = {label: name for name, label in TRANSFORM_LABELS.items()}
ACTION_BY_LABEL = {label: name for name, label in ACTION_LABELS.items()}
STATUS_LABELS = {None: "as MailerLite decides", "active": "active", "unconfirmed": "unconfirmed"}
FIELD_KEY = re.compile(r"[a-z][a-z0-9_]{0,254}")
_SNAPSHOTS = "fm_snapshots"
#: The session key of the Advanced switch that shows paths and field keys in the tables.
RAW_VIEW = "fm_raw_view"


# --- sample events: what a trigger's fields are checked with and mapped by name from -----------------------------


@lru_cache(maxsize=1)
def _sample_events() -> tuple[tuple[str, NormalizedEvent], ...]:
    out = []
    for sample in all_samples():
        event = sample_event(sample)
        if isinstance(event, NormalizedEvent):
            out.append((sample.label, event))
    return tuple(out)


def trigger_samples(trigger: dict[str, Any]) -> list[tuple[str, NormalizedEvent]]:
    """The sample events this trigger syncs (its source, its event types), best first."""
    source = trigger.get("source")
    types = [t for t in trigger.get("event_types") or [] if isinstance(t, str)]
    if not types:
        return []
    matcher = EventTypeMatcher(types)
    return [
        (label, event)
        for label, event in _sample_events()
        if (source is None or event.source == source) and matcher.matches(event.type)
    ]


def source_paths(trigger: dict[str, Any]) -> list[str]:
    """The event fields the trigger's samples have (or every sample of its source), for picking and for
    mapping by name."""
    samples = trigger_samples(trigger) or [
        (label, event) for label, event in _sample_events() if event.source == (trigger.get("source") or event.source)
    ]
    paths: dict[str, None] = {}
    for _, event in samples:
        paths.update(dict.fromkeys(path for path, value in event.data.items() if not isinstance(value, (dict, list))))
    return list(paths)


# --- the table <-> the mappings ------------------------------------------------------------------------------------


class TableView:
    """How one trigger's table shows its rows: MailerLite fields by name and event fields by label, or (the
    Advanced switch) the raw keys and paths. The cells a person leaves alone keep their stored values."""

    def __init__(
        self,
        raw: bool,
        source: str | None,
        keys: tuple[str, ...],
        names: dict[str, str],
        paths: list[str],
    ):
        self.raw = raw
        self.source = source
        self.field_by_label = {key: key for key in keys} if raw else mailerlite_field_choices(list(keys), names)
        self.label_of_field = {key: label for label, key in self.field_by_label.items()}
        self.path_by_label: dict[str, str] = {}
        for path in paths:
            self.path_by_label.setdefault(field_label(source, path), path)
        self.signature = (raw, source, tuple(self.field_by_label), tuple(self.path_by_label))

    def target_cell(self, key: str | None) -> str | None:
        if not key:
            return None
        return self.label_of_field.get(key) or mailerlite_field_label(key)

    def target_key(self, cell: Any) -> str:
        text = (cell or "").strip()
        return self.field_by_label.get(text, text)

    def value_cell(self, mapping: dict[str, Any]) -> str | None:
        value = _display(mapping.get("value"))
        if self.raw or value is None:
            return value
        source = mapping.get("source") or "path"
        if source == "path":
            return field_label(self.source, value)
        if source == "template":
            return template_label(self.source, value)
        return value

    def value_of(self, cell: Any, source: str) -> Any:
        """A cell a person typed into: a label of an event field means its path; anything else is what it says."""
        if not self.raw and source == "path" and isinstance(cell, str) and cell.strip() in self.path_by_label:
            return self.path_by_label[cell.strip()]
        return cell


def _blank(value: Any) -> bool:
    if value is None:
        return True
    if isinstance(value, float) and math.isnan(value):
        return True
    try:
        return bool(pd.isna(value)) if not isinstance(value, (list, dict, str)) else False
    except (TypeError, ValueError):
        return False


def _cell(value: Any) -> Any:
    return None if _blank(value) else value


def _display(value: Any) -> str | None:
    if value is None:
        return None
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


def mappings_frame(mappings: list[dict[str, Any]], view: TableView) -> pd.DataFrame:
    rows = []
    for mapping in mappings:
        rows.append(
            {
                "target": view.target_cell(mapping.get("target")),
                "source": VALUE_SOURCE_LABELS.get(mapping.get("source") or "path", mapping.get("source")),
                "value": view.value_cell(mapping),
                "transform": TRANSFORM_LABELS.get(mapping.get("transform") or "none", mapping.get("transform")),
                "type": mapping.get("type") or "text",
                "default": _display(mapping.get("default")),
                "skip_if_empty": bool(mapping.get("skip_if_empty", False)),
                "only_if_empty": bool(mapping.get("only_if_empty", False)),
                "clear_when_empty": bool(mapping.get("clear_when_empty", False)),
            }
        )
    frame = pd.DataFrame(rows, columns=COLUMNS)
    for column in COLUMNS:
        if column not in CHECKBOXES:
            frame[column] = frame[column].astype(object)
    return frame


def frame_mappings(frame: pd.DataFrame, originals: list[dict[str, Any]], view: TableView) -> list[dict[str, Any]]:
    """The edited table back as mapping documents; untouched cells keep their original values exactly."""
    out = []
    for index, row in frame.iterrows():
        original = originals[index] if isinstance(index, int) and 0 <= index < len(originals) else {}
        cells = {column: _cell(row.get(column)) for column in COLUMNS}
        if original == {} and cells["target"] is None and cells["value"] is None:
            continue  # a row just added and still empty
        mapping = dict(original)
        if cells["target"] is not None and cells["target"] == view.target_cell(original.get("target")):
            mapping["target"] = original.get("target")
        else:
            mapping["target"] = view.target_key(cells["target"])
        mapping["source"] = SOURCE_BY_LABEL.get(cells["source"], cells["source"] or "path")
        value = cells["value"]
        if value is not None and original and value == view.value_cell(original):
            mapping["value"] = original.get("value")
        else:
            mapping["value"] = view.value_of(value, mapping["source"])
        default = cells["default"]
        if default is not None and default == _display(original.get("default")):
            mapping["default"] = original.get("default")
        else:
            mapping["default"] = default
        if mapping["source"] in ("event_time", "now"):
            mapping["value"] = None
        mapping["transform"] = TRANSFORM_BY_LABEL.get(cells["transform"], cells["transform"] or "none")
        mapping["type"] = cells["type"] or "text"
        mapping["skip_if_empty"] = bool(cells["skip_if_empty"])
        mapping["only_if_empty"] = bool(cells["only_if_empty"])
        mapping["clear_when_empty"] = bool(cells["clear_when_empty"])
        out.append(mapping)
    return out


def column_config(view: TableView) -> dict[str, Any]:
    cc = st.column_config
    if view.raw:
        target_help = "The key of the subscriber field this value goes into (Advanced view)."
        value_title = "Path, value or template"
        value_help = "For an event field, alternatives can be given as data.key | data.id. " + PATH_HELP
    else:
        target_help = (
            "The subscriber field this value goes into, by its name in MailerLite. A field the account does not "
            "have yet: “A field is not in the list?” below the tables."
        )
        value_title = "Event field or value"
        value_help = (
            "An event field by its name (e.g. Customer name, Total sales), a fixed value, or a template such as "
            "{data.name} {data.surname}. The paths behind the names are under Advanced, below the triggers."
        )
    return {
        "target": cc.SelectboxColumn(
            "MailerLite field",
            options=list(view.field_by_label),
            required=True,
            width=150,
            help=target_help,
        ),
        "source": cc.SelectboxColumn(
            "Value from",
            options=list(VALUE_SOURCE_LABELS.values()),
            default=VALUE_SOURCE_LABELS["path"],
            required=True,
            width=105,
            help="Event field: a value of the event; fixed value: the same for everyone; template: text with "
            "event fields in { }; event time; time of sync",
        ),
        "value": cc.TextColumn(value_title, width=170, help=value_help),
        "transform": cc.SelectboxColumn(
            "Change the value",
            options=list(TRANSFORM_LABELS.values()),
            default=TRANSFORM_LABELS["none"],
            required=True,
            width=135,
            help="An optional change before sending, such as cents → decimal or Title Case",
        ),
        "type": cc.SelectboxColumn(
            "Type",
            options=list(FIELD_TYPES),
            default="text",
            required=True,
            width=75,
            help="The MailerLite field type: text, number or date",
        ),
        "default": cc.TextColumn("Default value", width=105, help="Used when the event has no value"),
        "skip_if_empty": cc.CheckboxColumn(
            "Skip if empty",
            default=False,
            width=105,
            help="Send nothing for this field when the event has no value",
        ),
        "only_if_empty": cc.CheckboxColumn(
            "Only if empty",
            default=False,
            width=105,
            help="Only if empty in MailerLite: set the field only while the subscriber has no value there yet. "
            + ONLY_IF_EMPTY_COST,
        ),
        "clear_when_empty": cc.CheckboxColumn(
            "Clear when empty",
            default=False,
            width=125,
            help="When the event has no value, clear the field in MailerLite. Off, an empty value leaves "
            "what MailerLite holds as it is",
        ),
    }


def target_choices(fields: dict[str, str] | None, mappings: list[dict[str, Any]]) -> tuple[str, ...]:
    choices: dict[str, None] = {}
    choices.update(dict.fromkeys(sorted(fields or {})))
    choices.update(dict.fromkeys(m.get("target") for m in mappings if m.get("target")))
    choices.update(dict.fromkeys(st.session_state.get("fm_extra_targets", [])))
    choices.update(dict.fromkeys(SUBSCRIBER_ATTRIBUTES))
    return tuple(choices)


def label_source(trigger: dict[str, Any]) -> str | None:
    """The source whose words name the trigger's event fields: its own, or that of the events it syncs."""
    if trigger.get("source"):
        return trigger["source"]
    sources = {PARTNERO if event.source == RECORDS else event.source for _, event in trigger_samples(trigger)}
    return sources.pop() if len(sources) == 1 else None


def table_view(trigger: dict[str, Any], fields: dict[str, str] | None, names: dict[str, str]) -> TableView:
    return TableView(
        bool(st.session_state.get(RAW_VIEW, False)),
        label_source(trigger),
        target_choices(fields, trigger.get("fields") or []),
        names,
        source_paths(trigger),
    )


def mapping_table(uid: str, trigger: dict[str, Any], fields: dict[str, str] | None, names: dict[str, str]) -> None:
    """The trigger's mappings as an editable table. The table's input stays the same while its edits live in
    the widget, and is rebuilt from the draft when the widget is drawn afresh (so no edit is lost or doubled)."""
    mappings = trigger.setdefault("fields", [])
    snapshots: dict[str, dict[str, Any]] = st.session_state.setdefault(_SNAPSHOTS, {})
    snapshot = snapshots.get(uid)
    if snapshot is not None:
        wanted = table_view({**trigger, "fields": snapshot["originals"]}, fields, names)
    if (
        snapshot is None
        or snapshot["view"].signature != wanted.signature
        or snapshot.get("stale")
        or snapshot["key"] not in st.session_state
    ):
        revision = (snapshot["revision"] + 1) if snapshot else 1
        originals = [dict(m) for m in mappings]
        view = table_view(trigger, fields, names)
        snapshot = snapshots[uid] = {
            "revision": revision,
            "key": f"fm_{uid}_table_{revision}",
            "frame": mappings_frame(originals, view),
            "originals": originals,
            "view": view,
        }
    edited = st.data_editor(
        snapshot["frame"],
        key=snapshot["key"],
        num_rows="dynamic",
        hide_index=True,
        width="stretch",
        column_config=column_config(snapshot["view"]),
        placeholder="—",
    )
    trigger["fields"] = frame_mappings(edited, snapshot["originals"], snapshot["view"])


TYPE_CHECK_WORDS = {
    "ok": "Same type",
    "missing": "Not in MailerLite yet",
    "mismatch": "Type differs",
    "problem": "Problem",
    "unknown": "Not checked",
}


def checks_table(trigger: dict[str, Any], fields: dict[str, str] | None, names: dict[str, str]) -> None:
    """Each row tried on a sample event the trigger syncs, in words, and checked against the account's fields."""
    mappings = trigger.get("fields") or []
    if not mappings:
        st.caption("No fields mapped yet: add a row to the table (the + under it), or use **Map by name**.")
        return
    samples = trigger_samples(trigger)
    example = samples[0] if samples else None
    now = datetime.now(UTC)
    rows = []
    for mapping in mappings:
        check = check_field(mapping.get("target"), mapping.get("type"), fields)
        value_words, shown = _value_words(mapping, example[1] if example else None, now)
        in_mailerlite = TYPE_CHECK_WORDS[check.status]
        if check.status not in ("ok", "unknown"):
            in_mailerlite = f"{in_mailerlite}: {check.message}"
        elif check.status == "ok" and check.target in SUBSCRIBER_ATTRIBUTES:
            in_mailerlite = "A subscriber detail"
        rows.append(
            {
                "MailerLite field": mailerlite_field_label(check.target, names) if check.target else "—",
                "Example value": shown,
                "Value check": value_words,
                "In MailerLite": in_mailerlite,
            }
        )
    if example:
        st.caption(f"Checked with the sample event “{example[0]}”.")
    else:
        st.caption("No sample event of these event types to check the values with; the types are still checked.")
    if fields is None:
        st.caption("Type check skipped: the account cannot be read (see the Connection page).")
    elif all(check_field(m.get("target"), m.get("type"), fields).ok for m in mappings):
        st.caption(
            f":green[:material/check_circle:] Type check: all {len(mappings)} fields exist in MailerLite "
            "with the same type."
        )
    st.dataframe(
        rows,
        hide_index=True,
        width="stretch",
        column_config={
            "MailerLite field": st.column_config.TextColumn(width="small"),
            "Example value": st.column_config.TextColumn(width="small"),
            "Value check": st.column_config.TextColumn(width="large"),
            "In MailerLite": st.column_config.TextColumn(width="large"),
        },
    )


def _value_words(mapping: dict[str, Any], event: NormalizedEvent | None, now: datetime) -> tuple[str, str]:
    """The value check of one row in words, and the example value it gives."""
    try:
        checked = FieldMapping.model_validate(mapping)
    except Exception:  # noqa: BLE001 - an incomplete row: said in words, the table lists what is missing
        return "Not checked yet: complete the row", "—"
    if event is None:
        return "No example to check with", "—"
    result = check_value(checked, event, now)
    shown = "—" if result.value is None else (_display(result.value) or "—")
    return result.words, shown


# --- callbacks -----------------------------------------------------------------------------------------------------


def _add_trigger(ws) -> None:
    triggers = draft.document(ws).setdefault("triggers", [])
    names = {t.get("name") for t in triggers}
    number = len(triggers) + 1
    while f"New trigger {number}" in names:
        number += 1
    triggers.append(
        {
            "name": f"New trigger {number}",
            "enabled": True,
            "source": None,
            "event_types": [],
            "action": "upsert",
            "subscriber_status": None,
            "fields": [],
        }
    )
    st.session_state["fm_open"] = len(triggers) - 1


def _remove_trigger(ws, index: int) -> None:
    triggers = draft.document(ws).setdefault("triggers", [])
    if 0 <= index < len(triggers):
        name = triggers[index].get("name") or f"#{index + 1}"
        del triggers[index]
        draft.remove_uid("triggers", index)
        widgets.flash("info", f"The trigger “{name}” was removed (save to make it final, or discard to undo).")


def _add_target() -> None:
    name = (st.session_state.get("fm_new_target") or "").strip()
    if not FIELD_KEY.fullmatch(name):
        widgets.flash(
            "error",
            f"{name!r} is not a MailerLite field key: use lower-case letters, digits and _ "
            "(e.g. last_purchase_amount).",
        )
        return
    extra = st.session_state.setdefault("fm_extra_targets", [])
    if name not in extra:
        extra.append(name)
    st.session_state["fm_new_target"] = ""
    widgets.flash(
        "success",
        f"{name} can now be chosen in the MailerLite field column. “Create missing fields” adds it to the account.",
    )


def _map_by_name(ws, index: int, uid: str, fields: dict[str, str], names: dict[str, str]) -> None:
    """Adds a row for each account field an event field of the trigger is named like (and not mapped yet)."""
    triggers = draft.document(ws).setdefault("triggers", [])
    if not 0 <= index < len(triggers):
        return
    trigger = triggers[index]
    mappings = trigger.setdefault("fields", [])
    source = label_source(trigger)
    suggested = suggest_by_name(
        source_paths(trigger),
        fields,
        names,
        mapped=[m.get("target") for m in mappings if m.get("target")],
        label=lambda path: field_label(source, path),
    )
    if not suggested:
        widgets.flash(
            "info",
            "Map by name found nothing new: no event field of this trigger is named like a MailerLite field "
            "that is not mapped yet.",
        )
        return
    mappings.extend(suggested)
    snapshot = st.session_state.get(_SNAPSHOTS, {}).get(uid)
    if snapshot is not None:
        snapshot["stale"] = True  # the table is drawn afresh with the new rows
    pairs = ", ".join(
        f"{mailerlite_field_label(m['target'], names)} ← {field_label(source, m['value'])}" for m in suggested
    )
    widgets.flash("success", f"Mapped by name: {pairs}. Check the rows, then save.")


def _create_missing(ws, wanted: dict[str, str]) -> None:
    try:
        with interactive_client(ws, draft.working_connection(ws)) as client:
            result = create_fields(client, wanted)
    except Exception as exc:  # noqa: BLE001
        widgets.flash("error", f"The fields could not be created: {_plain(exc)}")
        return
    ui.refresh_account()
    if result.created:
        widgets.flash("success", f"Created in MailerLite: {', '.join(result.created)}.")
    if result.problems:
        widgets.flash("error", "Some fields could not be created:\n" + "\n".join(f"- {p}" for p in result.problems))


def _plain(exc: BaseException) -> str:
    """A failure in a sentence: MailerLite's own (``plain``), or what to do."""
    return getattr(exc, "plain", None) or "MailerLite could not be reached; check the Connection page and try again."


def _ask_preset() -> None:
    st.session_state["fm_confirm_preset"] = st.session_state.get("fm_preset")


def _load_preset(ws, name: str) -> None:
    st.session_state.pop("fm_confirm_preset", None)
    try:
        version = draft.load_preset_now(ws, name)
    except Exception as exc:  # noqa: BLE001
        widgets.flash("error", f"The preset could not be loaded: {_plain(exc)}")
        return
    widgets.flash("success", f"The preset “{load_preset(name).name}” is loaded and saved as version {version}.")


def _cancel_preset() -> None:
    st.session_state.pop("fm_confirm_preset", None)


def _import(ws, document: bytes, file_name: str) -> None:
    try:
        config = load_config(document)
    except ConfigError as exc:
        widgets.flash("error", "Nothing was imported:\n" + "\n".join(f"- {p}" for p in exc.problems))
        return
    draft.keep_connection(ws, config)
    version = ws.save_config(config, author=draft.author(), comment=f"Imported {file_name}")
    draft.replace(ws, config.model_dump(mode="json"))
    st.session_state["fm_import_round"] = st.session_state.get("fm_import_round", 0) + 1
    widgets.flash("success", f"{file_name} is imported and saved as version {version}.")


# --- sections ------------------------------------------------------------------------------------------------------


def presets_import_export(ws) -> None:
    presets, importing, exporting = st.tabs(["Load a preset", "Import", "Export"], key="fm_tools")
    with presets:
        st.caption("Start from a configuration that reproduces a source's own MailerLite integration.")
        left, right = st.columns([3, 1], vertical_alignment="bottom")
        left.selectbox(
            "Preset",
            list(PRESETS),
            key="fm_preset",
            persist_state="session",
            format_func=lambda name: f"{load_preset(name).name} — {PRESETS[name][1]}",
        )
        right.button("Load preset…", on_click=_ask_preset, key="fm_preset_ask", icon=":material/download:")
        pending = st.session_state.get("fm_confirm_preset")
        if pending:
            extra = " Your unsaved changes will be lost." if draft.is_dirty() else ""
            st.warning(
                f"Load “{load_preset(pending).name}”? It replaces the field mapping, the group rules and the "
                "sources, and is saved as a new version; older versions stay in the history. Your connection "
                f"settings (default group, sandbox, address) are kept.{extra}"
            )
            yes, no = st.columns([1, 5])
            yes.button("Yes, load it", type="primary", key="fm_preset_yes", on_click=_load_preset, args=(ws, pending))
            no.button("Cancel", key="fm_preset_no", on_click=_cancel_preset)
    with importing:
        st.caption(
            "A configuration exported from this studio (JSON). It is checked first; nothing changes "
            "when it has problems."
        )
        upload = st.file_uploader(
            "Configuration file", type=["json"], key=f"fm_import_{st.session_state.get('fm_import_round', 0)}"
        )
        if upload is not None:
            data = upload.getvalue()
            try:
                config = load_config(data)
            except ConfigError as exc:
                widgets.show_problems(f"{upload.name} cannot be imported; nothing was changed:", exc.problems)
            else:
                st.info(
                    f"{upload.name} is valid: “{config.name or 'unnamed'}”, {len(config.triggers)} triggers, "
                    f"{len(config.group_rules)} group rules. Importing replaces the whole configuration and "
                    "saves it as a new version."
                )
                st.button(
                    "Replace my configuration with this file",
                    type="primary",
                    key="fm_import_go",
                    on_click=_import,
                    args=(ws, data, upload.name),
                )
    with exporting:
        current = ws.active_config()
        st.caption(
            "The configuration as one JSON document, without any key or secret: safe to share or to keep "
            "in version control."
        )
        version = current.version_id or 0
        st.download_button(
            "Download the configuration (JSON)",
            data=current.config.to_json(),
            file_name=f"mailerlite-sync-config-v{version}.json",
            mime="application/json",
            icon=":material/file_download:",
            on_click="ignore",
            key="fm_export",
        )
        if draft.is_dirty():
            st.caption("This is the saved version; save first to include your unsaved changes.")


def missing_fields_panel(ws, doc: dict, fields: dict[str, str] | None) -> None:
    if fields is None:
        return
    wanted = missing_fields(doc, fields)
    if not wanted:
        return
    listed = ", ".join(f"**{mailerlite_field_label(key)}** ({kind})" for key, kind in wanted.items())
    with st.container(border=True):
        st.markdown(
            f":orange[:material/add_circle:] {len(wanted)} mapped field"
            f"{'s are' if len(wanted) != 1 else ' is'} not in MailerLite yet: {listed}"
        )
        st.button(
            "Create missing fields",
            type="primary",
            icon=":material/playlist_add:",
            key="fm_create_missing",
            on_click=_create_missing,
            args=(ws, wanted),
            help="Creates each field in the account with the type chosen here",
        )


def trigger_settings(uid: str, trigger: dict[str, Any]) -> None:
    c1, c2, c3 = st.columns([3, 2, 1], vertical_alignment="bottom")
    draft.seed(f"fm_{uid}_name", trigger.get("name") or "")
    trigger["name"] = c1.text_input("Trigger name", key=f"fm_{uid}_name")
    sources = [None, *SOURCE_LABELS]
    source = trigger.get("source") if trigger.get("source") in sources else None
    draft.seed(f"fm_{uid}_source", source)
    trigger["source"] = c2.selectbox(
        "Source",
        sources,
        key=f"fm_{uid}_source",
        placeholder="any source",
        format_func=lambda s: "any source" if s is None else SOURCE_LABELS[s],
    )
    draft.seed(f"fm_{uid}_enabled", bool(trigger.get("enabled", True)))
    trigger["enabled"] = c3.toggle("Enabled", key=f"fm_{uid}_enabled")

    c4, c5, c6 = st.columns([3, 1, 1])
    current = [t for t in trigger.get("event_types") or [] if isinstance(t, str)]
    options = list(dict.fromkeys(current + known_event_types(trigger["source"])))
    draft.seed(f"fm_{uid}_types", current)
    trigger["event_types"] = c4.multiselect(
        "Event types",
        options,
        key=f"fm_{uid}_types",
        accept_new_options=True,
        placeholder="Choose event types, or type one (e.g. partner.*)",
        help="The events this trigger syncs. Type a pattern such as partner.* for every partner event, or a "
        "custom type, and press Enter.",
    )
    action = trigger.get("action") if trigger.get("action") in ACTION_LABELS else "upsert"
    draft.seed(f"fm_{uid}_action", ACTION_LABELS[action])
    chosen = c5.selectbox(
        "Action",
        list(ACTION_BY_LABEL),
        key=f"fm_{uid}_action",
        help="Create or update: add new subscribers and update known ones. Update only: never create. "
        "Unsubscribe, Remove from the studio's groups, Delete from MailerLite: change the subscriber's place in "
        "MailerLite, never create anyone, and send no fields. Ignore: these events are not synced. Forget (GDPR): "
        "MailerLite is asked to forget the subscriber and the studio erases the contact, keeping only a hashed "
        "tombstone.",
    )
    trigger["action"] = ACTION_BY_LABEL.get(chosen or "", action)
    status = trigger.get("subscriber_status") if trigger.get("subscriber_status") in STATUS_LABELS else None
    draft.seed(f"fm_{uid}_status", status)
    trigger["subscriber_status"] = c6.selectbox(
        "New subscribers' status",
        list(STATUS_LABELS),
        key=f"fm_{uid}_status",
        format_func=STATUS_LABELS.get,
        placeholder=STATUS_LABELS[None],
    )


#: What each lifecycle action does, in a marketer's words (shown instead of the fields table).
LIFECYCLE_WORDS = {
    "unsubscribe": "These events **unsubscribe** the subscriber in MailerLite (their status becomes unsubscribed; "
    "the studio sends them nothing more until they subscribe again through a form or the app).",
    "remove_groups": "These events take the subscriber **out of every group the studio manages** (the default "
    "group and the groups of the group rules); the other groups of the account are left alone.",
    "delete": "These events **delete** the subscriber from MailerLite. A later *Create or update* event creates "
    "them again, with everything that event says.",
}


def lifecycle_note(action: str, trigger: dict[str, Any]) -> None:
    """What a lifecycle action does, and that it sends no fields and never creates anyone."""
    st.info(
        LIFECYCLE_WORDS[action] + " Nobody is created: a subscriber MailerLite does not have is left alone, and "
        "these events fill no field.",
        icon=":material/person_remove:",
    )
    if trigger.get("fields"):
        st.warning(
            f"{ACTION_LABELS[action]} sends no fields: remove the field mappings below, or choose "
            "Create or update / Update only.",
            icon=":material/warning:",
        )


def triggers_section(ws, doc: dict, fields: dict[str, str] | None, names: dict[str, str]) -> None:
    triggers = doc.setdefault("triggers", [])
    ids = draft.uids("triggers", len(triggers))
    if not triggers:
        st.info("No triggers yet: nothing syncs. Add a trigger, or load a preset above.", icon=":material/info:")
    opened = st.session_state.pop("fm_open", None)
    for index, (uid, trigger) in enumerate(zip(ids, triggers)):
        # The label uses the widgets' newest values (they are drawn inside it, after it).
        name = st.session_state.get(f"fm_{uid}_name", trigger.get("name")) or "(unnamed trigger)"
        chosen = st.session_state.get(f"fm_{uid}_types", trigger.get("event_types")) or []
        types = ", ".join(t for t in chosen if isinstance(t, str)) or "no event types yet"
        count = len(trigger.get("fields") or [])
        enabled = st.session_state.get(f"fm_{uid}_enabled", trigger.get("enabled", True))
        state = "" if enabled else " (disabled)"
        icon = ":material/bolt:" if enabled else ":material/pause_circle:"
        label = f"**{name}**{state} · {types} · {count} field{'s' if count != 1 else ''}"
        with st.expander(label, expanded=index == opened or index == 0, key=f"fm_{uid}_open", icon=icon):
            trigger_settings(uid, trigger)
            if trigger.get("action") in LIFECYCLE_ACTIONS:
                lifecycle_note(trigger["action"], trigger)
            if trigger.get("action") not in LIFECYCLE_ACTIONS or trigger.get("fields"):
                head, button = st.columns([4, 1], vertical_alignment="bottom")
                head.markdown("**Fields**")
                button.button(
                    "Map by name",
                    key=f"fm_{uid}_by_name",
                    icon=":material/auto_fix_high:",
                    on_click=_map_by_name,
                    args=(ws, index, uid, fields or {}, names),
                    disabled=fields is None,
                    help="Adds a row for each MailerLite field that a field of this trigger's events is named "
                    "like (Name, City, Total sales…), when it is not mapped yet",
                )
                mapping_table(uid, trigger, fields, names)
                checks_table(trigger, fields, names)
            st.button(
                "Remove this trigger",
                key=f"fm_{uid}_remove",
                icon=":material/delete:",
                type="tertiary",
                on_click=_remove_trigger,
                args=(ws, index),
            )
    left, right = st.columns([1, 2], vertical_alignment="bottom")
    left.button("Add a trigger", icon=":material/add:", key="fm_add_trigger", on_click=_add_trigger, args=(ws,))
    with right.popover("A field is not in the list?", icon=":material/help:"):
        st.text_input("New MailerLite field key", key="fm_new_target", placeholder="e.g. last_purchase_amount")
        st.button("Add to the choices", key="fm_add_target", on_click=_add_target)
    advanced_section(triggers)


def advanced_section(triggers: list[dict[str, Any]]) -> None:
    """The paths and keys behind the names the tables show, and the switch that shows them in the tables."""
    with st.expander("Advanced: event paths and field keys", icon=":material/code:", key="fm_advanced"):
        st.toggle(
            "Show paths and field keys in the tables",
            key=RAW_VIEW,
            help="Edit the raw event paths (data.customer.name) and MailerLite field keys instead of their names",
        )
        st.caption(PATH_HELP)
        rows = [
            {
                "Trigger": trigger.get("name") or "",
                "Action": trigger.get("action") or "",
                "MailerLite field key": mapping.get("target") or "",
                "Value from": mapping.get("source") or "path",
                "Path, value or template": _display(mapping.get("value")) or "",
            }
            for trigger in triggers
            for mapping in trigger.get("fields") or []
        ]
        if rows:
            st.dataframe(rows, hide_index=True, width="stretch")


def main() -> None:
    st.title("Field mapping")
    st.caption(
        "Which events sync, and which MailerLite fields they fill. Edit the tables, then **Save**: every "
        "save is a new version, and older ones are kept. An empty value never erases what MailerLite holds "
        "unless its row says **Clear when empty**. **Only if empty** means empty in MailerLite. " + ONLY_IF_EMPTY_COST
    )
    ws = ui.workspace()
    if ws is None:
        return
    widgets.show_flash()
    draft.config_problem(ws, "field_mapping")
    doc = draft.document(ws)
    report = ui.account_report(ws)
    fields = account_fields(report)
    names = {item.key: item.name for item in report.fields} if report.ok else {}
    if not report.ok:
        st.warning(
            f"The account's fields cannot be read, so the type checks are skipped. {report.summary()}",
            icon=":material/cloud_off:",
        )
    presets_import_export(ws)
    st.subheader("Triggers", divider="gray")
    panel = st.container()
    triggers_section(ws, doc, fields, names)
    with panel:  # drawn after the tables, so that it lists the fields as they are now
        missing_fields_panel(ws, doc, fields)
    draft.save_bar(ws, "field_mapping")
    draft.version_history(ws, "field_mapping")


ui.page_guard("pages/field_mapping.py")
main()
