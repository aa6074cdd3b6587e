"""MailerLite's behaviour, checked through the client and raw HTTP, in-process and over HTTP alike."""

from __future__ import annotations

import time

import httpx
import pytest

from sync_core.mailerlite import AuthError, BatchRequest, NotFound, SubscriberSuppressed, ValidationError
from sync_core.sandbox import SandboxAccount, SandboxTransport, sandbox_client, serve_sandbox

INVALID = "The given data was invalid."


def test_upsert_creates_201_then_updates_200_keeping_the_id(client, raw):
    first = raw.post("subscribers", json={"email": "Ann@Example.COM", "fields": {"name": "Ann"}})
    second = raw.post("subscribers", json={"email": "ann@example.com", "fields": {"last_name": "Lee"}})
    assert (first.status_code, second.status_code) == (201, 200)
    assert first.json()["data"]["id"] == second.json()["data"]["id"]
    data = second.json()["data"]
    assert data["email"] == "ann@example.com"  # stored lower-cased
    assert data["status"] == "active" and data["source"] == "api"
    assert data["fields"]["name"] == "Ann" and data["fields"]["last_name"] == "Lee"  # omission keeps values
    result = client.upsert_subscriber("ANN@example.com", fields={"name": None})
    assert result.created is False and result.subscriber.fields["name"] is None  # explicit null clears


def test_subscriber_carries_every_account_field_with_nulls(client):
    client.create_field("Total sales", "number")
    subscriber = client.upsert_subscriber("a@example.com", fields={"total_sales": "1500"}).subscriber
    assert list(subscriber.fields) == [
        "name",
        "last_name",
        "company",
        "country",
        "city",
        "phone",
        "state",
        "z_i_p",
        "total_sales",
    ]
    assert subscriber.fields["total_sales"] == 1500 and subscriber.fields["company"] is None


def test_unknown_field_keys_are_ignored(client):
    subscriber = client.upsert_subscriber("a@example.com", fields={"no_such_field": "x", "name": "A"}).subscriber
    assert "no_such_field" not in subscriber.fields and subscriber.fields["name"] == "A"


def test_post_adds_groups_and_put_replaces_them(client):
    one, two, three = (client.create_group(name) for name in ("One", "Two", "Three"))
    sid = client.upsert_subscriber("g@example.com", groups=[one.id, two.id]).subscriber.id
    after_post = client.upsert_subscriber("g@example.com", groups=[three.id]).subscriber
    assert after_post.group_ids == [one.id, two.id, three.id]  # added, none removed
    after_put = client.update_subscriber(sid, groups=[two.id])
    assert after_put.group_ids == [two.id]  # replaced
    assert client.update_subscriber(sid, fields={"city": "Riga"}).group_ids == [two.id]  # omitted: kept
    assert client.find_group("One").active_count == 0 and client.find_group("Two").active_count == 1


def test_groups_in_subscriber_are_full_group_objects(raw):
    group = raw.post("groups", json={"name": "Partners"}).json()["data"]
    data = raw.post("subscribers", json={"email": "p@example.com", "groups": [group["id"]]}).json()["data"]
    assert data["groups"][0]["id"] == group["id"]
    assert data["groups"][0]["active_count"] == 1 and "open_rate" in data["groups"][0]


def test_get_by_id_or_email_and_404(client, raw):
    sid = client.upsert_subscriber("ann+tag@example.com").subscriber.id
    assert client.get_subscriber(sid).email == "ann+tag@example.com"
    assert client.get_subscriber("ANN+tag@example.com").id == sid
    with pytest.raises(NotFound, match="no subscriber nobody@example.com"):
        client.get_subscriber("nobody@example.com")
    assert raw.get("subscribers/123").json() == {
        "message": "No query results for model [App\\Models\\Subscriber\\Subscriber]."
    }


def test_list_is_cursor_paginated_newest_first(client, raw):
    emails = [f"u{n}@example.com" for n in range(7)]
    for email in emails:
        client.upsert_subscriber(email)
    listed = [s.email for s in client.iter_subscribers(page_size=3)]
    assert listed == list(reversed(emails))
    first = raw.get("subscribers", params={"limit": 3}).json()
    assert first["meta"]["prev_cursor"] is None and first["links"]["next"].endswith(first["meta"]["next_cursor"])
    second = raw.get("subscribers", params={"limit": 3, "cursor": first["meta"]["next_cursor"]}).json()
    back = raw.get("subscribers", params={"limit": 3, "cursor": second["meta"]["prev_cursor"]}).json()
    assert [s["id"] for s in back["data"]] == [s["id"] for s in first["data"]]
    assert "groups" not in first["data"][0]
    assert "groups" in raw.get("subscribers", params={"limit": 1, "include": "groups"}).json()["data"][0]


