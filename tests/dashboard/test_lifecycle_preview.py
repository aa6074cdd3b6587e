"""The presets' lifecycle events on the Preview page (issue 12): what each would send, in marketer words."""

from __future__ import annotations

from sync_core.domain.presets import load_preset

from .helpers import open_page
from .test_preview_page import PAGE, choose, codes


def requests_of(app) -> list[str]:
    return [code for code in codes(app) if code.startswith(("POST", "PUT", "GET", "DELETE"))]


def test_an_expired_dodo_subscription_leaves_active_subscriptions(app, studio_workspace):
    studio_workspace.save_config(load_preset("dodo-payments"), author="test")
    open_page(app, PAGE)
    choose(app, "Dodo Payments · subscription.expired")
    assert any(s.value.startswith("Synced (Update only)") for s in app.success)
    assert any("− Active subscriptions" in m.value for m in app.markdown)
    deletes = [r for r in requests_of(app) if r.startswith("DELETE")]
    assert deletes == ["DELETE /api/subscribers/{subscriber_id}/groups/{group:Active subscriptions}"] * 2
    assert not [r for r in requests_of(app) if r.startswith("POST /api/subscribers\n")]  # never created


def test_a_refund_tags_the_customer(app, studio_workspace):
    studio_workspace.save_config(load_preset("dodo-payments"), author="test")
    open_page(app, PAGE)
    choose(app, "Dodo Payments · refund.succeeded")
    assert any("+ Refunded" in m.value for m in app.markdown)
    assert "POST /api/subscribers/{subscriber_id}/groups/{group:Refunded}" in requests_of(app)


def test_a_rejected_partnero_partner_is_not_added_to_partners(app, studio_workspace):
    studio_workspace.save_config(load_preset("partnero"), author="test")
    open_page(app, PAGE)
    choose(app, "Partnero · partner.rejected")
    markdown = "\n".join(m.value for m in app.markdown)
    assert "− Active Partners" in markdown and "+ Partners" not in markdown
    assert not [r for r in requests_of(app) if r.startswith("POST")]


def test_each_lifecycle_action_shows_what_it_would_send(app, studio_workspace):
    config = load_preset("partnero")
    config.triggers[0].event_types = ["partner.created"]
    config.triggers.append(
        config.triggers[0].model_copy(update={"name": "Gone", "event_types": ["partner.rejected"], "fields": []})
    )
    expected = {
        "unsubscribe": ("Unsubscribe", 'PUT /api/subscribers/{subscriber_id}\n{\n  "status": "unsubscribed"\n}'),
        "delete": ("Delete from MailerLite", "DELETE /api/subscribers/{subscriber_id}"),
        "remove_groups": (
            "Remove from the studio's groups",
            "DELETE /api/subscribers/{subscriber_id}/groups/{group:Partners}",
        ),
    }
    for action, (label, request) in expected.items():
        config.triggers[-1].action = action  # type: ignore[assignment]
        studio_workspace.save_config(config, author="test")
        open_page(app, PAGE)
        choose(app, "Partnero · partner.rejected")
        assert any(s.value.startswith(f"Synced ({label})") for s in app.success)
        assert any("Nobody is created" in i.value for i in app.info)
        requests = requests_of(app)
        assert request in requests and requests[0] == "GET /api/subscribers/john.doe@example.com"
        assert not [r for r in requests if r.startswith("POST")]
