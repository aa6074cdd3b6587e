"""Group rules: which MailerLite groups contacts join (or leave), built from conditions on the event's fields,
with the groups that will be created and how many known contacts each rule matches now."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

import streamlit as st

from pages import draft, ui, widgets
from sync_core.domain.config import (
    GROUP_TEMPLATE_HELP,
    LIST_OPERATORS,
    NO_VALUE_OPERATORS,
    NUMBER_OPERATORS,
    OPERATOR_LABELS,
    RULE_MODE_LABELS,
    GroupRule,
    SyncConfig,
)
from sync_core.domain.labels import field_label
from sync_core.engine.account_checks import (
    account_groups,
    create_groups,
    group_name_example,
    interactive_client,
    missing_groups,
)
from sync_core.engine.rule_counts import RuleCounts, rule_match_summary
from sync_core.engine.samples import known_event_types, known_paths

MODE_HELP = {
    "add_only": "Contacts join the group when the conditions hold and are never taken out by the studio "
    "(e.g. Referred Customers, Churned).",
    "membership": "Contacts join when the conditions hold and leave when they stop holding (e.g. Active "
    "Partners). Only events in the rule's scope decide, so other events never remove anyone.",
}


# --- counts --------------------------------------------------------------------------------------------------------


@st.cache_data(ttl=30, show_spinner=False, max_entries=16)
def _counts(token: str, rules_json: str, _ws) -> RuleCounts:
    rules = [GroupRule.model_validate(rule) for rule in json.loads(rules_json)]
    return rule_match_summary(_ws, SyncConfig(group_rules=rules))


def match_counts(ws, rules: list[dict[str, Any]]) -> RuleCounts:
    """Counts for the rules being edited that are complete (a rule still being written has no count)."""
    valid: list[tuple[int, GroupRule]] = []
    for index, rule in enumerate(rules):
        try:
            valid.append((index, GroupRule.model_validate(rule)))
        except Exception:  # noqa: BLE001 - shown as "the count appears once the rule is complete"
            continue
    rules_json = json.dumps([rule.model_dump(mode="json") for _, rule in valid], sort_keys=True)
    summary = _counts(f"{ws.database.url}", rules_json, ws)
    by_position = list(summary.counts.values())
    return RuleCounts(
        counts={index: by_position[n] for n, (index, _) in enumerate(valid) if n < len(by_position)},
        contacts=summary.contacts,
        unreadable=summary.unreadable,
        limited=summary.limited,
    )


# --- values of conditions ------------------------------------------------------------------------------------------


def _text(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, list):
        return ", ".join(_text(item) for item in value)
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


def _number_or_text(text: str) -> Any:
    stripped = text.strip()
    try:
        return int(stripped)
    except ValueError:
        pass
    try:
        return float(stripped)
    except ValueError:
        return stripped


# --- callbacks -----------------------------------------------------------------------------------------------------


def _add_rule(ws) -> None:
    rules = draft.document(ws).setdefault("group_rules", [])
    rules.append(
        {"group": "", "mode": "add_only", "enabled": True, "event_types": [], "match": "all", "conditions": []}
    )
    st.session_state["gr_open"] = len(rules) - 1


def _remove_rule(ws, index: int) -> None:
    rules = draft.document(ws).setdefault("group_rules", [])
    if 0 <= index < len(rules):
        name = rules[index].get("group") or f"#{index + 1}"
        del rules[index]
        draft.remove_uid("rules", index)
        widgets.flash("info", f"The rule for “{name}” was removed (save to make it final, or discard to undo).")


def _add_condition(ws, index: int, uid: str) -> None:
    rules = draft.document(ws).setdefault("group_rules", [])
    if 0 <= index < len(rules):
        rules[index].setdefault("conditions", []).append({"field": "data.status", "operator": "equals", "value": ""})
        st.session_state["gr_open"] = index


def _remove_condition(ws, index: int, uid: str, position: int) -> None:
    rules = draft.document(ws).setdefault("group_rules", [])
    if 0 <= index < len(rules):
        conditions = rules[index].setdefault("conditions", [])
        if 0 <= position < len(conditions):
            del conditions[position]
            draft.remove_uid(f"conditions:{uid}", position)
        st.session_state["gr_open"] = index


def _create_missing_groups(ws, names: list[str]) -> None:
    try:
        with interactive_client(ws, draft.working_connection(ws)) as client:
            result = create_groups(client, names)
    except Exception as exc:  # noqa: BLE001
        plain = (
            getattr(exc, "plain", None) or "MailerLite could not be reached; check the Connection page and try again."
        )
        widgets.flash("error", f"The groups could not be created: {plain}")
        return
    ui.refresh_account()
    if result.created:
        widgets.flash("success", f"Created in MailerLite: {', '.join(result.created)}.")
    if result.problems:
        widgets.flash("error", "Some groups could not be created:\n" + "\n".join(f"- {p}" for p in result.problems))


# --- sections ------------------------------------------------------------------------------------------------------


def groups_panel(ws, doc: dict, groups: list[str] | None) -> None:
    names = []
    default = (doc.get("connection") or {}).get("default_group")
    if default:
        names.append(default)
    templates = []
    for rule in doc.get("group_rules") or []:
        group = rule.get("group")
        if group and "{" in group:
            templates.append(group)  # named by each event: created when first needed
        elif group and group not in names:
            names.append(group)
    if templates:
        st.caption(
            "Named from each event, created in MailerLite by the sync when first needed: "
            + ", ".join(f"“{name}”" for name in dict.fromkeys(templates))
        )
    if not names:
        return
    if groups is None:
        st.caption("Groups used: " + ", ".join(names) + ". (The account's groups cannot be read right now.)")
        return
    missing = missing_groups(names, groups)
    with st.container(border=True):
        present = [name for name in names if name not in missing]
        if present:
            st.markdown(":green[:material/check_circle:] In MailerLite: " + ", ".join(f"**{n}**" for n in present))
        if missing:
            st.markdown(
                ":orange[:material/add_circle:] Will be created (not in MailerLite yet): "
                + ", ".join(f"**{n}**" for n in missing)
            )
            st.button(
                "Create missing groups",
                type="primary",
                icon=":material/group_add:",
                key="gr_create_missing",
                on_click=_create_missing_groups,
                args=(ws, missing),
            )


def path_names(paths: list[str]) -> Callable[[str], str]:
    """Path → the event field's name for a picker; names two paths share are told apart by the path."""
    labels = {path: field_label(None, path) for path in paths}
    shared = {label for label in labels.values() if list(labels.values()).count(label) > 1}

    def name(path: str) -> str:
        label = labels.get(path) or field_label(None, str(path))
        return f"{label} ({path})" if label in shared else label

    return name


