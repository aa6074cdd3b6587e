"""MailerLite's request shapes: one body builder and one spelling of each path, in the three forms used."""

from __future__ import annotations

import pytest

from sync_core.domain.requests import (
    SUBSCRIBERS,
    api_relative,
    batch_path,
    client_path,
    field_path,
    group_path,
    group_subscribers_path,
    path_segment,
    plan_path,
    subscriber_body,
    subscriber_forget_path,
    subscriber_group_path,
    subscriber_path,
    without_unset,
)


def test_a_body_leaves_out_what_is_not_given_and_keeps_empty_values():
    assert subscriber_body("a@b.co") == {"email": "a@b.co"}
    assert subscriber_body(fields={}, groups=[]) == {"fields": {}, "groups": []}  # groups [] empties a PUT
    assert subscriber_body(fields={"name": None}, status=None, ip_address="1.1.1.1") == {
        "fields": {"name": None},
        "ip_address": "1.1.1.1",
    }
    assert without_unset({"limit": 0, "cursor": None, "filter[status]": ""}) == {"limit": 0, "filter[status]": ""}


def test_a_body_keeps_the_order_the_preview_shows():
    body = subscriber_body(
        "a@b.co", groups=("1",), fields={"name": "Ann"}, status="active", subscribed_at="2025-01-01 00:00:00"
    )
    assert list(body) == ["email", "fields", "groups", "status", "subscribed_at"]
    assert body["groups"] == ["1"]


@pytest.mark.parametrize(
    ("path", "expected"),
    [
        (SUBSCRIBERS, "subscribers"),
        (subscriber_path("123"), "subscribers/123"),
        (subscriber_group_path("123", "456"), "subscribers/123/groups/456"),
        (subscriber_forget_path("123"), "subscribers/123/forget"),
        (group_path("456"), "groups/456"),
        (group_subscribers_path("456"), "groups/456/subscribers"),
        (field_path("7"), "fields/7"),
    ],
)
def test_each_path_in_each_form(path, expected):
    assert path == expected
    assert batch_path(path) == f"api/{expected}"
    assert plan_path(path) == f"/api/{expected}"
    assert client_path(path) == f"/{expected}"
    for form in (batch_path, plan_path, client_path):
        assert api_relative(form(path)) == expected


def test_segments_are_escaped_by_the_caller_and_placeholders_stay_readable():
    assert path_segment("ann+tag@example.com") == "ann%2Btag@example.com"
    assert path_segment("a/b c") == "a%2Fb%20c"
    assert path_segment(165968862226941797) == "165968862226941797"
    assert subscriber_group_path("{subscriber_id}", "{group:Active Partners}") == (
        "subscribers/{subscriber_id}/groups/{group:Active Partners}"
    )
