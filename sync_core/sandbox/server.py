"""The sandbox over HTTP, on the standard library's threading HTTP server (no extra dependency).

Any client can use it, curl included: ``curl -H 'Authorization: Bearer sandbox-key'
http://127.0.0.1:8025/api/subscribers?limit=0``. Latency faults sleep before answering; a timeout fault hangs
for ``hang_seconds`` and closes the connection without an answer, as a dead upstream would.
"""

from __future__ import annotations

import logging
import socket
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

from .account import SandboxAccount

log = logging.getLogger("sync_core.sandbox.server")


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"  # keep-alive, as clients expect from an API
    timeout = 30  # idle keep-alive connections are closed after this
    disable_nagle_algorithm = True  # headers and body go out as separate writes; no 40 ms delayed-ACK stall
    server: _HTTPServer

    def _serve(self) -> None:
        length = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(length) if length else b""
        path, _, query = self.path.partition("?")
        host = self.headers.get("Host") or "{}:{}".format(*self.server.server_address[:2])
        answer = self.server.account.handle(
            self.command, path, query, dict(self.headers.items()), body, base_url=f"http://{host}/api"
        )
        if answer.delay_seconds:
            time.sleep(answer.delay_seconds)
        if answer.timeout:
            time.sleep(answer.hang_seconds)
            self.close_connection = True
            return
        content = answer.content()
        self.send_response(answer.status)
        for name, value in answer.headers.items():
            self.send_header(name, value)
        self.send_header("Content-Length", str(len(content)))
        self.end_headers()
        if content:
            self.wfile.write(content)

    do_GET = do_POST = do_PUT = do_DELETE = do_PATCH = _serve

    def log_message(self, format: str, *args: object) -> None:  # request line only, never headers
        log.debug("%s - %s", self.address_string(), format % args)


class _HTTPServer(ThreadingHTTPServer):
    daemon_threads = True
    block_on_close = False
    account: SandboxAccount

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self._open: set[socket.socket] = set()
        self._open_lock = threading.Lock()

    def process_request(self, request, client_address) -> None:
        with self._open_lock:
            self._open.add(request)
        super().process_request(request, client_address)

    def shutdown_request(self, request) -> None:
        with self._open_lock:
            self._open.discard(request)
        super().shutdown_request(request)

    def close_open_connections(self) -> None:
        """Keep-alive connections outlive ``shutdown()``; a stopped sandbox must really be gone."""
        with self._open_lock:
            open_now = list(self._open)
        for connection in open_now:
            try:
                connection.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass

    def handle_error(self, request, client_address) -> None:  # a client that hung up is not news
        log.debug("connection from %s ended abruptly", client_address)


class SandboxServer:
    """Serves one ``SandboxAccount`` on ``host:port`` (port 0 picks a free one)."""

    def __init__(self, account: SandboxAccount | None = None, *, host: str = "127.0.0.1", port: int = 0) -> None:
        self.account = account or SandboxAccount()
        self._server = _HTTPServer((host, port), _Handler)
        self._server.account = self.account
        self._thread: threading.Thread | None = None

    @property
    def host(self) -> str:
        return str(self._server.server_address[0])

    @property
    def port(self) -> int:
        return self._server.server_address[1]

    @property
    def url(self) -> str:
        return f"http://{self.host}:{self.port}"

    @property
    def base_url(self) -> str:
        """What ``MAILERLITE_BASE_URL`` should be set to for clients of this sandbox."""
        return f"{self.url}/api"

    def serve_forever(self) -> None:
        self._server.serve_forever(poll_interval=0.05)

    def start(self) -> SandboxServer:
        self._thread = threading.Thread(target=self.serve_forever, name=f"sandbox-{self.port}", daemon=True)
        self._thread.start()
        return self

    def stop(self) -> None:
        if self._thread is not None:
            self._server.shutdown()
            self._thread.join(timeout=5)
            self._thread = None
        self._server.server_close()
        self._server.close_open_connections()
        self.account.close()


@contextmanager
def serve_sandbox(
    account: SandboxAccount | None = None, *, host: str = "127.0.0.1", port: int = 0
) -> Iterator[SandboxServer]:
    """Serve the account over HTTP for the duration of the block (tests: a free port on 127.0.0.1)."""
    server = SandboxServer(account, host=host, port=port).start()
    try:
        yield server
    finally:
        server.stop()
