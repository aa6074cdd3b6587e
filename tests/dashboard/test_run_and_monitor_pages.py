"""Run sync and Monitor: a dry run and a sandbox sync from the page, the run in Monitor, a retry of failures."""

from __future__ import annotations

import contextlib
import io

import pytest

from storage.events import EventStore
from sync_core.domain.presets import load_preset
from sync_core.engine.file_import import import_file
from sync_core.sandbox import FaultSettings
from tests.dashboard.helpers import assert_clean, by_label, finished, open_page, page_text, run_until

PARTNERS = (
    "email,name,surname,key,status,total_sales\n"
    + "".join(f"p{n}@example.com,Pat,N{n},k{n},{'active' if n % 2 else 'pending'},{n}\n" for n in range(12))
    + "broken,row\n"
).encode()


def arrange(workspace) -> None:
    workspace.save_config(load_preset("partnero"), author="test")
    import_file(EventStore(workspace.database), io.BytesIO(PARTNERS), name="partners.csv")


@contextlib.contextmanager
def switched_to_a_real_account(workspace, monkeypatch):  # noqa: ANN001
    """The sandbox switched off for another account served over HTTP and reached like MailerLite."""
    from sync_core.sandbox import SandboxAccount, serve_sandbox

    real = SandboxAccount(keys=["real-account-key-0001"], limit=10_000, window_seconds=1, import_limit=1000)
    with serve_sandbox(real) as server:
        monkeypatch.setenv("MAILERLITE_API_KEY", "real-account-key-0001")
        monkeypatch.setenv("MAILERLITE_BASE_URL", server.base_url)
        config = workspace.config()
        config.connection.sandbox = False
        workspace.save_config(config, author="test", comment="sandbox off")
        yield server


def test_dry_run_then_sync_from_the_page_and_see_the_run_in_monitor(app, studio_workspace):
    arrange(studio_workspace)
    open_page(app, "pages/run_sync.py")
    assert [m.value for m in app.metric if m.label == "Imported rows waiting for you"] == ["12"]
    assert [m.value for m in app.metric if m.label == "Events waiting to sync"] == ["0"]
    assert "12 imported rows wait for you to start a dry run or a sync." in page_text(app)
    by_label(app.button, "Start the dry run").click().run()
    assert_clean(app)
    run_until(app, finished("Dry run 1 finished"))
    assert any("Dry run 1 finished" in s.value and "0 request(s)" in s.value for s in app.success)
    assert studio_workspace.sandbox().state.subscribers == {}  # a dry run sends nothing
    assert EventStore(studio_workspace.database).counts()["staged"] == 12  # and changes nothing

    by_label(app.toggle, "Dry run: record what would be sent, send nothing").set_value(False).run()
    by_label(app.button, "Start the sync").click().run()
    assert_clean(app)
    run_until(app, finished("Run 2 finished"))
    assert [m.value for m in app.metric if m.label == "Created"] == ["12"]
    assert len(studio_workspace.sandbox().state.subscribers) == 12
    assert "12 subscribers" in page_text(app)  # the sidebar's account figures are fresh
    text = page_text(app)
    assert "created in MailerLite: Partners, Active Partners" in text

    open_page(app, "pages/monitor.py")
    assert [m.value for m in app.metric if m.label == "Contacts synced"] == ["12"]
    runs = app.dataframe[0].value
    assert list(runs["Run"]) == [2, 1] and list(runs["Created"]) == [12, 12]


