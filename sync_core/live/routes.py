"""The webhook routes (Starlette, which is what ``st.App`` routes are) and their life cycle with the worker.

``LiveSync`` holds what the routes share in one process: the workspace (opened on first use), the receiver's
caches, the group-commit writer and, optionally, the background sync worker. Its ``routes()`` go into
``st.App(routes=...)`` (the dashboard) or a bare Starlette app (``sync_core.live.asgi``), and its
``lifespan`` starts and stops the writer and the worker with the server.

Routes:
- ``POST /webhooks/dodo-payments``, ``POST /webhooks/partnero`` and ``POST /webhooks/mailerlite`` (MailerLite's
  own deliveries: unsubscribes, bounces, deletes... that update what the studio knows): see
  ``sync_core.live.receiver``;
- ``GET /healthz``: 200 with the queue's figures (events waiting, the oldest one's age, whether a worker is
  alive) when the database answers; 503 when it does not, or when the live sync is stalled (events have waited
  ``SYNC_STUDIO_STALL_SECONDS`` and none was synced meanwhile, though a worker runs);
- ``/webhooks/ping``: answers 200 and does nothing else (a connectivity check, and the benchmark's baseline).
"""

from __future__ import annotations

import asyncio
import logging
import socket
import threading
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from typing import Any

from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import BaseRoute, Route

from sync_core.domain.events import DODO_PAYMENTS, MAILERLITE, MAX_BODY_BYTES, PARTNERO, SENDER_LABELS
from sync_core.engine.workspace import Workspace
from sync_core.live.queue_status import queue_status
from sync_core.live.receiver import WEBHOOK_PATHS, Decision, Receiver, error
from sync_core.live.worker import Worker, WorkerProcess, WorkerSettings, open_workspace
from sync_core.live.writer import EventWriter, WriterStopped
from sync_core.settings import get_settings

log = logging.getLogger("sync_core.live")

HEALTH_PATH = "/healthz"
PING_PATH = "/webhooks/ping"
#: Bodies up to this size are verified and parsed on the event loop; larger ones in a thread.
_INLINE_BYTES = 64 * 1024


def _worker_mode(wanted: bool | str | None, *, in_process_only: bool) -> str | None:
    if wanted is None:
        wanted = get_settings().worker.strip().lower()
        wanted = (
            False if wanted in ("off", "0", "false", "no") else (wanted if wanted in ("thread", "process") else True)
        )
    if wanted is False:
        return None
    if wanted is True:
        return "thread" if in_process_only else "process"
    if wanted not in ("thread", "process"):
        raise ValueError(f"worker should be 'thread', 'process', True, False or None, not {wanted!r}")
    return wanted


