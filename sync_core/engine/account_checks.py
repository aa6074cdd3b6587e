"""A configuration against the MailerLite account it syncs to, and one event's preview explained: the checks
and advice the dashboard shows, in plain words, with the way to fix each problem.

- which mapped fields are missing from the account or have another type there, and which groups are missing
  (and creating them in one go);
- the value each mapped field gets from an event, checked against its type;
- why an event is not synced, and what to change so that it is.

Nothing here imports Streamlit: the pages only display what these functions return.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any, Literal

from pydantic import ValidationError as SettingsError

from sync_core.domain.config import ConnectionSettings, GroupRule, SyncConfig
from sync_core.domain.evaluation import Evaluator
from sync_core.domain.events import SOURCE_LABELS, NormalizedEvent
from sync_core.domain.mapping import SKIP, CompiledMapping
from sync_core.domain.preview import EventPreview
from sync_core.domain.transforms import FIELD_TYPES, SUBSCRIBER_ATTRIBUTES, ValueProblem
from sync_core.engine.samples import all_samples, sample_event
from sync_core.mailerlite import (
    ConnectionReport,
    MailerLiteClient,
    MailerLiteError,
    test_connection,
)

# --- the account in use ------------------------------------------------------------------------------------------

#: Patience of a dashboard page: an answer (or a plain error) within seconds, not after minutes of retries.
INTERACTIVE = dict(
    timeout_seconds=10.0, max_attempts=2, backoff_base_seconds=0.2, backoff_max_seconds=1.0, max_rate_wait_seconds=5.0
)


def interactive_client(workspace, connection: ConnectionSettings) -> MailerLiteClient:
    """A client for the account these settings point at (the sandbox, or MailerLite with the stored key), with
    short timeouts and few retries, for a person waiting on a page. Settings being edited may name an address
    the key was not saved for: the workspace then refuses (``KeyAddressError``) and sends the key nowhere."""
    return workspace.client(connection, **INTERACTIVE)


def check_connection(workspace, connection: ConnectionSettings) -> ConnectionReport:
    """*Test connection*, never raising: a key that cannot be read or used, or that may not be sent to these
    settings' address, becomes the report's problem (and nothing is sent)."""
    try:
        client = interactive_client(workspace, connection)
    except SettingsError as exc:
        problems = "; ".join(str(error.get("msg", "")).removeprefix("Value error, ") for error in exc.errors())
        return ConnectionReport(ok=False, problem=f"the connection settings cannot be used: {problems}")
    except Exception as exc:  # noqa: BLE001 - e.g. the stored key cannot be decrypted: said in plain words
        return ConnectionReport(
            ok=False,
            problem=str(exc) or "the connection cannot be checked right now; try again in a moment",
            detail=repr(exc),
        )
    try:
        return test_connection(client)
    except MailerLiteError as exc:
        return ConnectionReport(ok=False, problem=exc.plain, detail=repr(exc), base_url=client.settings.base_url)
    finally:
        client.close()


def account_fields(report: ConnectionReport | None) -> dict[str, str] | None:
    """Field key → type of the account, or ``None`` when the account could not be read."""
    if report is None or not report.ok:
        return None
    return {item.key: item.type for item in report.fields}


def account_groups(report: ConnectionReport | None) -> list[str] | None:
    if report is None or not report.ok:
        return None
    return [group.name for group in report.groups]


# --- fields ------------------------------------------------------------------------------------------------------

CheckStatus = Literal["ok", "missing", "mismatch", "problem", "unknown"]


@dataclass(slots=True)
class FieldCheck:
    target: str
    mapped_type: str
    account_type: str | None
    status: CheckStatus
    message: str

    @property
    def ok(self) -> bool:
        return self.status in ("ok", "unknown")


def check_field(target: str | None, mapped_type: str | None, fields: Mapping[str, str] | None) -> FieldCheck:
    """One mapping row's target and type against the account's fields."""
    target = (target or "").strip()
    mapped_type = mapped_type or "text"
    if not target:
        return FieldCheck("", mapped_type, None, "problem", "choose the MailerLite field this value goes into")
    if target in SUBSCRIBER_ATTRIBUTES:
        return FieldCheck(
            target, SUBSCRIBER_ATTRIBUTES[target], None, "ok", f"subscriber attribute ({SUBSCRIBER_ATTRIBUTES[target]})"
        )
    if mapped_type not in FIELD_TYPES:
        return FieldCheck(target, mapped_type, None, "problem", f"the type should be one of {', '.join(FIELD_TYPES)}")
    if fields is None:
        return FieldCheck(target, mapped_type, None, "unknown", "not checked: the account could not be read")
    account_type = fields.get(target)
    if account_type is None:
        return FieldCheck(
            target,
            mapped_type,
            None,
            "missing",
            f'not in the MailerLite account yet: "Create missing fields" adds it as a {mapped_type} field',
        )
    if account_type != mapped_type:
        return FieldCheck(
            target,
            mapped_type,
            account_type,
            "mismatch",
            f"MailerLite has {target} as a {account_type} field, but this row sends a "
            f"{mapped_type}: set the type to {account_type} (or use another field)",
        )
    return FieldCheck(target, mapped_type, account_type, "ok", "OK")


def _mapping_rows(config: SyncConfig | Mapping[str, Any]) -> Iterable[tuple[str, str]]:
    if isinstance(config, SyncConfig):
        for trigger in config.triggers:
            for mapping in trigger.fields:
                yield mapping.target, mapping.type
        return
    for trigger in config.get("triggers") or []:
        if not isinstance(trigger, Mapping):
            continue
        for mapping in trigger.get("fields") or []:
            if isinstance(mapping, Mapping) and isinstance(mapping.get("target"), str):
                yield mapping["target"].strip(), str(mapping.get("type") or "text")


def missing_fields(config: SyncConfig | Mapping[str, Any], fields: Mapping[str, str]) -> dict[str, str]:
    """Custom fields the configuration writes that the account does not have: key → type to create."""
    wanted: dict[str, str] = {}
    for target, field_type in _mapping_rows(config):
        if not target or target in SUBSCRIBER_ATTRIBUTES or target in fields or field_type not in FIELD_TYPES:
            continue
        wanted.setdefault(target, field_type)
    return wanted


def type_mismatches(config: SyncConfig | Mapping[str, Any], fields: Mapping[str, str]) -> list[FieldCheck]:
    seen: set[str] = set()
    out = []
    for target, field_type in _mapping_rows(config):
        check = check_field(target, field_type, fields)
        if check.status == "mismatch" and target not in seen:
            seen.add(target)
            out.append(check)
    return out


def missing_groups(names: Iterable[str], groups: Iterable[str]) -> list[str]:
    """Group names the configuration uses that the account lacks (compared like MailerLite: ignoring case)."""
    have = {name.strip().casefold() for name in groups}
    out: list[str] = []
    for name in names:
        if name and name.strip() and name.strip().casefold() not in have and name.strip() not in out:
            out.append(name.strip())
    return out


@dataclass(slots=True)
class CreationResult:
    created: list[str] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)


def create_fields(client: MailerLiteClient, wanted: Mapping[str, str]) -> CreationResult:
    """Create each field (its name is the key, so MailerLite gives it that key) with its type."""
    result = CreationResult()
    for key, field_type in wanted.items():
        try:
            created = client.create_field(key, field_type)
        except MailerLiteError as exc:
            result.problems.append(f"{key}: {exc}")
            continue
        result.created.append(created.key)
        if created.key != key:
            result.problems.append(f"MailerLite gave the field {key!r} the key {created.key!r}; map that key instead")
    return result


def create_groups(client: MailerLiteClient, names: Iterable[str]) -> CreationResult:
    result = CreationResult()
    for name in names:
        try:
            existing = client.find_group(name)
            if existing is None:
                client.create_group(name)
        except MailerLiteError as exc:
            result.problems.append(f"{name}: {exc}")
            continue
        result.created.append(name)
    return result


# --- one event previewed -----------------------------------------------------------------------------------------


@dataclass(slots=True)
class MappedValue:
    target: str
    trigger: str
    source: str  # where the value comes from, in words
    value: Any
    field_type: str
    status: Literal["ok", "warning", "problem", "not sent"]
    message: str


def _origin(mapping) -> str:
    if mapping.source in ("path", "template"):
        return str(mapping.value)
    return {"constant": f"fixed value {mapping.value!r}", "event_time": "event time", "now": "time of sync"}.get(
        mapping.source, mapping.source
    )


def mapped_values(
    config: SyncConfig, preview: EventPreview, now: datetime, fields: Mapping[str, str] | None = None
) -> list[MappedValue]:
    """Each field the event's triggers fill: its value (or why there is none) and the check against its type
    and against the account."""
    names = set(preview.evaluation.triggers)
    if not names:
        return []
    chosen: dict[str, tuple[str, Any]] = {}  # target → (trigger, mapping); a later trigger wins, like a sync
    for trigger in config.triggers:
        if trigger.enabled and trigger.name in names and trigger.action != "ignore":
            for mapping in trigger.fields:
                chosen[mapping.target] = (trigger.name, mapping)
    out: list[MappedValue] = []
    for target, (trigger_name, mapping) in chosen.items():
        value_type = mapping.value_type()
        try:
            value = CompiledMapping(mapping).apply(preview.event, now)
        except ValueProblem as exc:
            message = str(exc).removeprefix(f"{target}: ")
            out.append(
                MappedValue(
                    target,
                    trigger_name,
                    _origin(mapping),
                    None,
                    value_type,
                    "problem",
                    f"{message}. Fix it on the Field mapping page (trigger {trigger_name!r})",
                )
            )
            continue
        if value is SKIP:
            compiled = CompiledMapping(mapping)
            message = (
                "empty in this event, so nothing is sent for it: what MailerLite holds stays as it is "
                '(tick "clear when empty" on the Field mapping page to clear it instead)'
                if compiled.present(preview.event)
                else no_value_note(target, mapping.paths())
            )
            out.append(MappedValue(target, trigger_name, _origin(mapping), None, value_type, "not sent", message))
            continue
        check = check_field(target, mapping.type, fields)
        status: Literal["ok", "warning"] = "ok" if check.ok else "warning"
        message = "OK" if check.status in ("ok", "unknown") else check.message
        if mapping.only_if_empty and status == "ok":
            message = "OK (set only if the subscriber has no value yet in MailerLite)"
        if value is None and status == "ok":  # "clear when empty"
            message = "empty in this event: clears the MailerLite field (clear when empty)"
        out.append(MappedValue(target, trigger_name, _origin(mapping), value, value_type, status, message))
    return out


def no_value_note(target: str, paths: list[str]) -> str:
    """What an event that does not carry a field's value means, in words."""
    where = (
        f" (none of {', '.join(paths)} is in it)"
        if len(paths) > 1
        else (f" ({paths[0]} is not in it)" if paths else "")
    )
    return f"This event has no {target}{where}, so nothing is sent for {target}: what MailerLite holds stays as it is"


