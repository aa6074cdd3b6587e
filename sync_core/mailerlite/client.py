"""The MailerLite API client: one method per call the product makes.

Rate limits, retries and plain-language errors come from ``ApiSession`` (``session.py``); the HTTP layer is an
injectable httpx transport, so the same client talks to the real API, to respx in tests and to the in-process
sandbox.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from typing import Any

from sync_core.domain.requests import (
    BATCH,
    FIELDS,
    GROUPS,
    SUBSCRIBERS,
    WEBHOOKS,
    client_path,
    field_path,
    group_path,
    group_subscribers_path,
    path_segment,
    subscriber_body,
    subscriber_forget_path,
    subscriber_group_path,
    subscriber_path,
    webhook_path,
    without_unset,
)

from .errors import InvalidBatch, NotFound
from .models import (
    MAX_BATCH_REQUESTS,
    BatchItemResult,
    BatchRequest,
    BatchResult,
    FieldInfo,
    FieldPage,
    ForgetResult,
    Group,
    GroupPage,
    Subscriber,
    SubscriberPage,
    UpsertResult,
    Webhook,
    is_import_batch,
)
from .session import ApiSession, _json


def _group_ids(groups: Sequence[Any] | None) -> list[Any] | None:
    if groups is None:
        return None
    return [g.id if isinstance(g, Group) else (str(g) if isinstance(g, (int, str)) else g) for g in groups]


class MailerLiteClient(ApiSession):
    """A client for one MailerLite account (thread-safe; share one per account and process).

    Built with ``MailerLiteClient(settings, transport=..., budget=..., on_exchange=...)``; see ``ApiSession``.
    """

    # -- subscribers ------------------------------------------------------------------------------------------

    def upsert_subscriber(
        self,
        email: str,
        *,
        fields: Mapping[str, Any] | None = None,
        groups: Sequence[Any] | None = None,
        status: str | None = None,
        subscribed_at: str | None = None,
        ip_address: str | None = None,
        opted_in_at: str | None = None,
        optin_ip: str | None = None,
        unsubscribed_at: str | None = None,
    ) -> UpsertResult:
        """POST /subscribers: create (201) or update (200) by email; adds groups, never removes any."""
        body = subscriber_body(
            email,
            fields=fields,
            groups=_group_ids(groups),
            status=status,
            subscribed_at=subscribed_at,
            ip_address=ip_address,
            opted_in_at=opted_in_at,
            optin_ip=optin_ip,
            unsubscribed_at=unsubscribed_at,
        )
        response = self._request("POST", client_path(SUBSCRIBERS), json=body)
        return UpsertResult(
            subscriber=Subscriber.model_validate(self._data(response)), created=response.status_code == 201
        )

    def update_subscriber(
        self,
        subscriber_id: str,
        *,
        email: str | None = None,
        fields: Mapping[str, Any] | None = None,
        groups: Sequence[Any] | None = None,
        status: str | None = None,
        subscribed_at: str | None = None,
        ip_address: str | None = None,
        opted_in_at: str | None = None,
        optin_ip: str | None = None,
        unsubscribed_at: str | None = None,
    ) -> Subscriber:
        """PUT /subscribers/{id}: ``groups``, when given, *replaces* the subscriber's groups."""
        body = subscriber_body(
            email,
            fields=fields,
            groups=_group_ids(groups),
            status=status,
            subscribed_at=subscribed_at,
            ip_address=ip_address,
            opted_in_at=opted_in_at,
            optin_ip=optin_ip,
            unsubscribed_at=unsubscribed_at,
        )
        response = self._request("PUT", client_path(subscriber_path(path_segment(subscriber_id))), json=body)
        return Subscriber.model_validate(self._data(response))

    def get_subscriber(self, id_or_email: str) -> Subscriber:
        """GET /subscribers/{id or email}; raises NotFound when there is none."""
        response = self._request("GET", client_path(subscriber_path(path_segment(id_or_email))))
        return Subscriber.model_validate(self._data(response))

    def find_subscriber(self, id_or_email: str) -> Subscriber | None:
        try:
            return self.get_subscriber(id_or_email)
        except NotFound:
            return None

    def list_subscribers(
        self,
        *,
        status: str | None = None,
        limit: int = 100,
        cursor: str | None = None,
        include_groups: bool = False,
    ) -> SubscriberPage:
        """GET /subscribers: one page; follow ``next_cursor`` for the next."""
        params = without_unset(
            {
                "filter[status]": status,
                "limit": limit,
                "cursor": cursor,
                "include": "groups" if include_groups else None,
            }
        )
        body = _json(self._request("GET", client_path(SUBSCRIBERS), params=params)) or {}
        meta = body.get("meta") or {}
        return SubscriberPage(
            items=[Subscriber.model_validate(item) for item in body.get("data") or []],
            next_cursor=meta.get("next_cursor"),
            prev_cursor=meta.get("prev_cursor"),
            per_page=meta.get("per_page"),
        )

    def iter_subscribers(
        self, *, status: str | None = None, page_size: int = 100, include_groups: bool = False
    ) -> Iterator[Subscriber]:
        for page in self.iter_subscriber_pages(status=status, page_size=page_size, include_groups=include_groups):
            yield from page.items

    def iter_subscriber_pages(
        self, *, status: str | None = None, page_size: int = 100, include_groups: bool = False
    ) -> Iterator[SubscriberPage]:
        """Every page of ``GET /subscribers`` (``page_size`` up to 1000), following the cursors: one page in
        memory at a time, however large the account."""
        cursor: str | None = None
        while True:
            page = self.list_subscribers(status=status, limit=page_size, cursor=cursor, include_groups=include_groups)
            yield page
            if not page.next_cursor or not page.items:
                return
            cursor = page.next_cursor

    def count_subscribers(self, *, status: str | None = None) -> int:
        """GET /subscribers?limit=0 answers ``{"total": N}``."""
        params = without_unset({"filter[status]": status, "limit": 0})
        body = _json(self._request("GET", client_path(SUBSCRIBERS), params=params)) or {}
        return int(body.get("total", 0))

    def delete_subscriber(self, subscriber_id: str) -> None:
        self._request("DELETE", client_path(subscriber_path(path_segment(subscriber_id))))

    def forget_subscriber(self, subscriber_id: str) -> ForgetResult:
        """POST /subscribers/{id}/forget: GDPR removal, completed by MailerLite within 30 days."""
        body = _json(self._request("POST", client_path(subscriber_forget_path(path_segment(subscriber_id))))) or {}
        return ForgetResult(message=body.get("message", ""), subscriber=Subscriber.model_validate(body["data"]))

    # -- groups -----------------------------------------------------------------------------------------------

    def list_groups(
        self, *, name: str | None = None, limit: int = 100, page: int = 1, sort: str | None = None
    ) -> GroupPage:
        """GET /groups: page-numbered; ``name`` matches partially (see ``find_group`` for exact)."""
        params = without_unset({"filter[name]": name, "limit": limit, "page": page, "sort": sort})
        body = _json(self._request("GET", client_path(GROUPS), params=params)) or {}
        meta = body.get("meta") or {}
        return GroupPage(
            items=[Group.model_validate(item) for item in body.get("data") or []],
            current_page=meta.get("current_page") or page,
            last_page=meta.get("last_page") or 1,
            per_page=meta.get("per_page"),
            total=meta.get("total") or 0,
        )

    def iter_groups(self, *, name: str | None = None, page_size: int = 100) -> Iterator[Group]:
        page = 1
        while True:
            result = self.list_groups(name=name, limit=page_size, page=page)
            yield from result.items
            if page >= result.last_page or not result.items:
                return
            page += 1

    def find_group(self, name: str) -> Group | None:
        """The group with exactly this name (case-insensitive), if any."""
        wanted = name.strip().casefold()
        for group in self.iter_groups(name=name.strip()):
            if group.name.strip().casefold() == wanted:
                return group
        return None

    def create_group(self, name: str) -> Group:
        response = self._request("POST", client_path(GROUPS), json={"name": name}, idempotent=False)
        return Group.model_validate(self._data(response))

    def rename_group(self, group_id: str, name: str) -> Group:
        response = self._request("PUT", client_path(group_path(path_segment(group_id))), json={"name": name})
        return Group.model_validate(self._data(response))

    def delete_group(self, group_id: str) -> None:
        self._request("DELETE", client_path(group_path(path_segment(group_id))))

    def list_group_subscribers(
        self, group_id: str, *, status: str | None = None, limit: int = 100, cursor: str | None = None
    ) -> SubscriberPage:
        """GET /groups/{id}/subscribers: MailerLite lists only active members unless ``status`` says otherwise."""
        params = without_unset({"filter[status]": status, "limit": limit, "cursor": cursor})
        body = (
            _json(self._request("GET", client_path(group_subscribers_path(path_segment(group_id))), params=params))
            or {}
        )
        meta = body.get("meta") or {}
        return SubscriberPage(
            items=[Subscriber.model_validate(item) for item in body.get("data") or []],
            next_cursor=meta.get("next_cursor"),
            prev_cursor=meta.get("prev_cursor"),
            per_page=meta.get("per_page"),
        )

    def assign_to_group(self, subscriber_id: str, group_id: str) -> Group:
        response = self._request(
            "POST", client_path(subscriber_group_path(path_segment(subscriber_id), path_segment(group_id)))
        )
        return Group.model_validate(self._data(response))

    def unassign_from_group(self, subscriber_id: str, group_id: str) -> None:
        self._request("DELETE", client_path(subscriber_group_path(path_segment(subscriber_id), path_segment(group_id))))

    # -- webhooks ---------------------------------------------------------------------------------------------

    def list_webhooks(self) -> list[Webhook]:
        """GET /webhooks: every webhook of the account (with its secret)."""
        body = _json(self._request("GET", client_path(WEBHOOKS), params={"limit": 100})) or {}
        return [Webhook.model_validate(item) for item in body.get("data") or []]

    def create_webhook(
        self, url: str, events: Sequence[str], *, name: str | None = None, enabled: bool = True, batchable: bool = True
    ) -> Webhook:
        """POST /webhooks: answered 201 with the new webhook, its signing ``secret`` included."""
        body = without_unset(
            {"name": name, "events": list(events), "url": url, "enabled": enabled, "batchable": batchable}
        )
        response = self._request("POST", client_path(WEBHOOKS), json=body, idempotent=False)
        return Webhook.model_validate(self._data(response))

    def update_webhook(
        self,
        webhook_id: str,
        *,
        url: str | None = None,
        events: Sequence[str] | None = None,
        name: str | None = None,
        enabled: bool | None = None,
        batchable: bool | None = None,
    ) -> Webhook:
        """PUT /webhooks/{id}: changes what is given."""
        body = without_unset(
            {
                "name": name,
                "events": list(events) if events is not None else None,
                "url": url,
                "enabled": enabled,
                "batchable": batchable,
            }
        )
        response = self._request("PUT", client_path(webhook_path(path_segment(webhook_id))), json=body)
        return Webhook.model_validate(self._data(response))

    # -- fields -----------------------------------------------------------------------------------------------

    def list_fields(
        self,
        *,
        limit: int = 100,
        page: int = 1,
        keyword: str | None = None,
        type: str | None = None,
        sort: str | None = None,
    ) -> FieldPage:
        params = without_unset(
            {"limit": limit, "page": page, "filter[keyword]": keyword, "filter[type]": type, "sort": sort}
        )
        body = _json(self._request("GET", client_path(FIELDS), params=params)) or {}
        meta = body.get("meta") or {}
        return FieldPage(
            items=[FieldInfo.model_validate(item) for item in body.get("data") or []],
            current_page=meta.get("current_page") or page,
            last_page=meta.get("last_page") or 1,
            per_page=meta.get("per_page"),
            total=meta.get("total") or 0,
        )

    def iter_fields(self, *, page_size: int = 100) -> Iterator[FieldInfo]:
        page = 1
        while True:
            result = self.list_fields(limit=page_size, page=page)
            yield from result.items
            if page >= result.last_page or not result.items:
                return
            page += 1

    def create_field(self, name: str, type: str = "text") -> FieldInfo:
        """POST /fields: the docs say 200, the live API answers 201; both are success."""
        response = self._request("POST", client_path(FIELDS), json={"name": name, "type": type}, idempotent=False)
        return FieldInfo.model_validate(self._data(response))

    def rename_field(self, field_id: str, name: str) -> FieldInfo:
        """PUT /fields/{id}: the key stays what it was."""
        response = self._request("PUT", client_path(field_path(path_segment(field_id))), json={"name": name})
        return FieldInfo.model_validate(self._data(response))

    def delete_field(self, field_id: str) -> None:
        self._request("DELETE", client_path(field_path(path_segment(field_id))))

    # -- batch ------------------------------------------------------------------------------------------------

    def batch(self, requests: Sequence[BatchRequest | Mapping[str, Any]]) -> BatchResult:
        """POST /batch: up to 50 requests in one HTTP call (one unit of the rate limit); per-item codes.

        A batch made only of upserts runs on MailerLite's import path and also takes one of its 5 per minute.
        """
        if not requests:
            raise InvalidBatch("A batch needs at least one request.")
        if len(requests) > MAX_BATCH_REQUESTS:
            raise InvalidBatch(
                f"A batch may hold at most {MAX_BATCH_REQUESTS} requests; this one has {len(requests)}. "
                "Split it into several batches."
            )
        items: list[BatchRequest] = []
        for number, request in enumerate(requests, start=1):
            if isinstance(request, BatchRequest):
                items.append(request)
                continue
            try:
                items.append(BatchRequest.model_validate(request))
            except ValueError:
                raise InvalidBatch(
                    f"Request {number} of the batch is malformed: it needs a method (GET, POST, PUT, DELETE, "
                    "PATCH) and a path starting with api/."
                ) from None
        response = self._request(
            "POST",
            client_path(BATCH),
            json={"requests": [item.to_json() for item in items]},
            imports=is_import_batch(items),
        )
        body = _json(response) or {}
        results = []
        for index, item in enumerate(body.get("responses") or []):
            result = BatchItemResult.model_validate(item)
            result.request = items[index] if index < len(items) else None
            results.append(result)
        return BatchResult(
            total=body.get("total", len(items)),
            successful=body.get("successful", 0),
            failed=body.get("failed", 0),
            responses=results,
        )