class LiveSync:
    """Webhook receiving and background syncing for one process.

    ``workspace_factory`` opens the workspace (default: ``Workspace()``, from the environment); it is called
    once, on startup or on the first request. ``worker`` says whether and how the sync worker starts with the
    server: ``"process"`` (a child process, supervised: the default), ``"thread"`` (in this process: needed for
    a ``worker_client`` or a custom workspace factory, which a child process cannot share), ``False`` (none);
    ``None`` reads ``SYNC_STUDIO_WORKER`` (``off``, ``thread``, ``process``; default ``process``), and ``True``
    picks the default. ``store_timeout``: how long a request waits for its commit before it is answered 503
    (the senders' deadlines are 5 s for Partnero and 15 s for Dodo Payments).
    """

    def __init__(
        self,
        workspace_factory: Callable[[], Workspace] | None = None,
        *,
        worker: bool | str | None = None,
        worker_settings: WorkerSettings | None = None,
        worker_client: Any = None,
        ttl: float = 1.0,
        store_timeout: float = 4.0,
    ):
        self._factory = workspace_factory or Workspace
        self.worker_mode = _worker_mode(
            worker, in_process_only=worker_client is not None or workspace_factory is not None
        )
        self._worker_settings = worker_settings
        self._worker_client = worker_client
        self.ttl = ttl
        self.store_timeout = store_timeout
        self._lock = threading.Lock()
        self._workspace: Workspace | None = None
        self.receiver: Receiver | None = None
        self.writer: EventWriter | None = None
        self.worker: Worker | WorkerProcess | None = None

    @property
    def worker_wanted(self) -> bool:
        return self.worker_mode is not None

    # --- the shared objects -------------------------------------------------------------------------------------

    def workspace(self) -> Workspace:
        """The workspace, opened on first use (blocking: it may run migrations)."""
        self._ready()
        assert self._workspace is not None  # _ready opened it
        return self._workspace

    def _ready(self) -> tuple[Receiver, EventWriter]:
        with self._lock:
            if self.receiver is None or self.writer is None:
                workspace = self._workspace or open_workspace(self._factory)
                self._workspace = workspace
                self.receiver = Receiver(workspace, ttl=self.ttl)
                self.writer = EventWriter(workspace.events, on_stored=self._stored).start()
            return self.receiver, self.writer

    def _stored(self, count: int) -> None:
        if isinstance(self.worker, Worker):
            self.worker.nudge()

    def start(self) -> None:
        """Open the workspace, start the writer and (when wanted) the worker. Blocking."""
        workspace = self.workspace()
        if self.worker is None and self.worker_mode == "thread":
            self.worker = Worker(
                workspace,
                client=self._worker_client,
                settings=self._worker_settings,
            ).start()
        elif self.worker is None and self.worker_mode == "process":
            settings = self._worker_settings or WorkerSettings()
            self.worker = WorkerProcess(stop_timeout=settings.stop_timeout_seconds).start()

    def stop(self) -> None:
        """Stop the worker (waiting for a run in progress, within its timeout), then the writer. Blocking."""
        if self.worker is not None:
            if not self.worker.stop():
                log.warning("the sync run in progress did not end in time; the next start finishes it")
            self.worker = None
        if self.writer is not None:
            self.writer.stop()

    @asynccontextmanager
    async def lifespan(self, _app: Any = None) -> AsyncIterator[None]:
        """For ``st.App(lifespan=...)`` or ``Starlette(lifespan=...)``."""
        await run_in_threadpool(self.start)
        try:
            yield
        finally:
            await run_in_threadpool(self.stop)

    # --- routes -------------------------------------------------------------------------------------------------

    def routes(self) -> list[BaseRoute]:
        return [
            Route(WEBHOOK_PATHS[DODO_PAYMENTS], self._dodo, methods=["GET", "POST"], name="webhook_dodo_payments"),
            Route(WEBHOOK_PATHS[PARTNERO], self._partnero, methods=["GET", "POST"], name="webhook_partnero"),
            Route(WEBHOOK_PATHS[MAILERLITE], self._mailerlite, methods=["GET", "POST"], name="webhook_mailerlite"),
            Route(HEALTH_PATH, self._health, methods=["GET"], name="healthz"),
            Route(PING_PATH, _ping, methods=["GET", "POST"], name="webhook_ping"),
        ]

    async def _dodo(self, request: Request) -> Response:
        return await self.receive(DODO_PAYMENTS, request)

    async def _partnero(self, request: Request) -> Response:
        return await self.receive(PARTNERO, request)

    async def _mailerlite(self, request: Request) -> Response:
        return await self.receive(MAILERLITE, request)

    async def receive(self, source: str, request: Request) -> Response:
        no_delay(request)
        if request.method != "POST":
            return JSONResponse(
                {"error": f"send {SENDER_LABELS[source]} webhooks here with POST"},
                status_code=405,
                headers={"Allow": "POST"},
            )
        raw = await _read_body(request)
        if isinstance(raw, Decision):
            return _answer(source, request, raw)
        try:
            receiver, writer = (
                (self.receiver, self.writer) if self.writer is not None else (await run_in_threadpool(self._ready))
            )
            if not receiver.fresh(source):  # type: ignore[union-attr]
                await run_in_threadpool(receiver.refresh, source)  # type: ignore[union-attr]
        except Exception as exc:  # noqa: BLE001 - nothing verified, nothing stored: the sender retries later
            log.error(
                "the %s webhook secret or configuration cannot be read: %s", SENDER_LABELS[source], type(exc).__name__
            )
            return _answer(
                source,
                request,
                error(503, "the studio's database cannot be read right now; send the event again later"),
            )
        headers = dict(request.headers)
        if len(raw) <= _INLINE_BYTES:
            decision = receiver.decide(source, raw, headers)  # type: ignore[union-attr]
        else:
            decision = await run_in_threadpool(receiver.decide, source, raw, headers)  # type: ignore[union-attr]
        if decision.events:
            decision = await self._store(decision, writer)
        return _answer(source, request, decision)

    async def _store(self, decision: Decision, writer: EventWriter) -> Decision:
        try:
            futures = [asyncio.wrap_future(writer.submit(event)) for event in decision.events]
            await asyncio.wait_for(asyncio.gather(*futures), self.store_timeout)
        except TimeoutError:
            return error(
                503,
                f"the event could not be stored within {self.store_timeout:g} s; send it again "
                "(it will not be stored twice)",
            )
        except WriterStopped:
            return error(503, "the server is stopping; send the event again in a moment")
        except Exception as exc:  # noqa: BLE001 - a database problem: the sender retries later
            log.error("a webhook event could not be stored: %s", type(exc).__name__)
            return error(503, "the event could not be stored (the database did not accept it); send it again later")
        return decision

    async def _health(self, request: Request) -> Response:
        no_delay(request)
        try:
            workspace = await run_in_threadpool(self.workspace)
            status = await run_in_threadpool(queue_status, workspace.database)
        except Exception as exc:  # noqa: BLE001
            log.error("health check: the database cannot be read: %s", type(exc).__name__)
            return JSONResponse({"status": "error", "error": "the database cannot be read"}, status_code=503)
        started_here = None if self.worker_mode is None else (self.worker is not None and self.worker.alive)
        # Open to anyone who can reach the server (no sign-in, no signature): figures only, no worker details,
        # which can hold MailerLite's error messages. The dashboard shows those.
        body: dict[str, Any] = {
            "status": "stalled" if status.stalled else "ok",
            "waiting": status.waiting,
            "oldest_waiting_seconds": status.oldest_waiting_seconds,
            "last_synced_at": status.last_handled_at.isoformat() if status.last_handled_at else None,
            "worker_alive": status.worker_alive,
            "worker_mode": self.worker_mode,
            "worker_started_here": started_here,
        }
        if status.stalled:
            body["error"] = status.stall_reason() + " The dashboard's Monitor page says why."
        return JSONResponse(body, status_code=503 if status.stalled else 200)


