"""The sync configuration as data: connection, sources, triggers with field mappings, group rules.

One JSON document in and out (config as code). Secrets (the API key, webhook signing secrets) are not part of
it: they are stored encrypted elsewhere, so that an exported configuration can be shared safely.
"""

from __future__ import annotations

import json
import re
from typing import Any, Literal, get_args

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator
from pydantic_core import ErrorDetails

from sync_core.domain.events import SOURCE_LABELS, path_problem
from sync_core.domain.transforms import FIELD_TYPES, SUBSCRIBER_ATTRIBUTES, TRANSFORMS

SCHEMA_VERSION: Literal[1] = 1
#: The sources a configuration has settings for.
SourceKey = Literal["dodo_payments", "partnero", "records"]
SOURCE_KEYS: tuple[SourceKey, ...] = get_args(SourceKey)
DEFAULT_BASE_URL = "https://connect.mailerlite.com/api"

FieldType = Literal["text", "number", "date"]
ValueSource = Literal["path", "constant", "template", "event_time", "now"]
Action = Literal["upsert", "update_only", "unsubscribe", "remove_groups", "delete", "ignore", "forget"]
#: Actions that change a subscriber's place in MailerLite instead of filling fields: each never creates anyone,
#: sends no fields, and decides the contact's groups itself (its group rules do not apply). Strongest first: when
#: several triggers name one event, the first of these among them wins over every other action but "ignore".
#: ("forget", stronger still, is planned apart: the contact is erased, see ``planning.forget_plan``.)
LIFECYCLE_ACTIONS: tuple[str, ...] = ("delete", "unsubscribe", "remove_groups")
RuleMode = Literal["add_only", "membership"]
Operator = Literal[
    "equals",
    "not_equals",
    "in",
    "not_in",
    "contains",
    "starts_with",
    "gt",
    "gte",
    "lt",
    "lte",
    "is_empty",
    "is_not_empty",
]

#: Words shown to marketers for the values above.
VALUE_SOURCE_LABELS = {
    "path": "event field",
    "constant": "fixed value",
    "template": "template",
    "event_time": "event time",
    "now": "time of sync",
}
ACTION_LABELS = {
    "upsert": "Create or update",
    "update_only": "Update only",
    "unsubscribe": "Unsubscribe",
    "remove_groups": "Remove from the studio's groups",
    "delete": "Delete from MailerLite",
    "forget": "Forget (GDPR)",
    "ignore": "Ignore",
}
RULE_MODE_LABELS = {"add_only": "add only", "membership": "membership (add and remove)"}
OPERATOR_LABELS = {
    "equals": "is",
    "not_equals": "is not",
    "in": "is one of",
    "not_in": "is none of",
    "contains": "contains",
    "starts_with": "starts with",
    "gt": "is more than",
    "gte": "is at least",
    "lt": "is less than",
    "lte": "is at most",
    "is_empty": "is empty",
    "is_not_empty": "has a value",
}
LIST_OPERATORS = {"in", "not_in"}
NUMBER_OPERATORS = {"gt", "gte", "lt", "lte"}
NO_VALUE_OPERATORS = {"is_empty", "is_not_empty"}

_FIELD_KEY = re.compile(r"[a-z][a-z0-9_]{0,254}")
_PATH = re.compile(r"[^\s|{}]+")
_TEMPLATE_PLACEHOLDER = re.compile(r"\{([^{}]+)\}")
_EVENT_TYPE_PATTERN = re.compile(r"[A-Za-z0-9_]+(\.[A-Za-z0-9_*]+)*|\*")

Scalar = str | int | float | bool | None


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid", validate_assignment=False)


class ConnectionSettings(_Model):
    """Where to sync. The API key is stored separately (encrypted), never in this document."""

    base_url: str = DEFAULT_BASE_URL
    default_group: str | None = Field(default=None, description="Group every new subscriber joins.")
    sandbox: bool = Field(default=True, description="Use the built-in sandbox account instead of MailerLite.")

    @field_validator("default_group")
    @classmethod
    def _group_name(cls, value: str | None) -> str | None:
        if value is not None and not value.strip():
            return None
        return _check_group_name(value) if value is not None else None

    @field_validator("base_url")
    @classmethod
    def _url(cls, value: str) -> str:
        if not re.match(r"https?://[^\s/]+", value):
            raise ValueError(f"the API base URL should start with https:// (for example {DEFAULT_BASE_URL})")
        return value.rstrip("/")


