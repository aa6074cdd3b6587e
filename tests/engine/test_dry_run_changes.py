"""A dry run's changes contact by contact, through the command line in-process (the subprocess tests in
test_cli_dry_run.py are slower): why a contact is left out, the summary's first few changes, ``--json``."""

from __future__ import annotations

import json

import pytest

from sync_core.cli.main import main
from sync_core.domain.presets import load_preset
from sync_core.engine.workspace import Workspace


@pytest.fixture
def cli(tmp_path, monkeypatch, capsys):
    for variable in ("DATABASE_URL", "MAILERLITE_API_KEY", "MAILERLITE_BASE_URL"):
        monkeypatch.delenv(variable, raising=False)
    monkeypatch.setenv("SYNC_STUDIO_DATA_DIR", str(tmp_path / "data"))

    def run(*args: str) -> tuple[int, str, str]:
        code = main(list(args))
        captured = capsys.readouterr()
        return code, captured.out, captured.err

    return run


def test_a_contact_left_out_says_why(cli, tmp_path):
    config = load_preset("partnero")
    config.sources["records"].sync_customers = False
    Workspace().save_config(config)
    customers = tmp_path / "customers.csv"
    customers.write_text("email,name,referred_by,customer_key\ncat@example.com,Cat,k1,c1\n")
    partners = tmp_path / "partners.csv"
    partners.write_text("email,name,key,status\n" + "".join(f"p{n}@example.com,P{n},k{n},active\n" for n in range(12)))
    assert cli("import", str(customers))[0] == 0 and cli("import", str(partners))[0] == 0

    code, out, _ = cli("sync", "--dry-run", "--json")
    assert code == 0 and not out.startswith("Account")  # the account line goes to stderr: stdout is JSON Lines
    changes = {change["email"]: change for change in map(json.loads, out.splitlines())}
    assert len(changes) == 13
    assert changes["cat@example.com"]["outcome"] == "ignored"
    assert '"Sync customers" is off' in changes["cat@example.com"]["reason"]

    code, out, _ = cli("sync", "--dry-run")
    assert "cat@example.com skipped: not synced by the configuration" in out
    assert out.count(" would be created") == 9  # the first 10 changes in words, then where the rest are
    assert "--dry-run --json lists every contact" in out


def test_json_without_a_dry_run_prints_the_run(cli):
    code, out, _ = cli("sync", "--json")
    run = json.loads(out)  # a real run is one JSON object; a dry run's --json lists its changes
    assert code == 0 and run["dry_run"] is False and run["summary"] == ""


def test_import_reports_a_bad_email_before_any_configuration_is_saved(cli, tmp_path):
    partners = tmp_path / "partners.csv"
    partners.write_text("email,name,key\nada@example.com,Ada,a1\nnot-an-email,Bad,b1\n")
    code, out, _ = cli("import", str(partners))
    assert code == 0
    assert "2 read, 2 new, 0 already known, 1 invalid" in out
    assert "partners.csv row 3: 'not-an-email' is not a valid email address" in out