def condition_row(
    uid: str, cuid: str, condition: dict[str, Any], paths: list[str], ws, index: int, position: int
) -> None:
    c1, c2, c3, c4 = st.columns([4, 2, 4, 1], vertical_alignment="bottom")
    field = condition.get("field") or ""
    options = list(dict.fromkeys(([field] if field else []) + paths))
    draft.seed(f"gr_{cuid}_field", field or None)
    chosen = c1.selectbox(
        "Field",
        options,
        key=f"gr_{cuid}_field",
        accept_new_options=True,
        format_func=path_names(options),
        placeholder="Choose an event field (or type its path)",
        label_visibility="collapsed",
        help=f"The event field this condition reads (its path: {field})" if field else None,
    )
    condition["field"] = (chosen or "").strip()
    operator = condition.get("operator") if condition.get("operator") in OPERATOR_LABELS else "equals"
    draft.seed(f"gr_{cuid}_operator", operator)
    operator = c2.selectbox(
        "Operator",
        list(OPERATOR_LABELS),
        key=f"gr_{cuid}_operator",
        format_func=OPERATOR_LABELS.get,
        label_visibility="collapsed",
    )
    condition["operator"] = operator
    original = condition.get("value")
    if operator in NO_VALUE_OPERATORS:
        c3.caption("no value needed")
        condition["value"] = None
    elif operator in LIST_OPERATORS:
        current = original if isinstance(original, list) else ([] if original in (None, "") else [original])
        texts = [_text(item) for item in current]
        draft.seed(f"gr_{cuid}_list", texts)
        chosen_list = c3.multiselect(
            "Values",
            texts,
            key=f"gr_{cuid}_list",
            accept_new_options=True,
            placeholder="Type a value and press Enter",
            label_visibility="collapsed",
        )
        by_text = dict(zip(texts, current))
        condition["value"] = [by_text.get(text, text) for text in chosen_list]
    else:
        scalar = ", ".join(_text(v) for v in original) if isinstance(original, list) else original
        draft.seed(f"gr_{cuid}_text", _text(scalar))
        text = c3.text_input(
            "Value",
            key=f"gr_{cuid}_text",
            label_visibility="collapsed",
            placeholder="a number, e.g. 10000" if operator in NUMBER_OPERATORS else "value",
        )
        if not isinstance(original, list) and text == _text(original):
            condition["value"] = original
        elif operator in NUMBER_OPERATORS:
            condition["value"] = _number_or_text(text)
        else:
            condition["value"] = text
    c4.button(
        "",
        icon=":material/close:",
        key=f"gr_{cuid}_remove",
        help="Remove this condition",
        on_click=_remove_condition,
        args=(ws, index, uid, position),
    )