class SourceSettings(_Model):
    """Per-source switches; the webhook signing secret is stored separately, like the API key."""

    enabled: bool = True
    sync_partners: bool = True
    sync_customers: bool = True


class FieldMapping(_Model):
    """One MailerLite field filled from the event: ``target ← value`` through a transform."""

    target: str = Field(description="MailerLite field key (e.g. last_name), or subscribed_at / ip_address.")
    source: ValueSource = "path"
    value: Scalar = Field(
        default=None,
        description="The event path (data.customer.name; alternatives as 'data.key | data.id'; a list element by "
        "key as data.custom_fields[key=tier].value), the fixed value, or the template ('{data.name} {data.surname}').",
    )
    transform: str = "none"
    type: FieldType = "text"
    default: Scalar = Field(default=None, description="Used when the value is empty.")
    skip_if_empty: bool = False
    only_if_empty: bool = Field(
        default=False, description="Set only if the subscriber has no value yet in MailerLite (read from it first)."
    )
    clear_when_empty: bool = Field(
        default=False,
        description="An empty value clears the MailerLite field. Off (the default), an empty value leaves "
        "whatever MailerLite holds as it is: the sync never erases data by accident.",
    )

    @field_validator("target")
    @classmethod
    def _target(cls, value: str) -> str:
        value = value.strip()
        if value == "email":
            raise ValueError("the email is the subscriber's identity and is always sent; map another field")
        if not _FIELD_KEY.fullmatch(value):
            raise ValueError(
                f"{value!r} is not a MailerLite field key: use lower-case letters, digits and _ (e.g. last_name)"
            )
        return value

    @field_validator("transform")
    @classmethod
    def _transform(cls, value: str) -> str:
        if value not in TRANSFORMS:
            raise ValueError(f"the transform {value!r} is not known; choose one of {', '.join(TRANSFORMS)}")
        return value

    @model_validator(mode="after")
    def _value_fits_source(self) -> FieldMapping:
        if self.source == "path":
            if not isinstance(self.value, str) or not self.value.strip():
                raise ValueError("an event field mapping needs the path of the value, e.g. data.customer.name")
            for path in self.paths():
                if not _PATH.fullmatch(path):
                    raise ValueError(f"{path!r} is not a valid path (dotted names without spaces)")
                if problem := path_problem(path):
                    raise ValueError(problem)
        elif self.source == "template" and (
            not isinstance(self.value, str) or not _TEMPLATE_PLACEHOLDER.search(self.value)
        ):
            raise ValueError('a template needs at least one {path}, e.g. "{data.name} {data.surname}"')
        if self.clear_when_empty and self.skip_if_empty:
            raise ValueError('choose either "skip if empty" or "clear when empty", not both')
        if self.clear_when_empty and self.target in SUBSCRIBER_ATTRIBUTES:
            raise ValueError(f'{self.target} cannot be cleared in MailerLite; turn off "clear when empty"')
        return self

    def paths(self) -> list[str]:
        """The event paths this mapping reads (alternatives in order, or a template's placeholders)."""
        if self.source == "path" and isinstance(self.value, str):
            return [part.strip() for part in self.value.split("|") if part.strip()]
        if self.source == "template" and isinstance(self.value, str):
            return [match.strip() for match in _TEMPLATE_PLACEHOLDER.findall(self.value)]
        return []

    def value_type(self) -> str:
        """The format the value must have: the field's type, or the attribute's own format."""
        return SUBSCRIBER_ATTRIBUTES.get(self.target, self.type)


