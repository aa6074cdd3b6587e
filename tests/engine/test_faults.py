"""Failures stay with their contact, and MailerLite's bad moments are waited out, not turned into lost runs."""

from __future__ import annotations

import json
import re

import httpx
import pytest

from storage.events import EventStore
from storage.runs import RunStore
from sync_core.domain.planning import ContactPlan, Operation, PlanOutcome
from sync_core.domain.state import ContactState
from sync_core.engine.run import SyncEngine
from sync_core.engine.sender import Sender
from sync_core.mailerlite import MailerLiteClient
from sync_core.sandbox import FaultSettings, SandboxAccount, SandboxTransport, account_budget, sandbox_settings
from tests.engine.conftest import Clock, fast_client, import_bytes, partners_csv


class ShortBatchAnswers(httpx.BaseTransport):
    """The sandbox, except that the answer of ``POST /batch`` keeps only the first ``keep`` per-item results (as
    an import-path answer that says nothing per item would)."""

    def __init__(self, account: SandboxAccount, keep: int):
        self.inner = SandboxTransport(account)
        self.keep = keep

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        response = self.inner.handle_request(request)
        if not request.url.path.endswith("/batch"):
            return response
        body = json.loads(response.read())
        body["responses"] = body.get("responses", [])[: self.keep]
        return httpx.Response(response.status_code, json=body, headers={"content-type": "application/json"})


def test_batch_items_without_an_answer_are_not_recorded_as_synced(partnero_workspace, account):
    import_bytes(partnero_workspace, partners_csv(5))
    settings = sandbox_settings(account, account.inprocess_base_url, max_attempts=1)
    client = MailerLiteClient(settings, transport=ShortBatchAnswers(account, keep=2), budget=account_budget(account))
    run = SyncEngine(partnero_workspace, client=client).run()
    assert run.status == "finished", run.error
    assert (run.created, run.failed) == (2, 3)
    failed = RunStore(partnero_workspace.database).items(run_id=run.id, outcomes=["failed"])
    assert len(failed) == 3
    assert all("did not say what happened" in item.reason for item in failed)
    assert EventStore(partnero_workspace.database).counts() == {"synced": 2, "failed": 3}
    again = SyncEngine(partnero_workspace, client=fast_client(account)).retry()
    assert (again.created + again.updated, again.failed) == (3, 0)  # sent again: upserts are idempotent
    assert fast_client(account).count_subscribers() == 5


def _plan(email: str, fields: dict) -> ContactPlan:
    body = {"email": email, "fields": fields}
    return ContactPlan(
        email,
        PlanOutcome.CREATE,
        [Operation("upsert", "POST", "/subscribers", body)],
        ContactState(email),
        [f"event-{email}"],
    )


@pytest.mark.parametrize(
    "value", [float("nan"), float("inf"), "Ada \ud800", 10**5000], ids=["nan", "infinity", "surrogate", "huge"]
)
def test_a_contact_that_cannot_be_encoded_fails_alone(account, value):
    plans = [_plan("ok1@example.com", {"name": "A"}), _plan("bad@example.com", {"total_sales": value})]
    plans.append(_plan("ok2@example.com", {"name": "B"}))
    results = [result for batch in Sender(fast_client(account)).send(plans) for result in batch]
    by_email = {result.plan.email: result for result in results}
    assert by_email["ok1@example.com"].outcome == by_email["ok2@example.com"].outcome == "created"
    bad = by_email["bad@example.com"]
    assert bad.outcome == "failed" and not bad.retryable
    assert "total_sales" in bad.reason and "cannot be sent to MailerLite" in bad.reason
    assert fast_client(account).count_subscribers() == 2


def test_a_run_with_unsendable_values_syncs_the_others_and_records_the_bad_one(partnero_workspace, account):
    lines = [
        f'{{"email": "partner{n}@example.com", "name": "Pat", "key": "key{n}", "total_sales": {n}}}' for n in range(3)
    ]
    lines.append('{"email": "partner9@example.com", "name": "Pat", "key": "key9", "total_sales": NaN}')
    summary = import_bytes(partnero_workspace, "\n".join(lines).encode(), name="partners.jsonl")
    # The value is refused where it is read, with its reason (a contact that still cannot be encoded when it is
    # sent fails alone: the test above).
    assert summary.read == 4 and summary.rejected == 1
    assert "NaN" in summary.problems[0] and "total_sales" in summary.problems[0]
    engine = SyncEngine(partnero_workspace, client=fast_client(account))
    events = EventStore(partnero_workspace.database)
    for _ in range(5):  # as the worker would: pending first, then the failed ones again
        counts = events.counts()
        if not counts.get("pending") and not counts.get("staged") and not counts.get("failed"):
            break
        run = engine.run() if counts.get("pending") or counts.get("staged") else engine.retry()
        assert run.status == "finished", run.error
    assert events.counts() == {"synced": 3, "rejected": 1}
    assert fast_client(account).count_subscribers() == 3
    assert not RunStore(partnero_workspace.database).items(outcomes=["failed", "dead"], limit=10)


def test_preparing_the_account_is_retried_after_errors_and_timeouts(partnero_workspace):
    stormy = SandboxAccount(limit=10_000, window_seconds=1, import_limit=1000, seed=3)
    import_bytes(partnero_workspace, partners_csv(10))
    stormy.faults.inject("error", 2)  # listing the groups fails, after the client's own retry too
    stormy.faults.inject("timeout", 2)
    clock = Clock()
    engine = SyncEngine(partnero_workspace, client=fast_client(stormy, max_attempts=2), clock=clock, sleep=clock.sleep)
    run = engine.run()
    assert run.status == "finished", run.error
    assert run.created == 10
    assert clock.slept, "the run should have waited for MailerLite"


