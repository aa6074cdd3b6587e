"""The loop closed with no account at all (issue 12): the dashboard started with the README's command, the built-in
sandbox, the MailerLite webhook registered in one command, and a subscriber unsubscribed in the sandbox as a
person would in MailerLite: the sandbox's signed webhook reaches the studio, whose worker marks the contact
unsubscribed, and the contact's history says so."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time

import pytest

from storage import Database
from storage.contacts import ContactStore
from sync_core.settings import SQLITE_FILE
from tests.reference import REPO
from tests.webhooks.helpers import free_port
from tests.webhooks.processes import start, stop, streamlit_run, wait_healthy

pytestmark = pytest.mark.processes
PARTNERS = "email,name,key,status,total_sales\nada@example.com,Ada,k1,active,3\nbob@example.com,Bob,k2,active,4\n"


def test_a_sandbox_unsubscribe_reaches_the_served_studio_and_the_contact_is_suppressed(tmp_path):
    data = tmp_path / "data"
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    env = {key: value for key, value in os.environ.items() if not key.startswith(("MAILERLITE_", "DATABASE_URL"))}
    env.update(
        SYNC_STUDIO_DATA_DIR=str(data),
        SYNC_STUDIO_PUBLIC_URL=url,
        PYTHONPATH=str(REPO),
        PYTHONUNBUFFERED="1",
    )
    env.pop("SYNC_STUDIO_WORKER", None)

    def cli(*args: str) -> str:
        answer = subprocess.run(
            [sys.executable, "-m", "sync_core", *args], cwd=REPO, env=env, capture_output=True, text=True, timeout=120
        )
        assert answer.returncode == 0, (args, answer.stdout, answer.stderr)
        return answer.stdout

    (tmp_path / "partners.csv").write_text(PARTNERS)
    preset = cli("config", "export", "--preset", "partnero")
    (tmp_path / "partnero.json").write_text(preset)
    cli("config", "import", str(tmp_path / "partnero.json"))
    cli("import", str(tmp_path / "partners.csv"))
    cli("sync")

    log = tmp_path / "studio.log"
    server = start(streamlit_run(port), env, log)
    try:
        wait_healthy(server, url, log)
        registered = cli("webhooks", "register")
        assert "webhooks/mailerlite" in registered and "Traceback" not in registered
        said = cli("sandbox", "unsubscribe", "ada@example.com")
        assert "unsubscribed" in said.lower()

        database = Database(f"sqlite:///{data / SQLITE_FILE}")
        contacts = ContactStore(database)
        deadline = time.monotonic() + 60
        while (contacts.get("sandbox", "ada@example.com").status or "") != "unsubscribed":
            assert time.monotonic() < deadline, log.read_text(errors="replace")
            time.sleep(0.2)
        assert contacts.get("sandbox", "bob@example.com").status == "active"
        database.dispose()
        history = cli("contact", "ada@example.com")
        assert "MailerLite said: unsubscribed" in history, history
    finally:
        code = stop(server, signal.SIGTERM)
    output = log.read_text(errors="replace")
    assert code in (0, -signal.SIGTERM), output
    assert "Traceback" not in output, output
