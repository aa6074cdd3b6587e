"""Issue 13's attacks on the webhooks, over HTTP against the served routes: a viewer or an editor cannot rotate
or generate a signing secret to forge events, the real sender keeps working, and the routes keep taking signed
events on a non-loopback address with no sign-in. Refusals of a missing or wrong signature (401, nothing stored)
are tests/webhooks/test_routes.py's."""

from __future__ import annotations

import httpx
import pytest

from sync_core.domain.access import NotAllowed, Role
from sync_core.domain.events import DODO_PAYMENTS, PARTNERO
from tests.dashboard.signing_in import actor
from tests.webhooks.helpers import (
    DODO_SECRET,
    PARTNERO_SECRET,
    count_rows,
    dodo_body,
    dodo_headers,
    partnero_body,
    partnero_headers,
    rows,
)

DODO = "/webhooks/dodo-payments"
PARTNERO_PATH = "/webhooks/partnero"
FORGER_DODO_SECRET = "whsec_Zm9yZ2VkLWJ5LXRoZS1hdHRhY2tlci0wMTIzNDU2"
FORGER_PARTNERO_SECRET = "the-attackers-own-partnero-secret"


@pytest.fixture
def stored_secrets(workspace, monkeypatch):
    """The real senders' secrets, saved on the Connection page by an admin (none in the environment)."""
    monkeypatch.delenv("DODO_PAYMENTS_WEBHOOK_KEY", raising=False)
    monkeypatch.delenv("PARTNERO_WEBHOOK_SECRET", raising=False)
    workspace.set_webhook_secret(DODO_PAYMENTS, DODO_SECRET)
    workspace.set_webhook_secret(PARTNERO, PARTNERO_SECRET)
    return workspace


@pytest.mark.parametrize("role", [Role.VIEWER, Role.EDITOR])
def test_dodo_events_cannot_be_forged_after_a_rotation_by_a_viewer_or_an_editor(http, stored_secrets, role):
    weak = stored_secrets.acting_as(actor(role))
    with pytest.raises(NotAllowed, match=role.value):
        weak.set_webhook_secret(DODO_PAYMENTS, FORGER_DODO_SECRET)

    forged = dodo_body(1, email="forged@example.com")
    answer = http.post(
        DODO, content=forged, headers=dodo_headers(forged, msg_id="msg_forged", secrets=(FORGER_DODO_SECRET,))
    )
    assert answer.status_code == 401
    assert count_rows(stored_secrets.database) == 0

    real = dodo_body(2)
    answer = http.post(DODO, content=real, headers=dodo_headers(real, msg_id="msg_real"))
    assert answer.status_code == 200, answer.text
    assert [row["email"] for row in rows(stored_secrets.database)] == ["buyer2@example.com"]


@pytest.mark.parametrize("role", [Role.VIEWER, Role.EDITOR])
def test_partnero_events_cannot_be_forged_after_a_generated_secret_by_a_viewer_or_an_editor(http, stored_secrets, role):
    weak = stored_secrets.acting_as(actor(role))
    with pytest.raises(NotAllowed, match=role.value):
        weak.set_webhook_secret(PARTNERO, FORGER_PARTNERO_SECRET)
    generate = getattr(weak, "generate_webhook_secret", None)  # the Connection page's "Generate a secret"
    if generate is not None:
        with pytest.raises(NotAllowed, match=role.value):
            generate(PARTNERO)
    assert stored_secrets.webhook_secret(PARTNERO) == PARTNERO_SECRET

    forged = partnero_body(1, email="forged@example.com")
    answer = http.post(PARTNERO_PATH, content=forged, headers=partnero_headers(forged, secret=FORGER_PARTNERO_SECRET))
    assert answer.status_code == 401
    assert count_rows(stored_secrets.database) == 0

    real = partnero_body(2)
    assert http.post(PARTNERO_PATH, content=real, headers=partnero_headers(real)).status_code == 200
    assert [row["email"] for row in rows(stored_secrets.database)] == ["partner2@example.com"]


# --- the real server on every interface, sign-in required -----------------------------------------------------------


@pytest.mark.processes
@pytest.mark.parametrize("database", ["sqlite"], indirect=True)
def test_served_to_the_network_with_sign_in_on_the_webhooks_take_signed_events_and_refuse_the_rest(workspace, tmp_path):
    from tests.webhooks.helpers import free_port
    from tests.webhooks.processes import start, stop, streamlit_run, studio_env, wait_healthy

    port = free_port()
    command = streamlit_run(port)
    command[command.index("--server.address") + 1] = "0.0.0.0"
    env = studio_env(workspace, "http://127.0.0.1:9/api", SYNC_STUDIO_WORKER="off")
    env["SYNC_STUDIO_ADMIN_PASSWORD"] = "a-long-admin-password-for-the-test"
    log = tmp_path / "server.log"
    server = start(command, env, log)
    url = f"http://127.0.0.1:{port}"
    try:
        wait_healthy(server, url, log)
        with httpx.Client(base_url=url, timeout=10) as client:  # no cookie, no sign-in: a sender
            body = partnero_body(1)
            assert client.post(PARTNERO_PATH, content=body, headers=partnero_headers(body)).status_code == 200
            body = dodo_body(2)
            answer = client.post(DODO, content=body, headers=dodo_headers(body, msg_id="msg_net"))
            assert answer.status_code == 200, answer.text
            forged = partnero_body(3, email="forged@example.com")
            unsigned = client.post(PARTNERO_PATH, content=forged, headers={"content-type": "application/json"})
            assert unsigned.status_code == 401
            wrong = partnero_headers(forged, secret=FORGER_PARTNERO_SECRET)
            assert client.post(PARTNERO_PATH, content=forged, headers=wrong).status_code == 401
    finally:
        stop(server)
    assert sorted(row["email"] for row in rows(workspace.database)) == ["buyer2@example.com", "partner1@example.com"]
