"""MailerLite's request shapes: the body of a subscriber upsert or update, and the API's paths, spelled once.

Kept pure so that a plan, and the Preview showing it, hold exactly the requests the sender and the client make.
A path is spelled relative to the API root (``subscribers/123/groups/456``) and put in the form each side needs:
a request inside ``POST /batch`` names it ``api/...``, a plan and the Preview show ``/api/...`` (as MailerLite's
documentation writes it), and the client asks for ``/...`` after its base URL, which ends in ``/api``.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any
from urllib.parse import quote

API_ROOT = "api/"
SUBSCRIBERS = "subscribers"
GROUPS = "groups"
FIELDS = "fields"
BATCH = "batch"
WEBHOOKS = "webhooks"


def without_unset(values: Mapping[str, Any]) -> dict[str, Any]:
    """The parts of a body or a query that were given. ``None`` means "not given"; an empty list or dict is
    a value (``"groups": []`` on an update takes the subscriber out of every group)."""
    return {key: value for key, value in values.items() if value is not None}


def subscriber_body(
    email: str | None = None,
    *,
    fields: Mapping[str, Any] | None = None,
    groups: Iterable[Any] | None = None,
    **attributes: Any,
) -> dict[str, Any]:
    """The JSON body of a subscriber upsert (with an email) or update: email, fields, group ids, then the
    attributes (status, subscribed_at, ip_address...), each only when given."""
    return without_unset(
        {
            "email": email,
            "fields": dict(fields) if fields is not None else None,
            "groups": list(groups) if groups is not None else None,
            **attributes,
        }
    )


#: The status an unsubscribe sets (``PUT /subscribers/{id}``: by id, so that it never creates anyone).
UNSUBSCRIBED = "unsubscribed"


def unsubscribe_body() -> dict[str, Any]:
    """The body that unsubscribes a subscriber, and nothing else (fields and groups stay as they are)."""
    return subscriber_body(status=UNSUBSCRIBED)


def path_segment(value: object) -> str:
    """A value made safe for one part of a path; ``@`` stays as it is, so that an email lookup reads well.

    The path functions below take their parts as given: real ids and emails go through here first, while a
    plan's placeholders (``{subscriber_id}``, ``{group:Name}``) stay readable."""
    return quote(str(value), safe="@")


def subscriber_path(subscriber: str) -> str:
    return f"{SUBSCRIBERS}/{subscriber}"


def subscriber_group_path(subscriber: str, group: str) -> str:
    return f"{SUBSCRIBERS}/{subscriber}/{GROUPS}/{group}"


def subscriber_forget_path(subscriber: str) -> str:
    return f"{SUBSCRIBERS}/{subscriber}/forget"


def group_path(group: str) -> str:
    return f"{GROUPS}/{group}"


def group_subscribers_path(group: str) -> str:
    return f"{GROUPS}/{group}/{SUBSCRIBERS}"


def field_path(field: str) -> str:
    return f"{FIELDS}/{field}"


def webhook_path(webhook: str) -> str:
    return f"{WEBHOOKS}/{webhook}"


def batch_path(path: str) -> str:
    """A path as a request inside ``POST /batch`` names it."""
    return API_ROOT + path


def plan_path(path: str) -> str:
    """A path as a plan records it and the Preview shows it: from the host's root."""
    return "/" + API_ROOT + path


def client_path(path: str) -> str:
    """A path as the client asks for it, after its base URL (which already ends in ``/api``)."""
    return "/" + path


def api_relative(path: str) -> str:
    """A path in any of the three forms, back to the one relative to the API root."""
    return path.removeprefix("/").removeprefix(API_ROOT)
