"""A MailerLite account simulator: one pure request handler shared by the in-process transport and the server.

``SandboxAccount.handle(method, path, query, headers, body)`` answers like connect.mailerlite.com/api would:
401 without a valid bearer key (and then without rate-limit headers, as recorded), 429 past the account's limit
or the import-path limit of all-upsert batches, injected faults, then the endpoint's own answer, always with
``x-ratelimit-limit`` / ``x-ratelimit-remaining``. A batch costs one request of the limit; an all-upsert
batch also takes one of the import path's 5 per window and, like any batch, answers per-item codes (whether
the real import path does so is not documented).

State lives in memory; with ``state_file`` the account is a SQLite file (``storage/sandbox_store.py``) shared
by every process that opens it: each request is one transaction (a batch too) that first takes in what other
processes stored, and is committed before it is answered, so the dashboard, its worker, the CLI and
``sandbox serve`` see one account and an answer is never taken back by a crash. A ``state_file`` ending in
``.json`` (the old format) means the ``.db`` file beside it; the JSON state found there is imported once.

The rate-limit windows, fault injection and statistics are per process (each ``SandboxAccount`` object has its
own); only the account's data is shared.

Webhooks (``webhooks.py``, ``deliveries.py``): a request or a person's action that changes subscribers stores, in
its own transaction, the deliveries the enabled webhooks are owed; a background thread of this process sends them
after the answer is given. What a person does in MailerLite (unsubscribe, bounce, report spam, sign up again,
delete, add to or remove from a group, edit a field) are the methods under "what only a person can do"; each is
one transaction, like a request, and sends the same webhooks.
"""

from __future__ import annotations

import hmac
import json
import logging
import secrets
import sqlite3
import threading
import time
from collections import Counter
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any, TypeVar
from urllib.parse import parse_qs, unquote

from storage.sandbox_store import SandboxStore
from sync_core.domain.requests import API_ROOT, SUBSCRIBERS, api_relative, batch_path

from .deliveries import RETRY_DELAYS, TIMEOUT_SECONDS, Attempts, DueDelivery, MemoryOutbox, WebhookSender
from .faults import FaultInjector, FaultSettings
from .limits import FixedWindowLimiter, LimitDecision
from .routes import AccountApi, Answer
from .state import AccountState
from .validation import invalid, validate_batch, validate_subscriber_body
from .webhooks import owed_deliveries, subscriber_events

log = logging.getLogger("sync_core.sandbox")

#: The key the sandbox accepts when started without ``--key``: documented, not a secret.
DEFAULT_SANDBOX_KEY = "sandbox-key"
#: The sandbox's file in the studio's data directory.
SANDBOX_FILE = "sandbox.db"
IMPORT_LIMIT_MESSAGE = "You're being rate limited on import creation."
NO_SUBSCRIBER = "No subscriber with that email in the sandbox."
T = TypeVar("T")


class SandboxStateError(Exception):
    """The state file exists but cannot be used."""


class SandboxActionError(Exception):
    """What a person asked the sandbox to do cannot be done; the message says why, in plain words."""


def database_path(state_file: str | Path) -> Path:
    """The SQLite file of a state file: itself, or the ``.db`` beside a legacy ``.json`` one."""
    path = Path(state_file)
    return path.with_suffix(".db") if path.suffix == ".json" else path


@dataclass
class SandboxResponse:
    """An answer, plus what the transport must do before giving it: wait ``delay_seconds``, or time out."""

    status: int
    headers: dict[str, str]
    body: Any = None
    delay_seconds: float = 0.0
    timeout: bool = False
    hang_seconds: float = 0.0

    def content(self) -> bytes:
        if self.body is None:
            return b""
        return json.dumps(self.body, separators=(",", ":")).encode()


@dataclass
class SandboxStats:
    requests: int = 0
    by_status: Counter = field(default_factory=Counter)
    unauthorized: int = 0
    rate_limited: int = 0
    import_rate_limited: int = 0


