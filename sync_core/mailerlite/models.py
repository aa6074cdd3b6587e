"""MailerLite's objects as the client hands them to the engine and the dashboard.

Only the attributes the product relies on are declared; everything else MailerLite sends is kept (``extra``), so
``model_dump()`` gives back the object as received. Ids stay strings: they are ~18-digit numbers that a float
would corrupt.
"""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator

from sync_core.domain.requests import (
    API_ROOT,
    SUBSCRIBERS,
    api_relative,
    batch_path,
    client_path,
    subscriber_body,
    subscriber_group_path,
    subscriber_path,
)

from .errors import MailerLiteError, error_for_response

MAX_BATCH_REQUESTS = 50


class _Model(BaseModel):
    model_config = ConfigDict(extra="allow", coerce_numbers_to_str=True)


class Group(_Model):
    id: str
    name: str
    active_count: int = 0
    created_at: str | None = None


class FieldInfo(_Model):
    """A subscriber field of the account (``key`` is what upserts use, ``name`` what people see)."""

    id: str
    name: str
    key: str
    type: str
    is_default: bool = False


class Subscriber(_Model):
    id: str
    email: str
    status: str
    fields: dict[str, Any] = Field(default_factory=dict)
    groups: list[Group] | None = None  # absent from list answers unless asked for
    created_at: str | None = None
    updated_at: str | None = None

    @property
    def group_ids(self) -> list[str]:
        return [group.id for group in self.groups or []]


class UpsertResult(_Model):
    """The answer to POST /subscribers: the subscriber and whether MailerLite created it (201) or updated it."""

    subscriber: Subscriber
    created: bool


class ForgetResult(_Model):
    message: str
    subscriber: Subscriber


class SubscriberPage(_Model):
    """One page of a cursor-paginated list; ``next_cursor`` is None on the last page."""

    items: list[Subscriber]
    next_cursor: str | None = None
    prev_cursor: str | None = None
    per_page: int | None = None


class GroupPage(_Model):
    items: list[Group]
    current_page: int = 1
    last_page: int = 1
    per_page: int | None = None
    total: int = 0


class FieldPage(_Model):
    items: list[FieldInfo]
    current_page: int = 1
    last_page: int = 1
    per_page: int | None = None
    total: int = 0


class Webhook(_Model):
    """A webhook of the account: MailerLite POSTs the ``events`` to ``url``, signed with ``secret``."""

    id: str
    url: str
    name: str | None = None
    events: list[str] = Field(default_factory=list)
    enabled: bool = False
    batchable: bool = False
    secret: str | None = Field(default=None, repr=False)
    is_blocked: bool = False
    last_fired_at: str | None = None
    response_code: int | None = None
    created_at: str | None = None
    updated_at: str | None = None

    def __repr__(self) -> str:  # never the secret, whatever pydantic's repr would show
        return f"Webhook(id={self.id!r}, url={self.url!r}, enabled={self.enabled!r})"


class BatchRequest(_Model):
    """One request inside POST /batch; ``path`` starts with ``api/``."""

    method: Literal["GET", "POST", "PUT", "DELETE", "PATCH"]
    path: str
    body: dict[str, Any] | None = None

    @field_validator("path")
    @classmethod
    def _api_path(cls, value: str) -> str:
        if not value.startswith(API_ROOT):
            raise ValueError("a batch path must start with api/")
        return value

    @property
    def is_upsert(self) -> bool:
        return self.method == "POST" and self.path.rstrip("/") == batch_path(SUBSCRIBERS)

    def to_json(self) -> dict[str, Any]:
        data: dict[str, Any] = {"method": self.method, "path": self.path}
        if self.body is not None:
            data["body"] = self.body
        return data

    @classmethod
    def upsert(cls, email: str, **body: Any) -> BatchRequest:
        return cls(method="POST", path=batch_path(SUBSCRIBERS), body=subscriber_body(email, **body))

    @classmethod
    def update(cls, subscriber_id: str, **body: Any) -> BatchRequest:
        return cls(method="PUT", path=batch_path(subscriber_path(subscriber_id)), body=subscriber_body(**body))

    @classmethod
    def assign(cls, subscriber_id: str, group_id: str) -> BatchRequest:
        return cls(method="POST", path=batch_path(subscriber_group_path(subscriber_id, group_id)))

    @classmethod
    def unassign(cls, subscriber_id: str, group_id: str) -> BatchRequest:
        return cls(method="DELETE", path=batch_path(subscriber_group_path(subscriber_id, group_id)))


class BatchItemResult(_Model):
    """The answer to one request of a batch, in the order sent."""

    code: int
    body: Any = None
    request: BatchRequest | None = Field(default=None, exclude=True)

    @property
    def ok(self) -> bool:
        return 200 <= self.code < 300

    def error(self) -> MailerLiteError | None:
        """The plain-language error for a failed item (None when it succeeded)."""
        if self.ok:
            return None
        request = self.request
        return error_for_response(
            self.code,
            self.body,
            method=request.method if request else None,
            path=client_path(api_relative(request.path)) if request else None,
            request_body=request.body if request else None,
        )


class BatchResult(_Model):
    total: int
    successful: int
    failed: int
    responses: list[BatchItemResult]


def is_import_batch(requests: list[BatchRequest]) -> bool:
    """All upserts: MailerLite runs it as an import, under the separate 5-per-minute limit."""
    return bool(requests) and all(request.is_upsert for request in requests)
