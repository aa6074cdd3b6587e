"""The command line reads well: tables within 100 columns, normal states exit 0, ``--json`` that parses, errors
as one plain sentence (no exception names, error numbers, attempt counts, no traceback)."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys

import pytest

from sync_core.cli.errors import plain_message
from sync_core.cli.main import main
from sync_core.domain.presets import load_preset
from sync_core.engine.workspace import Workspace
from tests.reference import REPO


def widest(out: str) -> int:
    """The widest line, leaving out the lines that are sentences (the account, the contact's address)."""
    return max(len(line) for line in out.splitlines() if not line.startswith(("Account:", "partner")))


DEVELOPER_WORDS = re.compile(r"Traceback|Errno|attempt\(s\)|[A-Z][a-z]+(Error|Exception)\b|\(\d{3} on [A-Z]+ /")


@pytest.fixture
def cli(tmp_path, monkeypatch, capsys):
    """``python -m sync_core ARGS`` in this process, on a fresh data directory with the sandbox."""
    for name in ("DATABASE_URL", "MAILERLITE_API_KEY", "MAILERLITE_BASE_URL"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("SYNC_STUDIO_DATA_DIR", str(tmp_path / "data"))
    monkeypatch.setenv("COLUMNS", "200")  # a wide terminal: the tables still stop at 100

    def run(*args: str) -> tuple[int, str, str]:
        code = main(list(args))
        out, err = capsys.readouterr()
        return code, out, err

    return run


def long_partners(tmp_path, count: int = 3):
    path = tmp_path / "partners.csv"
    rows = [
        f"partner{n}-with-a-very-long-address-indeed@an-exceptionally-long-domain-name.example.com,"
        f"Patricia Alexandra Montgomery-Featherstonehaugh {n},key{n},active,{n}"
        for n in range(count)
    ]
    path.write_text("email,name,key,status,total_sales\n" + "\n".join(rows) + "\nbroken-address,Bob,b,active,1\n")
    return path


def test_runs_and_contact_tables_fit_in_100_columns_with_long_data(cli, tmp_path):
    Workspace().save_config(load_preset("partnero"), author="test")
    assert cli("import", str(long_partners(tmp_path)))[0] == 0
    assert cli("sync", "--dry-run")[0] == 0
    assert cli("sync")[0] == 0
    code, out, _ = cli("runs")
    assert code == 0
    lines = out.splitlines()
    assert lines[0].split() == ["run", "started", "(UTC)", "kind", "status", "contacts", "requests"]
    assert max(len(line) for line in lines) <= 100
    assert "would create 3" in out and "3 created" in out  # the dry run says what it would do
    code, out, _ = cli(
        "contact", "partner0-with-a-very-long-address-indeed@an-exceptionally-long-domain-name.example.com"
    )
    assert code == 0 and "would create (dry run)" in out and widest(out) <= 100


def test_a_narrow_terminal_gets_fewer_columns(cli, tmp_path, monkeypatch):
    Workspace().save_config(load_preset("partnero"), author="test")
    cli("import", str(long_partners(tmp_path)))
    cli("sync", "--dry-run")
    monkeypatch.setenv("COLUMNS", "50")
    out = cli("runs")[1]
    assert max(len(line) for line in out.splitlines()) <= 50
    assert "requests" not in out.splitlines()[0]  # dropped first, the contacts' outcome kept
    assert "contacts" in out.splitlines()[0]


def test_nothing_to_retry_is_a_normal_state(cli):
    code, out, err = cli("retry", "--all")
    assert code == 0 and "Nothing to retry: no contact failed to sync" in out and err.count("\n") <= 1
    code, out, _ = cli("retry", "--all", "--json")
    assert code == 0 and json.loads(out[out.index("{") :])["retried"] is False


def test_nothing_to_repair_is_a_normal_state(cli):
    code, out, _ = cli("drift", "repair")
    assert code == 0 and "Nothing to repair yet" in out


@pytest.mark.parametrize(
    "args",
    [
        ["runs", "--json"],
        ["status", "--json"],
        ["retry", "--all", "--json"],
        ["test-connection", "--json"],
        ["presets", "--json"],
        ["sync", "--json"],
    ],
)
def test_json_parses_on_standard_output(cli, args):
    code, out, _ = cli(*args)
    assert code == 0
    json.loads(out)  # the account line goes to stderr: stdout is the JSON alone


def test_the_json_keys_are_stable(cli, tmp_path):
    Workspace().save_config(load_preset("partnero"), author="test")
    cli("import", str(long_partners(tmp_path)))
    code, out, _ = cli("sync", "--json")
    run = json.loads(out)
    assert code == 0 and {"id", "status", "dry_run", "created", "requests", "summary"} <= set(run)
    assert run["created"] == 3 and run["summary"] == "3 created, 1 with data to fix"
    (listed,) = json.loads(cli("runs", "--json")[1])
    assert listed["id"] == run["id"]
    status = json.loads(cli("status", "--json")[1])
    assert set(status) == {"account", "base_url", "database", "waiting", "last_run", "workers"}
    assert status["account"] == "sandbox" and status["last_run"]["summary"] == run["summary"]


@pytest.mark.parametrize(
    "args,sentence",
    [
        (["import", "/nonexistent.csv"], "There is no file /nonexistent.csv; check the path."),
        (["sync", "--limit", "0"], "--limit should be at least 1."),
        (["retry", "--item", "42"], "No sync item with id 42."),
    ],
)
def test_errors_are_one_plain_sentence(cli, args, sentence):
    code, out, err = cli(*args)
    assert code == 2 and err.strip().splitlines()[-1] == sentence
    assert not DEVELOPER_WORDS.search(err)


@pytest.mark.parametrize(
    "text,plain",
    [
        (
            "No answer from MailerLite at mailerlite.invalid for GET /subscribers (ConnectError: [Errno -2] Name or "
            "service not known) after 5 attempt(s).",
            "No answer from MailerLite at mailerlite.invalid.",
        ),
        (
            "MailerLite refused the request (500 on POST /api/subscribers); try again later",
            "MailerLite refused the request; try again later.",
        ),
        ("ConnectError: [Errno 111] Connection refused", "Connection refused."),
    ],
)
def test_plain_message_removes_what_only_a_developer_reads(text, plain):
    assert plain_message(text) == plain


def test_plain_message_prefers_the_errors_own_sentence():
    error = RuntimeError("ValueError: 500 on POST /api/x")
    error.plain = "MailerLite is having trouble; try again in a few minutes."  # type: ignore[attr-defined]
    assert plain_message(error) == "MailerLite is having trouble; try again in a few minutes."


def test_the_import_preview_stores_nothing_and_prints_json(cli, tmp_path):
    Workspace().save_config(load_preset("partnero"), author="test")
    path = long_partners(tmp_path, count=2)
    code, out, _ = cli("import", str(path), "--preview")
    assert code == 0 and "partners.csv: 3 rows read, 1 rejected" in out
    assert "Nothing was stored." in out and widest(out) <= 100
    assert re.search(r"^\s+4\s+'broken-address' is not a valid email address", out, re.MULTILINE)
    code, out, _ = cli("import", str(path), "--preview", "--json")
    preview = json.loads(out)
    assert preview["email_column"] == "email" and preview["read"] == 3 and preview["rejected_count"] == 1
    assert preview["rejected"][0]["row"] == 4
    assert {use["column"]: use["sent_as"] for use in preview["mapping"]}["key"] == ["MailerLite field partner_key"]
    assert Workspace().events.counts() == {}  # nothing stored


def test_the_import_preview_and_import_with_a_chosen_email_column(cli, tmp_path):
    path = tmp_path / "people.csv"
    path.write_text("contact,name\nada@example.com,Ada\nbob@example.com,Bob\n")
    code, out, _ = cli("import", str(path), "--preview")
    assert code == 0 and "no column holds email addresses; choose which one does (contact looks like one)" in out
    code, _, err = cli("import", str(path))
    assert code == 2 and "no column holds email addresses; choose which one does" in err
    assert Workspace().events.counts() == {}
    preview = json.loads(cli("import", str(path), "--preview", "--email-column", "contact", "--json")[1])
    assert (preview["problem"], preview["read"], preview["rejected_count"]) == (None, 2, 0)
    code, out, _ = cli("import", str(path), "--email-column", "contact", "--json")
    assert code == 0 and json.loads(out)["stored"] == 2


@pytest.mark.processes
def test_an_unreachable_mailerlite_is_said_in_words_without_a_traceback(tmp_path):
    env = {key: value for key, value in os.environ.items() if key != "DATABASE_URL"}
    env.update(
        SYNC_STUDIO_DATA_DIR=str(tmp_path / "data"),
        MAILERLITE_API_KEY="x",
        MAILERLITE_BASE_URL="http://127.0.0.1:9/api",  # nothing listens on the discard port
    )
    config = load_preset("partnero")
    config.connection.sandbox = False
    document = tmp_path / "config.json"
    document.write_text(config.to_json())

    def run(*args: str) -> subprocess.CompletedProcess:
        return subprocess.run(
            [sys.executable, "-m", "sync_core", *args], cwd=REPO, env=env, capture_output=True, text=True, timeout=120
        )

    assert run("config", "import", str(document)).returncode == 0
    result = run("test-connection")
    assert result.returncode == 1 and result.stdout.splitlines()[-1].startswith("Not connected.")
    for text in (result.stdout, result.stderr):
        assert not DEVELOPER_WORDS.search(text), text
    assert result.stderr.count("the studio keeps trying") <= 1
