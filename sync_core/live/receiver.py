"""What to do with one webhook request, without any web framework: verify, read, decide, say what to store.

The order matters:
1. the body size, checked by the route while it reads the body (over ``MAX_BODY_BYTES``: 413, nothing stored:
   an unread body cannot be verified), so a body that reaches ``decide`` is within the limit;
2. the signature, on the raw bytes (bad, missing, expired: 401, nothing stored);
3. only then the JSON, parsed once here (malformed after a good signature: 400, recorded as rejected with the
   reason); the stored row is the raw body, which the worker parses again only when it syncs the event;
4. a type the configuration does not know and does not name is accepted and recorded as ignored;
5. anything else is stored as pending for the worker.
A verified event is answered 2xx only after it is committed (the route waits for the writer). A duplicate — the
same ``webhook-id`` from Dodo Payments, the same body from Partnero — is answered 2xx and stored once.

MailerLite's deliveries (``/webhooks/mailerlite``) are verified the same way, then each event of a delivery is
stored as an event of its own (``domain/sources/mailerlite``: its id is a hash of its content, so a redelivery is
stored once); an event that cannot be read is recorded as rejected beside the others, and a body with no readable
event at all is answered 400 and recorded as rejected.
"""

from __future__ import annotations

import hashlib
import logging
import threading
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any, Generic, TypeVar

from storage.events import NewEvent
from storage.secrets import SecretKeyError
from storage.statuses import EventStatus
from sync_core.domain.config import SyncConfig
from sync_core.domain.evaluation import Evaluator
from sync_core.domain.events import DODO_PAYMENTS, MAILERLITE, PARTNERO, SENDER_LABELS, RejectedInput
from sync_core.domain.sources import normalize_input
from sync_core.domain.sources.body import body_id
from sync_core.domain.sources.mailerlite import MAILERLITE_WEBHOOK_PATH, read_delivery
from sync_core.engine.workspace import Workspace
from sync_core.live.verify import SecretError, SignatureError, verifier
from sync_core.settings import WEBHOOK_SECRET_FIELDS, variable_name

#: URL path of each source's endpoint.
WEBHOOK_PATHS = {
    DODO_PAYMENTS: "/webhooks/dodo-payments",
    PARTNERO: "/webhooks/partnero",
    MAILERLITE: MAILERLITE_WEBHOOK_PATH,
}
ORIGIN = "webhook"
MAX_EVENT_ID = 200  # the column's width
log = logging.getLogger("sync_core.live")

T = TypeVar("T")


@dataclass(slots=True)
class Decision:
    """The answer to send, and the event to commit before sending it (``None``: store nothing)."""

    status: int
    body: dict[str, Any]
    event: NewEvent | None = None
    more: list[NewEvent] = field(default_factory=list)  # the other events of a delivery that holds several

    @property
    def events(self) -> list[NewEvent]:
        """Every event to commit before answering."""
        return ([self.event] if self.event is not None else []) + self.more


def error(status: int, message: str) -> Decision:
    return Decision(status, {"error": message})


@dataclass(slots=True)
class _Entry(Generic[T]):
    value: T | None = None
    problem: str | None = None
    loaded_at: float = float("-inf")


class Cached(Generic[T]):
    """A value read from the database now and then: at most every ``ttl`` seconds, by whoever finds it stale.
    ``get`` never touches the database, so the web server's event loop can call it; ``load`` does."""

    def __init__(self, loader: Callable[[str], T], ttl: float):
        self._loader = loader
        self.ttl = ttl
        self._entries: dict[str, _Entry[T]] = {}
        self._lock = threading.Lock()

    def fresh(self, key: str) -> bool:
        entry = self._entries.get(key)
        return entry is not None and time.monotonic() - entry.loaded_at < self.ttl

    def get(self, key: str) -> tuple[T | None, str | None]:
        entry = self._entries.get(key) or _Entry()
        return entry.value, entry.problem

    def load(self, key: str) -> tuple[T | None, str | None]:
        try:
            entry = _Entry(self._loader(key), None, time.monotonic())
        except _Problem as exc:
            entry = _Entry(None, str(exc), time.monotonic())
        with self._lock:
            self._entries[key] = entry
        return entry.value, entry.problem

    def clear(self) -> None:
        with self._lock:
            self._entries.clear()


class _Problem(Exception):
    """A reason, safe to show, why a cached value is missing."""


