"""The endpoints of the sandbox: MailerLite's semantics for subscribers, groups, fields and webhooks.

Each handler takes the parsed request and answers ``(status, json body)``; authentication, rate limits, faults
and batches are the account's business (``account.py``).

Choices where the real API is not documented (each one the safer guess for a sync tool):

* Unsubscribed, bounced and junk subscribers are never reactivated. An upsert or PUT that asks for
  ``status: active`` (or ``resubscribe: true``) is refused with MailerLite's 422 "This subscriber is unsubscribed
  and cannot be imported" (with the ``subscriber`` id), the answer third parties report for re-adding someone who
  unsubscribed. Any other upsert updates their fields and groups and keeps their status: the docs call the
  upsert non-destructive, and refusing it would stop a sync from keeping their data current.
* Field keys that are not fields of the account are ignored, as MailerLite does.
* Unassigning a subscriber from a group they are not in answers 204 (nothing to do); an unknown group 404.
* Deleting one of the 8 default fields is refused with 422.
"""

from __future__ import annotations

import base64
import json
import math
import secrets
import string
from collections.abc import Callable
from datetime import timedelta
from typing import Any

from sync_core.domain.transforms import SUBSCRIBER_ATTRIBUTES

from .state import AccountState
from .validation import (
    SUPPRESSED,
    invalid,
    is_valid_email,
    validate_field_type,
    validate_name,
    validate_subscriber_body,
)
from .webhooks import validate_webhook

Answer = tuple[int, Any]
SUBSCRIBER_404 = "No query results for model [App\\Models\\Subscriber\\Subscriber]."
SUPPRESSED_MESSAGE = "This subscriber is unsubscribed and cannot be imported"
FORGET_MESSAGE = "Subscriber data will be completely deleted and forgotten within 30 days."
WEBHOOK_404 = "No query results for model [App\\Models\\Webhook]"
SECRET_ALPHABET = string.ascii_letters + string.digits


def _not_found(message: str) -> Answer:
    return 404, {"message": message}


def _group_404(group_id: str) -> Answer:
    return _not_found(f"No query results for model [App\\Models\\Group\\Group] {group_id}")


def encode_cursor(subscriber_id: str, forward: bool) -> str:
    raw = json.dumps({"id": int(subscriber_id), "_pointsToNextItems": forward}, separators=(",", ":"))
    return base64.urlsafe_b64encode(raw.encode()).decode().rstrip("=")


def decode_cursor(cursor: str | None) -> tuple[int, bool] | None:
    """An unreadable cursor means the first page, as Laravel's cursor paginator does."""
    if not cursor:
        return None
    try:
        data = json.loads(base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)))
        return int(data["id"]), bool(data["_pointsToNextItems"])
    except (ValueError, KeyError, TypeError):
        return None


def _limit(query: dict[str, str], default: int, *, minimum: int) -> int | Answer:
    raw = query.get("limit")
    if raw is None or raw == "":
        return default
    try:
        value = int(raw)
    except ValueError:
        return invalid({"limit": ["The limit must be an integer."]})
    if value < minimum:
        return invalid({"limit": [f"The limit must be at least {minimum}."]})
    if value > 1000:
        return invalid({"limit": ["The limit may not be greater than 1000."]})
    return value


def cursor_page(
    items: list[dict[str, Any]], render: Callable[[dict[str, Any]], Any], *, limit: int, cursor: str | None, path: str
) -> dict[str, Any]:
    """Cursor pagination over items sorted newest first (descending id), shaped like MailerLite's."""
    position = decode_cursor(cursor)
    if position is None:
        candidates, page = items, items[:limit]
    elif position[1]:
        candidates = [item for item in items if int(item["id"]) < position[0]]
        page = candidates[:limit]
    else:
        candidates = [item for item in items if int(item["id"]) > position[0]]
        page = candidates[-limit:]
    next_cursor = prev_cursor = None
    if page:
        if any(int(item["id"]) < int(page[-1]["id"]) for item in items):
            next_cursor = encode_cursor(page[-1]["id"], True)
        if position is not None and any(int(item["id"]) > int(page[0]["id"]) for item in items):
            prev_cursor = encode_cursor(page[0]["id"], False)
    return {
        "data": [render(item) for item in page],
        "links": {
            "first": None,
            "last": None,
            "prev": f"{path}?cursor={prev_cursor}" if prev_cursor else None,
            "next": f"{path}?cursor={next_cursor}" if next_cursor else None,
        },
        "meta": {"path": path, "per_page": limit, "next_cursor": next_cursor, "prev_cursor": prev_cursor},
    }


