"""The account budget: never send what the limits would refuse, and honour Retry-After everywhere."""

from __future__ import annotations

import threading
import time
from datetime import UTC, datetime, timedelta
from email.utils import format_datetime

import httpx
import pytest

from sync_core.mailerlite import (
    AccountBudget,
    BatchRequest,
    MailerLiteClient,
    MailerLiteSettings,
    RateLimited,
    account_fingerprint,
    forget_shared_budgets,
    parse_retry_after,
    shared_budget,
)
from sync_core.mailerlite.ratelimit import BudgetWaitTooLong


def timed(clock, answers):
    """A respx side effect that answers in turn and notes the (fake) time of every request."""
    times: list[float] = []
    queue = list(answers)

    def answer(request: httpx.Request) -> httpx.Response:
        times.append(clock())
        return queue.pop(0) if len(queue) > 1 else queue[0]

    return answer, times


def too_many(retry_after: str, message: str = "Too Many Attempts.", remaining: str = "0") -> httpx.Response:
    return httpx.Response(
        429,
        json={"message": message},
        headers={"Retry-After": retry_after, "X-RateLimit-Limit": "120", "X-RateLimit-Remaining": remaining},
    )


OK_COUNT = httpx.Response(200, json={"total": 3}, headers={"X-RateLimit-Limit": "120", "X-RateLimit-Remaining": "100"})


# -- the budget alone ------------------------------------------------------------------------------------------


def test_budget_allows_limit_then_waits_for_window_and_margin(clock):
    budget = AccountBudget(5, 60.0, margin_seconds=2.0, clock=clock, sleep=clock.sleep)
    for _ in range(5):
        assert budget.try_acquire() == 0
    assert budget.try_acquire() == pytest.approx(62.0)
    assert budget.snapshot().sent_in_window == 5  # the refused one was not booked
    waited = budget.acquire()
    assert waited == pytest.approx(62.0) and budget.snapshot().sent_in_window == 1  # the 5 have left


def test_default_margin_is_five_percent_capped_at_two_seconds():
    assert AccountBudget(120, 1.0).margin_seconds == pytest.approx(0.05)
    assert AccountBudget(120, 60.0).margin_seconds == pytest.approx(2.0)


def test_server_remaining_books_other_consumers(clock):
    budget = AccountBudget(10, 60.0, margin_seconds=0, clock=clock, sleep=clock.sleep)
    budget.try_acquire()
    budget.try_acquire()
    budget.observe(10, 3)  # the account used 7, this process only 2
    assert [budget.try_acquire() for _ in range(3)] == [0, 0, 0]
    assert budget.try_acquire() > 0


def test_server_limit_header_replaces_the_configured_limit(clock):
    budget = AccountBudget(120, 60.0, clock=clock, sleep=clock.sleep)
    budget.observe(3, 2)
    assert budget.limit == 3
    budget.try_acquire()
    budget.try_acquire()
    assert budget.try_acquire() > 0


def test_pause_blocks_every_request_and_import_pause_only_imports(clock):
    budget = AccountBudget(120, 60.0, clock=clock, sleep=clock.sleep)
    budget.pause(30, imports=True)
    assert budget.try_acquire() == 0
    assert budget.try_acquire(imports=True) == pytest.approx(30)
    budget.pause(10)
    assert budget.try_acquire() == pytest.approx(10)


def test_import_limit_is_five_per_window_for_all_upsert_batches(clock):
    budget = AccountBudget(120, 60.0, import_limit=5, margin_seconds=1.0, clock=clock, sleep=clock.sleep)
    assert [budget.try_acquire(imports=True) for _ in range(5)] == [0] * 5
    assert budget.try_acquire(imports=True) == pytest.approx(61)
    assert budget.try_acquire() == 0  # other requests are not held up


def test_acquire_refuses_to_wait_longer_than_allowed(clock):
    budget = AccountBudget(120, 60.0, clock=clock, sleep=clock.sleep)
    budget.pause(500)
    with pytest.raises(BudgetWaitTooLong):
        budget.acquire(max_wait=300)
    assert clock.sleeps == [] and budget.sent_total == 0