def group_name_notes(config: SyncConfig, preview: EventPreview, groups: Iterable[str] | None = None) -> list[str]:
    """What each group rule named from the event (``Tier {tier}``) makes of this one, in words."""
    rules = {rule.group: rule for rule in config.group_rules}
    have = {name.strip().casefold() for name in groups} if groups is not None else None
    notes = []
    for template, name in preview.evaluation.named.items():
        rule = rules.get(template)
        values = " / ".join(rule.placeholders()) if rule else "value"
        if name is None:
            notes.append(
                f"The group rule “{template}” puts the contact in no group: this event has no {values}, so the "
                "contact stays in the group it named before (if any)."
            )
        elif name == "":
            notes.append(
                f"The group rule “{template}” puts the contact in no group: the {values} of this event is empty "
                "(or its conditions do not hold), so the contact leaves the group it named before (if any)."
            )
        else:
            created = (
                ""
                if have is not None and name.casefold() in have
                else "; it is created in MailerLite when first needed"
            )
            notes.append(
                f"The group rule “{template}” names “{name}” for this event: the contact joins it and leaves the "
                f"group it named before{created}."
            )
    return notes


def group_name_example(config: SyncConfig, rule: GroupRule) -> tuple[str, str] | None:
    """A sample event and the name ``rule``'s template gives it (the first sample that names a group), for the
    Group rules page to show what the template makes; ``None`` when no sample has the values."""
    try:
        trial = rule.model_copy(update={"mode": "membership", "enabled": True})
        evaluator = Evaluator(config.model_copy(update={"group_rules": [trial]}))
    except Exception:  # noqa: BLE001 - a rule still being written has no example
        return None
    now = datetime.now(UTC)
    for sample in all_samples():
        event = sample_event(sample, received_at=now)
        if not isinstance(event, NormalizedEvent):
            continue
        name = evaluator.evaluate(event, now).named.get(trial.group)
        if name:
            return sample.label, name
    return None


