"""Error classes, retries and backoff, against respx on a fake clock."""

from __future__ import annotations

import httpx
import pytest

from sync_core.mailerlite import (
    AuthError,
    ConfigurationError,
    ForbiddenError,
    MailerLiteClient,
    MailerLiteSettings,
    NetworkError,
    NotFound,
    RateLimited,
    RequestRejected,
    RequestTimeout,
    ServerError,
    SubscriberSuppressed,
    ValidationError,
)

INVALID = "The given data was invalid."


def test_401_is_auth_error_and_not_retried(api, client, recorded):
    status, body = recorded("groups-import-subscribers")  # the real 401 answer
    route = api.get("/groups").mock(return_value=httpx.Response(status, json=body))
    with pytest.raises(AuthError, match="did not accept the API key") as caught:
        client.list_groups()
    assert route.call_count == 1
    assert caught.value.status == 401 and not caught.value.retryable


def test_404_is_not_found_in_plain_words_and_not_retried(api, client, recorded):
    status, body = recorded("subscribers-delete", 1)
    route = api.delete("/subscribers/123123").mock(return_value=httpx.Response(status, json=body))
    with pytest.raises(NotFound, match="MailerLite has no subscriber 123123") as caught:
        client.delete_subscriber("123123")
    assert route.call_count == 1 and caught.value.body == body


def test_404_on_unassign_says_which_pair(api, client):
    api.delete("/subscribers/1/groups/2").mock(return_value=httpx.Response(404, json={"message": ""}))
    with pytest.raises(NotFound, match="subscriber 1 is not in group 2"):
        client.unassign_from_group("1", "2")


@pytest.mark.parametrize(
    ("call", "route", "errors", "expected"),
    [
        (
            lambda c: c.upsert_subscriber("not-an-email"),
            ("post", "/subscribers"),
            {"email": ["The email must be a valid email address."]},
            "the email address 'not-an-email' is not a valid email address",
        ),
        (
            lambda c: c.upsert_subscriber("a@b.co", groups=["123"]),
            ("post", "/subscribers"),
            {"groups.0": ["The selected groups.0 is invalid."]},
            "the group 123 does not exist in this account",
        ),
        (
            lambda c: c.upsert_subscriber("a@b.co", groups=[{"id": "9"}]),
            ("post", "/subscribers"),
            {"groups.0": ["The groups.0 field must be a number.", "The selected groups.0 is not numeric."]},
            "is not a number; send group ids",
        ),
        (
            lambda c: c.create_field("My Field", "text"),
            ("post", "/fields"),
            {"name": ["Field name must be unique"]},
            "a field named 'My Field' already exists in this account",
        ),
        (
            lambda c: c.create_field("Tier", "boolean"),
            ("post", "/fields"),
            {"type": ["The selected type is invalid."]},
            "the field type 'boolean' is not allowed",
        ),
        (
            lambda c: c.assign_to_group("1", "555"),
            ("post", "/subscribers/1/groups/555"),
            {"id": ["The selected id is invalid."]},
            "the group 555 does not exist in this account",
        ),
        (
            lambda c: c.upsert_subscriber("a@b.co", fields={"total_sales": "lots"}),
            ("post", "/subscribers"),
            {"fields.total_sales": ["The fields.total_sales must be a number."]},
            "the field 'total_sales' holds numbers, but 'lots' is not a number",
        ),
        (
            lambda c: c.batch([{"method": "GET", "path": "api/x"}]),
            ("post", "/batch"),
            {"requests.0.method": ["The selected requests.0.method is invalid."]},
            "the batch is malformed: request 1 of the batch",
        ),
    ],
)
def test_422_reads_the_errors_map(api, client, call, route, errors, expected):
    method, path = route
    mocked = getattr(api, method)(path).mock(
        return_value=httpx.Response(422, json={"message": INVALID, "errors": errors})
    )
    with pytest.raises(ValidationError) as caught:
        call(client)
    assert expected in str(caught.value)
    assert caught.value.errors == errors
    assert mocked.call_count == 1  # never retried


def test_422_unsubscribed_becomes_subscriber_suppressed(api, client):
    body = {
        "message": INVALID,
        "errors": {"email": ["This subscriber is unsubscribed and cannot be imported"]},
        "subscriber": "197606381721748792",
    }
    api.post("/subscribers").mock(return_value=httpx.Response(422, json=body))
    with pytest.raises(SubscriberSuppressed) as caught:
        client.upsert_subscriber("gone@example.com", status="active")
    assert "this subscriber unsubscribed" in str(caught.value)
    assert "cannot be re-added by API" in str(caught.value)
    assert caught.value.subscriber_id == "197606381721748792"


def test_403_and_other_4xx_are_not_retried(api, client):
    forbidden = api.get("/fields").mock(return_value=httpx.Response(403, json={"message": "Forbidden"}))
    with pytest.raises(ForbiddenError):
        client.list_fields()
    bad = api.post("/groups").mock(return_value=httpx.Response(405, json={"message": "Method not allowed"}))
    with pytest.raises(RequestRejected, match="405"):
        client.create_group("x")
    assert forbidden.call_count == 1 and bad.call_count == 1


