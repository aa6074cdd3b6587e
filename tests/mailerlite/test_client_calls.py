"""Every client call against respx: the exact request sent, and the recorded real answer understood."""

from __future__ import annotations

import json

import httpx
import pytest

from sync_core.domain.requests import batch_path, subscriber_body, subscriber_group_path, subscriber_path
from sync_core.mailerlite import MAX_BATCH_REQUESTS, BatchRequest, InvalidBatch, NotFound


def sent_json(route) -> object:
    content = route.calls.last.request.content
    return json.loads(content) if content else None


def test_requests_carry_bearer_key_and_json_headers(api, client, recorded, api_key):
    status, body = recorded("subscribers-count")
    route = api.get("/subscribers").mock(return_value=httpx.Response(status, json=body))
    client.count_subscribers()
    request = route.calls.last.request
    assert request.headers["authorization"] == f"Bearer {api_key}"
    assert request.headers["accept"] == "application/json"
    assert request.headers["content-type"] == "application/json"
    assert str(request.url).startswith("https://ml.test/api/subscribers")


def test_upsert_new_subscriber_is_created_201(api, client, recorded):
    status, body = recorded("subscribers-create")
    route = api.post("/subscribers").mock(return_value=httpx.Response(status, json=body))
    result = client.upsert_subscriber(
        "test5@email.com", fields={"name": "John", "last_name": "Doe"}, ip_address="1.1.1.1"
    )
    assert sent_json(route) == {
        "email": "test5@email.com",
        "fields": {"name": "John", "last_name": "Doe"},
        "ip_address": "1.1.1.1",
    }
    assert result.created is True
    assert result.subscriber.id == "165968862226941797"
    assert result.subscriber.fields["company"] is None
    assert result.subscriber.groups == []


def test_upsert_existing_subscriber_is_updated_200(api, client, recorded):
    status, body = recorded("subscribers-update")
    api.post("/subscribers").mock(return_value=httpx.Response(status, json=body))
    result = client.upsert_subscriber("test5@email.com", fields={"name": "Someone"})
    assert status == 200 and result.created is False
    assert result.subscriber.fields["name"] == "Someone"


def test_upsert_sends_group_ids_as_strings_and_skips_unset_options(api, client, recorded):
    status, body = recorded("subscribers-create")
    route = api.post("/subscribers").mock(return_value=httpx.Response(status, json=body))
    client.upsert_subscriber("a@b.co", groups=[165968863812388812, "165968863812388813"], status="active")
    assert sent_json(route) == {
        "email": "a@b.co",
        "groups": ["165968863812388812", "165968863812388813"],
        "status": "active",
    }


def test_update_by_id_uses_put_with_replacing_groups(api, client, recorded):
    status, body = recorded("subscribers-get-id")
    route = api.put("/subscribers/165968862226941797").mock(return_value=httpx.Response(200, json=body))
    subscriber = client.update_subscriber("165968862226941797", groups=["1"], fields={"last_name": None})
    assert route.calls.last.request.method == "PUT"
    assert sent_json(route) == {"fields": {"last_name": None}, "groups": ["1"]}
    assert subscriber.email == "test5@email.com"


def test_get_subscriber_by_id_and_by_email(api, client, recorded):
    _, by_id = recorded("subscribers-get-id")
    _, by_email = recorded("subscribers-get-email")
    api.get("/subscribers/165968862226941797").mock(return_value=httpx.Response(200, json=by_id))
    api.get("/subscribers/test5@email.com").mock(return_value=httpx.Response(200, json=by_email))
    assert client.get_subscriber("165968862226941797").email == "test5@email.com"
    assert client.get_subscriber("test5@email.com").id == "165968862226941797"


def test_email_with_plus_is_percent_encoded_in_the_path(api, client, recorded):
    _, body = recorded("subscribers-get-email")
    route = api.get(url__regex=r".*/subscribers/.*").mock(return_value=httpx.Response(200, json=body))
    client.get_subscriber("ann+tag@example.com")
    assert route.calls.last.request.url.raw_path == b"/api/subscribers/ann%2Btag@example.com"


def test_find_subscriber_answers_none_for_404(api, client, recorded):
    status, body = recorded("subscribers-delete", 1)
    api.get("/subscribers/nobody@example.com").mock(return_value=httpx.Response(status, json=body))
    assert client.find_subscriber("nobody@example.com") is None