@dataclass(slots=True)
class Advice:
    level: Literal["error", "warning", "info", "success"]
    message: str
    fix: str = ""


def _ignored_fix(reason: str, event: NormalizedEvent) -> str:
    source = SOURCE_LABELS.get(event.source, event.source)
    if reason.startswith("no trigger syncs") or "is not a known" in reason:
        return (
            f"Add a trigger for {event.type} on the Field mapping page, or add {event.type} to the event "
            "types of an existing trigger."
        )
    if "source is turned off" in reason:
        return f"Turn {source} on (Connection page, Sources) and save."
    if "Sync partners" in reason or "Sync customers" in reason:
        return f"Switch it on for {source} on the Connection page (Sources) and save."
    if "ignores" in reason:
        return "Change that trigger's action on the Field mapping page."
    return ""


def preview_advice(
    config: SyncConfig,
    preview: EventPreview,
    *,
    fields: Mapping[str, str] | None = None,
    groups: Iterable[str] | None = None,
) -> list[Advice]:
    """What to tell the user about one previewed event: why it is not synced, or what will fail, with the fix."""
    event, evaluation = preview.event, preview.evaluation
    advice: list[Advice] = []
    if evaluation.status == "ignored":
        advice.append(
            Advice("warning", f"This event is not synced: {evaluation.reason}.", _ignored_fix(evaluation.reason, event))
        )
        return advice
    if evaluation.status == "invalid":
        if event.email is None:
            advice.append(
                Advice(
                    "error",
                    f"This contact cannot be synced: {event.email_problem or 'the event has no email'}.",
                    "MailerLite identifies subscribers by email. The event must carry the contact's address "
                    "(Dodo Payments: data.customer.email; Partnero: data.email; records: an email column).",
                )
            )
        for problem in evaluation.problems or [evaluation.reason]:
            if event.email is None and problem == evaluation.reason:
                continue
            target = problem.split(":", 1)[0]
            advice.append(
                Advice(
                    "error",
                    f"Nothing is sent for this event: {problem}.",
                    f"Change the transform or the type of the field {target!r} on the Field mapping page.",
                )
            )
        return advice
    if fields is not None:
        missing, mismatched = [], []
        for target in evaluation.values:
            check = check_field(target, _mapped_type(config, evaluation.triggers, target), fields)
            if check.status == "missing":
                missing.append(target)
            elif check.status == "mismatch":
                mismatched.append(check.message)
        if missing:
            advice.append(
                Advice(
                    "warning",
                    f"{_count(len(missing), 'field')} not in MailerLite yet: {', '.join(missing)}.",
                    'Use "Create missing fields" on the Field mapping page before syncing.',
                )
            )
        for message in mismatched:
            advice.append(
                Advice("warning", message[:1].upper() + message[1:] + ".", "Fix the type on the Field mapping page.")
            )
    touched = []
    for plan in (preview.new_contact, preview.existing_contact):
        if plan is not None:
            touched.extend(plan.groups_added + plan.groups_removed)
    if groups is not None:
        fixed = set(config.group_names())  # the others are named by the event, and created as needed
        absent = missing_groups([name for name in touched if name in fixed], groups)
        if absent:
            advice.append(
                Advice(
                    "warning",
                    f"{_count(len(absent), 'group')} not in MailerLite yet: {', '.join(absent)}.",
                    'Use "Create missing groups" on the Group rules page before syncing.',
                )
            )
    if evaluation.action in LIFECYCLE_ADVICE:
        advice.append(Advice("info", LIFECYCLE_ADVICE[evaluation.action]))
    if evaluation.action == "update_only":
        advice.append(
            Advice(
                "info",
                "The trigger only updates subscribers MailerLite already has: for an unknown "
                "contact, the sync looks the address up and stops there.",
            )
        )
    return advice


