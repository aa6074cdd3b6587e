"""Test connection: a plain answer, valid or not and why."""

from __future__ import annotations

import httpx

from sync_core.mailerlite import MailerLiteClient, MailerLiteSettings, connection


def test_valid_key_reports_counts_groups_fields_and_rate_left(api, client, recorded):
    _, count = recorded("subscribers-count")
    _, groups = recorded("groups-list")
    _, fields = recorded("fields-list")
    headers = {"X-RateLimit-Limit": "120", "X-RateLimit-Remaining": "73"}
    api.get("/subscribers").mock(return_value=httpx.Response(200, json=count, headers=headers))
    api.get("/groups").mock(return_value=httpx.Response(200, json=groups, headers=headers))
    api.get("/fields").mock(return_value=httpx.Response(200, json=fields, headers=headers))
    report = connection.test_connection(client)
    assert report.ok and report.problem is None
    assert report.subscriber_count == 1004
    assert [g.name for g in report.groups] == ["Grupa 1", "Grupa2", "Test group"]
    assert len(report.fields) == 9
    assert (report.rate_limit, report.rate_limit_remaining) == (120, 73)
    assert report.summary() == (
        "Connected. The account has 1,004 subscribers, 3 groups and 9 fields; 73 of 120 requests left in this minute."
    )


def test_wrong_key_says_so(api, client, recorded):
    status, body = recorded("groups-import-subscribers")
    api.get("/subscribers").mock(return_value=httpx.Response(status, json=body))
    report = connection.test_connection(client)
    assert not report.ok and "refused the API key" in report.problem and "401" in report.detail
    assert report.summary().startswith("Not connected: MailerLite refused the API key")


def test_unreachable_api_says_so(api, make_client):
    api.get("/subscribers").mock(side_effect=httpx.ConnectError("connection refused"))
    report = connection.test_connection(make_client(max_attempts=2))
    assert not report.ok and "could not be reached" in report.problem


def test_missing_key_says_so_without_a_request(api):
    route = api.get("/subscribers").mock(return_value=httpx.Response(200, json={"total": 0}))
    with MailerLiteClient(MailerLiteSettings(base_url="https://ml.test/api")) as client:
        report = connection.test_connection(client)
    assert not report.ok and "No MailerLite API key is set" in report.problem
    assert not route.called


def test_is_not_collected_as_a_test():
    assert connection.test_connection.__test__ is False