def test_count_with_limit_zero_and_status_filter(client, raw):
    for email in ("a@example.com", "b@example.com", "c@example.com"):
        client.upsert_subscriber(email)
    client.upsert_subscriber("c@example.com", status="unsubscribed")
    assert raw.get("subscribers", params={"limit": 0}).json() == {"total": 3}
    assert client.count_subscribers(status="unsubscribed") == 1
    assert [s.email for s in client.iter_subscribers(status="active")] == ["b@example.com", "a@example.com"]


def test_delete_answers_204_and_then_404(client, raw):
    sid = client.upsert_subscriber("d@example.com").subscriber.id
    answer = raw.delete(f"subscribers/{sid}")
    assert answer.status_code == 204 and answer.content == b""
    assert raw.delete(f"subscribers/{sid}").status_code == 404
    assert client.count_subscribers() == 0


def test_forget_answers_200_with_message_and_removes(client, raw):
    sid = client.upsert_subscriber("f@example.com").subscriber.id
    answer = raw.post(f"subscribers/{sid}/forget")
    assert answer.status_code == 200
    body = answer.json()
    assert body["message"] == "Subscriber data will be completely deleted and forgotten within 30 days."
    assert body["data"]["deleted_at"] and body["data"]["forget_at"] > body["data"]["deleted_at"]
    assert client.find_subscriber("f@example.com") is None


def test_groups_are_page_paginated_and_filtered_partially(client, raw):
    for name in ("Partners", "Active Partners", "Referred Customers", "Churned", "Premium"):
        client.create_group(name)
    page = raw.get("groups", params={"limit": 2, "page": 2}).json()
    assert page["meta"]["current_page"] == 2 and page["meta"]["last_page"] == 3 and page["meta"]["total"] == 5
    assert (page["meta"]["from"], page["meta"]["to"]) == (3, 4)
    assert page["links"]["prev"].endswith("page=1") and page["links"]["next"].endswith("page=3")
    assert len(list(client.iter_groups(page_size=2))) == 5
    assert {g.name for g in client.list_groups(name="partners").items} == {"Partners", "Active Partners"}
    assert client.find_group("partners").name == "Partners"
    ordered = client.list_groups(sort="-name").items
    assert [g.name for g in ordered][0] == "Referred Customers"


def test_create_group_201_and_name_rules(raw):
    created = raw.post("groups", json={"name": "Test group"})
    assert created.status_code == 201 and created.json()["data"]["name"] == "Test group"
    too_long = raw.post("groups", json={"name": "x" * 256})
    assert too_long.status_code == 422
    assert too_long.json()["errors"] == {"name": ["The name may not be greater than 255 characters."]}


def test_assign_200_unassign_204_and_their_errors(client, raw):
    group = client.create_group("Partners")
    sid = client.upsert_subscriber("a@example.com").subscriber.id
    assigned = raw.post(f"subscribers/{sid}/groups/{group.id}")
    assert assigned.status_code == 200 and assigned.json()["data"]["id"] == group.id
    assert client.get_subscriber(sid).group_ids == [group.id]
    assert raw.delete(f"subscribers/{sid}/groups/{group.id}").status_code == 204
    assert client.get_subscriber(sid).group_ids == []
    with pytest.raises(ValidationError, match="the group 999 does not exist in this account"):
        client.assign_to_group(sid, "999")
    with pytest.raises(NotFound):
        client.unassign_from_group(sid, "999")


def test_group_members_list_defaults_to_active(client):
    group = client.create_group("G")
    client.upsert_subscriber("a@example.com", groups=[group.id])
    client.upsert_subscriber("b@example.com", groups=[group.id], status="unsubscribed")
    assert [s.email for s in client.list_group_subscribers(group.id).items] == ["a@example.com"]
    assert [s.email for s in client.list_group_subscribers(group.id, status="unsubscribed").items] == ["b@example.com"]
    assert client.find_group("G").model_extra["unsubscribed_count"] == 1


def test_fields_create_201_key_from_name_and_rename_keeps_key(client, raw):
    created = raw.post("fields", json={"name": "Partner Key", "type": "text"})
    assert created.status_code == 201
    data = created.json()["data"]
    assert (data["key"], data["type"], data["is_default"]) == ("partner_key", "text", False)
    assert list(data) == ["id", "name", "key", "type", "is_default"]
    renamed = client.rename_field(data["id"], "Partner code")
    assert (renamed.name, renamed.key) == ("Partner code", "partner_key")


