"""The HTTP session under the client: the bearer key, the account budget, retries and plain errors.

Kept apart from the endpoint methods (``client.py``) so that every request passes through this one loop: the
budget is taken before each send, ``X-RateLimit-*`` and ``Retry-After`` are read after it, and 429, 5xx,
timeouts and connection errors are retried with exponential backoff and jitter. The key lives only inside the
authentication hook; nothing this module logs, raises or records contains it.
"""

from __future__ import annotations

import email.utils
import json as jsonlib
import logging
import random
import time
from collections.abc import Callable, Generator, Mapping
from dataclasses import dataclass
from typing import Any, Self

import httpx

from .errors import ConfigurationError, NetworkError, RateLimited, RequestTimeout, error_for_response
from .ratelimit import AccountBudget, BudgetSnapshot, BudgetWaitTooLong, shared_budget
from .settings import MailerLiteSettings

log = logging.getLogger("sync_core.mailerlite")

USER_AGENT = "mailerlite-sync-studio"
_RETRYABLE_UNSENT = (httpx.ConnectError, httpx.ConnectTimeout, httpx.PoolTimeout)


@dataclass(frozen=True)
class Exchange:
    """One HTTP attempt as the history may keep it: no headers, so never the key."""

    method: str
    path: str
    params: Mapping[str, Any] | None
    request_body: Any
    status: int | None
    response_body: Any
    attempt: int
    elapsed_seconds: float
    failure: str | None = None


class _BearerAuth(httpx.Auth):
    """Adds the key to each request at the last moment; its repr shows nothing."""

    __slots__ = ("_token",)

    def __init__(self, token: str) -> None:
        self._token = token

    def auth_flow(self, request: httpx.Request) -> Generator[httpx.Request, httpx.Response, None]:
        request.headers["Authorization"] = f"Bearer {self._token}"
        yield request

    def __repr__(self) -> str:
        return "_BearerAuth(<hidden>)"


def parse_retry_after(value: str | None, *, now: float | None = None) -> float | None:
    """Seconds to wait from a ``Retry-After`` header (seconds or an HTTP date)."""
    if not value:
        return None
    value = value.strip()
    try:
        return max(0.0, float(value))
    except ValueError:
        pass
    try:
        when = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    return max(0.0, when.timestamp() - (time.time() if now is None else now))


def encode_json(value: Any) -> bytes:
    """A request body as it goes on the wire (as httpx would encode it). Raises ``ValueError`` (NaN or an
    infinity, an integer too long to write, nesting too deep) or ``UnicodeEncodeError`` (a lone surrogate) for a
    value that cannot be sent, so a caller can find out before sending."""
    try:
        text = jsonlib.dumps(value, ensure_ascii=False, separators=(",", ":"), allow_nan=False)
    except RecursionError:
        raise ValueError("the value is nested too deeply") from None
    return text.encode("utf-8")


def _int_header(headers: httpx.Headers, name: str) -> int | None:
    try:
        return int(headers[name])
    except (KeyError, ValueError):
        return None


def _json(response: httpx.Response) -> Any:
    if not response.content:
        return None
    try:
        return response.json()
    except ValueError:
        return {"message": response.text[:500]}


