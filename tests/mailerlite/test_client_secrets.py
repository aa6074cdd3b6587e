"""Every log line and exception text produced by failing calls is gathered and searched for the key."""

from __future__ import annotations

import logging
import traceback

import httpx
import pytest

from sync_core.mailerlite import BatchRequest, MailerLiteError, connection
from sync_core.sandbox import FaultSettings, SandboxAccount, sandbox_client, serve_sandbox

WRONG_KEY = "mlk_wrong_0000_THIS_ONE_MUST_NOT_LEAK_EITHER_1111"


def exception_texts(exc: BaseException) -> list[str]:
    texts = [str(exc), repr(exc), "".join(traceback.format_exception(exc)), repr(exc.args)]
    texts += [repr(value) for value in vars(exc).values()]
    return texts


@pytest.fixture
def gathered(caplog):
    caplog.set_level(logging.DEBUG)
    for name in ("httpx", "httpcore", "sync_core", "sync_core.sandbox.server"):
        logging.getLogger(name).setLevel(logging.DEBUG)
    texts: list[str] = []
    yield texts
    texts.extend(record.getMessage() for record in caplog.records)
    texts.append(caplog.text)


def fail(texts: list[str], call) -> MailerLiteError:
    """Run a call that must fail; keep every text it produced, logging the error as an app would."""
    with pytest.raises(MailerLiteError) as caught:
        call()
    texts.extend(exception_texts(caught.value))
    logging.getLogger("sync_core.tests").error("sync step failed: %s", caught.value, exc_info=caught.value)
    return caught.value


def assert_clean(texts: list[str], *secrets: str) -> None:
    assert len(texts) > 10
    for text in texts:
        for secret in secrets:
            assert secret not in text, f"a key leaked into: {text[:300]}"


def test_respx_failures_leak_no_key(api, make_client, gathered, api_key):
    client = make_client(
        max_attempts=2,
        backoff_base_seconds=0.01,
        client_options={"on_exchange": lambda exchange: gathered.append(repr(exchange))},
    )
    api.get("/groups").mock(return_value=httpx.Response(401, json={"message": "Unauthenticated."}))
    api.get("/fields").mock(return_value=httpx.Response(403, json={"message": "Forbidden."}))
    api.delete("/subscribers/1").mock(return_value=httpx.Response(404, json={"message": "No query results"}))
    api.post("/subscribers").mock(
        return_value=httpx.Response(
            422,
            json={
                "message": "The given data was invalid.",
                "errors": {"email": ["The email must be a valid email address."]},
            },
        )
    )
    api.get("/subscribers").mock(
        return_value=httpx.Response(429, json={"message": "Too Many Attempts."}, headers={"Retry-After": "1"})
    )
    api.post("/groups").mock(return_value=httpx.Response(500, json={"message": "Server Error"}))
    api.put("/subscribers/2").mock(side_effect=httpx.ReadTimeout("timed out"))
    # a transport error whose own text carries the header value must be scrubbed
    api.post("/fields").mock(side_effect=httpx.ConnectError(f"bad header: Authorization: Bearer {api_key}"))
    api.post("/batch").mock(
        return_value=httpx.Response(
            200,
            json={
                "total": 1,
                "successful": 0,
                "failed": 1,
                "responses": [{"code": 422, "body": {"errors": {"groups.0": ["invalid"]}}}],
            },
        )
    )

    fail(gathered, client.list_groups)
    fail(gathered, client.list_fields)
    fail(gathered, lambda: client.delete_subscriber("1"))
    fail(gathered, lambda: client.upsert_subscriber("nope"))
    fail(gathered, client.count_subscribers)
    fail(gathered, lambda: client.create_group("x"))
    fail(gathered, lambda: client.update_subscriber("2", fields={"name": "x"}))
    scrubbed = fail(gathered, lambda: client.create_field("x"))
    assert "[hidden]" in str(scrubbed)
    item = client.batch([BatchRequest.upsert("a@b.co", groups=["5"])]).responses[0]
    gathered.extend(exception_texts(item.error()))
    client.budget.pause(10_000)
    fail(gathered, client.count_subscribers)
    gathered.extend(
        [
            repr(client),
            str(client),
            repr(client.settings),
            repr(client.budget),
            repr(connection.test_connection(client)),
        ]
    )
    assert_clean(gathered, api_key)


@pytest.mark.parametrize("mode", ["inprocess", "http"])
def test_sandbox_failures_leak_no_key(gathered, mode):
    right_key = "sandbox-secret-RIGHT-key-0123456789abcdef"
    account = SandboxAccount(keys=(right_key,), faults=FaultSettings(hang_seconds=0.3))
    server_context = serve_sandbox(account) if mode == "http" else None
    server = server_context.__enter__() if server_context else None
    try:
        options = dict(max_attempts=2, backoff_base_seconds=0.01, timeout_seconds=0.15)
        wrong = sandbox_client(account, server=server, api_key=WRONG_KEY, **options)
        right = sandbox_client(
            account,
            server=server,
            api_key=right_key,
            client_options={"on_exchange": lambda e: gathered.append(repr(e))},
            **options,
        )
        fail(gathered, wrong.count_subscribers)
        gathered.append(connection.test_connection(wrong).summary())
        fail(gathered, lambda: right.upsert_subscriber("not-an-email"))
        fail(gathered, lambda: right.get_subscriber("nobody@example.com"))
        account.faults.inject("error", 2)
        fail(gathered, right.count_subscribers)
        account.faults.inject("timeout", 2)
        fail(gathered, right.count_subscribers)
        account.faults.inject("429", 2, retry_after=0)
        fail(gathered, right.count_subscribers)
        gathered.extend([repr(account), repr(right), repr(wrong)])
    finally:
        if server_context:
            server_context.__exit__(None, None, None)
    if server is not None:  # the server is gone: connection refused
        fail(gathered, right.count_subscribers)
    assert_clean(gathered, right_key, WRONG_KEY)
