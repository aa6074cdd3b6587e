"""``sync --dry-run`` shows what would change, contact by contact, and ``import`` reports the rows that cannot be
synced: as a user runs them, in a subprocess, on a fresh data directory (SQLite)."""

from __future__ import annotations

import json

import pytest

from tests.engine.test_cli_history import run  # noqa: F401 - the fixture

pytestmark = pytest.mark.processes


@pytest.fixture
def partnero(run, tmp_path):  # noqa: F811
    config = tmp_path / "config.json"
    config.write_text(run("config", "export", "--preset", "partnero").stdout)
    assert run("config", "import", str(config)).returncode == 0
    return run


def test_a_dry_run_prints_the_changes_in_words_and_every_change_as_json(partnero, tmp_path):
    first = tmp_path / "partners.csv"
    first.write_text("email,name,key,status,total_sales\nada@example.com,Ada,a1,active,10\n")
    assert partnero("import", str(first)).returncode == 0
    assert partnero("sync").returncode == 0
    second = tmp_path / "partners-2.csv"
    second.write_text(
        "email,name,key,status,total_sales\n"
        "ada@example.com,Ada L.,a1,pending,12\n"
        "bob@example.com,Bob,b1,active,3\n"
        "broken,Row,c1,active,1\n"
    )
    assert partnero("import", str(second)).returncode == 0

    dry = partnero("sync", "--dry-run")
    assert dry.returncode == 0, dry.stderr
    assert "would create 1, would update 1, 1 with data to fix" in dry.stdout
    assert 'ada@example.com would be updated: name "Ada" → "Ada L."' in dry.stdout
    assert "− Active Partners" in dry.stdout  # a membership group the partner leaves
    assert "bob@example.com would be created" in dry.stdout and "+ Partners" in dry.stdout
    assert "skipped: invalid" in dry.stdout and "broken" in dry.stdout

    as_json = partnero("sync", "--dry-run", "--json")
    assert as_json.returncode == 0, as_json.stderr
    changes = [json.loads(line) for line in as_json.stdout.splitlines()]
    by_email = {change["email"]: change for change in changes}
    assert len(changes) == 3
    ada = by_email["ada@example.com"]
    assert ada["outcome"] == "updated"
    assert ada["fields"]["name"] == {"before": "Ada", "after": "Ada L."}
    assert ada["fields"]["status"] == {"before": "active", "after": "pending"}
    assert ada["groups_removed"] == ["Active Partners"] and ada["groups_added"] == []
    bob = by_email["bob@example.com"]
    assert bob["outcome"] == "created" and bob["fields"]["name"] == {"before": None, "after": "Bob"}
    assert set(bob["groups_added"]) == {"Partners", "Active Partners"}
    (invalid,) = [change for change in changes if change["outcome"] == "invalid"]
    assert "row 4" in invalid["reason"]


def test_import_reports_invalid_emails_and_a_value_that_is_not_a_number(partnero, tmp_path):
    partners = tmp_path / "partners.csv"
    partners.write_text(
        "email,name,key,status,total_sales\n"
        "ada@example.com,Ada,a1,active,10\n"
        "not-an-email,Bad,b1,active,1\n"
        "bob@,Bob,b2,active,1\n"
        "carl@example.com,Carl,c1,active,lots\n"
        "@example.com,Dee,d1,active,2\n"
    )
    imported = partnero("import", str(partners))
    assert imported.returncode == 0, imported.stderr
    assert "0 rejected" not in imported.stdout
    assert "4 invalid" in imported.stdout
    for row, email in (("row 3", "not-an-email"), ("row 4", "bob@"), ("row 6", "@example.com")):
        assert f"partners.csv {row}: '{email}' is not a valid email address" in imported.stdout
    (number,) = [line for line in imported.stdout.splitlines() if "partners.csv row 5:" in line]
    assert "total_sales" in number and "lots" in number
