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
from typing import Any
from urllib.parse import parse_qs, unquote

from storage.sandbox_store import SandboxStore
from sync_core.domain.requests import API_ROOT, SUBSCRIBERS, api_relative, batch_path

from .faults import FaultInjector, FaultSettings
from .limits import FixedWindowLimiter, LimitDecision
from .routes import AccountApi, Answer
from .state import AccountState
from .validation import invalid, validate_batch

log = logging.getLogger("sync_core.sandbox")

#: The key the sandbox accepts when started without ``--key``: documented, not a secret.
DEFAULT_SANDBOX_KEY = "sandbox-key"
IMPORT_LIMIT_MESSAGE = "You're being rate limited on import creation."


class SandboxStateError(Exception):
    """The state file exists but cannot be used."""


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
    ) -> None:
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
            if self._store is None:
                response = self._handle_locked(method, path, parse_query(query), lowered, body, base_url.rstrip("/"))
                self.state.take_changes()
            else:
                response = self._handle_stored(method, path, parse_query(query), lowered, body, base_url.rstrip("/"))
            self.stats.by_status[response.status] += 1
        return response

    def _handle_stored(
        self,
        method: str,
        path: str,
        query: dict[str, str],
        headers: Mapping[str, str],
        raw_body: bytes | str | None,
        base: str,
    ) -> SandboxResponse:
        """One request as one transaction of the shared file: catch up, answer, store what changed, commit."""
        assert self._store is not None
        try:
            with self._store.transaction(write=method != "GET"):
                self._catch_up()
                response = self._handle_locked(method, path, query, headers, raw_body, base)
                documents, counters = self.state.take_changes()
                if documents or counters:
                    self._seen_version = self._store.write(documents, counters)
        except BaseException:
            self._seen_version = None  # the state may hold changes that were not stored: read it again
            raise
        return response

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
        with self._lock:
            if self._store is None:
                return self._resubscribe(email)
            try:
                with self._store.transaction(write=True):
                    self._catch_up()
                    done = self._resubscribe(email)
                    documents, counters = self.state.take_changes()
                    if documents or counters:
                        self._seen_version = self._store.write(documents, counters)
            except BaseException:
                self._seen_version = None
                raise
            return done

    def _resubscribe(self, email: str) -> bool:
        subscriber = self.state.find_subscriber(email)
        if subscriber is None:
            return False
        self.state.set_status(subscriber, "active")
        subscriber["unsubscribed_at"] = None
        self.state.touch(subscriber)
        if self._store is None:
            self.state.take_changes()
        return True

    # -- statistics -------------------------------------------------------------------------------------------

    def window_counts(self) -> list[int]:
        """Requests admitted in each rate-limit window so far (the current one last)."""
        return self.limiter.all_window_counts()

    # -- persistence ------------------------------------------------------------------------------------------

    def close(self) -> None:
        """Let go of the state file (every answer is already stored); the account can still be used after."""
        with self._lock:
            if self._store is not None:
                self._store.close()