def parse_query(query: str | bytes | Mapping[str, Any] | None) -> dict[str, str]:
    if query is None:
        return {}
    if isinstance(query, Mapping):
        return {str(k): str(v[0] if isinstance(v, (list, tuple)) else v) for k, v in query.items()}
    if isinstance(query, bytes):
        query = query.decode("latin-1")
    return {key: values[0] for key, values in parse_qs(query, keep_blank_values=True).items()}


def is_import_batch(requests: Sequence[Any]) -> bool:
    return bool(requests) and all(
        isinstance(r, dict)
        and r.get("method") == "POST"
        and str(r.get("path", "")).split("?")[0].rstrip("/") == batch_path(SUBSCRIBERS)
        for r in requests
    )


class SandboxAccount:
    """One simulated account. Thread-safe: requests are handled one at a time under a lock."""

    def __init__(
        self,
        *,
        keys: Sequence[str] = (DEFAULT_SANDBOX_KEY,),
        limit: int = 120,
        window_seconds: float = 60.0,
        import_limit: int = 5,
        faults: FaultSettings | None = None,
        state_file: str | Path | None = None,
        seed: int | None = None,
        clock: Callable[[], float] = time.monotonic,
        wall_clock: Callable[[], datetime] | None = None,
        webhook_retry_delays: Sequence[float] = RETRY_DELAYS,
        webhook_timeout_seconds: float = TIMEOUT_SECONDS,
        send_in_background: bool = True,
    ) -> None:
        """``send_in_background=False``: webhooks are sent only when ``deliver_due()`` is called (a command that
        ends right after its change sends them itself)."""
        if not keys:
            raise ValueError("the sandbox needs at least one key to accept")
        self._keys = tuple(keys)
        self.limit = limit
        self.window_seconds = window_seconds
        self.import_limit = import_limit
        self.limiter = FixedWindowLimiter(limit, window_seconds, clock=clock)
        self.import_limiter = FixedWindowLimiter(import_limit, window_seconds, clock=clock)
        self.faults = FaultInjector(faults)
        self._seed, self._wall_clock = seed, wall_clock
        self.state = AccountState(seed=seed, wall_clock=wall_clock)
        self.api = AccountApi(self.state)
        self.stats = SandboxStats()
        self.account_id = secrets.token_hex(4)
        self._lock = threading.RLock()
        self._clock = clock
        self.state_file = database_path(state_file) if state_file else None
        self._store = SandboxStore(self.state_file) if self.state_file else None
        self._seen_version: int | None = None  # the store's version the state reflects; None: load it whole
        self._outbox: SandboxStore | MemoryOutbox = self._store if self._store is not None else MemoryOutbox()
        self._owed = False  # a delivery is waiting to be sent (set in a transaction, acted on after it)
        self.send_in_background = send_in_background
        self.sender = WebhookSender(
            self, retry_delays=tuple(webhook_retry_delays), timeout_seconds=webhook_timeout_seconds
        )
        if self._store is not None:
            self._open(legacy=Path(state_file).with_suffix(".json") if state_file else None)

    def _open(self, *, legacy: Path | None) -> None:
        """Read the account; a new database first imports a legacy JSON state found beside it (once)."""
        assert self._store is not None
        new = not self._store.exists()
        try:
            with self._store.transaction(write=new):
                if new and legacy is not None and legacy.exists() and self._store.version() == 0:
                    self.state.load_json(json.loads(legacy.read_text(encoding="utf-8")))
                    self._store.write(*self._all_documents())
                    log.info("imported the sandbox state %s into %s", legacy, self.state_file)
                self._catch_up()
        except (OSError, ValueError, KeyError, TypeError, sqlite3.Error) as exc:
            self._store.close()
            if new:  # a failed import leaves no empty database behind, so that it is tried again
                self._store.remove()
            raise SandboxStateError(
                f"The sandbox state file {self.state_file} could not be read ({type(exc).__name__}: {exc}); "
                "move it away to start with an empty sandbox."
            ) from None

    def _all_documents(self) -> tuple[dict[str, dict[str, dict[str, Any] | None]], dict[str, int]]:
        self.state.take_changes()
        documents: dict[str, dict[str, dict[str, Any] | None]] = {
            "field": dict(self.state.fields),
            "group": dict(self.state.groups),
            "subscriber": dict(self.state.subscribers),
            "webhook": dict(self.state.webhooks),
        }
        return documents, dict(self.state.counters)

    def _catch_up(self) -> None:
        """Take in what was stored since this process last looked (all of it the first time or after a failure)."""
        assert self._store is not None
        if self._seen_version is None:
            self.state = AccountState(seed=self._seed, wall_clock=self._wall_clock)
            self.api = AccountApi(self.state)
        changes = self._store.changes_since(self._seen_version or 0)
        if changes.version != self._seen_version:
            self.state.apply_stored(changes.documents, changes.counters)
        self._seen_version = changes.version
        if self._store.pending():
            self._owed = True  # perhaps left by a process that ended: this one sends them

    def __repr__(self) -> str:
        return (
            f"SandboxAccount(id={self.account_id}, keys={len(self._keys)}, limit={self.limit}/"
            f"{self.window_seconds:g}s, subscribers={len(self.state.subscribers)})"
        )

    @property
    def inprocess_base_url(self) -> str:
        """A base URL unique to this account (so its clients get their own rate budget); never resolved."""
        return f"http://sandbox-{self.account_id}.invalid/api"

    @property
    def default_key(self) -> str:
        """The first accepted key, for building clients of this sandbox."""
        return self._keys[0]

    # -- the handler ------------------------------------------------------------------------------------------

    def _authorized(self, headers: Mapping[str, str]) -> bool:
        value = headers.get("authorization", "")
        if not value.lower().startswith("bearer "):
            return False
        token = value[7:].strip().encode()
        return any(hmac.compare_digest(token, key.encode()) for key in self._keys)

    def handle(
        self,
        method: str,
        path: str,
        query: str | bytes | Mapping[str, Any] | None = None,
        headers: Mapping[str, str] | None = None,
        body: bytes | str | None = None,
        *,
        base_url: str = "https://connect.mailerlite.com/api",
    ) -> SandboxResponse:
        """Answer one HTTP request; ``path`` is the URL path, e.g. ``/api/subscribers/123``."""
        method = method.upper()
        lowered = {k.lower(): v for k, v in (headers or {}).items()}
        with self._lock:
            self.stats.requests += 1
            response = self._transact(
                lambda: self._handle_locked(method, path, parse_query(query), lowered, body, base_url.rstrip("/")),
                write=method != "GET",
            )
            self.stats.by_status[response.status] += 1
        return response

    def _transact(self, change: Callable[[], T], *, write: bool = True) -> T:
        """One request or action as one transaction of the shared file (catch up, change, store what changed and
        the deliveries it owes, commit), then the sender woken if anything is owed."""
        with self._lock:
            if self._store is None:
                try:
                    result = change()
                except BaseException:
                    self.state.take_subscriber_changes()  # a failed change owes nothing
                    raise
                self._record_changes()
            else:
                try:
                    with self._store.transaction(write=write):
                        self._catch_up()
                        result = change()
                        self._record_changes()
                except BaseException:
                    self._seen_version = None  # the state may hold changes that were not stored: read it again
                    raise
            owed, self._owed = self._owed, False
        if owed and self.send_in_background:
            self.sender.wake()
        return result

    def _record_changes(self) -> None:
        changes = self.state.take_subscriber_changes()
        owed = owed_deliveries(self.state, subscriber_events(self.state, changes)) if changes else []
        documents, counters = self.state.take_changes()
        if self._store is not None and (documents or counters):
            self._seen_version = self._store.write(documents, counters)
        if owed:
            self._outbox.add_deliveries(owed, due_at=self.sender._clock())
            self._owed = True

    def _handle_locked(
        self,
        method: str,
        path: str,
        query: dict[str, str],
        headers: Mapping[str, str],
        raw_body: bytes | str | None,
        base: str,
    ) -> SandboxResponse:
        json_headers = {"content-type": "application/json"}
        if not self._authorized(headers):
            self.stats.unauthorized += 1
            return SandboxResponse(401, json_headers, {"message": "Unauthenticated."})
        decision = self.limiter.hit()
        rate_headers = {
            **json_headers,
            "x-ratelimit-limit": str(decision.limit),
            "x-ratelimit-remaining": str(decision.remaining),
        }
        if not decision.allowed:
            self.stats.rate_limited += 1
            return SandboxResponse(
                429, {**rate_headers, "retry-after": str(decision.retry_after)}, {"message": "Too Many Attempts."}
            )
        fault = self.faults.decide()
        if fault.kind == "timeout":
            return SandboxResponse(
                504,
                rate_headers,
                {"message": "Gateway Timeout"},
                delay_seconds=fault.delay,
                timeout=True,
                hang_seconds=self.faults.settings.hang_seconds,
            )
        if fault.kind == "429":
            return SandboxResponse(
                429,
                {**rate_headers, "retry-after": str(fault.retry_after)},
                {"message": "Too Many Attempts."},
                delay_seconds=fault.delay,
            )
        if fault.kind == "error":
            return SandboxResponse(fault.status, rate_headers, {"message": "Server Error"}, delay_seconds=fault.delay)

        body: Any = {}
        if raw_body:
            try:
                body = json.loads(raw_body)
            except ValueError:
                return SandboxResponse(
                    400, rate_headers, {"message": "The request body is not valid JSON."}, delay_seconds=fault.delay
                )
        if not isinstance(body, dict):
            body = {}
        route = unquote(path).lstrip("/")
        if not route.startswith(API_ROOT) and route != API_ROOT.rstrip("/"):
            status, answer = 404, {"message": f"The route {route} could not be found."}
        else:
            status, answer = self._route(method, api_relative(route), query, body, base, in_batch=False)
        extra: dict[str, str] = {}
        if status == 429 and isinstance(answer, dict) and answer.get("message") == IMPORT_LIMIT_MESSAGE:
            extra["retry-after"] = answer.pop("_retry_after")
        return SandboxResponse(status, {**rate_headers, **extra}, answer, delay_seconds=fault.delay)

    def _route(
        self, method: str, route: str, query: dict[str, str], body: dict[str, Any], base: str, *, in_batch: bool
    ) -> Answer:
        """Find the endpoint for ``route`` (the path after ``api/``) and call it."""
        parts = [p for p in route.strip("/").split("/") if p]
        api = self.api
        table: list[tuple[list[str], dict[str, Callable[[], Answer]]]] = []
        if parts == ["subscribers"]:
            table.append(
                (parts, {"GET": lambda: api.list_subscribers(query, base), "POST": lambda: api.upsert_subscriber(body)})
            )
        elif len(parts) == 2 and parts[0] == "subscribers":
            table.append(
                (
                    parts,
                    {
                        "GET": lambda: api.get_subscriber(parts[1]),
                        "PUT": lambda: api.update_subscriber(parts[1], body),
                        "DELETE": lambda: api.delete_subscriber(parts[1]),
                    },
                )
            )
        elif len(parts) == 3 and parts[0] == "subscribers" and parts[2] == "forget":
            table.append((parts, {"POST": lambda: api.forget_subscriber(parts[1])}))
        elif len(parts) == 4 and parts[0] == "subscribers" and parts[2] == "groups":
            table.append(
                (
                    parts,
                    {
                        "POST": lambda: api.assign(parts[1], parts[3]),
                        "DELETE": lambda: api.unassign(parts[1], parts[3]),
                    },
                )
            )
        elif parts == ["groups"]:
            table.append((parts, {"GET": lambda: api.list_groups(query, base), "POST": lambda: api.create_group(body)}))
        elif len(parts) == 2 and parts[0] == "groups":
            table.append(
                (parts, {"PUT": lambda: api.update_group(parts[1], body), "DELETE": lambda: api.delete_group(parts[1])})
            )
        elif len(parts) == 3 and parts[0] == "groups" and parts[2] == "subscribers":
            table.append((parts, {"GET": lambda: api.group_subscribers(parts[1], query, base)}))
        elif parts == ["fields"]:
            table.append((parts, {"GET": lambda: api.list_fields(query, base), "POST": lambda: api.create_field(body)}))
        elif len(parts) == 2 and parts[0] == "fields":
            table.append(
                (parts, {"PUT": lambda: api.update_field(parts[1], body), "DELETE": lambda: api.delete_field(parts[1])})
            )
        elif parts == ["webhooks"]:
            table.append(
                (parts, {"GET": lambda: api.list_webhooks(query, base), "POST": lambda: api.create_webhook(body)})
            )
        elif len(parts) == 2 and parts[0] == "webhooks":
            table.append(
                (
                    parts,
                    {
                        "GET": lambda: api.get_webhook(parts[1]),
                        "PUT": lambda: api.update_webhook(parts[1], body),
                        "DELETE": lambda: api.delete_webhook(parts[1]),
                    },
                )
            )
        elif parts == ["batch"] and not in_batch:
            table.append((parts, {"POST": lambda: self._batch(body, base)}))
        if not table:
            return 404, {"message": f"The route api/{route.strip('/')} could not be found."}
        handlers = table[0][1]
        if method not in handlers:
            allowed = ", ".join(handlers)
            return 405, {
                "message": f"The {method} method is not supported for route api/{route.strip('/')}. "
                f"Supported methods: {allowed}."
            }
        return handlers[method]()

    def _batch(self, body: dict[str, Any], base: str) -> Answer:
        errors = validate_batch(body)
        if errors:
            return invalid(errors)
        requests = body["requests"]
        if is_import_batch(requests):
            decision: LimitDecision = self.import_limiter.hit()
            if not decision.allowed:
                self.stats.import_rate_limited += 1
                return 429, {"message": IMPORT_LIMIT_MESSAGE, "_retry_after": str(decision.retry_after)}
        responses = []
        for request in requests:
            route, _, raw_query = request["path"].partition("?")
            status, answer = self._route(
                request["method"],
                api_relative(route),
                parse_query(raw_query),
                request.get("body") or {},
                base,
                in_batch=True,
            )
            responses.append({"code": status, "body": answer})
        successful = sum(1 for item in responses if 200 <= item["code"] < 300)
        return 200, {
            "total": len(responses),
            "successful": successful,
            "failed": len(responses) - successful,
            "responses": responses,
        }

    # -- what only a person can do in MailerLite ---------------------------------------------------------------

    def resubscribe(self, email: str) -> bool:
        """The subscriber signs up again through a form or the MailerLite app, the one way back MailerLite
        allows after an unsubscribe, bounce or junk mark (the API cannot do it). False when there is no such
        subscriber."""

        def change() -> bool:
            subscriber = self.state.find_subscriber(email.strip().lower())
            if subscriber is None:
                return False
            self.state.set_status(subscriber, "active")
            subscriber["unsubscribed_at"] = None
            self.state.touch(subscriber)
            return True

        return self._transact(change)

    def unsubscribe(self, email: str) -> str:
        """The subscriber unsubscribes (a link in an email, or someone in the app)."""
        return self._set_status_by_hand(email, "unsubscribed", "is now unsubscribed")

    def bounce(self, email: str) -> str:
        """An email to the subscriber bounced for good."""
        return self._set_status_by_hand(email, "bounced", "now bounces")

    def report_spam(self, email: str) -> str:
        """The subscriber marked a campaign as spam: MailerLite files them as junk."""
        return self._set_status_by_hand(email, "junk", "reported spam and is now junk")

    def delete_subscriber(self, email: str) -> str:
        """Someone deletes the subscriber in the MailerLite app."""

        def change(subscriber: dict[str, Any]) -> str:
            self.state.drop_subscriber(subscriber)
            return f"{subscriber['email']} was deleted from the sandbox."

        return self._by_hand(email, change)

    def add_to_group(self, email: str, group: str) -> str:
        """Someone adds the subscriber to a group (by its name or id) in the app."""

        def change(subscriber: dict[str, Any]) -> str:
            found = self._group_named(group)
            if found["id"] in subscriber["groups"]:
                return f"{subscriber['email']} is already in {found['name']}."
            self.state.add_member(subscriber, found["id"])
            self.state.touch(subscriber)
            return f"{subscriber['email']} was added to {found['name']}."

        return self._by_hand(email, change)

    def remove_from_group(self, email: str, group: str) -> str:
        """Someone removes the subscriber from a group (by its name or id) in the app."""

        def change(subscriber: dict[str, Any]) -> str:
            found = self._group_named(group)
            if not self.state.remove_member(subscriber, found["id"]):
                return f"{subscriber['email']} is not in {found['name']}."
            self.state.touch(subscriber)
            return f"{subscriber['email']} was removed from {found['name']}."

        return self._by_hand(email, change)

    def set_field(self, email: str, field_name: str, value: str | float | None) -> str:
        """Someone edits one field of the subscriber (by the field's name or key) in the app; an empty value
        clears it."""

        def change(subscriber: dict[str, Any]) -> str:
            wanted = field_name.strip().casefold()
            found = next(
                (f for f in self.state.fields.values() if wanted in (f["key"].casefold(), f["name"].casefold())),
                None,
            )
            if found is None:
                raise SandboxActionError(f"There is no field called {field_name!r} in the sandbox.")
            given = "" if value is None else value
            if validate_subscriber_body(self.state, {"fields": {found["key"]: given}}, email_required=False):
                raise SandboxActionError(f"{given!r} does not fit {found['name']}, a {found['type']} field.")
            self.api._apply(subscriber, {"fields": {found["key"]: given}}, replace_groups=False)
            shown = subscriber["fields"].get(found["key"])
            if shown is None:
                return f"{found['name']} of {subscriber['email']} was cleared."
            return f"{found['name']} of {subscriber['email']} is now {shown}."

        return self._by_hand(email, change)

    def _set_status_by_hand(self, email: str, status: str, done: str) -> str:
        def change(subscriber: dict[str, Any]) -> str:
            if subscriber["status"] == status:
                return f"{subscriber['email']} is already {status}."
            self.state.set_status(subscriber, status)
            self.state.touch(subscriber)
            return f"{subscriber['email']} {done}."

        return self._by_hand(email, change)

    def _group_named(self, group: str) -> dict[str, Any]:
        wanted = group.strip()
        if wanted in self.state.groups:
            return self.state.groups[wanted]
        for candidate in sorted(self.state.groups.values(), key=lambda g: int(g["id"])):
            if candidate["name"].strip().casefold() == wanted.casefold():
                return candidate
        raise SandboxActionError(f"There is no group called {group!r} in the sandbox.")

    def _by_hand(self, email: str, change: Callable[[dict[str, Any]], str]) -> str:
        """One person's action on one subscriber, as one transaction. A refusal changes nothing (it is found
        before anything is changed) and is raised after the transaction, which then stored nothing."""

        def attempt() -> str | SandboxActionError:
            subscriber = self.state.find_subscriber(email.strip().lower())
            if subscriber is None:
                return SandboxActionError(NO_SUBSCRIBER)
            try:
                return change(subscriber)
            except SandboxActionError as refused:
                return refused

        outcome = self._transact(attempt)
        if isinstance(outcome, SandboxActionError):
            raise outcome
        return outcome

    # -- reading the account as a person would see it ---------------------------------------------------------

    def find(self, email: str) -> dict[str, Any] | None:
        """The subscriber with this email (or id) as ``GET /api/subscribers/{id}`` shows them, or None."""

        def read() -> dict[str, Any] | None:
            subscriber = self.state.find_subscriber(email.strip())
            return None if subscriber is None else self.state.render_subscriber(subscriber)

        return self._transact(read, write=False)

    def fields(self) -> list[dict[str, Any]]:
        return self._transact(lambda: [self.state.render_field(f) for f in self.state.fields.values()], write=False)

    def groups(self) -> list[dict[str, Any]]:
        return self._transact(lambda: [self.state.render_group(g) for g in self.state.groups.values()], write=False)

    def webhooks(self) -> list[dict[str, Any]]:
        """The registered webhooks, as ``GET /api/webhooks`` lists them (with their last delivery)."""
        return self._transact(
            lambda: [
                self.state.render_webhook(w) for _, w in sorted(self.state.webhooks.items(), key=lambda i: int(i[0]))
            ],
            write=False,
        )

    def webhook(self, webhook_id: str) -> dict[str, Any] | None:
        def read() -> dict[str, Any] | None:
            found = self.state.webhooks.get(webhook_id)
            return None if found is None else self.state.render_webhook(found)

        return self._transact(read, write=False)

    # -- webhook deliveries (``deliveries.py`` calls these) ---------------------------------------------------

    def deliver_due(self) -> Attempts:
        """Send, now and in this thread, every delivery that is due; how many got through and how many not."""
        return self.sender.deliver_due()

    def pending_deliveries(self) -> int:
        """Deliveries still owed (waiting for a retry, or being sent)."""
        return self._transact(self._outbox.pending, write=False)

    def _next_delivery_due(self) -> float | None:
        return self._transact(self._outbox.next_due, write=False)

    def _claim_due_deliveries(self, *, now: float, lease_seconds: float) -> list[DueDelivery]:
        def claim() -> list[DueDelivery]:
            due = []
            for row in self._outbox.claim_due(now=now, lease_seconds=lease_seconds):
                webhook = self.state.webhooks.get(row.webhook_id)
                if webhook is None or not webhook["enabled"]:
                    self._outbox.finish_delivery(row.id)  # deleted or switched off since: nothing to send
                else:
                    due.append(DueDelivery(row, webhook["url"], webhook["secret"]))
            return due

        return self._transact(claim)

    def _settle_delivery(self, row: Any, code: int | None, retry_at: float | None) -> None:
        """Record an attempt on the webhook, and drop the delivery or keep it for ``retry_at``."""

        def settle() -> None:
            if retry_at is None:
                self._outbox.finish_delivery(row.id)
            else:
                self._outbox.retry_delivery(row.id, attempts=row.attempts + 1, due_at=retry_at)
            webhook = self.state.webhooks.get(row.webhook_id)
            if webhook is not None:
                self.state.put_webhook({**webhook, "last_fired_at": self.state.now_text(), "response_code": code})

        self._transact(settle)

    # -- statistics -------------------------------------------------------------------------------------------

    def window_counts(self) -> list[int]:
        """Requests admitted in each rate-limit window so far (the current one last)."""
        return self.limiter.all_window_counts()

    # -- persistence ------------------------------------------------------------------------------------------

    def close(self) -> None:
        """Let go of the state file (every answer is already stored); the account can still be used after."""
        self.sender.stop()
        with self._lock:
            if self._store is not None:
                self._store.close()
