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
