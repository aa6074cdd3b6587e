"""Webhooks that can be trusted (issue 14): the Connection page warns when senders cannot reach the address it
shows, and *Send a test event* signs a sample with the saved secret, posts it to the studio's own server over
HTTP and says that it arrived and what the sync does with it."""

from __future__ import annotations

import pytest
from streamlit import config as st_config

from storage.events import EventStore
from sync_core.domain.events import DODO_PAYMENTS, PARTNERO
from sync_core.domain.presets import load_preset
from sync_core.domain.public_address import unreachable_reason
from sync_core.live.routes import webhook_routes
from tests.webhooks.helpers import serve_app

from .helpers import assert_clean, open_page, page_text


@pytest.fixture
def own_server(studio_workspace, monkeypatch):
    """The studio's webhook routes served on a free local port, as the dashboard's server serves them, and the
    dashboard told that it listens there."""
    from starlette.applications import Starlette

    app = Starlette(routes=webhook_routes(lambda: studio_workspace))
    with serve_app(app) as url:
        port = int(url.rsplit(":", 1)[1])
        before = st_config.get_option("server.port")
        st_config.set_option("server.port", port)
        try:
            yield url
        finally:
            st_config.set_option("server.port", before)


@pytest.mark.parametrize(
    ("url", "reachable"),
    [
        ("http://127.0.0.1:8501", False),
        ("http://localhost:8501", False),
        ("http://192.168.1.20:8501", False),
        ("http://studio.local", False),
        ("http://myhost:8501", False),
        ("https://studio.example.com", True),
        ("https://203.0.113.9", False),  # documentation range: reserved, not on the internet
        ("https://8.8.8.8", True),
    ],
)
def test_which_addresses_senders_can_reach(url, reachable):
    assert (unreachable_reason(url) is None) is reachable


def test_a_local_address_is_said_to_be_unreachable_by_the_senders(app, monkeypatch):
    open_page(app, "pages/connection.py")
    warnings = [w.value for w in app.warning]
    assert any("cannot reach these addresses" in w and "SYNC_STUDIO_PUBLIC_URL" in w for w in warnings), warnings


def test_a_public_address_gives_no_warning(app, monkeypatch):
    monkeypatch.setenv("SYNC_STUDIO_PUBLIC_URL", "https://studio.example.com")
    open_page(app, "pages/connection.py")
    assert not [w.value for w in app.warning if "cannot reach" in w.value]
    assert "https://studio.example.com/webhooks/partnero" in page_text(app)


def test_the_button_waits_for_a_secret(app):
    open_page(app, "pages/connection.py")
    assert app.button(key=f"cn_send_test_{PARTNERO}").disabled
    assert "No event has arrived from Partnero yet" in page_text(app)


@pytest.mark.parametrize("source", [PARTNERO, DODO_PAYMENTS])
def test_a_test_event_arrives_signed_and_says_what_it_does(app, studio_workspace, own_server, source):
    studio_workspace.save_config(load_preset("partnero" if source == PARTNERO else "dodo-payments"), author="t")
    secret = "whsec_" + "MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw" if source == DODO_PAYMENTS else "partnero-test-secret"
    studio_workspace.set_webhook_secret(source, secret)
    open_page(app, "pages/connection.py")
    app.button(key=f"cn_send_test_{source}").click().run()
    assert_clean(app)
    success = [s.value for s in app.success if "test event arrived" in s.value]
    assert success, [e.value for e in app.error]
    text = page_text(app)
    assert "creates or updates the subscriber" in text
    assert "waits for the next sync" in text
    stored = EventStore(studio_workspace.database).counts()
    assert stored.get("pending") == 1  # it is an ordinary event now: the sync takes it
    # a second test is a new event, not a duplicate of the first
    app.button(key=f"cn_send_test_{source}").click().run()
    assert EventStore(studio_workspace.database).counts().get("pending") == 2


def test_a_refused_signature_is_said_in_words(studio_workspace, tmp_path):
    """The server checks with another secret than the one saved here: refused, and said so, with no event."""
    from starlette.applications import Starlette

    from storage.db import Database
    from sync_core.engine.workspace import Workspace
    from sync_core.live.test_event import send_test_event

    other = Workspace(Database(f"sqlite:///{tmp_path / 'other.db'}"), directory=tmp_path)
    other.set_webhook_secret(PARTNERO, "the-endpoint-secret")
    studio_workspace.set_webhook_secret(PARTNERO, "a-secret-saved-here")
    with serve_app(Starlette(routes=webhook_routes(lambda: other))) as url:
        result = send_test_event(studio_workspace, PARTNERO, url)
    assert not result.arrived
    assert result.headline.startswith("The studio refused the test event: the signature does not match")
    assert EventStore(other.database).counts().get("pending") is None


def test_no_server_is_said_in_words(studio_workspace):
    from sync_core.live.test_event import send_test_event
    from tests.webhooks.helpers import free_port

    studio_workspace.set_webhook_secret(PARTNERO, "s3cret")
    result = send_test_event(studio_workspace, PARTNERO, f"http://127.0.0.1:{free_port()}")
    assert not result.arrived
    assert "could not reach the studio's webhook address" in result.headline
    assert "Error" not in result.headline