class Trigger(_Model):
    """Which events sync, and how: an action and the fields it fills."""

    name: str
    enabled: bool = True
    source: SourceKey | None = Field(default=None, description="Only events from this source; none means any source.")
    event_types: list[str] = Field(min_length=1, description="Event types, e.g. payment.succeeded or partner.*")
    action: Action = "upsert"
    subscriber_status: Literal["active", "unconfirmed"] | None = Field(
        default=None, description="Status given to subscribers this trigger creates."
    )
    fields: list[FieldMapping] = Field(default_factory=list)

    @field_validator("name")
    @classmethod
    def _name(cls, value: str) -> str:
        if not value.strip():
            raise ValueError("the trigger needs a name")
        return value.strip()

    @field_validator("event_types")
    @classmethod
    def _event_types(cls, values: list[str]) -> list[str]:
        cleaned = [value.strip() for value in values if value.strip()]
        if not cleaned:
            raise ValueError("name at least one event type, e.g. payment.succeeded")
        for value in cleaned:
            if not _EVENT_TYPE_PATTERN.fullmatch(value):
                raise ValueError(f"{value!r} is not an event type (e.g. payment.succeeded, partner.*)")
        return cleaned

    @model_validator(mode="after")
    def _unique_targets(self) -> Trigger:
        if self.action in LIFECYCLE_ACTIONS and self.fields:
            raise ValueError(
                f'a trigger that does "{ACTION_LABELS[self.action]}" sends no fields; remove its field mappings '
                "(or choose Create or update / Update only to fill fields)"
            )
        seen: set[str] = set()
        for mapping in self.fields:
            if mapping.target in seen:
                raise ValueError(f"the field {mapping.target!r} is mapped twice in this trigger; keep one")
            seen.add(mapping.target)
        return self


class Condition(_Model):
    """``field operator value``, e.g. ``data.total_amount >= 10000`` or ``event.type in [...]``."""

    field: str
    operator: Operator = "equals"
    value: Scalar | list[Scalar] = None

    @model_validator(mode="after")
    def _value_fits_operator(self) -> Condition:
        if not _PATH.fullmatch(self.field.strip()):
            raise ValueError(f"{self.field!r} is not a valid field path")
        if problem := path_problem(self.field.strip()):
            raise ValueError(problem)
        self.field = self.field.strip()
        label = OPERATOR_LABELS[self.operator]
        if self.operator in LIST_OPERATORS:
            if isinstance(self.value, str):
                self.value = [item.strip() for item in self.value.split(",") if item.strip()]
            if not isinstance(self.value, list) or not self.value:
                raise ValueError(f'\'{label}\' needs a list of values, e.g. ["active", "pending"]')
        elif self.operator in NUMBER_OPERATORS:
            if isinstance(self.value, bool) or not isinstance(self.value, (int, float, str)):
                raise ValueError(f"'{label}' needs a number (or a date) to compare with")
        elif self.operator in NO_VALUE_OPERATORS:
            self.value = None
        elif isinstance(self.value, list):
            raise ValueError(f"'{label}' compares with one value; use 'is one of' for a list")
        return self


#: What the Group rules page says about group names taken from the event.
GROUP_TEMPLATE_HELP = (
    "A name can take a value from the event: Tier {tier} puts a partner whose tier is Gold into “Tier Gold”. "
    "Inside { } put a MailerLite field this sync fills (e.g. {tier}: the value it gets, after its mapping) or "
    "an event path (e.g. {data.status}). When the value changes, a membership rule moves the contact: out of "
    "“Tier Gold”, into “Tier Silver”. An empty value puts them in no group; an event without the value changes "
    "nothing. The groups are created in MailerLite when first needed."
)


class GroupRule(_Model):
    """Put subscribers into a MailerLite group (by name) when conditions hold.

    ``add_only`` adds when true and never removes (e.g. Churned). ``membership`` adds when true and removes when
    false (e.g. Active Partners), deciding only on the events in its scope (``event_types``), so that a customer
    event cannot remove anyone from a partners group.

    A name with placeholders (``Tier {tier}``) is a template: the group is the one its values name for each
    event (see ``GROUP_TEMPLATE_HELP`` and ``rules.GroupNameTemplate``).
    """

    group: str
    mode: RuleMode = "add_only"
    enabled: bool = True
    event_types: list[str] = Field(default_factory=list, description="Scope; empty means every synced event.")
    match: Literal["all", "any"] = "all"
    conditions: list[Condition] = Field(default_factory=list)

    @field_validator("group")
    @classmethod
    def _group(cls, value: str) -> str:
        value = _check_group_name(value)
        if "{" in value or "}" in value:
            _check_group_template(value)
        return value

    @field_validator("event_types")
    @classmethod
    def _event_types(cls, values: list[str]) -> list[str]:
        return Trigger._event_types(values) if values else []

    @property
    def is_template(self) -> bool:
        """Whether the group's name takes values from the event (``Tier {tier}``)."""
        return "{" in self.group

    def placeholders(self) -> list[str]:
        """The fields and event paths a templated name reads, in order."""
        return [match.strip() for match in _TEMPLATE_PLACEHOLDER.findall(self.group)]