def test_list_subscribers_follows_cursor_until_null(api, client, recorded):
    _, first = recorded("subscribers-list")
    second = {
        "data": [first["data"][0] | {"id": "1", "email": "last@example.com"}],
        "links": {"first": None, "last": None, "prev": None, "next": None},
        "meta": {"path": "x", "per_page": 10, "next_cursor": None, "prev_cursor": "abc"},
    }
    cursor = first["meta"]["next_cursor"]

    def answer(request: httpx.Request) -> httpx.Response:
        return httpx.Response(200, json=second if request.url.params.get("cursor") == cursor else first)

    route = api.get("/subscribers").mock(side_effect=answer)
    subscribers = list(client.iter_subscribers(page_size=10, status="active"))
    assert len(subscribers) == 11 and subscribers[-1].email == "last@example.com"
    first_params, second_params = (call.request.url.params for call in route.calls)
    assert first_params["limit"] == "10" and first_params["filter[status]"] == "active"
    assert "cursor" not in first_params and second_params["cursor"] == cursor
    assert "groups" not in subscribers[0].model_fields_set  # list answers have no groups


def test_count_uses_limit_zero(api, client, recorded):
    status, body = recorded("subscribers-count")
    route = api.get("/subscribers").mock(return_value=httpx.Response(status, json=body))
    assert client.count_subscribers() == 1004
    assert route.calls.last.request.url.params["limit"] == "0"


def test_delete_subscriber_accepts_204(api, client):
    route = api.delete("/subscribers/165968862226941797").mock(return_value=httpx.Response(204))
    assert client.delete_subscriber("165968862226941797") is None
    assert route.called


def test_forget_returns_message_and_subscriber(api, client, recorded):
    status, body = recorded("subscribers-forget", 1)
    api.post("/subscribers/165968862226941797/forget").mock(return_value=httpx.Response(status, json=body))
    result = client.forget_subscriber("165968862226941797")
    assert "forgotten within 30 days" in result.message
    assert result.subscriber.model_extra["forget_at"] == "2025-10-19 11:10:45"


def test_groups_list_pages_by_number(api, client, recorded):
    _, page_one = recorded("groups-list")
    page_one = json.loads(json.dumps(page_one))
    page_one["meta"]["last_page"] = 2
    page_two = json.loads(json.dumps(page_one))
    page_two["meta"]["current_page"] = 2
    page_two["data"] = [page_one["data"][0] | {"id": "200000000000000001", "name": "Churned"}]
    route = api.get("/groups").mock(
        side_effect=lambda request: httpx.Response(
            200, json=page_two if request.url.params["page"] == "2" else page_one
        )
    )
    groups = list(client.iter_groups(page_size=10))
    assert [g.name for g in groups] == ["Grupa 1", "Grupa2", "Test group", "Churned"]
    assert [call.request.url.params["page"] for call in route.calls] == ["1", "2"]
    assert groups[0].id == "100093655191127682" and groups[0].active_count == 1


def test_find_group_matches_exact_name_only(api, client, recorded):
    _, body = recorded("groups-list")
    route = api.get("/groups").mock(return_value=httpx.Response(200, json=body))
    assert client.find_group("test GROUP").id == "165971156405323676"
    assert client.find_group("Test") is None  # the API's filter is partial; the client is not
    assert route.calls.last.request.url.params["filter[name]"] == "Test"


def test_create_group_201(api, client, recorded):
    status, body = recorded("groups-create")
    route = api.post("/groups").mock(return_value=httpx.Response(status, json=body))
    group = client.create_group("Test group")
    assert sent_json(route) == {"name": "Test group"}
    assert group.id == "165971156405323676" and group.model_extra["open_rate"] == {"float": 0, "string": "0%"}


def test_rename_and_delete_group(api, client, recorded):
    _, body = recorded("groups-update")
    api.put("/groups/165971156405323676").mock(return_value=httpx.Response(200, json=body))
    deleted = api.delete("/groups/165971156405323676").mock(return_value=httpx.Response(204))
    assert client.rename_group("165971156405323676", "New group name").name == "New group name"
    client.delete_group("165971156405323676")
    assert deleted.called


def test_assign_returns_group_and_unassign_204(api, client, recorded):
    status, body = recorded("subscribers-assign-subscriber-to-group", 2)
    assign = api.post("/subscribers/139790465506477360/groups/165968863812388812").mock(
        return_value=httpx.Response(status, json=body)
    )
    unassign = api.delete("/subscribers/139790465506477360/groups/165968863812388812").mock(
        return_value=httpx.Response(204)
    )
    group = client.assign_to_group("139790465506477360", "165968863812388812")
    client.unassign_from_group("139790465506477360", "165968863812388812")
    assert group.name == "UhtyyCDqLt"
    assert assign.called and unassign.called


def test_group_subscribers_list(api, client, recorded):
    _, body = recorded("groups-get-subscribers-in-group")
    route = api.get("/groups/165971156405323676/subscribers").mock(return_value=httpx.Response(200, json=body))
    page = client.list_group_subscribers("165971156405323676", limit=5)
    assert page.items == [] and page.next_cursor is None
    assert route.calls.last.request.url.params["limit"] == "5"


