"""Where the alerts' tests send: a local mail server (aiosmtpd) on 127.0.0.1 that keeps every message, and the
HTTP receiver of the sandbox's tests standing in for a Slack-compatible incoming webhook."""

from __future__ import annotations

import json
import socket
import threading
from email import message_from_bytes, policy
from email.message import EmailMessage

from aiosmtpd.controller import Controller

from tests.sandbox.receivers import Receiver

__all__ = ["SLACK_TOKEN", "MailServer", "Receiver", "hook_url", "webhook_texts"]

#: The secret part of the test's Slack-compatible webhook address: never shown back, never logged.
SLACK_TOKEN = "T0000/B0000/xoxb-not-a-real-token-4f2a"


def hook_url(receiver: Receiver) -> str:
    """The receiver's address as Slack gives an incoming webhook: the token is in the path."""
    return f"http://127.0.0.1:{receiver.port}/services/{SLACK_TOKEN}"


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


class MailServer:
    """``with MailServer() as mail:`` ``mail.url`` is the SMTP address to save, ``mail.messages`` what arrived."""

    def __init__(self, *, user: str = "", password: str = "") -> None:
        self.messages: list[EmailMessage] = []
        self.recipients: list[list[str]] = []
        self.arrived = threading.Event()
        self._lock = threading.Lock()
        self.user, self.password = user, password
        self._controller: Controller | None = None

    def _keep(self, content: bytes, recipients: list[str]) -> None:
        with self._lock:
            self.messages.append(message_from_bytes(content, policy=policy.default))  # type: ignore[arg-type]
            self.recipients.append(recipients)
        self.arrived.set()

    def start(self) -> MailServer:
        for _ in range(5):
            controller = Controller(_Handler(self), hostname="127.0.0.1", port=_free_port())
            try:
                controller.start()
            except OSError:
                continue
            self._controller = controller
            return self
        raise RuntimeError("no free port for the local mail server")

    def stop(self) -> None:
        if self._controller is not None:
            self._controller.stop()

    def __enter__(self) -> MailServer:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    @property
    def port(self) -> int:
        assert self._controller is not None
        return int(self._controller.port)

    @property
    def url(self) -> str:
        return f"smtp://127.0.0.1:{self.port}?from=studio@example.com"

    def bodies(self) -> list[str]:
        return [message.get_content() for message in self.messages]  # type: ignore[attr-defined]


class _Handler:
    """aiosmtpd's handler (it looks at every attribute of its handler, so it is kept apart from the server)."""

    def __init__(self, server: MailServer) -> None:
        self.server = server

    async def handle_DATA(self, server, session, envelope):  # noqa: ANN001, ANN201 - aiosmtpd's signature
        self.server._keep(envelope.content, list(envelope.rcpt_tos))
        return "250 OK"


def webhook_texts(receiver: Receiver) -> list[str]:
    """The ``text`` of every message the Slack-compatible receiver got."""
    return [json.loads(delivery.body)["text"] for delivery in receiver.deliveries]
