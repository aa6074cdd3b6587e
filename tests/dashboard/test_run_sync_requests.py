"""Run sync hands its runs to the worker (or, with no worker, to a background thread): an imported file waits for a
person even while the worker runs, the progress is read from the database (so a reload shows it), and a run can
be cancelled between two batches with nothing lost."""

from __future__ import annotations

import io
import time

from storage.events import EventStore
from storage.run_requests import RunRequestStore
from sync_core.domain.presets import load_preset
from sync_core.engine.file_import import import_file
from sync_core.live.queue_status import worker_states
from sync_core.live.worker import Worker, WorkerSettings
from sync_core.sandbox import FaultSettings
from tests.dashboard.helpers import assert_clean, by_label, open_page, page_on, page_text
from tests.dashboard.test_run_and_monitor_pages import PARTNERS, finished, run_until
from tests.engine.conftest import partners_csv

DRY_TOGGLE = "Dry run: record what would be sent, send nothing"


def progress_texts(app) -> list[str]:
    return [element.proto.text for element in app.get("progress")]


def test_an_imported_file_waits_for_a_person_while_the_worker_runs(app, studio_workspace):
    studio_workspace.save_config(load_preset("partnero"), author="test")
    worker = Worker(
        studio_workspace, settings=WorkerSettings(idle_seconds=0.1, gather_seconds=0.1, heartbeat_seconds=0.5)
    ).start()
    try:
        deadline = time.monotonic() + 10
        while not any(state.alive for state in worker_states(studio_workspace.database)):
            assert time.monotonic() < deadline
            time.sleep(0.1)
        open_page(app, "pages/run_sync.py")
        app.file_uploader[0].set_value(("partners.csv", PARTNERS, "text/csv")).run()
        by_label(app.button, "Import the file").click().run()
        assert_clean(app)
        assert "12 new" in page_text(app)
        time.sleep(2.5)  # the worker looks every 0.1 s: it would have synced the rows by now
        assert studio_workspace.sandbox().state.subscribers == {}
        assert EventStore(studio_workspace.database).counts() == {"staged": 12, "rejected": 1}
        assert studio_workspace.runs.recent() == []
        app.run()
        assert "12 imported rows wait for you to start a dry run or a sync." in page_text(app)

        by_label(app.button, "Start the dry run").click().run()
        run_until(app, finished("Dry run 1 finished"))
        assert RunRequestStore(studio_workspace.database).get(1).runner == "worker"  # not the page's thread
        assert studio_workspace.sandbox().state.subscribers == {}
        assert EventStore(studio_workspace.database).counts()["staged"] == 12

        by_label(app.toggle, DRY_TOGGLE).set_value(False).run()
        by_label(app.button, "Start the sync").click().run()
        run_until(app, finished("Run 2 finished"))
        assert RunRequestStore(studio_workspace.database).get(2).runner == "worker"
        assert len(studio_workspace.sandbox().state.subscribers) == 12
        assert [m.value for m in app.metric if m.label == "Created"] == ["12"]
        assert [m.value for m in app.metric if m.label == "Imported rows waiting for you"] == ["0"]
    finally:
        worker.stop()


def test_the_progress_survives_a_reload_and_a_cancelled_run_loses_nothing(app, studio_workspace, monkeypatch):
    # One batch at a time, so that the cancel lands between batches (six in flight would send all 300 at once).
    monkeypatch.setenv("SYNC_STUDIO_BATCHES_IN_FLIGHT", "1")
    studio_workspace.save_config(load_preset("partnero"), author="test")
    import_file(studio_workspace.events, io.BytesIO(partners_csv(300)), name="partners.csv")
    sandbox = studio_workspace.sandbox()
    sandbox.faults.settings = FaultSettings(latency_seconds=0.4)  # a slow account: the run takes a while
    try:
        open_page(app, "pages/run_sync.py")
        by_label(app.toggle, DRY_TOGGLE).set_value(False).run()
        by_label(app.button, "Start the sync").click().run()
        assert_clean(app)
        run_until(
            app, lambda a: any("of 300 contacts" in text and not text.startswith("0 ") for text in progress_texts(a))
        )
        assert "the dashboard runs this one in the background" in page_text(app)  # no worker runs here

        reloaded = page_on(studio_workspace, monkeypatch, "pages/run_sync.py")  # a new page view: no session state
        assert any("of 300 contacts" in text for text in progress_texts(reloaded)), page_text(reloaded)
        assert by_label(reloaded.button, "Start the dry run").disabled  # one run at a time
        by_label(reloaded.button, "Cancel the sync").click().run()
        assert_clean(reloaded)
        run_until(reloaded, finished("Run 1 cancelled"), timeout=90)
    finally:
        sandbox.faults.settings = FaultSettings()
    assert "cancelled after" in page_text(reloaded).lower()
    counts = EventStore(studio_workspace.database).counts()
    synced, staged = counts.get("synced", 0), counts.get("staged", 0)
    assert synced + staged == 300 and synced > 0 and staged > 0, counts  # nothing lost: the rest still waits
    assert len(sandbox.state.subscribers) == synced
    run = studio_workspace.runs.get(1)
    assert run.status == "cancelled" and run.created == synced


def test_a_run_started_in_another_tab_is_shown_over_this_tabs_finished_one(app, studio_workspace):
    from storage.heartbeats import HeartbeatStore
    from sync_core.engine import run_requests

    studio_workspace.save_config(load_preset("partnero"), author="test")
    import_file(studio_workspace.events, io.BytesIO(partners_csv(300)), name="partners.csv")
    open_page(app, "pages/run_sync.py")
    by_label(app.button, "Start the dry run").click().run()
    run_until(app, finished("Dry run 1 finished"))

    # Another tab (or person) asks for a sync, while a worker is alive but busy elsewhere: it stays queued.
    HeartbeatStore(studio_workspace.database).beat("busy-worker", state="syncing", detail="another run")
    run_requests.request_run(studio_workspace, dry_run=False, limit=None)
    app.run()
    assert_clean(app)
    texts = progress_texts(app)
    assert texts and "waits for the sync worker" in texts[0], page_text(app)
    assert "300 contacts" in texts[0] and "min" in texts[0]  # what it will take once it starts
    assert by_label(app.button, "Start the dry run").disabled  # one at a time
    assert not any("Dry run 1 finished" in s.value for s in app.success)