class DriftSettings(_Model):
    """The comparison of the account with what the studio decided (Compare with MailerLite)."""

    daily_check: bool = Field(
        default=True, description="The sync worker compares the account with what the studio decided once a day."
    )


class SyncConfig(_Model):
    """The whole configuration; ``version`` is the document's schema version."""

    version: Literal[1] = SCHEMA_VERSION
    name: str = ""
    connection: ConnectionSettings = Field(default_factory=ConnectionSettings)
    sources: dict[SourceKey, SourceSettings] = Field(
        default_factory=lambda: {key: SourceSettings() for key in SOURCE_KEYS}
    )
    triggers: list[Trigger] = Field(default_factory=list)
    group_rules: list[GroupRule] = Field(default_factory=list)
    drift: DriftSettings = Field(default_factory=DriftSettings)

    @model_validator(mode="after")
    def _consistent(self) -> SyncConfig:
        names: set[str] = set()
        declared: dict[str, tuple[str, str]] = {}
        for trigger in self.triggers:
            if trigger.name in names:
                raise ValueError(f"two triggers are named {trigger.name!r}; give each a different name")
            names.add(trigger.name)
            for mapping in trigger.fields:
                if mapping.target in SUBSCRIBER_ATTRIBUTES:
                    continue
                earlier = declared.setdefault(mapping.target, (mapping.type, trigger.name))
                if earlier[0] != mapping.type:
                    raise ValueError(
                        f"the field {mapping.target!r} is a {earlier[0]} field in trigger {earlier[1]!r} but a "
                        f"{mapping.type} field in trigger {trigger.name!r}; a MailerLite field has one type"
                    )
        return self

    def source_settings(self, source: str) -> SourceSettings:
        return self.sources.get(source) or SourceSettings()  # type: ignore[call-overload]

    def field_types(self) -> dict[str, str]:
        """MailerLite custom fields the configuration writes, with their types."""
        return {
            mapping.target: mapping.type
            for trigger in self.triggers
            for mapping in trigger.fields
            if mapping.target not in SUBSCRIBER_ATTRIBUTES
        }

    def group_names(self) -> list[str]:
        """Groups the configuration uses, default group first."""
        names = [self.connection.default_group] if self.connection.default_group else []
        for rule in self.group_rules:
            if rule.group not in names and not rule.is_template:  # those are named by each event
                names.append(rule.group)
        return names

    def managed_groups(self) -> list[str]:
        """The studio's groups: the ones "Remove from the studio's groups" takes a subscriber out of (the
        default group and every group rule's group; any other group of the account is left alone)."""
        return self.group_names()

    def to_json(self) -> str:
        return self.model_dump_json(indent=2, exclude_defaults=False)


class ConfigError(ValueError):
    """An invalid configuration document; ``problems`` lists each one in plain words, with where it is."""

    def __init__(self, problems: list[str]):
        self.problems = problems
        super().__init__("The configuration is not valid:\n" + "\n".join(f"- {p}" for p in problems))


def load_config(document: str | bytes | dict[str, Any]) -> SyncConfig:
    """Parse and check a configuration document, raising ``ConfigError`` with every problem found."""
    if isinstance(document, (str, bytes)):
        try:
            document = json.loads(document)
        except json.JSONDecodeError as exc:
            raise ConfigError(
                [f"the document is not valid JSON: {exc.msg} at line {exc.lineno}, column {exc.colno}"]
            ) from None
    if not isinstance(document, dict):
        raise ConfigError(["the document should be a JSON object with connection, sources, triggers and group_rules"])
    try:
        return SyncConfig.model_validate(document)
    except ValidationError as exc:
        raise ConfigError([_describe(error, document) for error in exc.errors()]) from None