def test_preparing_the_account_under_many_timeouts_ends_and_makes_nothing_twice(partnero_workspace):
    stormy = SandboxAccount(
        limit=10_000, window_seconds=1, import_limit=1000, seed=4, faults=FaultSettings(timeout_rate=0.3, seed=5)
    )
    import_bytes(partnero_workspace, partners_csv(10))
    clock = Clock()
    engine = SyncEngine(partnero_workspace, client=fast_client(stormy, max_attempts=2), clock=clock, sleep=clock.sleep)
    run = engine.run()
    assert run.status == "finished" and run.created == 10, run.error
    assert stormy.faults.injected["timeout"] > 5 and clock.slept
    stormy.faults.settings = FaultSettings()  # look at the account without faults
    client = fast_client(stormy)
    names = [group.name for group in client.iter_groups()]
    keys = [item.key for item in client.iter_fields()]
    assert names and len(names) == len(set(names)) and len(keys) == len(set(keys))


def test_a_long_429_storm_pauses_the_run_then_ends_it_with_the_events_waiting(partnero_workspace):
    stormy = SandboxAccount(limit=10_000, window_seconds=1, import_limit=1000, seed=3)
    import_bytes(partnero_workspace, partners_csv(20))
    clock = Clock()
    engine = SyncEngine(
        partnero_workspace,
        client=fast_client(stormy, max_attempts=2),
        clock=clock,
        sleep=clock.sleep,
        patience_seconds=60,
    )
    stormy.faults.inject("429", 10_000, retry_after=0)
    run = engine.run()
    assert run.status == "failed"
    assert 60 <= sum(clock.slept) <= 120  # it waited, within its bound
    assert re.search(r"20 events wait: MailerLite did not answer .*the next try is at \d\d:\d\d", run.error), run.error
    assert EventStore(partnero_workspace.database).counts() == {"staged": 20}  # no attempt used up, none lost
    stormy.faults.clear()
    after = engine.run()
    assert after.status == "finished" and after.created == 20


def test_a_short_storm_is_waited_out_within_the_run(partnero_workspace):
    stormy = SandboxAccount(limit=10_000, window_seconds=1, import_limit=1000, seed=3)
    import_bytes(partnero_workspace, partners_csv(20))
    clock = Clock()
    engine = SyncEngine(partnero_workspace, client=fast_client(stormy, max_attempts=2), clock=clock, sleep=clock.sleep)
    stormy.faults.inject("timeout", 7)
    run = engine.run()
    assert run.status == "finished" and run.created == 20, run.error
    assert EventStore(partnero_workspace.database).counts() == {"synced": 20}


def test_five_percent_timeouts_on_a_thousand_contacts_are_waited_out_in_one_sync(partnero_workspace):
    """The finding: with 5% timeouts, 0 of 1,000 contacts were synced after 6 runs."""
    stormy = SandboxAccount(
        limit=10_000, window_seconds=1, import_limit=1000, seed=6, faults=FaultSettings(timeout_rate=0.05, seed=7)
    )
    import_bytes(partnero_workspace, partners_csv(1000))
    clock = Clock()
    engine = SyncEngine(partnero_workspace, client=fast_client(stormy), clock=clock, sleep=clock.sleep)
    run = engine.run()
    assert run.status == "finished" and run.created == 1000 and not run.failed, run.error
    assert stormy.faults.injected["timeout"] >= 1
    assert EventStore(partnero_workspace.database).counts() == {"synced": 1000}
    stormy.faults.settings = FaultSettings()
    assert fast_client(stormy).count_subscribers() == 1000


@pytest.mark.processes
def test_the_cli_says_how_many_events_wait_and_when_it_tries_again_while_mailerlite_fails(tmp_path):
    """``python -m sync_core sync`` against an account answering every request 503: it waits MailerLite out
    within its patience, then says what is true (not "nothing to do") and exits non-zero; nothing is lost."""
    import os
    import subprocess
    import sys

    from sync_core.sandbox import serve_sandbox
    from tests.reference import REPO

    down = SandboxAccount(limit=10_000, window_seconds=1, faults=FaultSettings(error_rate=1.0, seed=1))
    env = {key: value for key, value in os.environ.items() if key != "DATABASE_URL"}
    env.update(SYNC_STUDIO_DATA_DIR=str(tmp_path / "data"), SYNC_STUDIO_PATIENCE_SECONDS="2", PYTHONPATH=str(REPO))
    partners = tmp_path / "partners.csv"
    partners.write_bytes(partners_csv(30))

    def cli(*args: str) -> subprocess.CompletedProcess:
        return subprocess.run(
            [sys.executable, "-m", "sync_core", *args], cwd=REPO, env=env, capture_output=True, text=True, timeout=120
        )

    with serve_sandbox(down) as server:
        env.update(MAILERLITE_API_KEY=down.default_key, MAILERLITE_BASE_URL=server.base_url)
        config = tmp_path / "config.json"
        preset = json.loads(cli("config", "export", "--preset", "partnero").stdout)
        preset["connection"]["sandbox"] = False  # the account served here, not the built-in one
        config.write_text(json.dumps(preset))
        assert cli("config", "import", str(config)).returncode == 0
        assert cli("import", str(partners)).returncode == 0
        result = cli("sync")
    assert result.returncode != 0 and "Traceback" not in result.stderr, result.stderr
    assert "nothing to do" not in result.stdout and "nothing synced" in result.stdout, result.stdout
    assert re.search(r"30 events wait: MailerLite did not answer .*the next try is at \d\d:\d\d", result.stdout), (
        result.stdout
    )
