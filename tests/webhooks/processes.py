"""Starting the studio's processes for the tests: the CLI commands and the dashboard server, each pointed at a
test database and at a sandbox served over HTTP in the test process."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import httpx

from tests.reference import REPO
from tests.webhooks.helpers import DODO_SECRET, PARTNERO_SECRET

# ``python -m sync_core COMMAND`` once sync_core.cli.live is in sync_core.cli.main.COMMAND_MODULES; until then the
# same parser and handlers, through this shim.
_SHIM = (
    "import argparse, sys; from sync_core.cli import live; "
    "parser = argparse.ArgumentParser(prog='python -m sync_core'); "
    "commands = parser.add_subparsers(dest='command', required=True); live.register(commands); "
    "args = parser.parse_args(); sys.exit(args.handler(args))"
)


def cli(*args: str) -> list[str]:
    from sync_core.cli import live
    from sync_core.cli import main as entry

    if live in entry.COMMAND_MODULES:
        return [sys.executable, "-m", "sync_core", *args]
    return [sys.executable, "-c", _SHIM, *args]


def streamlit_run(port: int) -> list[str]:
    """The README's start command (``.venv/bin/streamlit run dashboard.py``), bound to 127.0.0.1:port."""
    script = Path(sys.executable).with_name("streamlit")
    head = [str(script)] if script.exists() else [sys.executable, "-m", "streamlit"]
    return head + [
        "run",
        "dashboard.py",
        "--server.address",
        "127.0.0.1",
        "--server.port",
        str(port),
        "--server.headless",
        "true",
    ]


def studio_env(workspace, sandbox_base_url: str, **extra: str) -> dict[str, str]:
    env = {key: value for key, value in os.environ.items() if key not in ("SYNC_STUDIO_WORKER",)}
    env.update(
        DATABASE_URL=workspace.database.url,
        SYNC_STUDIO_DATA_DIR=str(workspace.directory),
        MAILERLITE_API_KEY="sandbox-key",
        MAILERLITE_BASE_URL=sandbox_base_url,
        DODO_PAYMENTS_WEBHOOK_KEY=DODO_SECRET,
        PARTNERO_WEBHOOK_SECRET=PARTNERO_SECRET,
        PYTHONPATH=str(REPO),
        PYTHONUNBUFFERED="1",
        **extra,
    )
    return env


def start(command: list[str], env: dict[str, str], log: Path) -> subprocess.Popen:
    handle = log.open("ab")
    return subprocess.Popen(command, cwd=REPO, env=env, stdout=handle, stderr=subprocess.STDOUT, start_new_session=True)


def wait_healthy(process: subprocess.Popen, url: str, log: Path, timeout: float = 90) -> dict:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise AssertionError(f"the server exited with {process.returncode}:\n{log.read_text(errors='replace')}")
        try:
            answer = httpx.get(url + "/healthz", timeout=2)
            if answer.status_code == 200:
                return answer.json()
        except httpx.HTTPError:
            pass
        time.sleep(0.1)
    raise AssertionError(f"the server did not answer /healthz within {timeout} s:\n{log.read_text(errors='replace')}")


def stop(process: subprocess.Popen, sig: int = signal.SIGTERM, timeout: float = 30) -> int:
    """Signal the process's group (the server and anything it started) and wait for it."""
    if process.poll() is None:
        try:
            os.killpg(process.pid, sig)
        except ProcessLookupError:
            pass
    try:
        return process.wait(timeout)
    except subprocess.TimeoutExpired:
        os.killpg(process.pid, signal.SIGKILL)
        process.wait(10)
        raise AssertionError(f"the process did not stop within {timeout} s after signal {sig}") from None