def _check_group_name(value: str) -> str:
    value = value.strip()
    if not value:
        raise ValueError("the group needs a name")
    if len(value) > 255:
        raise ValueError("a MailerLite group name can be at most 255 characters")
    return value


def _check_group_template(value: str) -> None:
    """A templated group name: balanced braces, each holding a field key or an event path."""
    rest = _TEMPLATE_PLACEHOLDER.sub("", value)
    if re.search(r"\{\s*\}", value):
        raise ValueError("the group name has an empty { }: put a field inside, e.g. Tier {tier}")
    if "{" in rest:
        raise ValueError("the group name has a { without its }: write a value as {tier}, e.g. Tier {tier}")
    if "}" in rest:
        raise ValueError("the group name has a } without its {: write a value as {tier}, e.g. Tier {tier}")
    for placeholder in _TEMPLATE_PLACEHOLDER.findall(value):
        name = placeholder.strip()
        if "." in name:
            if not _PATH.fullmatch(name) or path_problem(name):
                raise ValueError(f"{{{name}}} is not a valid event path (e.g. {{data.status}})")
        elif not _FIELD_KEY.fullmatch(name):
            raise ValueError(
                f"{{{name}}} is not a field: use a MailerLite field key this sync fills (e.g. {{tier}}) or an "
                "event path (e.g. {data.tier})"
            )


_MESSAGES = {
    "missing": "is required",
    "extra_forbidden": "is not a known setting (check the spelling)",
    "bool_type": "should be true or false",
    "bool_parsing": "should be true or false",
    "string_type": "should be text",
    "list_type": "should be a list",
    "too_short": "should not be empty",
    "model_type": "should be an object",
    "dict_type": "should be an object",
}


def _describe(error: ErrorDetails, document: dict[str, Any]) -> str:
    """One pydantic error → "In trigger 'New customer', field 'company', transform: ..."."""
    where = _place(error["loc"], document)
    kind = error["type"]
    if kind == "literal_error":
        expected = error.get("ctx", {}).get("expected", "")
        message = f"{error['input']!r} is not allowed; choose one of {expected}"
        if error["loc"] and error["loc"][0] == "sources":
            message = f"{error['input']!r} is not a source; choose one of {', '.join(SOURCE_LABELS)}"
    elif kind == "value_error":
        message = str(error.get("ctx", {}).get("error", error["msg"]))
    else:
        message = _MESSAGES.get(kind, error["msg"][:1].lower() + error["msg"][1:])
    return f"{where}: {message}" if where else message[:1].upper() + message[1:]


def _place(loc: tuple[Any, ...], document: Any) -> str:
    parts: list[str] = []
    node = document
    index = 0
    while index < len(loc):
        key = loc[index]
        child = node.get(key) if isinstance(node, dict) else None
        if (
            key in ("triggers", "group_rules", "fields", "conditions")
            and index + 1 < len(loc)
            and isinstance(loc[index + 1], int)
        ):
            position = loc[index + 1]
            item = child[position] if isinstance(child, list) and position < len(child) else None
            parts.append(_item_label(key, position, item))
            node = item
            index += 2
            continue
        if isinstance(key, str) and not key.startswith(("function-", "literal[", "str", "int", "[key]")):
            parts.append(key.replace("_", " "))
        node = child
        index += 1
    return ", ".join(parts).replace("sources, ", "source ")


def _item_label(collection: str, position: int, item: Any) -> str:
    name = None
    if isinstance(item, dict):
        name = item.get("name") or item.get("group") or item.get("target") or item.get("field")
    noun = {"triggers": "trigger", "group_rules": "group rule", "fields": "field", "conditions": "condition"}[
        collection
    ]
    return f"{noun} {name!r}" if isinstance(name, str) and name else f"{noun} #{position + 1}"


__all__ = [
    "ACTION_LABELS",
    "LIFECYCLE_ACTIONS",
    "Condition",
    "ConfigError",
    "ConnectionSettings",
    "FIELD_TYPES",
    "FieldMapping",
    "GROUP_TEMPLATE_HELP",
    "GroupRule",
    "OPERATOR_LABELS",
    "RULE_MODE_LABELS",
    "SourceSettings",
    "SyncConfig",
    "Trigger",
    "VALUE_SOURCE_LABELS",
    "load_config",
]