def rule_editor(ws, index: int, uid: str, rule: dict[str, Any], groups: list[str] | None, paths: list[str]):
    """Draws one rule's widgets (values go into ``rule``) and returns the slot for its count."""
    c1, c2, c3 = st.columns([3, 3, 1])
    group = rule.get("group") or None
    draft.seed(f"gr_{uid}_named", "event" if _is_template(group) else "fixed")
    named = c1.segmented_control(
        "Group name",
        list(NAME_KINDS),
        key=f"gr_{uid}_named",
        format_func=NAME_KINDS.get,
        required=True,
        help="One group for every contact the rule matches, or a group named by a value of each event "
        "(e.g. “Tier {tier}”: partners go to “Tier Gold”, “Tier Silver”…)",
    )
    if named == "event":
        draft.seed(f"gr_{uid}_template", group or "")
        text = c1.text_input(
            "Group name from the event",
            key=f"gr_{uid}_template",
            placeholder="Tier {tier}",
            help=GROUP_TEMPLATE_HELP,
        )
        rule["group"] = (text or "").strip()
        c1.caption(
            template_example(ws, rule)
            if rule["group"]
            else "Type a name with a value in { }: Tier {tier} (a MailerLite field this sync fills) or "
            "Status {data.status} (a value of the event)."
        )
    else:
        options = list(dict.fromkeys(([group] if group and not _is_template(group) else []) + (groups or [])))
        draft.seed(f"gr_{uid}_group", group if not _is_template(group) else None)
        chosen = c1.selectbox(
            "Group",
            options,
            key=f"gr_{uid}_group",
            accept_new_options=True,
            placeholder="Pick a group, or type a new name",
            help="A group of the account, or a new name (it is created with “Create missing groups”)",
        )
        rule["group"] = (chosen or "").strip()
    mode = rule.get("mode") if rule.get("mode") in RULE_MODE_LABELS else "add_only"
    draft.seed(f"gr_{uid}_mode", mode)
    rule["mode"] = c2.radio(
        "Mode", list(RULE_MODE_LABELS), key=f"gr_{uid}_mode", format_func=RULE_MODE_LABELS.get, horizontal=True
    )
    c2.caption(MODE_HELP[rule["mode"]])
    draft.seed(f"gr_{uid}_enabled", bool(rule.get("enabled", True)))
    rule["enabled"] = c3.toggle("Enabled", key=f"gr_{uid}_enabled")

    c4, c5 = st.columns([4, 2])
    scope = [t for t in rule.get("event_types") or [] if isinstance(t, str)]
    draft.seed(f"gr_{uid}_scope", scope)
    rule["event_types"] = c4.multiselect(
        "Events that decide (scope)",
        list(dict.fromkeys(scope + known_event_types())),
        key=f"gr_{uid}_scope",
        accept_new_options=True,
        placeholder="Every synced event (or choose / type, e.g. partner.*)",
        help="Only these events can add to (or remove from) the group. Empty: every synced event.",
    )
    match = rule.get("match") if rule.get("match") in ("all", "any") else "all"
    draft.seed(f"gr_{uid}_match", match)
    rule["match"] = c5.radio(
        "Conditions",
        ["all", "any"],
        key=f"gr_{uid}_match",
        horizontal=True,
        format_func=lambda m: "all must hold" if m == "all" else "any one is enough",
    )

    conditions = rule.setdefault("conditions", [])
    condition_ids = draft.uids(f"conditions:{uid}", len(conditions))
    if conditions:
        st.caption("Conditions: an event field, how it compares, and the value")
    else:
        st.caption("No conditions: every event in scope adds the contact to the group.")
    for position, (cuid, condition) in enumerate(zip(condition_ids, conditions)):
        condition_row(uid, cuid, condition, paths, ws, index, position)
    left, right = st.columns([1, 3], vertical_alignment="center")
    left.button(
        "Add a condition",
        icon=":material/add:",
        key=f"gr_{uid}_add_condition",
        on_click=_add_condition,
        args=(ws, index, uid),
    )
    slot = right.empty()
    st.button(
        "Delete this rule",
        icon=":material/delete:",
        key=f"gr_{uid}_delete",
        type="tertiary",
        on_click=_remove_rule,
        args=(ws, index),
    )
    return slot


NAME_KINDS = {"fixed": "A group", "event": "Named from the event"}


def _is_template(group: str | None) -> bool:
    return bool(group) and ("{" in group or "}" in group)  # type: ignore[operator]