def test_fields_list(api, client, recorded):
    _, body = recorded("fields-list")
    route = api.get("/fields").mock(return_value=httpx.Response(200, json=body))
    fields = list(client.iter_fields(page_size=10))
    assert [f.key for f in fields][:3] == ["city", "company", "country"]
    assert {f.key: f.is_default for f in fields}["my_field"] is False
    assert route.calls.last.request.url.params["page"] == "1"


@pytest.mark.parametrize("status", [200, 201])
def test_create_field_accepts_200_and_201(api, client, recorded, status):
    _, body = recorded("fields-create")
    route = api.post("/fields").mock(return_value=httpx.Response(status, json=body))
    field = client.create_field("My Field", "text")
    assert sent_json(route) == {"name": "My Field", "type": "text"}
    assert (field.id, field.key, field.type) == ("947147", "my_field", "text")


def test_rename_and_delete_field(api, client, recorded):
    _, body = recorded("fields-update")
    api.put("/fields/947147").mock(return_value=httpx.Response(200, json=body))
    deleted = api.delete("/fields/947147").mock(return_value=httpx.Response(204))
    assert client.rename_field("947147", "My New Field Name").key == "my_field"
    client.delete_field("947147")
    assert deleted.called


def test_batch_sends_requests_and_reads_per_item_codes(api, client, recorded):
    status, body = recorded("batches-request")
    route = api.post("/batch").mock(return_value=httpx.Response(status, json=body))
    result = client.batch(
        [{"method": "GET", "path": "api/subscribers/list"}, BatchRequest(method="GET", path="api/campaigns/list")]
    )
    assert sent_json(route) == {
        "requests": [{"method": "GET", "path": "api/subscribers/list"}, {"method": "GET", "path": "api/campaigns/list"}]
    }
    assert (result.total, result.successful, result.failed) == (2, 0, 2)
    assert [item.code for item in result.responses] == [404, 404]
    assert isinstance(result.responses[1].error(), NotFound)
    assert "campaigns/list" in str(result.responses[1].error())


def test_batch_item_errors_are_plain_language(api, client):
    body = {
        "total": 2,
        "successful": 1,
        "failed": 1,
        "responses": [
            {"code": 201, "body": {"data": {}}},
            {
                "code": 422,
                "body": {
                    "message": "The given data was invalid.",
                    "errors": {"groups.0": ["The selected groups.0 is invalid."]},
                },
            },
        ],
    }
    api.post("/batch").mock(return_value=httpx.Response(200, json=body))
    result = client.batch([BatchRequest.upsert("a@b.co"), BatchRequest.upsert("c@d.co", groups=["777"])])
    assert result.responses[0].error() is None
    assert "the group 777 does not exist in this account" in str(result.responses[1].error())


def test_batch_over_50_is_refused_before_sending(api, client):
    route = api.post("/batch").mock(return_value=httpx.Response(200, json={}))
    with pytest.raises(InvalidBatch, match="at most 50"):
        client.batch([BatchRequest.upsert(f"u{i}@example.com") for i in range(MAX_BATCH_REQUESTS + 1)])
    with pytest.raises(InvalidBatch, match="Request 1 of the batch"):
        client.batch([{"method": "GET", "path": "/subscribers"}])
    with pytest.raises(InvalidBatch):
        client.batch([])
    assert not route.called


def test_batch_builders_make_api_paths():
    assert BatchRequest.assign("1", "2").to_json() == {"method": "POST", "path": "api/subscribers/1/groups/2"}
    assert BatchRequest.unassign("1", "2").method == "DELETE"
    assert BatchRequest.update("9", groups=["2"]).to_json() == {
        "method": "PUT",
        "path": "api/subscribers/9",
        "body": {"groups": ["2"]},
    }
    assert BatchRequest.upsert("a@b.co", fields={"x": 1}).is_upsert


def test_batch_builders_share_the_domain_bodies_and_paths():
    assert BatchRequest.upsert("a@b.co", fields={"x": 1}, groups=None).body == subscriber_body(
        "a@b.co", fields={"x": 1}
    )
    assert BatchRequest.update("9", email=None, groups=["2"]).path == batch_path(subscriber_path("9"))
    assert BatchRequest.unassign("1", "2").path == batch_path(subscriber_group_path("1", "2"))


def test_exchanges_are_recorded_without_headers(make_client, api, recorded):
    exchanges = []
    client = make_client(client_options={"on_exchange": exchanges.append})
    status, body = recorded("groups-create")
    api.post("/groups").mock(return_value=httpx.Response(status, json=body))
    client.create_group("Test group")
    (exchange,) = exchanges
    assert (exchange.method, exchange.path, exchange.status) == ("POST", "/groups", 201)
    assert exchange.request_body == {"name": "Test group"} and exchange.response_body == body
