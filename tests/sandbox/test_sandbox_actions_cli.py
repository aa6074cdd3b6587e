"""``python -m sync_core sandbox unsubscribe EMAIL`` and its siblings, run as a person runs them, in a process of
their own: they change the installation's sandbox and fire the webhooks another process registered."""

from __future__ import annotations

import os
import subprocess
import sys

import pytest

from sync_core.sandbox import SandboxAccount
from tests.reference import REPO
from tests.sandbox.helpers import call as api
from tests.sandbox.receivers import Receiver

pytestmark = pytest.mark.processes


@pytest.fixture
def data_dir(tmp_path):
    return tmp_path / "data"


@pytest.fixture
def run(data_dir):
    env = {k: v for k, v in os.environ.items() if k not in ("DATABASE_URL", "MAILERLITE_API_KEY")}
    env["SYNC_STUDIO_DATA_DIR"] = str(data_dir)

    def run(*args: str) -> subprocess.CompletedProcess:
        return subprocess.run(
            [sys.executable, "-m", "sync_core", "sandbox", *args],
            cwd=REPO,
            env=env,
            capture_output=True,
            text=True,
            timeout=120,
        )

    return run


@pytest.fixture
def account(data_dir):
    """The installation's sandbox, as the dashboard's process holds it (the file the studio uses)."""
    data_dir.mkdir(parents=True)
    account = SandboxAccount(state_file=data_dir / "sandbox.db")
    yield account
    account.close()


def call(account: SandboxAccount, method: str, path: str, body=None):  # noqa: ANN001
    return api(account, method, path, body)["data"]


def test_an_unsubscribe_from_the_command_line_fires_the_webhook_another_process_registered(run, account):
    with Receiver() as receiver:
        webhook = call(
            account,
            "POST",
            "webhooks",
            {"events": ["subscriber.unsubscribed", "subscriber.deleted"], "url": receiver.url, "batchable": True},
        )
        call(account, "POST", "subscribers", {"email": "ada@example.com"})

        done = run("unsubscribe", "Ada@Example.com")
        assert done.returncode == 0, done.stderr
        assert "ada@example.com is now unsubscribed." in done.stdout
        (delivery,) = receiver.wait_for(1)
        assert delivery.signed_with(webhook["secret"])
        (event,) = delivery.json()["events"]
        assert event["type"] == "subscriber.unsubscribed"
        assert event["data"]["subscriber"]["email"] == "ada@example.com"
        assert event["data"]["subscriber"]["status"] == "unsubscribed"
        assert account.find("ada@example.com")["status"] == "unsubscribed"  # the same account
        assert account.webhook(webhook["id"])["response_code"] == 200


def test_each_action_changes_the_sandbox_and_says_what_happened(run, account):
    group = call(account, "POST", "groups", {"name": "Partners"})
    call(account, "POST", "fields", {"name": "Tier", "type": "text"})
    call(account, "POST", "subscribers", {"email": "ada@example.com", "groups": [group["id"]]})

    steps = [
        (("bounce", "ada@example.com"), "now bounces", lambda s: s["status"] == "bounced"),
        (("reactivate", "ada@example.com"), "active again", lambda s: s["status"] == "active"),
        (("spam", "ada@example.com"), "reported spam", lambda s: s["status"] == "junk"),
        (("reactivate", "ada@example.com"), "active again", lambda s: s["status"] == "active"),
        (("remove-from-group", "ada@example.com", "partners"), "removed from Partners", lambda s: s["groups"] == []),
        (("add-to-group", "ada@example.com", "Partners"), "added to Partners", lambda s: len(s["groups"]) == 1),
        (("set-field", "ada@example.com", "tier", "gold"), "Tier of ada@example.com is now gold", None),
        (("delete", "ada@example.com"), "deleted", None),
    ]
    for args, said, holds in steps:
        done = run(*args)
        assert done.returncode == 0, (args, done.stderr)
        assert said in done.stdout, (args, done.stdout)
        if holds is not None:
            assert holds(account.find("ada@example.com")), args
    assert account.find("ada@example.com") is None


@pytest.mark.parametrize(
    ("args", "said"),
    [
        (("unsubscribe", "nobody@example.com"), "No subscriber with that email in the sandbox."),
        (("reactivate", "nobody@example.com"), "No subscriber with that email in the sandbox."),
        (("add-to-group", "ada@example.com", "Nope"), "There is no group called 'Nope' in the sandbox."),
        (("set-field", "ada@example.com", "nope", "x"), "There is no field called 'nope' in the sandbox."),
    ],
)
def test_what_cannot_be_done_is_said_plainly(run, account, args, said):
    call(account, "POST", "subscribers", {"email": "ada@example.com"})
    done = run(*args)
    assert done.returncode == 1
    assert said in done.stderr and "Traceback" not in done.stderr


def test_a_sandbox_that_was_never_used_is_not_made_by_a_typo(run, data_dir):
    done = run("unsubscribe", "ada@example.com")
    assert done.returncode == 1 and "no sandbox account yet" in done.stderr.lower()
    assert not (data_dir / "sandbox.db").exists()


def test_the_served_sandbox_sends_webhooks_registered_over_http(tmp_path):
    """`sandbox serve` in its own process: a webhook registered with curl-like requests hears of an upsert."""
    import httpx

    process = subprocess.Popen(
        [sys.executable, "-m", "sync_core", "sandbox", "serve", "--port", "0", "--state-file", str(tmp_path / "s.db")],
        cwd=REPO,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        line = process.stdout.readline()
        assert "listening on http://127.0.0.1:" in line, line + process.stderr.read()
        base_url = line.split("listening on ")[1].split()[0]
        headers = {"Authorization": "Bearer sandbox-key"}
        with Receiver() as receiver, httpx.Client(base_url=base_url + "/", headers=headers) as http:
            created = http.post("webhooks", json={"events": ["subscriber.created"], "url": receiver.url})
            assert created.status_code == 201
            secret = created.json()["data"]["secret"]
            assert http.post("subscribers", json={"email": "ada@example.com"}).status_code == 201
            (delivery,) = receiver.wait_for(1)
            assert delivery.signed_with(secret)
            assert delivery.json()["event"] == "subscriber.created" and delivery.json()["email"] == "ada@example.com"
    finally:
        process.terminate()
        process.wait(10)
