"""``drift check`` and ``drift repair`` as a user runs them, in a subprocess, on a fresh data directory, after
changes made directly in its sandbox account (as someone in MailerLite would)."""

from __future__ import annotations

import json

import pytest

from sync_core.sandbox import SandboxAccount, sandbox_client
from tests.engine.test_cli_history import run  # noqa: F401 - the fixture
from tests.engine.test_drift import change_by_hand, email, snapshot

pytestmark = pytest.mark.processes


def test_drift_check_finds_the_changes_and_the_repair_fixes_them(run, tmp_path):  # noqa: F811
    config = tmp_path / "config.json"
    config.write_text(run("config", "export", "--preset", "partnero").stdout)
    assert run("config", "import", str(config)).returncode == 0
    partners = tmp_path / "partners.csv"
    partners.write_text(
        "email,name,surname,key,status,total_sales\n"
        + "".join(f"{email(n)},Pat,Number{n},key{n},{'active' if n % 2 else 'pending'},{n}\n" for n in range(6))
    )
    assert run("import", str(partners)).returncode == 0
    assert run("sync").returncode == 0

    account = SandboxAccount(state_file=tmp_path / "data" / "sandbox.db")  # the studio's own sandbox
    client = sandbox_client(account)
    try:
        change_by_hand(client)
        before = snapshot(client)

        checked = run("drift", "check", "--json")
        assert checked.returncode == 0, checked.stderr
        report = json.loads(checked.stdout)
        kinds = {contact["email"]: contact["kinds"] for contact in report["contacts"]}
        assert kinds == {
            email(0): ["group_added"],
            email(1): ["field"],
            email(2): ["deleted"],
            email(3): ["group_removed"],
            email(4): ["suppressed"],
        }
        assert report["summary"].startswith("5 contacts differ: 1 field changed in MailerLite")
        (field,) = [c for c in report["contacts"] if c["email"] == email(1)][0]["differences"]
        assert field == {"kind": "field", "name": "name", "studio": "Pat Number1", "mailerlite": "Changed By Hand"}

        words = run("drift", "check")
        assert (
            "5 contacts differ" in words.stdout and f"{email(3)}: removed from a group Active Partners" in words.stdout
        )

        dry = run("drift", "repair", "--dry-run")
        assert dry.returncode == 0, dry.stderr
        assert "Dry run" in dry.stdout and "would update 3" in dry.stdout
        assert f'{email(1)} would be updated: name "Changed By Hand" → "Pat Number1"' in dry.stdout
        assert snapshot(client) == before  # nothing sent

        repaired = run("drift", "repair")
        assert repaired.returncode == 0, repaired.stderr
        after = snapshot(client)
        assert after[email(1)][1]["name"] == "Pat Number1"
        assert "Active Partners" in after[email(3)][2] and "Active Partners" not in after[email(0)][2]
        assert after[email(4)] == before[email(4)] and email(2) not in after
        runs = json.loads(run("runs", "--json").stdout)
        assert [r["trigger"] for r in runs[:2]] == ["repair", "repair"] and runs[0]["dry_run"] is False

        assert run("drift", "check").returncode == 0
        assert run("drift", "repair", "--recreate-deleted").returncode == 0
        assert snapshot(client)[email(2)][1]["name"] == "Pat Number2"
        assert "no contact differs" in run("drift", "check").stdout
    finally:
        client.close()
        account.close()


def test_a_repair_before_any_check_says_what_to_do(run):  # noqa: F811
    repaired = run("drift", "repair", "--dry-run")
    assert repaired.returncode == 0  # a normal state, said as one
    assert "Nothing to repair yet: compare with MailerLite first" in repaired.stdout
    assert "Traceback" not in repaired.stderr
