"""A real browser against the real server: the app started with the README's run command on 127.0.0.1, and
Debian's Chromium driven by Playwright. Where Chromium or Playwright is missing the tests are skipped, except in
CI (CI=true), where that is a failure (.ci/run installs Chromium)."""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest

from tests.reference import REPO

CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
RUN_COMMAND = (
    "python3 -m venv .venv && .venv/bin/pip install -q -r requirements.txt && .venv/bin/streamlit run dashboard.py"
)
ARTIFACTS = REPO / "test-artifacts"


def _missing(reason: str):
    if os.environ.get("CI") == "true":
        pytest.fail(f"{reason} (required in CI)")
    pytest.skip(reason)


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def wait_until_up(url: str, process: subprocess.Popen, timeout: float = 180) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise AssertionError(f"the app stopped: {process.communicate()[0][-3000:]}")
        try:
            with urllib.request.urlopen(url + "/_stcore/health", timeout=2) as answer:
                if answer.status == 200:
                    return
        except OSError:
            time.sleep(0.3)
    raise AssertionError("the app did not answer in time")


def studio_environment(data: Path, port: int, address: str) -> dict[str, str]:
    """The environment of a user's shell, without any key, database or studio setting of the machine's."""
    env = {
        key: value
        for key, value in os.environ.items()
        if not key.startswith(("MAILERLITE_", "DATABASE_URL", "SYNC_STUDIO_"))
    }
    env.update(
        SYNC_STUDIO_DATA_DIR=str(data),
        STREAMLIT_SERVER_PORT=str(port),
        STREAMLIT_SERVER_ADDRESS=address,
        STREAMLIT_SERVER_HEADLESS="true",
        STREAMLIT_BROWSER_GATHER_USAGE_STATS="false",
    )
    return env


def stop_studio(process: subprocess.Popen) -> None:
    os.killpg(process.pid, 15)
    try:
        process.wait(timeout=20)
    except subprocess.TimeoutExpired:
        os.killpg(process.pid, 9)


@pytest.fixture
def serve_studio(tmp_path):
    """``serve_studio(address, **env)``: ``streamlit run dashboard.py --server.address ADDRESS`` (the README's
    command, from the test's own environment), with its own data; yields the URL to browse it at, always
    127.0.0.1 (a server on 0.0.0.0 answers there too), and the data directory."""
    started: list[subprocess.Popen] = []

    def serve(address: str = "0.0.0.0", **extra: str) -> tuple[str, Path]:
        port = free_port()
        data = tmp_path / f"data-{len(started)}"
        env = studio_environment(data, port, address) | extra
        streamlit = Path(sys.executable).with_name("streamlit")
        log = tmp_path / f"studio-{len(started)}.log"
        with log.open("wb") as output:  # a file, not a pipe: a pipe nobody reads would stop the server when full
            process = subprocess.Popen(
                [str(streamlit), "run", "dashboard.py", "--server.address", address, "--server.port", str(port)],
                cwd=REPO,
                env=env,
                stdout=output,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )
        started.append(process)
        url = f"http://127.0.0.1:{port}"
        try:
            wait_until_up(url, process)
        except (AssertionError, TypeError) as exc:
            raise AssertionError(f"{exc}: {log.read_text(errors='replace')[-3000:]}") from None
        return url, data

    try:
        yield serve
    finally:
        for process in started:
            stop_studio(process)


@pytest.fixture
def studio(tmp_path):
    """The app as a user starts it (the README's command), on a free 127.0.0.1 port, with its own data."""
    port = free_port()
    env = studio_environment(tmp_path / "data", port, "127.0.0.1")
    process = subprocess.Popen(
        ["bash", "-c", RUN_COMMAND],
        cwd=REPO,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        start_new_session=True,
    )
    url = f"http://127.0.0.1:{port}"
    try:
        wait_until_up(url, process)
        yield url, tmp_path / "data"
    finally:
        stop_studio(process)


@pytest.fixture
def browser_page():
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        _missing("Playwright for Python is not installed")
    if not Path(CHROMIUM).exists():
        _missing("Debian's chromium is not installed (apt-get install chromium)")
    ARTIFACTS.mkdir(exist_ok=True)
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=CHROMIUM,
            headless=True,
            args=[
                "--no-sandbox",
                "--disable-gpu",
                "--disable-background-networking",
                "--disable-component-update",
                "--disable-sync",
                "--no-first-run",
            ],
        )
        page = browser.new_page(viewport={"width": 1440, "height": 1100})
        try:
            yield page
        finally:
            browser.close()