class Receiver:
    """Decisions for one workspace. Secrets and the configuration are cached for ``ttl`` seconds, so that a
    secret rotated on the Connection page (by this or another process) is used within that time; the end of a
    previous secret's grace period is checked at each request, cached or not."""

    def __init__(self, workspace: Workspace, *, ttl: float = 1.0):
        self.workspace = workspace
        self.verifiers: Cached = Cached(self._load_verifier, ttl)
        self.evaluators: Cached = Cached(self._load_evaluator, ttl)

    # --- cached reads (blocking: call from a thread when not fresh) --------------------------------------------

    def _load_verifier(self, source: str):  # noqa: ANN202
        label = SENDER_LABELS[source]
        try:
            secrets = self.workspace.webhook_secrets(source)
        except SecretKeyError:
            raise _Problem(
                f"the stored {label} signing secret cannot be read with this installation's "
                "encryption key; set it again on the Connection page"
            ) from None
        if not secrets or not secrets[0][0].strip():
            variable = variable_name(WEBHOOK_SECRET_FIELDS[source])
            raise _Problem(
                f"no {label} signing secret is set, so events cannot be verified; set it on the "
                f"Connection page or in {variable}"
            )
        try:
            return verifier(source, secrets)
        except SecretError as exc:
            raise _Problem(str(exc)) from None

    def _load_evaluator(self, _: str) -> Evaluator:
        active = self.workspace.active_config()
        return Evaluator(active.config if not active.problem else SyncConfig())

    def refresh(self, source: str) -> None:
        """Read what ``decide`` needs for ``source`` from the database, if it is stale (blocking)."""
        if not self.verifiers.fresh(source):
            self.verifiers.load(source)
        if not self.evaluators.fresh("config"):
            self.evaluators.load("config")

    def fresh(self, source: str) -> bool:
        return self.verifiers.fresh(source) and self.evaluators.fresh("config")

    # --- the decision (no blocking I/O) -------------------------------------------------------------------------

    def decide(self, source: str, body: bytes, headers: Mapping[str, str], *, now: datetime | None = None) -> Decision:
        """The answer to one request whose ``body`` the route has read (no larger than ``MAX_BODY_BYTES``)."""
        check, problem = self.verifiers.get(source)
        if check is None:
            return error(503, problem or "the signing secret has not been read yet; try again")
        now = now or datetime.now(UTC)
        try:
            check.verify(body, headers, now=now)
        except SignatureError as exc:
            return error(401, str(exc))
        if source == MAILERLITE:
            return _mailerlite_decision(body)
        try:
            item = normalize_input(body, source, headers=headers, received_at=now, limit=None)
        except Exception as exc:  # noqa: BLE001 - a signed body is answered and recorded, never a 5xx
            log.error("a %s body could not be read: %s", SENDER_LABELS[source], type(exc).__name__)
            item = RejectedInput(source, "the body could not be read as an event", id=body_id(body))
        # A rejected body has an id too (Dodo's webhook-id, else the body hash), so that its retries are one row.
        item.id = _short_id(item.id)  # type: ignore[arg-type]
        if isinstance(item, RejectedInput):
            return Decision(
                400,
                {"error": item.reason},
                NewEvent(source, item.id, body, origin=ORIGIN, status=EventStatus.REJECTED, reason=item.reason),
            )
        status, reason = EventStatus.PENDING, ""
        if not item.known_type:  # ignored now, unless the configuration names the type in a trigger
            evaluator, _ = self.evaluators.get("config")
            try:
                evaluation = evaluator.evaluate(item, now) if evaluator is not None else None
            except Exception:  # noqa: BLE001 - the sync decides later, with the same configuration
                evaluation = None
            if evaluation is not None and evaluation.status == "ignored":
                status, reason = EventStatus.IGNORED, evaluation.reason
        event = NewEvent(
            source,
            item.id,
            body,
            item.type,
            item.email,
            item.occurred_at,
            item.kind,
            origin=ORIGIN,
            status=status,
            reason=reason,
        )
        answer: dict[str, Any] = {"status": "accepted", "id": item.id}
        if status == EventStatus.IGNORED:
            answer.update(recorded_as=EventStatus.IGNORED, reason=reason)
        return Decision(200, answer, event)


def _mailerlite_decision(body: bytes) -> Decision:
    """Each event of a verified MailerLite delivery, to store: pending, or rejected with its reason."""
    try:
        items = read_delivery(body)
    except Exception as exc:  # noqa: BLE001 - a signed body is answered and recorded, never a 5xx
        log.error("a MailerLite body could not be read: %s", type(exc).__name__)
        items = RejectedInput(MAILERLITE, "the body could not be read as a delivery", id=body_id(body))
    if isinstance(items, RejectedInput):
        reason = items.reason
        rejected = NewEvent(
            MAILERLITE, _short_id(items.id or body_id(body)), body, origin=ORIGIN, status=EventStatus.REJECTED,
            reason=reason,
        )  # fmt: skip
        return Decision(400, {"error": reason}, rejected)
    events: list[NewEvent] = []
    rejected_reasons: list[str] = []
    for item in items:
        if isinstance(item, RejectedInput):
            rejected_reasons.append(item.reason)
            events.append(
                NewEvent(
                    MAILERLITE,
                    _short_id(item.id or body_id(body)),
                    item.excerpt.encode("utf-8") or None,
                    origin=ORIGIN,
                    status=EventStatus.REJECTED,
                    reason=item.reason,
                )  # fmt: skip
            )
        else:
            events.append(
                NewEvent(
                    MAILERLITE, _short_id(item.id), item.body, item.type, item.email, item.occurred_at, origin=ORIGIN
                )
            )
    accepted = len(events) - len(rejected_reasons)
    answer: dict[str, Any] = {"status": "accepted", "accepted": accepted}
    if rejected_reasons:
        answer.update(rejected=len(rejected_reasons), reasons=rejected_reasons[:10])
    if not accepted:
        return Decision(400, {"error": "; ".join(dict.fromkeys(rejected_reasons))[:1000]}, events[0], events[1:])
    return Decision(200, answer, events[0], events[1:])


def _short_id(event_id: str) -> str:
    """An id that fits the column: very long ``webhook-id`` values are replaced by their hash."""
    if len(event_id) <= MAX_EVENT_ID:
        return event_id
    return "webhook-id-sha256:" + hashlib.sha256(event_id.encode("utf-8")).hexdigest()[:40]


__all__ = ["Cached", "Decision", "ORIGIN", "Receiver", "WEBHOOK_PATHS", "error"]