def test_5xx_is_retried_with_backoff_then_succeeds(api, client, clock, recorded):
    status, body = recorded("subscribers-count")
    route = api.get("/subscribers").mock(
        side_effect=[
            httpx.Response(500, json={"message": "Server Error"}),
            httpx.Response(503),
            httpx.Response(status, json=body),
        ]
    )
    assert client.count_subscribers() == 1004
    assert route.call_count == 3
    # backoff base 1 s: attempt 1 waits within [0.5, 1], attempt 2 within [1, 2]
    assert len(clock.sleeps) == 2
    assert 0.5 <= clock.sleeps[0] <= 1.0 and 1.0 <= clock.sleeps[1] <= 2.0


def test_5xx_retries_are_bounded(api, make_client, clock):
    client = make_client(max_attempts=4)
    route = api.get("/groups").mock(return_value=httpx.Response(502, json={"message": "Bad Gateway"}))
    with pytest.raises(ServerError, match="after 4 attempt") as caught:
        client.list_groups()
    assert route.call_count == 4 and caught.value.attempts == 4 and caught.value.retryable
    assert len(clock.sleeps) == 3


def test_backoff_grows_exponentially_and_is_capped(api, make_client, clock):
    client = make_client(max_attempts=7, backoff_base_seconds=1.0, backoff_max_seconds=8.0)
    api.get("/fields").mock(return_value=httpx.Response(500))
    with pytest.raises(ServerError):
        client.list_fields()
    caps = [1, 2, 4, 8, 8, 8]
    assert len(clock.sleeps) == len(caps)
    for slept, cap in zip(clock.sleeps, caps):
        assert cap / 2 <= slept <= cap
    assert len(set(clock.sleeps)) > 1  # jittered, not a fixed schedule


def test_timeouts_and_connection_errors_are_retried(api, client, recorded):
    status, body = recorded("subscribers-count")
    route = api.get("/subscribers").mock(
        side_effect=[httpx.ReadTimeout("slow"), httpx.ConnectError("refused"), httpx.Response(status, json=body)]
    )
    assert client.count_subscribers() == 1004
    assert route.call_count == 3


def test_persistent_timeouts_become_request_timeout(api, make_client):
    client = make_client(max_attempts=3)
    route = api.get("/subscribers").mock(side_effect=httpx.ReadTimeout("slow"))
    with pytest.raises(RequestTimeout, match="No answer from MailerLite at ml.test") as caught:
        client.count_subscribers()
    assert route.call_count == 3 and caught.value.attempts == 3


def test_persistent_connection_errors_become_network_error(api, make_client):
    client = make_client(max_attempts=2)
    api.get("/subscribers").mock(side_effect=httpx.ConnectError("connection refused"))
    with pytest.raises(NetworkError, match="connection refused") as caught:
        client.count_subscribers()
    assert not isinstance(caught.value, RequestTimeout)


def test_create_group_is_not_retried_after_a_read_timeout(api, client):
    """A second POST /groups after a lost answer could create the group twice."""
    route = api.post("/groups").mock(side_effect=httpx.ReadTimeout("slow"))
    with pytest.raises(RequestTimeout, match="may or may not have been applied"):
        client.create_group("Partners")
    assert route.call_count == 1


def test_create_group_is_retried_when_it_never_left(api, client, recorded):
    status, body = recorded("groups-create")
    route = api.post("/groups").mock(side_effect=[httpx.ConnectError("refused"), httpx.Response(status, json=body)])
    assert client.create_group("Test group").name == "Test group"
    assert route.call_count == 2


def test_429_is_retried_after_retry_after(api, client, clock, recorded):
    status, body = recorded("groups-list")
    route = api.get("/groups").mock(
        side_effect=[
            httpx.Response(
                429,
                json={"message": "Too Many Attempts."},
                headers={"Retry-After": "7", "X-RateLimit-Limit": "120", "X-RateLimit-Remaining": "0"},
            ),
            httpx.Response(status, json=body),
        ]
    )
    started = clock()
    assert len(client.list_groups().items) == 3
    assert route.call_count == 2
    assert clock() - started >= 7


def test_429_retries_are_bounded(api, make_client):
    client = make_client(max_attempts=3)
    route = api.get("/groups").mock(
        return_value=httpx.Response(429, json={"message": "Too Many Attempts."}, headers={"Retry-After": "2"})
    )
    with pytest.raises(RateLimited, match="rate limit is used up") as caught:
        client.list_groups()
    assert route.call_count == 3 and caught.value.retry_after == 2


def test_missing_key_is_a_configuration_error_without_a_request(api):
    route = api.get("/subscribers").mock(return_value=httpx.Response(200, json={"total": 0}))
    with MailerLiteClient(MailerLiteSettings(base_url="https://ml.test/api")) as client:
        with pytest.raises(ConfigurationError, match="No MailerLite API key is set"):
            client.count_subscribers()
    assert not route.called
