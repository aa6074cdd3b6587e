"""What can go wrong when talking to MailerLite, said in plain words.

Every error carries the HTTP status, the method and path (never the host's credentials) and the parsed response
body, so the history can show what happened; ``str(error)`` is a sentence a support person can act on. The API key
is never part of any of it: errors are built from the response and the request path only.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from typing import Any

SUPPRESSED_STATUSES = ("unsubscribed", "bounced", "junk")
SUBSCRIBER_STATUSES = ("active", "unsubscribed", "unconfirmed", "bounced", "junk")
FIELD_TYPES = ("text", "number", "date")


class MailerLiteError(Exception):
    """Base of every MailerLite failure; ``retryable`` says whether trying again later may help."""

    retryable = False

    def __init__(
        self,
        message: str,
        *,
        status: int | None = None,
        method: str | None = None,
        path: str | None = None,
        body: Any = None,
        attempts: int = 1,
    ) -> None:
        super().__init__(message)
        self.message = message
        self.status = status
        self.method = method
        self.path = path
        self.body = body
        self.attempts = attempts

    def __str__(self) -> str:
        return self.message

    @property
    def plain(self) -> str:
        """One sentence for a page or the CLI: what happened and what to do, without codes, paths or names of
        exceptions (``str(error)`` keeps them for the history and support)."""
        return _plain_sentence(self)

    def __repr__(self) -> str:
        return f"{type(self).__name__}(status={self.status!r}, {self.method} {self.path}: {self.message!r})"


class ConfigurationError(MailerLiteError):
    """The client cannot even try: no API key, or a setting that cannot work."""


class AuthError(MailerLiteError):
    """401: the key is missing, mistyped or revoked."""


class ForbiddenError(MailerLiteError):
    """403: the key is valid but may not do this."""


class NotFound(MailerLiteError):
    """404: the subscriber, group, field or route does not exist."""


class ValidationError(MailerLiteError):
    """422: MailerLite refused the data; ``errors`` is its map, ``reasons`` the same in plain words."""

    def __init__(self, message: str, *, errors: Mapping[str, Sequence[str]], reasons: list[str], **kw: Any):
        super().__init__(message, **kw)
        self.errors = {key: list(value) for key, value in errors.items()}
        self.reasons = reasons


class SubscriberSuppressed(ValidationError):
    """422 for an unsubscribed, bounced or junk subscriber: only they can re-subscribe (form, landing page)."""

    def __init__(self, message: str, *, subscriber_id: str | None = None, **kw: Any):
        super().__init__(message, **kw)
        self.subscriber_id = subscriber_id


class RequestRejected(MailerLiteError):
    """Any other 4xx answer (400, 405, 409, ...): a request the client should not have made as it is."""


class RateLimited(MailerLiteError):
    """429 after every retry, or a wait for the budget longer than the client is allowed to block."""

    retryable = True

    def __init__(self, message: str, *, retry_after: float | None = None, **kw: Any):
        super().__init__(message, **kw)
        self.retry_after = retry_after


class ServerError(MailerLiteError):
    """5xx (or 408) after every retry: MailerLite's side failed."""

    retryable = True


class NetworkError(MailerLiteError):
    """No answer at all: the connection failed or the answer did not come in time, after every retry."""

    retryable = True


class RequestTimeout(NetworkError):
    """The request was sent but no answer came in time; it may or may not have been applied."""


class InvalidBatch(MailerLiteError, ValueError):
    """A batch the client refuses to send (more than 50 requests, a path not starting with ``api/``)."""


# ---------------------------------------------------------------------------------------------------------------
# error -> a marketer's sentence

_PLAIN = {
    "ConfigurationError": "",
    "AuthError": (
        "MailerLite did not accept the API key: check that it was copied whole and has not been revoked, "
        "then save it again on the Connection page."
    ),
    "ForbiddenError": (
        "This MailerLite API key is not allowed to do this; ask the account owner for a key with full access."
    ),
    "RateLimited": ("MailerLite asked the studio to slow down for a moment; syncing waits and carries on by itself."),
    "ServerError": "MailerLite had a problem on its side; the studio tries again later by itself.",
    "RequestTimeout": (
        "MailerLite did not answer in time, so the change may or may not have been made; the next sync checks it."
    ),
    "NetworkError": (
        "MailerLite cannot be reached from this computer: check the internet connection and the API address on "
        "the Connection page, then try again."
    ),
}