async def _read_body(request: Request) -> bytes | Decision:
    """The body, or 413 as soon as its declared length or the bytes read so far pass ``MAX_BODY_BYTES``: the one
    size check on the way to the store, made before a large body is read whole."""
    declared = request.headers.get("content-length", "")
    if declared.isdigit() and int(declared) > MAX_BODY_BYTES:
        return _too_large(int(declared))
    body = bytearray()
    async for chunk in request.stream():
        body += chunk
        if len(body) > MAX_BODY_BYTES:
            return _too_large()
    return bytes(body)


def _too_large(size: int | None = None) -> Decision:
    limit = MAX_BODY_BYTES // 1024 // 1024
    said = f" ({size / 1024 / 1024:.1f} MB)" if size else ""
    return error(413, f"the body is larger than {limit} MB{said}; webhook events are a few kB")


async def _ping(request: Request) -> Response:
    no_delay(request)
    return JSONResponse({"ok": True})


def no_delay(request: Request) -> None:
    """Send this connection's small writes at once (TCP_NODELAY), where the server has not already.

    asyncio sets TCP_NODELAY on the connections of the servers it creates, but Streamlit's st.App runner binds its
    socket itself (protocol 0) and asyncio then leaves Nagle's algorithm on: an answer goes out as two writes
    (headers, body), the second waits for the client's delayed ACK, and every request after the first on a
    kept-alive connection takes ~40 ms. Best effort: nothing happens if the server does not show its transport."""
    try:
        transport = getattr(getattr(request.receive, "__self__", None), "transport", None)
        connection = transport.get_extra_info("socket") if transport is not None else None
        if connection is not None:
            connection.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    except (AttributeError, OSError, TypeError):
        pass


def _answer(source: str, request: Request, decision: Decision) -> Response:
    if decision.status >= 400:
        client = request.client.host if request.client else "?"
        log.warning(
            "%s webhook from %s answered %d: %s",
            SENDER_LABELS[source],
            client,
            decision.status,
            decision.body.get("error", ""),
        )
    return JSONResponse(decision.body, status_code=decision.status)


def webhook_routes(workspace_factory: Callable[[], Workspace] | None = None) -> list[BaseRoute]:
    """The routes alone (no worker, no lifespan needed: the workspace opens on the first request)."""
    return LiveSync(workspace_factory, worker=False).routes()


__all__ = ["HEALTH_PATH", "LiveSync", "PING_PATH", "webhook_routes"]