def _rule_label(uid: str, rule: dict[str, Any]) -> str:
    """The rule's group as its widgets hold it now (they are drawn inside the expander, after its label)."""
    named = st.session_state.get(f"gr_{uid}_named", "event" if _is_template(rule.get("group")) else "fixed")
    key = f"gr_{uid}_template" if named == "event" else f"gr_{uid}_group"
    return st.session_state.get(key, rule.get("group")) or "New rule"


def template_example(ws, rule: dict[str, Any]) -> str:
    """The hint under a group name that takes a value from the event: what it makes of a sample event."""
    try:
        checked = GroupRule.model_validate(rule)
    except Exception as exc:  # noqa: BLE001 - said in words: what to change in the name
        problems = [str(error.get("msg", "")).removeprefix("Value error, ") for error in getattr(exc, "errors", list)()]
        return ":orange[" + ("; ".join(problems) or "this name cannot be used yet") + "]"
    config, _ = draft.working_config(ws)
    example = group_name_example(config, checked)
    head = "This name takes a value from the event, so each contact joins the group its value names"
    if example is None:
        return (
            f"{head}. No sample event has a value for {', '.join('{' + p + '}' for p in checked.placeholders())} "
            "yet: check that a trigger fills that field, or use an event path such as {data.status}."
        )
    label, name = example
    return f"{head}: for example “{name}” (from the sample “{label}”)."


def show_count(slot, index: int, rule: dict[str, Any], counts: RuleCounts) -> None:
    if index not in counts.counts:
        slot.caption("The count of matching contacts appears once the rule is complete.")
        return
    if not counts.contacts:
        return
    matched, decided = counts.counts[index]
    leaving = decided - matched
    extra = f"; {leaving:,} would leave the group" if rule.get("mode") == "membership" and leaving else ""
    slot.markdown(
        f":material/groups: Matches **{matched:,}** of {counts.contacts:,} known contacts now{extra}.",
        help="Each known contact's newest received event, checked against this rule",
    )


def rules_section(ws, doc: dict, groups: list[str] | None) -> None:
    rules = doc.setdefault("group_rules", [])
    ids = draft.uids("rules", len(rules))
    notice = st.empty()
    if not rules:
        notice.info(
            "No group rules yet. Add one: for example, contacts whose payment amount is at least 10000 join “Premium”.",
            icon=":material/info:",
        )
    paths = known_paths()
    opened = st.session_state.pop("gr_open", None)
    slots = []
    for index, (uid, rule) in enumerate(zip(ids, rules)):
        # The label uses the widgets' newest values (they are drawn inside it, after it).
        label = _rule_label(uid, rule)
        mode = RULE_MODE_LABELS.get(st.session_state.get(f"gr_{uid}_mode", rule.get("mode")), "")
        enabled = st.session_state.get(f"gr_{uid}_enabled", rule.get("enabled", True))
        icon = ":material/group:" if enabled else ":material/pause_circle:"
        label = f"{label} · {mode}" + ("" if enabled else " (disabled)")
        with st.expander(label, expanded=index == opened or len(rules) == 1, key=f"gr_{uid}_open", icon=icon):
            slots.append(rule_editor(ws, index, uid, rule, groups, paths))
    st.button("Add a group rule", icon=":material/add:", key="gr_add_rule", on_click=_add_rule, args=(ws,))
    if not rules:
        return
    # Counted once the widgets above have put their values into the draft, so the counts are never a step late.
    counts = match_counts(ws, rules)
    if counts.counts and counts.contacts == 0:
        notice.info(
            "Counts of matching contacts appear once events are received (webhooks or a file sync).",
            icon=":material/hourglass_empty:",
        )
    elif counts.limited:
        notice.caption(f"Counts use the newest event of the {counts.contacts:,} most recent contacts.")
    for index, (slot, rule) in enumerate(zip(slots, rules)):
        show_count(slot, index, rule, counts)


def main() -> None:
    st.title("Group rules")
    st.caption(
        "Put contacts into MailerLite groups by conditions on their events. The default group (Connection "
        "page) is added to every new subscriber."
    )
    ws = ui.workspace()
    if ws is None:
        return
    widgets.show_flash()
    draft.config_problem(ws, "group_rules")
    doc = draft.document(ws)
    report = ui.account_report(ws)
    groups = account_groups(report)
    if not report.ok:
        st.warning(f"The account's groups cannot be read. {report.summary()}", icon=":material/cloud_off:")
    panel = st.container()
    rules_section(ws, doc, groups)
    with panel:  # drawn after the rules, so that it lists the groups as they are now
        groups_panel(ws, doc, groups)
    draft.save_bar(ws, "group_rules")


ui.page_guard("pages/group_rules.py")
main()
