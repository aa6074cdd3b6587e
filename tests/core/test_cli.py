"""The command line as a user runs it: ``python -m sync_core ...`` in a subprocess."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from tests.reference import REPO

pytestmark = pytest.mark.processes


def run(*args: str, stdin: str | None = None) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "sync_core", *args], cwd=REPO, capture_output=True, text=True, input=stdin, timeout=60
    )


def test_presets_are_listed():
    result = run("presets")
    assert result.returncode == 0
    assert [line.split()[0] for line in result.stdout.splitlines()] == ["partnero", "dodo-payments"]


def test_preview_prints_the_requests_for_a_new_contact(tmp_path: Path, dodo_examples):
    event = tmp_path / "payment.json"
    event.write_text(json.dumps(dodo_examples["payment.succeeded"]))
    result = run("preview", "--preset", "dodo-payments", "--event", str(event))
    assert result.returncode == 0, result.stderr
    # "Customer since" is set only if empty in MailerLite: the subscriber is looked up first, then upserted
    lookup, request = json.loads(result.stdout)
    assert (lookup["method"], lookup["path"], lookup["body"]) == ("GET", "/api/subscribers/test@acme.com", None)
    assert request["method"] == "POST" and request["path"] == "/api/subscribers"
    assert request["body"]["fields"]["name"] == "Test user"
    assert request["body"]["groups"] == ["Dodo Payments", "Customers"]


def test_preview_with_a_configuration_file_and_stdin(tmp_path: Path):
    config = tmp_path / "config.json"
    exported = run("config", "export", "--preset", "partnero")
    assert exported.returncode == 0
    config.write_text(exported.stdout)
    body = json.dumps(
        {
            "event": "customer.created",
            "created_at": "2025-05-02T16:12:39Z",
            "data": {
                "key": "customer_123",
                "partner": "partner_123",
                "email": "alice@example.com",
                "name": "Alice",
                "surname": "Brown",
            },
        }
    )
    result = run("preview", "--config", str(config), "--event", "-", stdin=body)
    assert result.returncode == 0, result.stderr
    (request,) = json.loads(result.stdout)
    assert request["body"]["groups"] == ["Referred Customers"]
    assert request["body"]["fields"]["referred_by"] == "partner_123"


def test_preview_of_an_existing_contact_and_of_an_ignored_event(tmp_path: Path, dodo_examples):
    event = tmp_path / "cancelled.json"
    event.write_text(json.dumps(dodo_examples["subscription.cancelled"]))
    result = run("preview", "--preset", "dodo-payments", "--event", str(event), "--existing")
    requests = [(request["method"], request["path"]) for request in json.loads(result.stdout)]
    # a cancellation only updates: looked up, updated by id (never created), moved from one group to the other
    assert requests == [
        ("GET", "/api/subscribers/test@acme.com"),
        ("PUT", "/api/subscribers/{subscriber_id}"),
        ("POST", "/api/subscribers/{subscriber_id}/groups/{group:Churned customers}"),
        ("DELETE", "/api/subscribers/{subscriber_id}/groups/{group:Active subscriptions}"),
    ]
    event.write_text(json.dumps(dodo_examples["payment.processing"]))
    ignored = run("preview", "--preset", "dodo-payments", "--event", str(event))
    assert ignored.returncode == 0 and json.loads(ignored.stdout) == []
    assert "no trigger syncs payment.processing events" in ignored.stderr


@pytest.mark.parametrize(
    "args,message",
    [
        (["preview", "--preset", "mailchimp", "--event", "x.json"], "There is no preset named 'mailchimp'"),
        (["preview", "--preset", "partnero", "--event", "/nonexistent.json"], "Cannot read the event file"),
        (["config", "export", "--config", "/nonexistent.json"], "Cannot read the configuration"),
    ],
)
def test_errors_are_plain_messages_with_a_non_zero_exit(args, message):
    result = run(*args)
    assert result.returncode == 2
    assert message in result.stderr and "Traceback" not in result.stderr


def test_a_malformed_event_and_an_invalid_configuration(tmp_path: Path):
    bad_event = tmp_path / "bad.json"
    bad_event.write_text('{"type": "payment.succeeded", ')
    result = run("preview", "--preset", "dodo-payments", "--event", str(bad_event))
    assert result.returncode == 2 and "The event cannot be read: the body is not valid JSON" in result.stderr
    bad_config = tmp_path / "config.json"
    bad_config.write_text('{"triggers": [{"name": "T", "event_types": ["x"], "action": "destroy"}]}')
    result = run("config", "export", "--config", str(bad_config))
    assert result.returncode == 2 and "trigger 'T', action: 'destroy' is not allowed" in result.stderr