class ApiSession:
    """Sends requests to one MailerLite account within its limits (thread-safe)."""

    def __init__(
        self,
        settings: MailerLiteSettings | None = None,
        *,
        transport: httpx.BaseTransport | None = None,
        budget: AccountBudget | None = None,
        clock: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], None] = time.sleep,
        rng: random.Random | None = None,
        on_exchange: Callable[[Exchange], None] | None = None,
    ) -> None:
        self.settings = settings if settings is not None else MailerLiteSettings.from_env()
        self._key = self.settings.api_key.get_secret_value() if self.settings.api_key else None
        self._clock = clock
        self._sleep = sleep
        self._rng = rng or random.Random()
        self._on_exchange = on_exchange
        self._http = httpx.Client(
            base_url=self.settings.base_url + "/",
            transport=transport,
            timeout=httpx.Timeout(self.settings.timeout_seconds),
            headers={"Accept": "application/json", "User-Agent": USER_AGENT},
            auth=_BearerAuth(self._key) if self._key else None,
            follow_redirects=False,
        )
        if budget is None:
            budget = shared_budget(
                self.settings.base_url,
                self._key or "",
                limit=self.settings.rate_limit,
                window_seconds=self.settings.rate_window_seconds,
                import_limit=self.settings.import_limit,
                margin_seconds=self.settings.margin_seconds,
                clock=clock,
                sleep=sleep,
            )
        self.budget = budget

    def __repr__(self) -> str:
        key = "set" if self._key else "missing"
        return (
            f"{type(self).__name__}(base_url={self.settings.base_url!r}, key={key}, budget={self.budget.fingerprint})"
        )

    def close(self) -> None:
        self._http.close()

    def __enter__(self) -> Self:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    def _scrub(self, text: str) -> str:
        return text.replace(self._key, "[hidden]") if self._key else text

    def _backoff_delay(self, attempt: int) -> float:
        """Exponential backoff with jitter: half fixed, half random, never above the cap."""
        delay = min(self.settings.backoff_max_seconds, self.settings.backoff_base_seconds * 2 ** (attempt - 1))
        return delay / 2 + self._rng.uniform(0, delay / 2)

    def _record(self, **values: Any) -> None:
        if self._on_exchange is not None:
            self._on_exchange(Exchange(**values))

    def _request(
        self,
        method: str,
        path: str,
        *,
        params: Mapping[str, Any] | None = None,
        json: Any = None,
        imports: bool = False,
        idempotent: bool = True,
    ) -> httpx.Response:
        """Send with the budget, retry what may succeed later, turn the rest into plain errors.

        ``idempotent=False`` (creating a group or field) is not retried after the request may have reached
        MailerLite (a read timeout, a 500), because a second try could create a duplicate.
        """
        if not self._key:
            raise ConfigurationError(
                "No MailerLite API key is set: enter one on the Connection page or set MAILERLITE_API_KEY.",
                method=method,
                path=path,
            )
        content = None if json is None else encode_json(json)
        attempts = self.settings.max_attempts
        for attempt in range(1, attempts + 1):
            try:
                self.budget.acquire(imports=imports, max_wait=self.settings.max_rate_wait_seconds)
            except BudgetWaitTooLong as exc:
                raise RateLimited(
                    f"MailerLite's rate limit is used up; the next request would have to wait "
                    f"{exc.wait_seconds:.0f} s, longer than the {self.settings.max_rate_wait_seconds:g} s allowed.",
                    retry_after=exc.wait_seconds,
                    method=method,
                    path=path,
                    attempts=attempt - 1,
                ) from None
            started = self._clock()
            try:
                response = self._http.request(
                    method,
                    path.lstrip("/"),
                    params=params,
                    content=content,
                    headers={"Content-Type": "application/json"},
                )
            except httpx.TransportError as exc:
                reason = self._scrub(f"{type(exc).__name__}: {exc}" if str(exc) else type(exc).__name__)
                self._record(
                    method=method,
                    path=path,
                    params=params,
                    request_body=json,
                    status=None,
                    response_body=None,
                    attempt=attempt,
                    elapsed_seconds=self._clock() - started,
                    failure=reason,
                )
                maybe_applied = not isinstance(exc, _RETRYABLE_UNSENT)
                if attempt < attempts and (idempotent or not maybe_applied):
                    delay = self._backoff_delay(attempt)
                    log.warning(
                        "%s %s failed (%s); retrying in %.2f s (attempt %d of %d)",
                        method,
                        path,
                        reason,
                        delay,
                        attempt,
                        attempts,
                    )
                    self._sleep(delay)
                    continue
                error_type = RequestTimeout if isinstance(exc, httpx.TimeoutException) else NetworkError
                host = self._http.base_url.host
                raise error_type(
                    f"No answer from MailerLite at {host} for {method} {path} ({reason}) after {attempt} "
                    f"attempt(s)" + ("; it may or may not have been applied." if maybe_applied else "."),
                    method=method,
                    path=path,
                    attempts=attempt,
                ) from None

            self.budget.observe(
                _int_header(response.headers, "x-ratelimit-limit"),
                _int_header(response.headers, "x-ratelimit-remaining"),
            )
            status = response.status_code
            body = _json(response)
            self._record(
                method=method,
                path=path,
                params=params,
                request_body=json,
                status=status,
                response_body=body,
                attempt=attempt,
                elapsed_seconds=self._clock() - started,
            )
            log.debug("%s %s -> %d (attempt %d)", method, path, status, attempt)
            if status < 300:
                return response
            if status == 429:
                retry_after = parse_retry_after(response.headers.get("retry-after"))
                message = body.get("message", "") if isinstance(body, dict) else ""
                import_limited = imports and "import" in str(message).lower()
                wait = retry_after if retry_after is not None else self._backoff_delay(attempt)
                self.budget.pause(wait, imports=import_limited)
                if attempt < attempts:
                    log.warning(
                        "%s %s got 429 (%s); no request for %.1f s (attempt %d of %d)",
                        method,
                        path,
                        message or "rate limited",
                        wait,
                        attempt,
                        attempts,
                    )
                    continue
                raise error_for_response(
                    status, body, method=method, path=path, request_body=json, attempts=attempt, retry_after=retry_after
                )
            if status >= 500 or status == 408:
                maybe_applied = status not in (502, 503, 504)
                if attempt < attempts and (idempotent or not maybe_applied):
                    delay = self._backoff_delay(attempt)
                    log.warning(
                        "%s %s got %d; retrying in %.2f s (attempt %d of %d)",
                        method,
                        path,
                        status,
                        delay,
                        attempt,
                        attempts,
                    )
                    self._sleep(delay)
                    continue
            raise error_for_response(status, body, method=method, path=path, request_body=json, attempts=attempt)
        raise AssertionError("unreachable")  # pragma: no cover

    def _data(self, response: httpx.Response) -> Any:
        body = _json(response)
        return body.get("data") if isinstance(body, dict) else None

    def rate_limit_status(self) -> BudgetSnapshot:
        return self.budget.snapshot()
