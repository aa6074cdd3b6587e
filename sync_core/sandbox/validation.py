"""The sandbox's 422 rules, with MailerLite's (Laravel's) wording of each message.

Messages seen in real answers are copied exactly (invalid email, unknown group, duplicate field name, bad field
type, non-numeric group id); the others follow Laravel's standard wording, which MailerLite uses.
"""

from __future__ import annotations

import ipaddress
from datetime import datetime
from typing import Any

from email_validator import EmailNotValidError, validate_email

from sync_core.domain.requests import API_ROOT

from .state import AccountState

STATUSES = ("active", "unsubscribed", "unconfirmed", "bounced", "junk")
SUPPRESSED = ("unsubscribed", "bounced", "junk")
FIELD_TYPES = ("text", "number", "date")
DATE_TIME_KEYS = ("subscribed_at", "opted_in_at", "unsubscribed_at")
IP_KEYS = ("ip_address", "optin_ip")
BATCH_METHODS = ("GET", "POST", "PUT", "DELETE", "PATCH")
MAX_BATCH = 50

Errors = dict[str, list[str]]


def invalid(errors: Errors, message: str = "The given data was invalid.") -> tuple[int, dict[str, Any]]:
    return 422, {"message": message, "errors": errors}


def is_valid_email(value: Any) -> bool:
    if not isinstance(value, str) or not value.strip():
        return False
    try:
        validate_email(value.strip(), check_deliverability=False)
    except EmailNotValidError:
        return False
    return True


def _is_numeric(value: Any) -> bool:
    if isinstance(value, bool):
        return False
    if isinstance(value, int):
        return True
    return isinstance(value, str) and value.strip().isdigit()


def _is_number(value: Any) -> bool:
    if isinstance(value, bool):
        return False
    if isinstance(value, (int, float)):
        return True
    if isinstance(value, str):
        try:
            float(value)
        except ValueError:
            return False
        return True
    return False


def _is_date(value: Any) -> bool:
    if not isinstance(value, str):
        return False
    for pattern in ("%Y-%m-%d", "%Y-%m-%d %H:%M:%S"):
        try:
            datetime.strptime(value.strip(), pattern)
            return True
        except ValueError:
            continue
    return False


def validate_subscriber_body(state: AccountState, body: dict[str, Any], *, email_required: bool) -> Errors:
    """Rules shared by POST /subscribers (upsert) and PUT /subscribers/{id}."""
    errors: Errors = {}
    email = body.get("email")
    if email is None or (isinstance(email, str) and not email.strip()):
        if email_required:
            errors["email"] = ["The email field is required."]
    elif not is_valid_email(email):
        errors["email"] = ["The email must be a valid email address."]

    fields = body.get("fields")
    if fields is not None:
        if not isinstance(fields, dict):
            errors["fields"] = ["The fields must be an array."]
        else:
            for key, value in fields.items():
                field = state.field_by_key(str(key))
                if field is None or value is None or value == "":
                    continue  # MailerLite ignores keys that are not fields of the account
                if field["type"] == "number" and not _is_number(value):
                    errors[f"fields.{key}"] = [f"The fields.{key} must be a number."]
                elif field["type"] == "date" and not _is_date(value):
                    errors[f"fields.{key}"] = [f"The fields.{key} is not a valid date."]
                elif field["type"] == "text" and not isinstance(value, (str, int, float)):
                    errors[f"fields.{key}"] = [f"The fields.{key} must be a string."]

    groups = body.get("groups")
    if groups is not None:
        if not isinstance(groups, list):
            errors["groups"] = ["The groups must be an array."]
        else:
            for index, group in enumerate(groups):
                key = f"groups.{index}"
                if not _is_numeric(group):
                    errors[key] = [f"The {key} field must be a number.", f"The selected {key} is not numeric."]
                elif str(group).strip() not in state.groups:
                    errors[key] = [f"The selected {key} is invalid."]

    status = body.get("status")
    if status is not None and status not in STATUSES:
        errors["status"] = ["The selected status is invalid."]
    for key in DATE_TIME_KEYS:
        value = body.get(key)
        if value is not None:
            try:
                datetime.strptime(str(value), "%Y-%m-%d %H:%M:%S")
            except ValueError:
                errors[key] = [f"The {key} does not match the format Y-m-d H:i:s."]
    for key in IP_KEYS:
        value = body.get(key)
        if value is not None:
            try:
                ipaddress.ip_address(str(value))
            except ValueError:
                errors[key] = [f"The {key.replace('_', ' ')} must be a valid IP address."]
    return errors


def validate_name(body: dict[str, Any]) -> Errors:
    name = body.get("name")
    if name is None or (isinstance(name, str) and not name.strip()):
        return {"name": ["The name field is required."]}
    if not isinstance(name, str):
        return {"name": ["The name must be a string."]}
    if len(name) > 255:
        return {"name": ["The name may not be greater than 255 characters."]}
    return {}


def validate_field_type(body: dict[str, Any]) -> Errors:
    field_type = body.get("type")
    if field_type is None:
        return {"type": ["The type field is required."]}
    if field_type not in FIELD_TYPES:
        return {"type": ["The selected type is invalid."]}
    return {}


def validate_batch(body: dict[str, Any]) -> Errors:
    requests = body.get("requests")
    if requests is None:
        return {"requests": ["The requests field is required."]}
    if not isinstance(requests, list):
        return {"requests": ["The requests must be an array."]}
    if not requests:
        return {"requests": ["The requests field is required."]}
    if len(requests) > MAX_BATCH:
        return {"requests": [f"The requests may not have more than {MAX_BATCH} items."]}
    errors: Errors = {}
    for index, request in enumerate(requests):
        prefix = f"requests.{index}"
        if not isinstance(request, dict):
            errors[prefix] = [f"The {prefix} must be an array."]
            continue
        method = request.get("method")
        if method is None:
            errors[f"{prefix}.method"] = [f"The {prefix}.method field is required."]
        elif method not in BATCH_METHODS:
            errors[f"{prefix}.method"] = [f"The selected {prefix}.method is invalid."]
        path = request.get("path")
        if path is None:
            errors[f"{prefix}.path"] = [f"The {prefix}.path field is required."]
        elif not isinstance(path, str) or not path.startswith(API_ROOT):
            errors[f"{prefix}.path"] = [f"The {prefix}.path must start with one of the following: api/."]
        if request.get("body") is not None and not isinstance(request.get("body"), dict):
            errors[f"{prefix}.body"] = [f"The {prefix}.body must be an array."]
    return errors
