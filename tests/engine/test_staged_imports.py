"""A file imported with the command line waits for a person: the worker leaves it alone (it syncs webhook events
at once), ``sync --dry-run`` reads it without changing it, ``sync`` sends it; a run asked for by a person is
carried out by the worker and can be cancelled between batches."""

from __future__ import annotations

import pytest

from storage.events import EventStore
from storage.run_requests import RunRequestStore
from sync_core.cli.main import main
from sync_core.domain.presets import load_preset
from sync_core.engine import run_requests
from sync_core.live.worker import Worker, WorkerSettings
from tests.engine.conftest import fast_client, import_bytes, partners_csv, queue_bytes

FAST = WorkerSettings(idle_seconds=0.01, gather_seconds=0.0, heartbeat_seconds=60)


@pytest.fixture
def cli_env(workspace, monkeypatch):
    monkeypatch.setenv("DATABASE_URL", workspace.database.url)
    workspace.save_config(load_preset("partnero"), author="test")
    return workspace


def test_a_file_imported_with_the_cli_waits_for_sync_while_the_worker_runs(cli_env, tmp_path, capsys):
    workspace = cli_env
    path = tmp_path / "partners.csv"
    path.write_bytes(partners_csv(20))
    assert main(["import", str(path)]) == 0
    assert "wait for you" in capsys.readouterr().out
    worker = Worker(workspace, settings=FAST)
    for _ in range(3):
        worker.step()
    assert workspace.runs.recent() == [] and workspace.sandbox().state.subscribers == {}
    assert EventStore(workspace.database).counts() == {"staged": 20}

    assert main(["sync", "--dry-run"]) == 0
    assert EventStore(workspace.database).counts() == {"staged": 20}  # a dry run changes nothing
    assert main(["sync"]) == 0
    assert "20 created" in capsys.readouterr().out
    assert EventStore(workspace.database).counts() == {"synced": 20}


def test_webhook_events_still_flow_at_once_beside_a_staged_file(cli_env, account):
    workspace = cli_env
    queue_bytes(workspace, partners_csv(5))  # live events (as webhooks arrive)
    import_bytes(workspace, partners_csv(7, start=100))  # a file: it waits
    worker = Worker(workspace, client=fast_client(account), settings=FAST)
    worker.step()
    assert EventStore(workspace.database).counts() == {"synced": 5, "staged": 7}


def test_a_requested_run_is_carried_out_by_the_worker_and_cancelled_between_batches(cli_env, account, monkeypatch):
    workspace = cli_env
    import_bytes(workspace, partners_csv(600))  # 13 batches: more than are ever in flight at once
    request_id = run_requests.request_run(workspace, dry_run=False, limit=None)
    store = RunRequestStore(workspace.database)
    original = store.cancel_requested
    batches = []

    def cancel_after_the_first_batch(rid: int) -> bool:
        batches.append(rid)
        if len(batches) == 2:  # asked before the first chunk and after the first batch
            run_requests.cancel_run(workspace, rid)
        return original(rid)

    monkeypatch.setattr(RunRequestStore, "cancel_requested", lambda self, rid: cancel_after_the_first_batch(rid))
    Worker(workspace, client=fast_client(account), settings=FAST).step()
    request = store.get(request_id)
    run = workspace.runs.get(request.run_id)
    assert request.status == "done" and request.runner == "worker"
    assert run.status == "cancelled" and "cancelled after" in run.error
    counts = EventStore(workspace.database).counts()
    # the batches in flight when the cancel came were recorded; the rest still waits
    assert counts["synced"] == run.created > 0 and counts["staged"] == 600 - run.created
    assert request.contacts_done == run.created and request.contacts_total == 600


def test_a_request_whose_process_is_gone_ends_instead_of_blocking_the_page(cli_env):
    from storage.locks import HOST

    workspace = cli_env
    request_id = run_requests.request_run(workspace, dry_run=True, limit=None)
    RunRequestStore(workspace.database).claim(request_id, holder=f"{HOST}:999999999:dead", runner="dashboard")
    assert run_requests.unfinished(workspace) is None  # a new run can be started
    shown = run_requests.view(workspace, request_id)
    assert shown.done and "stopped before it finished" in shown.error and "nothing was lost" in shown.error
