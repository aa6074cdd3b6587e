"""``python -m sync_core preview`` on Partnero's real bodies: the tier from custom_fields, and an event without
a tier said so in words."""

from __future__ import annotations

import json

import pytest

from tests.core.test_cli import run
from tests.reference import PARTNERO_FIXTURES, require

pytestmark = pytest.mark.processes


def test_a_partner_with_a_tier_in_custom_fields_previews_its_tier_and_tier_group():
    result = run(
        "preview", "--preset", "partnero", "--event", str(require(PARTNERO_FIXTURES / "partner-updated-with-tier.json"))
    )
    assert result.returncode == 0, result.stderr
    (upsert,) = [request for request in json.loads(result.stdout) if request["path"] == "/api/subscribers"]
    assert upsert["body"]["fields"]["tier"] == "Gold"
    assert upsert["body"]["fields"]["total_sales"] == 8 and upsert["body"]["fields"]["total_earned"] == 375
    assert "Tier Gold" in upsert["body"]["groups"]
    assert "has no tier" not in result.stderr


def test_a_partner_without_a_tier_says_so_plainly():
    result = run(
        "preview", "--preset", "partnero", "--event", str(require(PARTNERO_FIXTURES / "partner-created-no-tier.json"))
    )
    assert result.returncode == 0, result.stderr
    (upsert,) = json.loads(result.stdout)
    assert "tier" not in upsert["body"]["fields"]
    assert "This event has no tier" in result.stderr
    assert "“Tier {tier}” puts the contact in no group: this event has no tier" in result.stderr
