"""Signing like the senders do (the official ``standardwebhooks`` library for Dodo Payments, plain HMAC for
Partnero), realistic event bodies, and an ASGI app served for real on 127.0.0.1."""

from __future__ import annotations

import base64
import contextlib
import hashlib
import hmac
import json
import socket
import threading
import time
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

import uvicorn
from standardwebhooks import Webhook

from tests.conftest import DODO_EXAMPLES_FILE

DODO_SECRET = "whsec_" + base64.b64encode(b"sync-studio-test-secret-0123456789").decode()
DODO_SECRET_NEXT = "whsec_" + base64.b64encode(b"sync-studio-rotated-secret-987654").decode()
PARTNERO_SECRET = "uy51DfvoJ7mUm2Ua"  # the sample secret of Partnero's documentation
PARTNERO_SECRET_NEXT = "p4rtn3ro-next-Secret-2026"

_DODO_EXAMPLE = (
    json.loads(DODO_EXAMPLES_FILE.read_text(encoding="utf-8"))["payment.succeeded"]["example"]
    if DODO_EXAMPLES_FILE.exists()
    else None
)


def dodo_body(n: int, *, event_type: str = "payment.succeeded", email: str | None = None, amount: int = 400) -> bytes:
    """Dodo's official payment.succeeded example, for customer number ``n``."""
    event = json.loads(json.dumps(_DODO_EXAMPLE))
    event["type"] = event_type
    event["data"]["payment_id"] = f"pay_test_{n:06d}"
    event["data"]["total_amount"] = amount
    event["data"]["customer"] = {
        "customer_id": f"cus_{n:06d}",
        "email": email or f"buyer{n}@example.com",
        "name": f"Buyer Number{n}",
    }
    return json.dumps(event, separators=(",", ":")).encode()


def partnero_body(n: int, *, event: str = "partner.created", email: str | None = None) -> bytes:
    """A partner.created webhook in Partnero's newer envelope, for partner number ``n``."""
    return json.dumps(
        {
            "event": event,
            "url": "https://studio.example.com/webhooks/partnero",
            "webhook_key": "wh_abc123",
            "created_at": "2025-05-07T10:30:00.000000Z",
            "data": {
                "id": f"partner_{n}",
                "key": f"partner_{n}",
                "email": email or f"partner{n}@example.com",
                "name": "Pat",
                "surname": f"Number{n}",
                "status": "active",
                "total_sales": n % 40,
                "total_earned": f"{n % 9}.50",
                "created_at": "2025-05-07T10:30:00.000000Z",
            },
        },
        separators=(",", ":"),
    ).encode()


def dodo_headers(
    body: bytes, *, msg_id: str, secrets: tuple[str, ...] = (DODO_SECRET,), timestamp: datetime | None = None
) -> dict[str, str]:
    """Standard Webhooks headers signed with each of ``secrets`` (several: a rotation), by the official library."""
    when = timestamp or datetime.now(UTC)
    text = body.decode("utf-8")
    signatures = " ".join(Webhook(secret).sign(msg_id, when, text) for secret in secrets)
    return {
        "webhook-id": msg_id,
        "webhook-timestamp": str(int(when.timestamp())),
        "webhook-signature": signatures,
        "content-type": "application/json",
    }


def partnero_headers(body: bytes, *, secret: str = PARTNERO_SECRET) -> dict[str, str]:
    """Partnero's header: the hex HMAC-SHA256 of the raw body (computed here with hmac, not the product's code)."""
    return {
        "Signature": hmac.new(secret.encode("utf-8"), body, hashlib.sha256).hexdigest(),
        "content-type": "application/json",
    }


def minutes_ago(minutes: float) -> datetime:
    return datetime.now(UTC) - timedelta(minutes=minutes)


@contextlib.contextmanager
def serve_app(app, *, host: str = "127.0.0.1") -> Iterator[str]:
    """Serve an ASGI app with uvicorn on a free local port in a thread (lifespan included); yields its URL."""
    config = uvicorn.Config(app, host=host, port=0, log_level="warning", access_log=False, lifespan="on")
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 30
    while not server.started:
        if not thread.is_alive() or time.monotonic() > deadline:
            raise RuntimeError("the test server did not start")
        time.sleep(0.01)
    port = server.servers[0].sockets[0].getsockname()[1]
    try:
        yield f"http://{host}:{port}"
    finally:
        server.should_exit = True
        thread.join(30)


