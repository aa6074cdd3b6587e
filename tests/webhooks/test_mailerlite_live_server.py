"""End to end: the dashboard server (the README's command) receives a signed MailerLite unsubscribe; its worker
applies it without a run, so the customer's next payment sends nothing to the (served) sandbox account."""

from __future__ import annotations

import signal

import httpx
import pytest

from storage.contacts import ContactStore
from storage.events import EventStore
from sync_core.engine.accounts import account_identity
from tests.webhooks.helpers import dodo_body, dodo_headers, free_port
from tests.webhooks.mailerlite_helpers import MAILERLITE_SECRET, batched, event, signed
from tests.webhooks.processes import start, stop, streamlit_run, wait_healthy
from tests.webhooks.test_worker import wait_until

pytestmark = [pytest.mark.processes, pytest.mark.parametrize("database", ["sqlite"], indirect=True)]
EMAIL = "buyer1@example.com"


def test_a_mailerlite_unsubscribe_reaches_the_served_studio_and_suppresses_the_contact(studio, tmp_path, monkeypatch):
    workspace, account, env = studio
    env["MAILERLITE_WEBHOOK_SECRET"] = MAILERLITE_SECRET
    for name in ("MAILERLITE_API_KEY", "MAILERLITE_BASE_URL"):
        monkeypatch.setenv(name, env[name])  # the same account as the server's, for account_identity below
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    log = tmp_path / "studio.log"
    server = start(streamlit_run(port), env, log)
    events = EventStore(workspace.database)
    try:
        wait_healthy(server, url, log)
        with httpx.Client(base_url=url, timeout=10) as http:
            body = dodo_body(1)
            assert http.post(
                "/webhooks/dodo-payments", content=body, headers=dodo_headers(body, msg_id="m1")
            ).is_success
            wait_until(lambda: events.counts() == {"synced": 1}, timeout=60, step=0.2)
            assert account.upserts[EMAIL] == 1

            person = dict(account.state.find_subscriber(EMAIL))
            account.state.set_status(account.state.find_subscriber(EMAIL), "unsubscribed")  # in MailerLite
            person["status"] = "unsubscribed"
            body = batched(event("subscriber.unsubscribed", person))
            assert http.post("/webhooks/mailerlite", content=body, headers=signed(body, "wrong")).status_code == 401
            answer = http.post("/webhooks/mailerlite", content=body, headers=signed(body))
            assert answer.status_code == 200, answer.text
            wait_until(lambda: events.counts() == {"synced": 2}, timeout=60, step=0.2)

            body = dodo_body(1, amount=999)
            assert http.post(
                "/webhooks/dodo-payments", content=body, headers=dodo_headers(body, msg_id="m2")
            ).is_success
            wait_until(lambda: events.counts() == {"synced": 3}, timeout=60, step=0.2)
    finally:
        code = stop(server, signal.SIGTERM)
    output = log.read_text(errors="replace")
    assert code in (0, -signal.SIGTERM), output
    assert "Traceback" not in output, output
    assert account.upserts[EMAIL] == 1, "nothing more is sent to an unsubscribed contact"
    key = account_identity(workspace, workspace.config()).key
    assert ContactStore(workspace.database).get(key, EMAIL).status == "unsubscribed"