def test_duplicate_field_name_and_bad_type_answer_422(client, raw):
    client.create_field("Tier", "text")
    duplicate = raw.post("fields", json={"name": "tier", "type": "text"})
    assert duplicate.status_code == 422
    assert duplicate.json() == {
        "message": "Field name must be unique",
        "errors": {"name": ["Field name must be unique"]},
    }
    bad_type = raw.post("fields", json={"name": "Flag", "type": "boolean"})
    assert bad_type.json() == {"message": INVALID, "errors": {"type": ["The selected type is invalid."]}}
    with pytest.raises(ValidationError, match="a field named 'Tier' already exists"):
        client.create_field("Tier")


def test_invalid_email_and_unknown_group_answer_422(client, raw):
    bad_email = raw.post("subscribers", json={"email": "not-an-email"})
    assert bad_email.status_code == 422
    assert bad_email.json() == {"message": INVALID, "errors": {"email": ["The email must be a valid email address."]}}
    unknown = raw.post("subscribers", json={"email": "a@example.com", "groups": ["123456789"]})
    assert unknown.json()["errors"] == {"groups.0": ["The selected groups.0 is invalid."]}
    not_numeric = raw.post("subscribers", json={"email": "a@example.com", "groups": [{"id": "1"}]})
    assert not_numeric.json()["errors"] == {
        "groups.0": ["The groups.0 field must be a number.", "The selected groups.0 is not numeric."]
    }
    with pytest.raises(ValidationError, match="the group 123456789 does not exist"):
        client.upsert_subscriber("a@example.com", groups=["123456789"])
    assert client.count_subscribers() == 0  # nothing was created by the refused requests


def test_field_types_are_checked(client, raw):
    client.create_field("Total sales", "number")
    client.create_field("Renews on", "date")
    bad = raw.post(
        "subscribers", json={"email": "a@example.com", "fields": {"total_sales": "lots", "renews_on": "tomorrow"}}
    )
    assert bad.json()["errors"] == {
        "fields.total_sales": ["The fields.total_sales must be a number."],
        "fields.renews_on": ["The fields.renews_on is not a valid date."],
    }
    good = client.upsert_subscriber("a@example.com", fields={"total_sales": 12.5, "renews_on": "2025-10-01"})
    assert good.subscriber.fields["total_sales"] == 12.5 and good.subscriber.fields["renews_on"] == "2025-10-01"


@pytest.mark.parametrize("status", ["unsubscribed", "bounced", "junk"])
def test_suppressed_subscribers_are_not_reactivated(client, raw, status):
    sid = client.upsert_subscriber("gone@example.com", status=status).subscriber.id
    refused = raw.post("subscribers", json={"email": "gone@example.com", "status": "active"})
    assert refused.status_code == 422
    assert refused.json() == {
        "message": INVALID,
        "errors": {"email": ["This subscriber is unsubscribed and cannot be imported"]},
        "subscriber": sid,
    }
    with pytest.raises(SubscriberSuppressed) as caught:
        client.update_subscriber(sid, status="active")
    assert caught.value.subscriber_id == sid
    assert raw.post("subscribers", json={"email": "gone@example.com", "resubscribe": True}).status_code == 422
    kept = client.upsert_subscriber("gone@example.com", fields={"city": "Oslo"}).subscriber
    assert kept.status == status and kept.fields["city"] == "Oslo"  # data updated, status kept


def test_active_subscribers_can_unsubscribe_by_api(client):
    client.upsert_subscriber("a@example.com")
    left = client.upsert_subscriber("a@example.com", status="unsubscribed").subscriber
    assert left.status == "unsubscribed" and left.model_extra["unsubscribed_at"]


def test_batch_answers_per_item_and_costs_one_request(client, raw):
    group = client.create_group("G")
    before = int(raw.get("subscribers", params={"limit": 0}).headers["x-ratelimit-remaining"])
    answer = raw.post(
        "batch",
        json={
            "requests": [
                {
                    "method": "POST",
                    "path": "api/subscribers",
                    "body": {"email": "b1@example.com", "groups": [group.id]},
                },
                {"method": "POST", "path": "api/subscribers", "body": {"email": "broken"}},
                {"method": "GET", "path": "api/subscribers?limit=0"},
                {"method": "GET", "path": "api/campaigns/list"},
            ]
        },
    )
    assert answer.status_code == 200
    body = answer.json()
    assert (body["total"], body["successful"], body["failed"]) == (4, 2, 2)
    assert [item["code"] for item in body["responses"]] == [201, 422, 200, 404]
    assert body["responses"][2]["body"] == {"total": 1}
    assert body["responses"][3]["body"] == {"message": "The route api/campaigns/list could not be found."}
    assert int(answer.headers["x-ratelimit-remaining"]) == before - 1