@pytest.mark.slow
def test_failed_items_are_listed_with_their_reason_and_retried(app, studio_workspace, monkeypatch):
    monkeypatch.setenv("SYNC_STUDIO_PATIENCE_SECONDS", "1")  # wait MailerLite's outage out for 1 s only
    arrange(studio_workspace)
    sandbox = studio_workspace.sandbox()
    open_page(app, "pages/run_sync.py")
    by_label(app.toggle, "Dry run: record what would be sent, send nothing").set_value(False).run()
    sandbox.faults.settings = FaultSettings(error_rate=1.0)  # MailerLite fails every request from now on
    try:
        by_label(app.button, "Start the sync").click().run()
        run_until(app, finished("Run 1 failed"))
    finally:
        sandbox.faults.settings = FaultSettings()
    assert any("failed" in e.value.lower() for e in app.error)  # the run says why, in plain words
    assert EventStore(studio_workspace.database).counts()["staged"] == 12  # nothing lost

    by_label(app.button, "Start the sync").click().run()
    run_until(app, finished("Run 2 finished"))
    assert [m.value for m in app.metric if m.label == "Created"] == ["12"]

    open_page(app, "pages/monitor.py")
    assert not any("Failed and dead" in m.value for m in app.markdown)  # none left failing after the retry
    assert (
        "file partners.csv row 14"
        in next(f.value for f in app.dataframe if "Where" in f.value.columns)["Where"].tolist()
    )


def test_retry_all_from_the_failures_tab(app, studio_workspace):
    arrange(studio_workspace)
    from sync_core.engine.run import SyncEngine
    from tests.engine.conftest import failing_batches_client

    client, _ = failing_batches_client(studio_workspace.sandbox())
    SyncEngine(studio_workspace, client=client).run()
    open_page(app, "pages/monitor.py")
    assert [m.value for m in app.metric if m.label == "Contacts failing"] == ["12"]
    assert "MailerLite" in page_text(app)  # the reason of the selected failure
    by_label(app.button, "Retry all failed").click().run()
    assert_clean(app)
    assert any("Retried in run 2: 12 synced, 0 still failing." in s.value for s in app.success)
    assert len(studio_workspace.sandbox().state.subscribers) == 12


def test_contact_lookup_shows_one_contacts_whole_history(app, studio_workspace):
    arrange(studio_workspace)
    from sync_core.engine.run import SyncEngine

    SyncEngine(studio_workspace).run()
    open_page(app, "pages/monitor.py")
    app.text_input(key="monitor_email").set_value("P3@example.com").run()
    assert_clean(app)
    text = page_text(app)
    assert "status **active**" in text
    frames = [frame.value for frame in app.dataframe]
    sent = next(frame for frame in frames if "Value sent" in frame.columns)
    assert dict(zip(sent["Field"], sent["Value sent"]))["Partner key"] == "k3"  # the account's field name
    assert any("Outcome" in frame.columns and list(frame["Outcome"]) == ["Created"] for frame in frames)
    in_mailerlite = next(frame for frame in frames if list(frame.columns) == ["Field", "Value"])
    assert dict(zip(in_mailerlite["Field"], in_mailerlite["Value"]))["Partner key"] == "k3"  # asked of MailerLite
    assert "**In MailerLite now:** active · groups: " in text and "Partners" in text


def test_monitor_shows_the_live_queue_and_whether_a_worker_runs(app, studio_workspace):
    arrange(studio_workspace)
    EventStore(studio_workspace.database).requeue(statuses=("staged",))  # as if they came in as webhooks
    from storage.heartbeats import HeartbeatStore

    open_page(app, "pages/monitor.py")
    assert [m.value for m in app.metric if m.label == "Events waiting"] == ["12"]
    assert [m.value for m in app.metric if m.label == "Last Dodo Payments event"] == ["never"]
    assert any("No sync worker is running" in w.value for w in app.warning)
    HeartbeatStore(studio_workspace.database).beat("host:1:abc", state="idle", detail="waiting for events")
    open_page(app, "pages/monitor.py")
    assert any("The live sync is running and up to date." in s.value for s in app.success)


