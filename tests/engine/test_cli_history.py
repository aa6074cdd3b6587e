"""The history commands as a user runs them, in a subprocess, on a fresh data directory (SQLite)."""

from __future__ import annotations

import json
import os
import subprocess
import sys

import pytest

from tests.reference import REPO

pytestmark = pytest.mark.processes


@pytest.fixture
def run(tmp_path):
    env = {
        key: value
        for key, value in os.environ.items()
        if key not in ("DATABASE_URL", "MAILERLITE_API_KEY", "MAILERLITE_BASE_URL")
    }
    env["SYNC_STUDIO_DATA_DIR"] = str(tmp_path / "data")

    def run(*args: str) -> subprocess.CompletedProcess:
        return subprocess.run(
            [sys.executable, "-m", "sync_core", *args], cwd=REPO, env=env, capture_output=True, text=True, timeout=120
        )

    return run


def test_import_sync_runs_contact_retry_from_the_command_line(run, tmp_path):
    config = tmp_path / "config.json"
    config.write_text(run("config", "export", "--preset", "partnero").stdout)
    assert run("config", "import", str(config)).stdout.strip() == "Saved as configuration version 1."
    partners = tmp_path / "partners.csv"
    partners.write_text(
        "email,name,key,status\nada@example.com,Ada,a1,active\nbob@example.com,Bob,b1,pending\nbroken,Row\n"
    )
    imported = run("import", str(partners))
    assert imported.returncode == 0
    assert imported.stdout.splitlines()[0].startswith("Account: the sandbox (no MailerLite API key set)")
    assert "3 read, 2 new, 0 already known, 1 rejected" in imported.stdout
    assert "row 4: too few values" in imported.stdout

    dry = run("sync", "--dry-run")
    assert "Dry run 1 finished" in dry.stdout and "would create 2" in dry.stdout and "0 request(s)" in dry.stdout
    real = run("sync")
    assert real.returncode == 0 and "Run 2 finished" in real.stdout and "2 created" in real.stdout
    assert "created in MailerLite: Partners, Active Partners" in real.stdout
    again = run("sync")
    assert "nothing to do; 0 request(s)" in again.stdout

    runs = json.loads(run("runs", "--json").stdout)
    assert [(r["id"], r["dry_run"], r["created"]) for r in runs] == [(3, False, 0), (2, False, 2), (1, True, 2)]
    contact = run("contact", "ADA@example.com")
    assert (
        "ada@example.com: 1 event(s), 2 sync item(s)" in contact.stdout and "would create (dry run)" in contact.stdout
    )
    assert run("contact", "nobody@example.com").returncode == 1
    nothing = run("retry", "--all")
    assert nothing.returncode == 0 and "Nothing to retry: no contact failed to sync" in nothing.stdout
    assert run("test-connection").stdout.splitlines()[1].startswith("Connected. The account has 2 subscribers")
    exported = json.loads(run("config", "export").stdout)
    assert exported["name"] == "Partnero → MailerLite"


@pytest.mark.parametrize(
    "args,message",
    [
        (["import", "/nonexistent.csv"], "There is no file /nonexistent.csv; check the path."),
        (["sync", "--limit", "0"], "--limit should be at least 1"),
        (["retry", "--item", "42"], "No sync item with id 42."),
    ],
)
def test_bad_input_gets_a_plain_message_and_a_non_zero_exit(run, args, message):
    result = run(*args)
    assert result.returncode == 2 and message in result.stderr and "Traceback" not in result.stderr


def test_an_invalid_configuration_is_not_saved(run, tmp_path):
    bad = tmp_path / "bad.json"
    bad.write_text('{"triggers": [{"name": "T", "event_types": ["x"], "action": "destroy"}]}')
    result = run("config", "import", str(bad))
    assert (
        result.returncode == 2 and "'destroy' is not allowed" in result.stderr and "Nothing was saved" in result.stderr
    )