def test_malformed_batches_answer_422(raw):
    answer = raw.post("batch", json={"requests": [{"method": "FETCH", "path": "subscribers"}]})
    assert answer.status_code == 422
    assert answer.json()["errors"] == {
        "requests.0.method": ["The selected requests.0.method is invalid."],
        "requests.0.path": ["The requests.0.path must start with one of the following: api/."],
    }
    too_many = raw.post("batch", json={"requests": [{"method": "GET", "path": "api/fields"}] * 51})
    assert too_many.json()["errors"] == {"requests": ["The requests may not have more than 50 items."]}
    assert raw.post("batch", json={}).json()["errors"] == {"requests": ["The requests field is required."]}


def test_all_upsert_batches_hit_the_import_limit(raw):
    upserts = {"requests": [{"method": "POST", "path": "api/subscribers", "body": {"email": "i@example.com"}}]}
    for _ in range(5):
        assert raw.post("batch", json=upserts).status_code == 200
    refused = raw.post("batch", json=upserts)
    assert refused.status_code == 429
    assert refused.json() == {"message": "You're being rate limited on import creation."}
    assert int(refused.headers["retry-after"]) >= 1
    mixed = {"requests": upserts["requests"] + [{"method": "GET", "path": "api/fields"}]}
    assert raw.post("batch", json=mixed).status_code == 200  # not an import: not limited


def test_client_paces_import_batches_without_a_429(mode):
    account = SandboxAccount(window_seconds=0.4, import_limit=2, seed=1)
    started = time.monotonic()
    # A margin for a loaded machine: a request delayed on its way can reach the server less than a window after
    # the one two before it (with MailerLite's 60 s window the default margin is 2 s).
    with serve_sandbox(account) if mode == "http" else _nothing() as server:
        with sandbox_client(account, server=server, rate_margin_seconds=0.15) as client:
            for number in range(5):
                client.batch([BatchRequest.upsert(f"i{number}@example.com")])
    assert time.monotonic() - started >= 0.8  # 5 imports at 2 per window need three windows
    assert account.stats.import_rate_limited == 0 and account.stats.rate_limited == 0
    assert len(account.state.subscribers) == 5


def test_missing_or_wrong_key_answers_401_without_rate_headers(account, server, raw, make_client):
    raw.headers.pop("Authorization")
    for headers in ({}, {"Authorization": "Bearer wrong-key"}, {"Authorization": "sandbox-key"}):
        answer = raw.get("subscribers", params={"limit": 0}, headers=headers)
        assert answer.status_code == 401 and answer.json() == {"message": "Unauthenticated."}
        assert "x-ratelimit-remaining" not in answer.headers
    with pytest.raises(AuthError):
        make_client(api_key="wrong-key").count_subscribers()
    assert account.stats.unauthorized == 4


def test_any_key_the_sandbox_was_started_with_works(mode):
    account = SandboxAccount(keys=("key-one", "key-two"))
    with serve_sandbox(account) if mode == "http" else _nothing() as server:
        for key in ("key-one", "key-two"):
            with sandbox_client(account, server=server, api_key=key) as client:
                assert client.count_subscribers() == 0
        with sandbox_client(account, server=server, api_key="sandbox-key") as client:
            with pytest.raises(AuthError):
                client.count_subscribers()


def test_rate_limit_headers_and_429_past_the_limit(mode):
    account = SandboxAccount(limit=3, window_seconds=60)
    with serve_sandbox(account) if mode == "http" else _nothing() as server:
        if server is None:
            http = httpx.Client(base_url=account.inprocess_base_url + "/", transport=SandboxTransport(account))
        else:
            http = httpx.Client(base_url=server.base_url + "/")
        with http:
            http.get("fields")  # 401s are not counted
            headers = {"Authorization": "Bearer sandbox-key"}
            remaining = [http.get("fields", headers=headers).headers["x-ratelimit-remaining"] for _ in range(3)]
            refused = http.get("fields", headers=headers)
    assert remaining == ["2", "1", "0"]
    assert refused.status_code == 429 and refused.json() == {"message": "Too Many Attempts."}
    assert refused.headers["x-ratelimit-limit"] == "3" and refused.headers["x-ratelimit-remaining"] == "0"
    assert 1 <= int(refused.headers["retry-after"]) <= 60


def test_unknown_routes_methods_and_bodies(raw):
    assert raw.get("campaigns").json() == {"message": "The route api/campaigns could not be found."}
    not_allowed = raw.get("groups/1")
    assert not_allowed.status_code == 405 and "Supported methods: PUT, DELETE" in not_allowed.json()["message"]
    assert raw.post("groups", content=b"{not json", headers={"Content-Type": "application/json"}).status_code == 400


class _nothing:
    def __enter__(self):
        return None

    def __exit__(self, *exc):
        return False
