"""Lifecycle actions through ``python -m sync_core sync`` (issue 12), as a user runs it on a fresh data directory:
the built-in sandbox ends in the state each action says, a stranger is never created, and ``--dry-run`` shows the
change without sending it."""

from __future__ import annotations

import json

import pytest

from sync_core.sandbox import SandboxAccount, sandbox_client
from tests.engine.conftest import event
from tests.engine.test_cli_history import run  # noqa: F401 - the fixture
from tests.engine.test_lifecycle_actions import lifecycle_config

pytestmark = pytest.mark.processes


def write_events(path, *events: dict) -> str:
    path.write_text("\n".join(json.dumps(item) for item in events) + "\n")
    return str(path)


@pytest.mark.parametrize(
    ("action", "words", "counted"),
    [
        ("unsubscribe", "ada@example.com would be unsubscribed", "1 unsubscribed"),
        ("remove_groups", "ada@example.com would leave Customers, Premium customers", "1 updated"),
        ("delete", "ada@example.com would be deleted", "1 deleted"),
    ],
)
def test_each_lifecycle_action_through_the_cli(run, tmp_path, dodo_examples, action, words, counted):  # noqa: F811
    config = tmp_path / "config.json"
    config.write_text(lifecycle_config(action).to_json())
    assert run("config", "import", str(config)).returncode == 0
    payment = event(dodo_examples["payment.succeeded"], "ada@example.com", total_amount=500)
    assert run("import", write_events(tmp_path / "payments.jsonl", payment)).returncode == 0
    first = run("sync")
    assert first.returncode == 0 and "1 created" in first.stdout, first.stdout + first.stderr

    account = SandboxAccount(state_file=tmp_path / "data" / "sandbox.db")
    client = sandbox_client(account)
    newsletter = client.create_group("Newsletter")
    client.assign_to_group(client.get_subscriber("ada@example.com").id, newsletter.id)
    refunds = [
        event(dodo_examples["refund.succeeded"], "ada@example.com"),
        event(dodo_examples["refund.succeeded"], "stranger@example.com"),
    ]
    assert run("import", write_events(tmp_path / "refunds.jsonl", *refunds)).returncode == 0

    dry = run("sync", "--dry-run")
    assert dry.returncode == 0 and words in dry.stdout, dry.stdout + dry.stderr
    assert client.get_subscriber("ada@example.com").status == "active"  # a dry run sends nothing
    assert len(client.get_subscriber("ada@example.com").groups) == 3

    real = run("sync")
    assert real.returncode == 0, real.stderr
    assert counted in real.stdout and "1 skipped" in real.stdout, real.stdout
    assert client.find_subscriber("stranger@example.com") is None  # never created
    ada = client.find_subscriber("ada@example.com")
    if action == "unsubscribe":
        assert ada is not None and ada.status == "unsubscribed"
    elif action == "remove_groups":
        assert ada is not None and {g.name for g in ada.groups} == {"Newsletter"} and ada.status == "active"
    else:
        assert ada is None
    history = run("contact", "ada@example.com")
    assert counted.split()[1] in history.stdout