def numbered_page(items: list[Any], *, limit: int, page: int, path: str) -> dict[str, Any]:
    """Page-number pagination (groups, fields), shaped like Laravel's length-aware paginator."""
    total = len(items)
    last_page = max(1, math.ceil(total / limit))
    data = items[(page - 1) * limit : page * limit]
    first_index = (page - 1) * limit + 1 if data else None

    def url(number: int) -> str:
        return f"{path}?page={number}"

    prev_url = url(page - 1) if page > 1 else None
    next_url = url(page + 1) if page < last_page else None
    links = [{"url": prev_url, "label": "&laquo; Previous", "active": False}]
    links += [{"url": url(n), "label": str(n), "active": n == page} for n in range(1, last_page + 1)]
    links.append({"url": next_url, "label": "Next &raquo;", "active": False})
    return {
        "data": data,
        "links": {"first": url(1), "last": url(last_page), "prev": prev_url, "next": next_url},
        "meta": {
            "current_page": page,
            "from": first_index,
            "last_page": last_page,
            "links": links,
            "path": path,
            "per_page": limit,
            "to": first_index + len(data) - 1 if first_index is not None else None,
            "total": total,
        },
    }


class AccountApi:
    """MailerLite's REST semantics over an ``AccountState``."""

    def __init__(self, state: AccountState) -> None:
        self.state = state

    # -- subscribers ------------------------------------------------------------------------------------------

    def list_subscribers(self, query: dict[str, str], base: str) -> Answer:
        limit = _limit(query, 25, minimum=0)
        if isinstance(limit, tuple):
            return limit
        status = query.get("filter[status]")
        items = [s for s in self.state.subscribers.values() if status is None or s["status"] == status]
        if limit == 0:
            return 200, {"total": len(items)}
        return self._subscriber_page(items, query, limit, f"{base}/subscribers")

    def _subscriber_page(self, items: list[dict[str, Any]], query: dict[str, str], limit: int, path: str) -> Answer:
        """One cursor page of subscribers, newest first, as both subscriber listings answer."""
        items.sort(key=lambda s: int(s["id"]), reverse=True)
        with_groups = "groups" in query.get("include", "").split(",")
        return 200, cursor_page(
            items,
            lambda s: self.state.render_subscriber(s, groups=with_groups),
            limit=limit,
            cursor=query.get("cursor"),
            path=path,
        )

    def _apply(self, subscriber: dict[str, Any], body: dict[str, Any], *, replace_groups: bool) -> None:
        state = self.state
        state.remember(subscriber["id"])
        fields = body.get("fields") or {}
        for key, value in fields.items():
            field = state.field_by_key(str(key))
            if field is None:
                continue
            if field["type"] == "number" and isinstance(value, str) and value.strip():
                number = float(value)
                value = int(number) if number.is_integer() else number
            elif field["type"] == "text" and isinstance(value, (int, float)) and not isinstance(value, bool):
                value = str(value)
            subscriber["fields"][field["key"]] = None if value == "" else value
        groups = body.get("groups")
        if groups is not None:
            wanted = [str(g).strip() for g in groups]
            if replace_groups:
                for group_id in list(subscriber["groups"]):
                    if group_id not in wanted:
                        state.remove_member(subscriber, group_id)
            for group_id in wanted:
                state.add_member(subscriber, group_id)
        for key in SUBSCRIBER_ATTRIBUTES:
            if body.get(key) is not None:
                subscriber[key] = body[key]
        state.touch(subscriber)

    def _reactivation_refused(self, subscriber: dict[str, Any], body: dict[str, Any]) -> Answer | None:
        if subscriber["status"] in SUPPRESSED and (body.get("status") == "active" or body.get("resubscribe")):
            return 422, {
                "message": "The given data was invalid.",
                "errors": {"email": [SUPPRESSED_MESSAGE]},
                "subscriber": subscriber["id"],
            }
        return None

    def _set_status(self, subscriber: dict[str, Any], status: str | None) -> None:
        if status is not None and subscriber["status"] not in SUPPRESSED:
            self.state.set_status(subscriber, status)

    def upsert_subscriber(self, body: dict[str, Any]) -> Answer:
        errors = validate_subscriber_body(self.state, body, email_required=True)
        if errors:
            return invalid(errors)
        email = body["email"].strip().lower()
        subscriber = self.state.find_subscriber(email)
        if subscriber is not None:
            refused = self._reactivation_refused(subscriber, body)
            if refused:
                return refused
            self._set_status(subscriber, body.get("status"))
            self._apply(subscriber, body, replace_groups=False)
            return 200, {"data": self.state.render_subscriber(subscriber)}
        subscriber = self.state.new_subscriber_record(email)
        self.state.add_subscriber(subscriber)
        self.state.set_status(subscriber, body.get("status") or "active")
        self._apply(subscriber, body, replace_groups=False)
        return 201, {"data": self.state.render_subscriber(subscriber)}

    def update_subscriber(self, subscriber_id: str, body: dict[str, Any]) -> Answer:
        subscriber = self.state.subscribers.get(subscriber_id)
        if subscriber is None:
            return _not_found(SUBSCRIBER_404)
        errors = validate_subscriber_body(self.state, body, email_required=False)
        email = body.get("email")
        if not errors and isinstance(email, str) and is_valid_email(email):
            other = self.state.find_subscriber(email.strip().lower())
            if other is not None and other["id"] != subscriber_id:
                errors["email"] = ["The email has already been taken."]
        if errors:
            return invalid(errors)
        refused = self._reactivation_refused(subscriber, body)
        if refused:
            return refused
        if isinstance(email, str) and email.strip().lower() != subscriber["email"]:
            self.state.change_email(subscriber, email.strip().lower())
        self._set_status(subscriber, body.get("status"))
        self._apply(subscriber, body, replace_groups=True)
        return 200, {"data": self.state.render_subscriber(subscriber)}

    def get_subscriber(self, id_or_email: str) -> Answer:
        subscriber = self.state.find_subscriber(id_or_email)
        if subscriber is None:
            return _not_found(SUBSCRIBER_404)
        return 200, {"data": self.state.render_subscriber(subscriber)}

    def delete_subscriber(self, subscriber_id: str) -> Answer:
        subscriber = self.state.subscribers.get(subscriber_id)
        if subscriber is None:
            return _not_found(SUBSCRIBER_404)
        self.state.drop_subscriber(subscriber)
        return 204, None

    def forget_subscriber(self, subscriber_id: str) -> Answer:
        subscriber = self.state.subscribers.get(subscriber_id)
        if subscriber is None:
            return _not_found(SUBSCRIBER_404)
        self.state.touch(subscriber)
        forgotten = {"deleted_at": self.state.now_text(), "forget_at": self.state.now_text(timedelta(days=30))}
        data = self.state.render_subscriber(subscriber, forgotten=forgotten)
        self.state.drop_subscriber(subscriber)
        return 200, {"data": data, "message": FORGET_MESSAGE}

    def assign(self, subscriber_id: str, group_id: str) -> Answer:
        subscriber = self.state.subscribers.get(subscriber_id)
        if subscriber is None:
            return _not_found(SUBSCRIBER_404)
        if group_id not in self.state.groups:
            return 422, {"message": "The selected id is invalid.", "errors": {"id": ["The selected id is invalid."]}}
        self.state.add_member(subscriber, group_id)
        self.state.touch(subscriber)
        return 200, {"data": self.state.render_group(self.state.groups[group_id])}

    def unassign(self, subscriber_id: str, group_id: str) -> Answer:
        subscriber = self.state.subscribers.get(subscriber_id)
        if subscriber is None:
            return _not_found(SUBSCRIBER_404)
        if group_id not in self.state.groups:
            return _not_found("")
        if self.state.remove_member(subscriber, group_id):
            self.state.touch(subscriber)
        return 204, None

    # -- groups -----------------------------------------------------------------------------------------------

    def list_groups(self, query: dict[str, str], base: str) -> Answer:
        limit = _limit(query, 25, minimum=1)
        if isinstance(limit, tuple):
            return limit
        page = int(query["page"]) if query.get("page", "").isdigit() and int(query["page"]) > 0 else 1
        name = (query.get("filter[name]") or "").casefold()
        groups = [self.state.render_group(g) for g in self.state.groups.values() if name in g["name"].casefold()]
        sort = query.get("sort") or ""
        key = sort.lstrip("-")
        sort_keys: dict[str, Callable[[dict[str, Any]], Any]] = {
            "name": lambda g: g["name"].casefold(),
            "total": lambda g: g["active_count"],
            "open_rate": lambda g: g["open_rate"]["float"],
            "click_rate": lambda g: g["click_rate"]["float"],
            "created_at": lambda g: (g["created_at"], int(g["id"])),
        }
        if key in sort_keys:
            groups.sort(key=sort_keys[key], reverse=sort.startswith("-"))
        return 200, numbered_page(groups, limit=limit, page=page, path=f"{base}/groups")

    def create_group(self, body: dict[str, Any]) -> Answer:
        errors = validate_name(body)
        if errors:
            return invalid(errors)
        group = {"id": self.state.new_id("group"), "name": body["name"], "created_at": self.state.now_text()}
        self.state.put_group(group)
        return 201, {"data": self.state.render_group(group)}

    def update_group(self, group_id: str, body: dict[str, Any]) -> Answer:
        if group_id not in self.state.groups:
            return _group_404(group_id)
        errors = validate_name(body)
        if errors:
            return invalid(errors)
        self.state.put_group({**self.state.groups[group_id], "name": body["name"]})
        return 200, {"data": self.state.render_group(self.state.groups[group_id])}

    def delete_group(self, group_id: str) -> Answer:
        if group_id not in self.state.groups:
            return _group_404(group_id)
        self.state.drop_group(group_id)
        return 204, None

    def group_subscribers(self, group_id: str, query: dict[str, str], base: str) -> Answer:
        if group_id not in self.state.groups:
            return _group_404(group_id)
        limit = _limit(query, 50, minimum=1)
        if isinstance(limit, tuple):
            return limit
        status = query.get("filter[status]") or "active"
        items = [self.state.subscribers[sid] for sid in self.state.members.get(group_id, ())]
        items = [s for s in items if s["status"] == status]
        return self._subscriber_page(items, query, limit, f"{base}/groups/{group_id}/subscribers")

    # -- fields -----------------------------------------------------------------------------------------------

    def list_fields(self, query: dict[str, str], base: str) -> Answer:
        limit = _limit(query, 25, minimum=1)
        if isinstance(limit, tuple):
            return limit
        page = int(query["page"]) if query.get("page", "").isdigit() and int(query["page"]) > 0 else 1
        keyword = (query.get("filter[keyword]") or "").casefold()
        wanted_type = query.get("filter[type]")
        fields = [
            f
            for f in self.state.fields.values()
            if keyword in f["name"].casefold() and (not wanted_type or f["type"] == wanted_type)
        ]
        sort = query.get("sort") or ""
        if sort.lstrip("-") in ("name", "type"):
            fields.sort(key=lambda f: f[sort.lstrip("-")].casefold(), reverse=sort.startswith("-"))
        rendered = [self.state.render_field(f, listing=True) for f in fields]
        return 200, numbered_page(rendered, limit=limit, page=page, path=f"{base}/fields")

    def create_field(self, body: dict[str, Any]) -> Answer:
        errors = {**validate_name(body), **validate_field_type(body)}
        if errors:
            return invalid(errors)
        if self.state.field_name_taken(body["name"]):
            return 422, {"message": "Field name must be unique", "errors": {"name": ["Field name must be unique"]}}
        field = {
            "id": self.state.new_id("field"),
            "name": body["name"],
            "key": self.state.unique_field_key(body["name"]),
            "type": body["type"],
            "is_default": False,
        }
        self.state.put_field(field)
        return 201, {"data": self.state.render_field(field)}

    def update_field(self, field_id: str, body: dict[str, Any]) -> Answer:
        if field_id not in self.state.fields:
            return _not_found(f"No query results for model [App\\Models\\Field] {field_id}")
        errors = validate_name(body)
        if errors:
            return invalid(errors)
        if self.state.field_name_taken(body["name"], except_id=field_id):
            return 422, {"message": "Field name must be unique", "errors": {"name": ["Field name must be unique"]}}
        self.state.put_field({**self.state.fields[field_id], "name": body["name"]})
        return 200, {"data": self.state.render_field(self.state.fields[field_id])}

    def delete_field(self, field_id: str) -> Answer:
        if field_id not in self.state.fields:
            return _not_found(f"No query results for model [App\\Models\\Field] {field_id}")
        if self.state.fields[field_id]["is_default"]:
            message = "Default fields cannot be deleted."
            return 422, {"message": message, "errors": {"id": [message]}}
        self.state.drop_field(field_id)
        return 204, None

    # -- webhooks ---------------------------------------------------------------------------------------------

    def list_webhooks(self, query: dict[str, str], base: str) -> Answer:
        limit = _limit(query, 50, minimum=1)
        if isinstance(limit, tuple):
            return limit
        page = int(query["page"]) if query.get("page", "").isdigit() and int(query["page"]) > 0 else 1
        webhooks = [
            self.state.render_webhook(w) for _, w in sorted(self.state.webhooks.items(), key=lambda i: int(i[0]))
        ]
        return 200, numbered_page(webhooks, limit=limit, page=page, path=f"{base}/webhooks")

    def create_webhook(self, body: dict[str, Any]) -> Answer:
        errors = validate_webhook(body)
        if errors:
            return invalid(errors)
        now = self.state.now_text()
        webhook = {
            "id": self.state.new_id("webhook"),
            "name": body.get("name") or "",
            "url": body["url"].strip(),
            "events": list(dict.fromkeys(body["events"])),
            "enabled": body.get("enabled", True),
            "is_blocked": False,
            "secret": "".join(secrets.choice(SECRET_ALPHABET) for _ in range(10)),
            "created_at": now,
            "updated_at": now,
            "batchable": body.get("batchable", False),
            "last_fired_at": None,
            "response_code": None,
        }
        self.state.put_webhook(webhook)
        return 201, {"data": self.state.render_webhook(webhook)}

    def get_webhook(self, webhook_id: str) -> Answer:
        webhook = self.state.webhooks.get(webhook_id)
        if webhook is None:
            return _not_found(f"{WEBHOOK_404} {webhook_id}")
        return 200, {"data": self.state.render_webhook(webhook)}

    def update_webhook(self, webhook_id: str, body: dict[str, Any]) -> Answer:
        webhook = self.state.webhooks.get(webhook_id)
        if webhook is None:
            return _not_found(f"{WEBHOOK_404} {webhook_id}")
        errors = validate_webhook(body, current=webhook)
        if errors:
            return invalid(errors)
        changed = dict(webhook)
        for key in ("name", "enabled", "batchable"):
            if key in body and body[key] is not None:
                changed[key] = body[key]
        if "url" in body:
            changed["url"] = body["url"].strip()
        if "events" in body:
            changed["events"] = list(dict.fromkeys(body["events"]))
        changed["updated_at"] = self.state.now_text()
        self.state.put_webhook(changed)
        return 200, {"data": self.state.render_webhook(changed)}

    def delete_webhook(self, webhook_id: str) -> Answer:
        if webhook_id not in self.state.webhooks:
            return _not_found(f"{WEBHOOK_404} {webhook_id}")
        self.state.drop_webhook(webhook_id)
        return 204, None