def _plain_sentence(error: MailerLiteError) -> str:
    for kind in type(error).__mro__:
        sentence = _PLAIN.get(kind.__name__)
        if sentence:
            return sentence
        if sentence == "":
            return error.message
    if isinstance(error, ValidationError):
        if isinstance(error, SubscriberSuppressed):
            return (
                "This person unsubscribed (or bounced, or was marked as junk), so MailerLite will not add them back; "
                "only they can sign up again, through a form or landing page."
            )
        return f"MailerLite refused the data: {'; '.join(error.reasons)}."
    if isinstance(error, NotFound):
        return f"{_not_found_sentence(error.path)[:1].upper()}{_not_found_sentence(error.path)[1:]}."
    if isinstance(error, RequestRejected):
        detail = _body_message(error.body)
        return "MailerLite refused a request" + (f": {detail.rstrip('.')}." if detail else ".")
    return re.sub(r"\s*\((?:\d{3}|429)[^)]*\)", "", error.message)


# ---------------------------------------------------------------------------------------------------------------
# 422 ``errors`` map -> sentences


def _index(key: str) -> int | None:
    match = re.match(r"^[a-z_]+\.(\d+)", key)
    return int(match.group(1)) if match else None


def _group_id_at(request_body: Any, index: int | None) -> str:
    if isinstance(request_body, Mapping) and index is not None:
        groups = request_body.get("groups")
        if isinstance(groups, Sequence) and not isinstance(groups, str) and index < len(groups):
            return str(groups[index])
    return "given" if index is None else f"number {index + 1}"


def _path_group_id(path: str | None) -> str | None:
    match = re.search(r"/groups/([^/?]+)$", path or "")
    return match.group(1) if match else None


def explain_validation_error(key: str, message: str, *, request_body: Any = None, path: str | None = None) -> str:
    """One entry of MailerLite's 422 ``errors`` map as a plain sentence (the raw text as a fallback)."""
    lowered = message.lower()
    body = request_body if isinstance(request_body, Mapping) else {}
    if key == "email":
        if "cannot be imported" in lowered or "unsubscribed" in lowered:
            return (
                "this subscriber unsubscribed (or bounced, or was marked as junk) and cannot be re-added by API; "
                "only they can re-subscribe, through a form or landing page"
            )
        if "required" in lowered:
            return "the email address is missing"
        if "taken" in lowered:
            return f"another subscriber already has the email address {body.get('email')!r}"
        return f"the email address {body.get('email')!r} is not a valid email address"
    if key == "groups":
        return "groups must be a list of group ids"
    if key.startswith("groups."):
        group = _group_id_at(request_body, _index(key))
        if "number" in lowered or "numeric" in lowered:
            return (
                f'the group id {group!r} is not a number; send group ids such as "165968863812388812", '
                "not group names or group objects"
            )
        return f"the group {group} does not exist in this account"
    if key == "id" and _path_group_id(path):
        return f"the group {_path_group_id(path)} does not exist in this account"
    if key == "name":
        if "unique" in lowered:
            return f"a field named {body.get('name')!r} already exists in this account"
        if "255" in lowered or "greater" in lowered:
            return "the name is longer than 255 characters"
        if "required" in lowered:
            return "a name is required"
    if key == "type":
        return f"the field type {body.get('type')!r} is not allowed; use one of {', '.join(FIELD_TYPES)}"
    if key == "status":
        return f"the status {body.get('status')!r} is not one of {', '.join(SUBSCRIBER_STATUSES)}"
    if key.startswith("fields."):
        field = key.split(".", 1)[1]
        value = body.get("fields", {}).get(field) if isinstance(body.get("fields"), Mapping) else None
        if "number" in lowered or "numeric" in lowered:
            return f"the field {field!r} holds numbers, but {value!r} is not a number"
        if "date" in lowered:
            return f"the field {field!r} holds dates, but {value!r} is not a date (use YYYY-MM-DD)"
        return f"the field {field!r} was refused: {message}"
    if key in ("subscribed_at", "opted_in_at", "unsubscribed_at"):
        return f"{key} must be a date and time such as 2025-09-19 11:10:41"
    if key in ("ip_address", "optin_ip"):
        return f"{key} must be a valid IP address"
    if key == "requests" or key.startswith("requests."):
        index = _index(key)
        where = f"request {index + 1} of the batch" if index is not None else "the batch"
        return f"the batch is malformed: {where}: {message}"
    return f"{key}: {message}"