class ClientPerThread:
    """One keep-alive ``httpx.Client`` per thread (making a client costs ~20 ms: its TLS context)."""

    def __init__(self, **options):
        self._options = {"timeout": 10, **options}
        self._local = threading.local()
        self._clients: list = []
        self._lock = threading.Lock()

    def get(self):
        import httpx

        client = getattr(self._local, "client", None)
        if client is None:
            client = self._local.client = httpx.Client(**self._options)
            with self._lock:
                self._clients.append(client)
        return client

    def close(self) -> None:
        for client in self._clients:
            client.close()

    def __enter__(self) -> ClientPerThread:
        return self

    def __exit__(self, *exc_info) -> None:
        self.close()


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def count_rows(database, where: str = "1=1") -> int:
    with database.engine.connect() as connection:
        return connection.exec_driver_sql(f"SELECT count(*) FROM received_event WHERE {where}").scalar()


def rows(database) -> list[dict]:
    with database.engine.connect() as connection:
        return [
            dict(row._mapping)
            for row in connection.exec_driver_sql(
                "SELECT source, event_id, status, reason, event_type, email, origin FROM received_event ORDER BY id"
            )
        ]


def both_sources_config(*, sandbox: bool = True):
    """Dodo Payments' preset and Partnero's together: what a studio receiving both webhooks would run."""
    from sync_core.domain.presets import load_preset

    config = load_preset("dodo-payments")
    partnero = load_preset("partnero")
    for trigger in partnero.triggers:
        config.triggers.append(trigger.model_copy(update={"source": "partnero"}))
    config.group_rules.extend(partnero.group_rules)
    config.connection.default_group = None
    config.connection.sandbox = sandbox
    config.name = "Dodo Payments and Partnero"
    return config


class RetryingSenders:
    """Threads posting ``jobs`` (path, body, headers, email) the way Dodo Payments and Partnero do: each one sent
    again until it is acknowledged with a 200 (a refused connection or a 502-504 is tried again, as the senders'
    own retries would). ``acknowledged`` holds the emails of the events answered 200; ``failures`` anything
    answered otherwise, or never acknowledged by ``deadline_seconds``."""

    def __init__(self, url: str, jobs: list[tuple[str, bytes, dict, str]], *, threads: int = 4, deadline_seconds=150):
        self.url = url
        self.acknowledged: set[str] = set()
        self.failures: list[str] = []
        self._lock = threading.Lock()
        self._jobs = iter(jobs)
        self._deadline = time.monotonic() + deadline_seconds
        self._threads = [threading.Thread(target=self._send, daemon=True) for _ in range(threads)]

    def start(self) -> RetryingSenders:
        for thread in self._threads:
            thread.start()
        return self

    def join(self, timeout: float) -> None:
        end = time.monotonic() + timeout
        for thread in self._threads:
            thread.join(max(0.0, end - time.monotonic()))

    def _send(self) -> None:
        import httpx

        with httpx.Client(base_url=self.url, timeout=10) as client:
            while True:
                with self._lock:
                    job = next(self._jobs, None)
                if job is None:
                    return
                path, body, headers, email = job
                while True:
                    if time.monotonic() > self._deadline:
                        self.failures.append(f"{email} never acknowledged")
                        return
                    try:
                        answer = client.post(path, content=body, headers=headers)
                    except httpx.HTTPError:
                        answer = None
                    if answer is not None and answer.status_code == 200:
                        with self._lock:
                            self.acknowledged.add(email)
                        break
                    if answer is not None and answer.status_code not in (502, 503, 504):
                        self.failures.append(f"{email}: {answer.status_code} {answer.text}")
                        return
                    time.sleep(0.05)


def mixed_jobs(total: int, prefix: str) -> list[tuple[str, bytes, dict, str]]:
    """``total`` signed events, Dodo Payments and Partnero in turn, each for a contact of its own."""
    jobs = []
    for n in range(total):
        if n % 2:
            body = dodo_body(n)
            headers = dodo_headers(body, msg_id=f"msg_{prefix}_{n}")
            jobs.append(("/webhooks/dodo-payments", body, headers, f"buyer{n}@example.com"))
        else:
            body = partnero_body(n)
            jobs.append(("/webhooks/partnero", body, partnero_headers(body), f"partner{n}@example.com"))
    return jobs
