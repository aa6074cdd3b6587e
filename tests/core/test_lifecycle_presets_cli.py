"""The presets' lifecycle events (issue 12) as ``python -m sync_core preview`` shows them: an expired Dodo
subscription leaves Active subscriptions, a refund and a dispute tag the customer, a rejected Partnero partner is
not added to Partners (whose welcome workflow it would start) and leaves Active Partners."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from sync_core.engine.samples import partnero_samples
from tests.core.test_cli import run

pytestmark = pytest.mark.processes


def preview(tmp_path: Path, preset: str, body: dict | bytes, *options: str) -> list[tuple[str, str, dict | None]]:
    event = tmp_path / "event.json"
    event.write_bytes(body if isinstance(body, bytes) else json.dumps(body).encode())
    result = run("preview", "--preset", preset, "--event", str(event), *options)
    assert result.returncode == 0, result.stderr
    return [(request["method"], request["path"], request["body"]) for request in json.loads(result.stdout)]


@pytest.mark.parametrize("event_type", ["subscription.expired", "subscription.on_hold", "subscription.failed"])
def test_an_ended_or_held_dodo_subscription_leaves_active_subscriptions(tmp_path, dodo_examples, event_type):
    for options in ((), ("--existing",)):
        requests = preview(tmp_path, "dodo-payments", dodo_examples[event_type], *options)
        assert requests == [
            ("GET", "/api/subscribers/test@acme.com", None),
            ("PUT", "/api/subscribers/{subscriber_id}", {"fields": {"subscription_status": event_type[13:]}}),
            ("DELETE", "/api/subscribers/{subscriber_id}/groups/{group:Active subscriptions}", None),
        ]  # looked up first: an expiry never creates anyone


def test_a_refund_and_a_dispute_tag_the_customer(tmp_path, dodo_examples):
    refund = preview(tmp_path, "dodo-payments", dodo_examples["refund.succeeded"], "--existing")
    assert refund[0] == ("GET", "/api/subscribers/jane@example.com", None)
    assert refund[1][:2] == ("PUT", "/api/subscribers/{subscriber_id}")
    assert refund[1][2]["fields"]["last_refund_amount"] == "4.00"
    assert refund[2] == ("POST", "/api/subscribers/{subscriber_id}/groups/{group:Refunded}", None)
    dispute = preview(tmp_path, "dodo-payments", dodo_examples["dispute.opened"], "--existing")
    assert dispute[1][2] == {"fields": {"dispute_status": "dispute_opened"}}
    assert dispute[2] == ("POST", "/api/subscribers/{subscriber_id}/groups/{group:Disputed}", None)


def test_a_rejected_partnero_partner_is_not_added_to_partners_and_leaves_active_partners(tmp_path):
    (sample,) = [s for s in partnero_samples() if s.label.startswith("Partnero · partner.rejected")]
    for options in ((), ("--existing",)):
        requests = preview(tmp_path, "partnero", sample.payload, *options)
        assert not [r for r in requests if "Partners" in r[1] and "Active" not in r[1]]
        assert not [r for r in requests if r[0] == "POST"]  # nothing creates them, nothing adds them anywhere
        assert requests[0] == ("GET", "/api/subscribers/john.doe@example.com", None)
        assert requests[-1] == ("DELETE", "/api/subscribers/{subscriber_id}/groups/{group:Active Partners}", None)
