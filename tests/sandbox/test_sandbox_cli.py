"""``sandbox serve`` on the command line, used by curl and by the client."""

from __future__ import annotations

import argparse
import os
import shutil
import signal
import subprocess
import sys
from pathlib import Path

import pytest

from sync_core.mailerlite import AuthError, MailerLiteClient, MailerLiteSettings
from sync_core.sandbox import SandboxAccount, cli

ROOT = Path(__file__).resolve().parents[2]


def parse(*argv: str) -> argparse.Namespace:
    parser = argparse.ArgumentParser()
    cli.register(parser.add_subparsers(dest="command"))
    return parser.parse_args(["sandbox", "serve", *argv])


def test_serve_defaults():
    args = parse()
    assert (args.host, args.port, args.keys, args.limit, args.window_seconds) == ("127.0.0.1", 8025, None, 120, 60)
    assert args.handler is cli.serve_handler


def test_serve_options_build_the_account(tmp_path):
    args = parse(
        "--key",
        "k1",
        "--key",
        "k2",
        "--window-seconds",
        "1",
        "--limit",
        "50",
        "--error-rate",
        "0.2",
        "--burst-429-rate",
        "0.1",
        "--timeout-rate",
        "0.05",
        "--latency",
        "0.01",
        "--seed",
        "9",
        "--state-file",
        str(tmp_path / "s.db"),
    )
    account = cli.build_account(args)
    assert (account.limit, account.window_seconds) == (50, 1.0)
    assert account.faults.settings.error_rate == 0.2 and account.faults.settings.seed == 9
    assert account.state_file == tmp_path / "s.db"
    assert "k1" not in repr(account)


def test_bad_fault_rates_are_refused():
    with pytest.raises(SystemExit):
        parse("--error-rate", "2")


@pytest.fixture
def served(tmp_path):
    """The sandbox as a separate process on a free port; yields (base_url, process)."""
    state = tmp_path / "state.db"
    process = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "sync_core.sandbox.cli",
            "serve",
            "--port",
            "0",
            "--key",
            "cli-key-1",
            "--key",
            "cli-key-2",
            "--state-file",
            str(state),
        ],
        cwd=ROOT,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    line = process.stdout.readline()
    assert "listening on http://127.0.0.1:" in line, line + process.stderr.read()
    assert "cli-key" not in line  # keys are never printed
    base_url = line.split("listening on ")[1].split()[0]
    yield base_url, process, state
    if process.poll() is None:
        process.kill()
        process.wait(5)


def test_the_served_sandbox_works_with_the_client_and_stops_cleanly(served):
    base_url, process, state = served
    with MailerLiteClient(MailerLiteSettings(api_key="cli-key-2", base_url=base_url)) as client:
        assert client.upsert_subscriber("a@example.com").created
        assert client.count_subscribers() == 1
    with MailerLiteClient(MailerLiteSettings(api_key="nope", base_url=base_url)) as client:
        with pytest.raises(AuthError):
            client.count_subscribers()
    process.send_signal(signal.SIGTERM)
    assert process.wait(5) == 0
    reopened = SandboxAccount(state_file=state)
    assert [s["email"] for s in reopened.state.subscribers.values()] == ["a@example.com"]
    reopened.close()


@pytest.mark.processes
@pytest.mark.skipif(
    shutil.which("curl") is None and os.environ.get("CI") != "true",
    reason="curl is not installed (.ci/run installs it)",
)
def test_curl_can_use_the_served_sandbox(served):
    base_url, _, _ = served
    ok = subprocess.run(
        ["curl", "-s", "-i", "-H", "Authorization: Bearer cli-key-1", f"{base_url}/subscribers?limit=0"],
        capture_output=True,
        text=True,
        timeout=10,
    )
    assert ok.stdout.startswith("HTTP/1.1 200") and '{"total":0}' in ok.stdout
    assert "x-ratelimit-remaining: 119" in ok.stdout.lower()
    created = subprocess.run(
        [
            "curl",
            "-s",
            "-o",
            "/dev/null",
            "-w",
            "%{http_code}",
            "-X",
            "POST",
            "-H",
            "Authorization: Bearer cli-key-1",
            "-H",
            "Content-Type: application/json",
            "-d",
            '{"email":"Curl@Example.com"}',
            f"{base_url}/subscribers",
        ],
        capture_output=True,
        text=True,
        timeout=10,
    )
    assert created.stdout == "201"
    refused = subprocess.run(["curl", "-s", f"{base_url}/subscribers"], capture_output=True, text=True, timeout=10)
    assert refused.stdout == '{"message":"Unauthenticated."}'


@pytest.mark.processes
def test_python_m_sync_core_sandbox_serve_when_wired():
    from sync_core.cli import main as main_cli

    assert cli in main_cli.COMMAND_MODULES
    process = subprocess.Popen(
        [sys.executable, "-m", "sync_core", "sandbox", "serve", "--port", "0"],
        cwd=ROOT,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env={**os.environ, "PYTHONPATH": str(ROOT)},
    )
    try:
        line = process.stdout.readline()
        assert "listening on http://127.0.0.1:" in line, process.stderr.read()
        assert "the default key 'sandbox-key'" in line
    finally:
        process.send_signal(signal.SIGTERM)
        assert process.wait(5) == 0


def test_registers_into_the_main_parser():
    from sync_core.cli import main as main_cli

    args = main_cli.build_parser().parse_args(["sandbox", "serve", "--port", "0", "--window-seconds", "1"])
    assert args.handler is cli.serve_handler and args.port == 0 and args.window_seconds == 1