def test_budget_is_thread_safe_under_real_time():
    limit, window = 20, 0.3
    budget = AccountBudget(limit, window, margin_seconds=0.0)
    stamps: list[float] = []
    lock = threading.Lock()

    def worker() -> None:
        for _ in range(10):
            budget.acquire()
            with lock:
                stamps.append(time.monotonic())

    threads = [threading.Thread(target=worker) for _ in range(6)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    stamps.sort()
    assert len(stamps) == 60
    # no window of `window` seconds holds more than `limit` sends (a little slack for the stamping)
    for index in range(len(stamps) - limit):
        assert stamps[index + limit] - stamps[index] >= window - 0.01


def test_shared_budget_is_one_per_account_and_keyless():
    forget_shared_budgets()
    first = shared_budget("https://connect.mailerlite.com/api", "key-one")
    assert shared_budget("https://connect.mailerlite.com/api/", "key-one") is first
    assert shared_budget("https://connect.mailerlite.com/api", "key-two") is not first
    assert "key-one" not in repr(first) and "key-one" not in first.fingerprint
    assert first.fingerprint == account_fingerprint("https://connect.mailerlite.com/api", "key-one")
    settings = MailerLiteSettings(api_key="key-one")
    with MailerLiteClient(settings) as one, MailerLiteClient(settings) as two:
        assert one.budget is two.budget is first
    forget_shared_budgets()


def test_parse_retry_after_seconds_and_http_date():
    assert parse_retry_after("119") == 119
    assert parse_retry_after(None) is None and parse_retry_after("soon") is None
    when = datetime.now(UTC) + timedelta(seconds=30)
    assert 28 <= parse_retry_after(format_datetime(when, usegmt=True)) <= 31


# -- the client with the budget -------------------------------------------------------------------------------


def test_no_request_is_sent_before_retry_after_has_passed(api, client, clock):
    answer, times = timed(clock, [too_many("30"), OK_COUNT])
    api.get("/subscribers").mock(side_effect=answer)
    assert client.count_subscribers() == 3
    assert len(times) == 2 and times[1] - times[0] >= 30


def test_retry_after_holds_back_other_clients_of_the_account(api, make_client, clock):
    budget = AccountBudget(120, 60.0, clock=clock, sleep=clock.sleep)
    first, second = make_client(budget=budget, max_attempts=1), make_client(budget=budget)
    answer, times = timed(clock, [too_many("20"), OK_COUNT])
    api.get("/subscribers").mock(side_effect=answer)
    with pytest.raises(RateLimited):
        first.count_subscribers()
    assert second.count_subscribers() == 3
    assert times[1] - times[0] >= 20


def test_client_never_exceeds_the_limit(api, make_client, clock):
    client = make_client(rate_limit=5, rate_window_seconds=60, rate_margin_seconds=1)
    answer, times = timed(clock, [httpx.Response(200, json={"total": 1})])
    api.get("/subscribers").mock(side_effect=answer)
    for _ in range(12):
        client.count_subscribers()
    assert times[5] - times[0] >= 61 and times[10] - times[5] >= 61
    for index in range(len(times) - 5):
        assert times[index + 5] - times[index] >= 60


def test_client_believes_x_ratelimit_remaining(api, client, clock):
    exhausted = httpx.Response(
        200, json={"total": 1}, headers={"X-RateLimit-Limit": "120", "X-RateLimit-Remaining": "0"}
    )
    answer, times = timed(clock, [exhausted, OK_COUNT])
    api.get("/subscribers").mock(side_effect=answer)
    client.count_subscribers()
    client.count_subscribers()
    assert times[1] - times[0] >= 60  # the account was used up elsewhere: wait for the window


def test_all_upsert_batches_respect_the_import_limit(api, make_client, clock):
    client = make_client(import_limit=5, rate_window_seconds=60, rate_margin_seconds=1)
    ok = httpx.Response(200, json={"total": 1, "successful": 1, "failed": 0, "responses": [{"code": 201, "body": {}}]})
    answer, times = timed(clock, [ok])
    api.post("/batch").mock(side_effect=answer)
    for number in range(6):
        client.batch([BatchRequest.upsert(f"u{number}@example.com")])
    assert times[5] - times[0] >= 61
    client.batch([BatchRequest.upsert("x@example.com"), BatchRequest.assign("1", "2")])  # mixed: not an import
    assert times[6] == times[5]


def test_import_429_pauses_imports_only(api, make_client, clock):
    client = make_client(max_attempts=1)
    batch_ok = httpx.Response(
        200, json={"total": 1, "successful": 1, "failed": 0, "responses": [{"code": 200, "body": {}}]}
    )
    answer, batch_times = timed(
        clock, [too_many("30", "You're being rate limited on import creation.", "117"), batch_ok]
    )
    api.post("/batch").mock(side_effect=answer)
    count_answer, count_times = timed(clock, [OK_COUNT])
    api.get("/subscribers").mock(side_effect=count_answer)
    with pytest.raises(RateLimited, match="import"):
        client.batch([BatchRequest.upsert("a@example.com")])
    client.count_subscribers()
    assert count_times[0] == batch_times[0]  # ordinary requests go on at once
    assert client.batch([BatchRequest.upsert("a@example.com")]).successful == 1
    assert batch_times[1] - batch_times[0] >= 30  # the next import waits for Retry-After


def test_wait_longer_than_allowed_raises_rate_limited_without_sending(api, make_client, clock):
    client = make_client(max_rate_wait_seconds=60)
    route = api.get("/subscribers").mock(return_value=OK_COUNT)
    client.budget.pause(119)
    with pytest.raises(RateLimited, match="longer than the 60 s allowed") as caught:
        client.count_subscribers()
    assert not route.called and caught.value.retry_after == pytest.approx(119)
