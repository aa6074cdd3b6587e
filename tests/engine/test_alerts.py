"""Alerts: the problems and their messages, once an hour per problem whichever process or workspace meets it,
delivered to a local mail server and a local Slack-compatible receiver (127.0.0.1), a failed delivery recorded
in words without breaking the sync, and secrets never shown back."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from datetime import timedelta

import pytest

from storage.tables import utcnow
from sync_core.domain.access import Actor, NotAllowed, Role
from sync_core.domain.alerts import (
    ProblemKind,
    RunTally,
    monitor_link,
    run_problems,
    success_rate_problem,
    worker_stalled_problem,
)
from sync_core.engine.alerts import (
    AlertSettingsError,
    alert_setup,
    alert_worker_stopped,
    raise_alerts,
    recent_alerts,
    save_alert_settings,
    send_test_alert,
)
from sync_core.engine.run import SyncEngine
from sync_core.engine.workspace import Workspace
from sync_core.live.worker import Worker, WorkerProcess, WorkerSettings
from tests.engine.alert_receivers import SLACK_TOKEN, MailServer, Receiver, hook_url, webhook_texts
from tests.engine.conftest import failing_batches_client, import_bytes, partners_csv, queue_bytes
from tests.reference import REPO

ALERT_VARIABLES = ("SYNC_STUDIO_ALERT_SLACK_URL", "SYNC_STUDIO_ALERT_EMAIL", "SYNC_STUDIO_SMTP_URL")
DEVELOPER_WORDS = ("Traceback", "Errno", "Exception", "Error:", "upsert", "None", "sha256")


@pytest.fixture(autouse=True)
def no_alert_environment(monkeypatch):
    for variable in (*ALERT_VARIABLES, "SYNC_STUDIO_PUBLIC_URL"):
        monkeypatch.delenv(variable, raising=False)


@pytest.fixture
def mail():
    with MailServer() as server:
        yield server


@pytest.fixture
def slack():
    with Receiver() as receiver:
        yield receiver


@pytest.fixture
def alerting(partnero_workspace, mail, slack):
    """A workspace whose admin saved an email address, the local mail server and the local webhook."""
    save_alert_settings(
        partnero_workspace,
        enabled=True,
        threshold=0.9,
        emails="team@example.com",
        webhook_url=hook_url(slack),
        smtp_url=mail.url,
    )
    return partnero_workspace


# --- the problems, in words -------------------------------------------------------------------------------------


def test_a_run_with_failed_and_dead_contacts_is_one_problem_with_the_count_and_what_to_do():
    (problem,) = run_problems(RunTally(run_id=7, failed=2, dead=1, good=5, bad=3, account="sandbox"))
    assert problem.kind is ProblemKind.CONTACTS_FAILED and problem.count == 3
    assert problem.what == "3 contacts could not be synced to MailerLite in sync run 7."
    assert "2 contacts will be tried again automatically" in problem.todo
    assert "1 contact gave up after 3 tries and waits for you" in problem.todo
    text = problem.text(None)
    assert text.endswith("http://127.0.0.1:8501/monitor?view=failing")
    assert not [word for word in DEVELOPER_WORDS if word in text]
    assert run_problems(RunTally(run_id=8, failed=0, dead=0, good=5, bad=0)) == []
    assert run_problems(RunTally(run_id=9, failed=4, dead=0, good=0, bad=4, dry_run=True)) == []


def test_the_success_rate_problem_counts_the_recent_runs_against_the_threshold():
    runs = [RunTally(1, failed=3, dead=0, good=7, bad=3), RunTally(2, failed=0, dead=0, good=10, bad=0)]
    assert success_rate_problem(runs, 0.8) is None  # 17 of 20: 85%
    problem = success_rate_problem(runs, 0.9)
    assert problem is not None and problem.count == 3
    assert problem.what == "Only 85% of contacts synced well in the last 2 sync runs, under your alert level of 90%."
    assert problem.link("https://studio.example.com/") == "https://studio.example.com/monitor?view=runs"
    assert success_rate_problem([], 0.9) is None


def test_every_alert_links_to_the_monitor_view_that_explains_it():
    assert monitor_link("worker", "https://studio.example.com") == "https://studio.example.com/monitor?view=worker"
    assert worker_stalled_problem(12, "MailerLite refuses the API key").link(None).endswith("?view=worker")


# --- settings: only an admin's destinations, secrets never shown back ------------------------------------------


def test_destinations_are_checked_and_the_secrets_never_shown_back(partnero_workspace):
    with pytest.raises(AlertSettingsError, match="not an email address"):
        save_alert_settings(partnero_workspace, enabled=True, threshold=0.9, emails="team@, ok@example.com")
    with pytest.raises(AlertSettingsError, match="smtp://"):
        save_alert_settings(partnero_workspace, enabled=True, threshold=0.9, emails="", smtp_url="mail.example.com")
    save_alert_settings(
        partnero_workspace,
        enabled=True,
        threshold=0.75,
        emails="Team@Example.com; ops@example.com",
        webhook_url="https://hooks.slack.com/services/T000/B000/very-secret-token",
        smtp_url="smtp://ada:mail-password-42@mail.example.com:587?starttls=1",
    )
    setup = alert_setup(partnero_workspace)
    assert setup.emails == ("team@example.com", "ops@example.com") and setup.threshold == 0.75 and setup.ready
    assert setup.webhook.startswith("hooks.slack.com (saved on ")
    assert setup.mail_server.startswith("mail.example.com:587 as ada (saved on ")
    shown = json.dumps(setup.as_dict()) + json.dumps([entry.detail for entry in partnero_workspace.audit_log.recent()])
    assert "very-secret-token" not in shown and "mail-password-42" not in shown
    with partnero_workspace.database.engine.connect() as connection:  # encrypted at rest, like the API key
        dump = "\n".join(str(row) for row in connection.exec_driver_sql("SELECT * FROM secret"))
    assert "very-secret-token" not in dump and "mail-password-42" not in dump


def test_the_webhook_address_never_reaches_the_logs(caplog, slack):
    import logging

    from sync_core.engine.alerts import post_webhook

    caplog.set_level(logging.DEBUG)
    assert post_webhook(hook_url(slack), "hello").delivered
    assert len(slack.deliveries) == 1
    assert SLACK_TOKEN not in caplog.text


def test_only_an_admin_may_change_where_alerts_go_or_send_a_test(partnero_workspace):
    for role in (Role.EDITOR, Role.VIEWER):
        other = partnero_workspace.acting_as(Actor("someone", role, kind="user"))
        with pytest.raises(NotAllowed):
            save_alert_settings(other, enabled=True, threshold=0.9, emails="me@example.com", webhook_url="https://x.io")
        with pytest.raises(NotAllowed):
            send_test_alert(other)
    assert alert_setup(partnero_workspace).emails == ()


def test_the_environment_wins_over_the_saved_destinations(alerting, monkeypatch, mail, slack):
    other = MailServer().start()
    try:
        monkeypatch.setenv("SYNC_STUDIO_ALERT_EMAIL", "oncall@example.com")
        monkeypatch.setenv("SYNC_STUDIO_SMTP_URL", other.url)
        setup = alert_setup(alerting)
        assert setup.emails == ("oncall@example.com",) and "from SYNC_STUDIO_SMTP_URL" in setup.mail_server
        assert all(delivery.delivered for delivery in send_test_alert(alerting))
        assert other.recipients == [["oncall@example.com"]] and mail.messages == []
        assert len(slack.deliveries) == 1  # the saved webhook still gets it
    finally:
        other.stop()


# --- once an hour per problem, across workspaces and processes --------------------------------------------------


def test_a_problem_is_told_once_an_hour_whichever_workspace_meets_it(alerting, mail, slack):
    problem = worker_stalled_problem(5, "MailerLite does not answer")
    other = Workspace.at(alerting.directory, alerting.database.url)  # a second process's workspace, same database
    assert len(raise_alerts(alerting, [problem])) == 1
    assert raise_alerts(other, [problem]) == []
    assert raise_alerts(alerting, [problem], now=utcnow() + timedelta(minutes=59)) == []
    assert len(mail.messages) == 1 and len(slack.deliveries) == 1
    assert len(raise_alerts(other, [problem], now=utcnow() + timedelta(minutes=61))) == 1
    assert len(mail.messages) == 2 and len(slack.deliveries) == 2


def test_processes_racing_for_the_same_problem_claim_it_once(tmp_path):
    url = f"sqlite:///{tmp_path / 'race.db'}"
    from storage.db import Database

    Database(url).dispose()  # migrated once, before the race
    code = (
        "import sys, time; from datetime import timedelta; from storage.db import Database; "
        "from storage.alerts import AlertStore; store = AlertStore(Database(sys.argv[1])); "
        "time.sleep(max(0.0, float(sys.argv[2]) - time.time())); "
        "print(store.claim('contacts_failed:sandbox', interval=timedelta(hours=1)))"
    )
    import time

    start = str(time.time() + 2.0)
    processes = [
        subprocess.Popen(
            [sys.executable, "-c", code, url, start], cwd=REPO, stdout=subprocess.PIPE, text=True, env=os.environ
        )
        for _ in range(4)
    ]
    answers = [process.communicate(timeout=60)[0].strip() for process in processes]
    assert sorted(answers) == ["False", "False", "False", "True"]


# --- after a run, in the worker ---------------------------------------------------------------------------------


def test_contacts_failing_in_a_run_send_one_email_and_one_message_with_the_count_and_link(
    alerting, account, mail, slack
):
    client, _ = failing_batches_client(account)
    import_bytes(alerting, partners_csv(3))
    run = SyncEngine(alerting, client=client).run()
    assert run.failed == 3
    assert mail.recipients == [["team@example.com"]]
    (email,) = mail.bodies()
    (text,) = webhook_texts(slack)
    for body in (email, text):
        assert f"3 contacts could not be synced to MailerLite in sync run {run.id}." in body
        assert "http://127.0.0.1:8501/monitor?view=failing" in body
    assert mail.messages[0]["Subject"].startswith("MailerLite sync studio: 3 contacts could not be synced")
    (alert,) = [a for a in recent_alerts(alerting) if a.kind == ProblemKind.CONTACTS_FAILED]
    assert alert.count == 3 and all(delivery["delivered"] for delivery in alert.deliveries)

    SyncEngine(alerting, client=client).retry()  # fails again within the hour: nothing new
    assert len(mail.messages) == 1 and len(slack.deliveries) == 1


def test_a_failed_delivery_is_recorded_in_words_and_the_sync_goes_on(partnero_workspace, account):
    with Receiver(status=404) as gone:
        save_alert_settings(
            partnero_workspace,
            enabled=True,
            threshold=0.9,
            emails="team@example.com",
            webhook_url=hook_url(gone),
            smtp_url="smtp://127.0.0.1:9?from=studio@example.com",  # nothing listens there
        )
        client, _ = failing_batches_client(account)
        import_bytes(partnero_workspace, partners_csv(2))
        run = SyncEngine(partnero_workspace, client=client).run()
    assert run.status == "finished" and run.failed == 2
    (alert,) = recent_alerts(partnero_workspace)
    reasons = {delivery["channel"]: delivery for delivery in alert.deliveries}
    assert not reasons["email"]["delivered"] and not reasons["webhook"]["delivered"]
    assert reasons["email"]["reason"] == "the mail server 127.0.0.1:9 could not be reached"
    assert reasons["webhook"]["reason"] == "the address no longer exists (was the webhook removed?)"
    assert SLACK_TOKEN not in json.dumps(alert.deliveries)  # the webhook's address (its secret) is not kept


def test_alerts_switched_off_or_without_a_destination_send_nothing(alerting, account, mail, slack):
    save_alert_settings(alerting, enabled=False, threshold=0.9, emails="team@example.com")
    client, _ = failing_batches_client(account)
    import_bytes(alerting, partners_csv(2))
    SyncEngine(alerting, client=client).run()
    assert mail.messages == [] and slack.deliveries == [] and recent_alerts(alerting) == []


def test_a_low_success_rate_is_told_too(alerting, account, mail, slack):
    from tests.engine.conftest import fast_client

    import_bytes(alerting, partners_csv(9))
    SyncEngine(alerting, client=fast_client(account)).run()
    assert mail.messages == []  # all synced well: nothing to tell
    client, _ = failing_batches_client(account)
    import_bytes(alerting, partners_csv(2, start=100))
    SyncEngine(alerting, client=client).run()  # 9 of 11 well: 82%, under 90%
    (alert,) = recent_alerts(alerting)  # one message for both problems of the run
    assert alert.kind == ProblemKind.CONTACTS_FAILED and alert.count == 2
    (text,) = webhook_texts(slack)
    (email,) = mail.bodies()
    for body in (text, email):
        assert "2 contacts could not be synced" in body and "monitor?view=failing" in body
        assert "Only 82% of contacts synced well in the last 2 sync runs, under your alert level of 90%." in body
        assert "monitor?view=runs" in body


def test_a_worker_that_keeps_failing_tells_that_the_live_sync_is_stuck(alerting, account, mail, slack, monkeypatch):
    monkeypatch.setenv("SYNC_STUDIO_STALL_SECONDS", "0.001")
    client, _ = failing_batches_client(account)
    queue_bytes(alerting, partners_csv(2))
    worker = Worker(alerting, client=client, settings=WorkerSettings(gather_seconds=0, backoff_initial_seconds=0))
    for _ in range(3):
        worker.step()
    stuck = [text for text in webhook_texts(slack) if "live sync is stuck" in text]
    assert len(stuck) == 1 and "monitor?view=worker" in stuck[0]
    assert len([b for b in mail.bodies() if "live sync is stuck" in b]) == 1


@pytest.mark.processes
def test_a_worker_process_that_ends_unasked_is_told_by_the_process_that_watches_it(alerting, mail, slack, monkeypatch):
    monkeypatch.setenv("SYNC_STUDIO_DATA_DIR", str(alerting.directory))
    monkeypatch.setenv("DATABASE_URL", alerting.database.url)

    class EndsAtOnce(WorkerProcess):
        def command(self) -> list[str]:
            return [sys.executable, "-c", "raise SystemExit(3)"]

    supervised = EndsAtOnce().start()
    try:
        slack.wait_for(1)
        mail.arrived.wait(30)
    finally:
        supervised.stop(timeout=5)
    (text,) = [t for t in webhook_texts(slack) if "worker stopped" in t]
    assert "monitor?view=worker" in text
    assert any("The sync worker stopped unexpectedly" in body for body in mail.bodies())
    alert_worker_stopped(alerting)  # again within the hour: nothing new
    assert len([t for t in webhook_texts(slack) if "worker stopped" in t]) == 1


# --- end to end: a real CLI sync in its own process --------------------------------------------------------------


@pytest.mark.processes
def test_a_cli_sync_whose_contacts_fail_in_the_sandbox_sends_one_email_and_one_message(tmp_path, mail, slack):
    env = {key: value for key, value in os.environ.items() if key not in ("DATABASE_URL", "MAILERLITE_API_KEY")}
    env.pop("MAILERLITE_BASE_URL", None)
    env["SYNC_STUDIO_DATA_DIR"] = str(tmp_path / "data")
    env["SYNC_STUDIO_PUBLIC_URL"] = "https://studio.example.com"
    env["SYNC_STUDIO_ALERT_EMAIL"] = "team@example.com"
    env["SYNC_STUDIO_SMTP_URL"] = mail.url
    env["SYNC_STUDIO_ALERT_SLACK_URL"] = hook_url(slack)

    def cli(*args: str) -> subprocess.CompletedProcess:
        done = subprocess.run(
            [sys.executable, "-m", "sync_core", *args], cwd=REPO, env=env, capture_output=True, text=True, timeout=120
        )
        assert done.returncode == 0, done.stdout + done.stderr
        return done

    config = tmp_path / "config.json"
    config.write_text(cli("config", "export", "--preset", "partnero").stdout)
    cli("config", "import", str(config))
    # In the sandbox account, "total_sales" is a date field: MailerLite refuses the numbers the mapping sends.
    sandbox = Workspace.at(tmp_path / "data", f"sqlite:///{tmp_path / 'data' / 'sync_studio.db'}").sandbox()
    made = sandbox.handle(
        "POST",
        "/api/fields",
        headers={"authorization": f"Bearer {sandbox.default_key}"},
        body=json.dumps({"name": "total_sales", "type": "date"}),
    )
    assert made.status == 201
    partners = tmp_path / "partners.csv"
    partners.write_text(
        "email,name,key,status,total_sales\nada@example.com,Ada,a1,active,10\nbob@example.com,Bob,b1,active,3\n"
    )
    cli("import", str(partners))
    first = cli("sync")
    assert "2 failed" in first.stdout
    assert SLACK_TOKEN not in first.stdout + first.stderr  # the webhook's address is never printed or logged

    assert mail.recipients == [["team@example.com"]]
    (email,) = mail.bodies()
    (text,) = webhook_texts(slack)
    for body in (email, text):
        assert "2 contacts could not be synced to MailerLite in sync run 1." in body
        assert "https://studio.example.com/monitor?view=failing" in body

    more = tmp_path / "more.csv"
    more.write_text("email,name,key,status,total_sales\ncy@example.com,Cy,c1,active,4\n")
    cli("import", str(more))
    assert "1 failed" in cli("sync").stdout  # fails again within the hour: nothing new is sent
    assert len(mail.messages) == 1 and len(slack.deliveries) == 1

    status = json.loads(cli("alerts", "status", "--json").stdout)
    assert status["ready"] and status["emails"] == ["team@example.com"]
    assert [alert["count"] for alert in status["recent"]] == [2]
    assert hook_url(slack) not in json.dumps(status) and SLACK_TOKEN not in json.dumps(status)
    tested = cli("alerts", "test")
    assert "Email to team@example.com: delivered." in tested.stdout
    assert "The webhook at 127.0.0.1: delivered." in tested.stdout
    assert len(mail.messages) == 2 and len(slack.deliveries) == 2


def test_alerts_status_and_test_speak_plain_words_on_the_command_line(partnero_workspace, monkeypatch, capsys):
    from sync_core.cli.main import main

    monkeypatch.setenv("DATABASE_URL", partnero_workspace.database.url)
    assert main(["alerts", "status"]) == 0
    out = capsys.readouterr().out
    assert "Alerts are on." in out and "No destination is complete yet" in out and "No alert sent yet." in out
    assert main(["alerts", "test"]) == 1
    assert "No destination is set" in capsys.readouterr().out
    save_alert_settings(partnero_workspace, enabled=False, threshold=0.8, emails="team@example.com")
    assert main(["alerts", "status"]) == 0
    out = capsys.readouterr().out
    assert "Alerts are off." in out and "Email to: team@example.com" in out and "under 80%" in out