def test_monitor_says_which_account_each_run_went_to(app, studio_workspace, monkeypatch):
    """The README's path: a sandbox run, then the sandbox off and a run to the real account (here another sandbox
    account over HTTP, reached like a real one). Each run names its account, and that account got whole contacts."""
    from sync_core.engine.run import SyncEngine
    from sync_core.mailerlite import MailerLiteClient, MailerLiteSettings

    arrange(studio_workspace)
    SyncEngine(studio_workspace).run()
    with switched_to_a_real_account(studio_workspace, monkeypatch) as server:
        later = PARTNERS.replace(b",3\n", b",30\n")  # p3 sold more: one changed row
        import_file(EventStore(studio_workspace.database), io.BytesIO(later), name="day2.csv")
        run = SyncEngine(studio_workspace).run()
        assert run.created == 1, run.error
        p3 = MailerLiteClient(MailerLiteSettings(api_key="real-account-key-0001", base_url=server.base_url))
        subscriber = p3.get_subscriber("p3@example.com")
        assert subscriber.fields["name"] == "Pat N3" and subscriber.fields["total_sales"] == 30
        assert sorted(group.name for group in subscriber.groups) == ["Active Partners", "Partners"]

        open_page(app, "pages/monitor.py")
        runs = app.dataframe[0].value
        accounts = list(runs["Account"])
        assert accounts[1] == "Sandbox"
        assert accounts[0].startswith("MailerLite account, key from MAILERLITE_API_KEY")
        assert "real-account-key" not in page_text(app)
        app.text_input(key="monitor_email").set_value("p3@example.com").run()
        assert_clean(app)
        assert any(
            "In the account in use (MailerLite account, key from MAILERLITE_API_KEY" in m.value for m in app.markdown
        )


def test_the_same_file_uploaded_after_switching_accounts_is_synced_whole_to_the_new_one(
    app, studio_workspace, monkeypatch
):
    from sync_core.engine.run import SyncEngine
    from sync_core.mailerlite import MailerLiteClient, MailerLiteSettings

    arrange(studio_workspace)
    SyncEngine(studio_workspace).run()  # the sandbox has the 12 partners
    with switched_to_a_real_account(studio_workspace, monkeypatch) as server:
        open_page(app, "pages/run_sync.py")
        app.file_uploader[0].set_value(("partners.csv", PARTNERS, "text/csv")).run()
        by_label(app.button, "Import the file").click().run()
        assert_clean(app)
        (message,) = [w.value for w in app.warning if "partners.csv" in w.value]  # with its broken row
        assert "0 new, 13 already known" in message and "12 synced to another account wait again" in message
        by_label(app.toggle, "Dry run: record what would be sent, send nothing").set_value(False).run()
        by_label(app.button, "Start the sync").click().run()
        assert_clean(app)
        run_until(app, finished("Run 2 finished"))
        assert [m.value for m in app.metric if m.label == "Created"] == ["12"]
        client = MailerLiteClient(MailerLiteSettings(api_key="real-account-key-0001", base_url=server.base_url))
        assert client.count_subscribers() == 12
        assert client.get_subscriber("p4@example.com").fields["name"] == "Pat N4"


def test_the_contact_lookup_shows_what_mailerlite_said(app, studio_workspace):
    """A MailerLite unsubscribe (its webhook) is in the contact's history, and the contact is shown suppressed."""
    from storage.events import NewEvent
    from sync_core.domain.sources.mailerlite import read_delivery
    from sync_core.engine.mailerlite_events import settle_mailerlite_events
    from tests.webhooks.mailerlite_helpers import batched, event, subscriber

    (item,) = read_delivery(batched(event("subscriber.unsubscribed", subscriber("lee@example.com", id="42"))))
    EventStore(studio_workspace.database).add_many(
        [NewEvent("mailerlite", item.id, item.body, item.type, item.email, item.occurred_at, origin="webhook")]
    )
    assert settle_mailerlite_events(studio_workspace) == 1
    open_page(app, "pages/monitor.py")
    app.text_input(key="monitor_email").set_value("lee@example.com").run()
    assert_clean(app)
    assert "status **unsubscribed**" in page_text(app)
    assert "MailerLite subscriber id: 42" in page_text(app)  # under Advanced
    history = next(frame.value for frame in app.dataframe if "From" in frame.value.columns)
    assert list(zip(history["From"], history["Event"], history["Where it stands"], history["Why"])) == [
        ("MailerLite", "subscriber.unsubscribed", "Synced", "MailerLite said: unsubscribed")
    ]