#: What the Preview says of an event a lifecycle action handles (the requests show exactly what is sent).
LIFECYCLE_ADVICE = {
    "unsubscribe": "This event unsubscribes the subscriber in MailerLite: looked up by email (when the studio "
    "does not know their id) and set to unsubscribed by id. Nobody is created; afterwards the studio sends them "
    "nothing until MailerLite says they are active again.",
    "remove_groups": "This event takes the subscriber out of the studio's groups (the default group and the "
    "group rules' groups), only those they are in; their other groups stay. Nobody is created.",
    "delete": "This event deletes the subscriber from MailerLite. Nobody is created; a later Create or update "
    "event creates them again with everything that event says.",
}


def _count(number: int, noun: str) -> str:
    return f"{number} {noun}{' is' if number == 1 else 's are'}"


def _mapped_type(config: SyncConfig, trigger_names: Iterable[str], target: str) -> str:
    names = set(trigger_names)
    found = "text"
    for trigger in config.triggers:
        if trigger.name in names:
            for mapping in trigger.fields:
                if mapping.target == target:
                    found = mapping.type
    return found


__all__ = [
    "Advice",
    "CreationResult",
    "FieldCheck",
    "INTERACTIVE",
    "MappedValue",
    "account_fields",
    "account_groups",
    "check_connection",
    "check_field",
    "create_fields",
    "create_groups",
    "group_name_example",
    "group_name_notes",
    "interactive_client",
    "mapped_values",
    "missing_fields",
    "missing_groups",
    "no_value_note",
    "preview_advice",
    "type_mismatches",
]