def explain_validation_errors(
    errors: Mapping[str, Any], *, request_body: Any = None, path: str | None = None
) -> list[str]:
    reasons: list[str] = []
    for key, messages in errors.items():
        items = messages if isinstance(messages, list) else [messages]
        for message in items:
            sentence = explain_validation_error(str(key), str(message), request_body=request_body, path=path)
            if sentence not in reasons:
                reasons.append(sentence)
    return reasons


# ---------------------------------------------------------------------------------------------------------------
# status -> error


def _not_found_sentence(path: str | None) -> str:
    path = (path or "").split("?", 1)[0]
    match = re.search(r"/subscribers/([^/]+)/groups/([^/]+)$", path)
    if match:
        return f"subscriber {match.group(1)} is not in group {match.group(2)}, or one of them does not exist"
    for kind, pattern in (
        ("subscriber", r"/subscribers/([^/]+)"),
        ("group", r"/groups/([^/]+)"),
        ("field", r"/fields/([^/]+)"),
    ):
        match = re.search(pattern, path)
        if match:
            return f"MailerLite has no {kind} {match.group(1)}"
    return f"MailerLite has nothing at {path or 'this address'}"


def _body_message(body: Any) -> str:
    if isinstance(body, Mapping) and isinstance(body.get("message"), str):
        return body["message"]
    return ""


def error_for_response(
    status: int,
    body: Any,
    *,
    method: str | None = None,
    path: str | None = None,
    request_body: Any = None,
    attempts: int = 1,
    retry_after: float | None = None,
) -> MailerLiteError:
    """The plain-language error for a non-2xx answer (also used for the items of a batch)."""
    where = f"{method} {path}" if method and path else (path or "the request")
    common = dict(status=status, method=method, path=path, body=body, attempts=attempts)
    if status == 401:
        return AuthError(
            "MailerLite did not accept the API key (401 Unauthenticated): check that it was copied whole, "
            "belongs to this account and has not been revoked.",
            **common,
        )
    if status == 403:
        return ForbiddenError(
            f"MailerLite does not allow {where} for this account or API key (403 Forbidden).", **common
        )
    if status == 404:
        return NotFound(f"{_not_found_sentence(path)} (404 on {where}).", **common)
    if status == 422:
        errors = body.get("errors") if isinstance(body, Mapping) else None
        if not isinstance(errors, Mapping):
            errors = {}
        reasons = explain_validation_errors(errors, request_body=request_body, path=path) or [
            _body_message(body) or "the data was invalid"
        ]
        message = f"MailerLite refused {where}: {'; '.join(reasons)}."
        email_errors = " ".join(str(m) for m in errors.get("email", []) or [])
        if "cannot be imported" in email_errors.lower():
            subscriber = body.get("subscriber") if isinstance(body, Mapping) else None
            return SubscriberSuppressed(
                message,
                errors=errors,
                reasons=reasons,
                subscriber_id=str(subscriber) if subscriber is not None else None,
                **common,
            )
        return ValidationError(message, errors=errors, reasons=reasons, **common)
    if status == 429:
        wait = f"; try again in {retry_after:g} s" if retry_after is not None else ""
        what = "import (all-upsert batch) limit" if "import" in _body_message(body).lower() else "rate limit"
        return RateLimited(
            f"MailerLite's {what} is used up (429 on {where}, {attempts} attempt(s)){wait}.",
            retry_after=retry_after,
            **common,
        )
    if status >= 500 or status == 408:
        return ServerError(
            f"MailerLite had an error on its side ({status} on {where}) after {attempts} attempt(s); try again later.",
            **common,
        )
    detail = _body_message(body)
    return RequestRejected(f"MailerLite rejected {where} ({status}){': ' + detail if detail else ''}.", **common)
