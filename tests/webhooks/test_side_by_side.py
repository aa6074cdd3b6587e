"""Several receivers and several workers on one database (as separate processes would be: each has its own
database engine): every event stored once, every contact sent once, one sync at a time per account."""

from __future__ import annotations

import itertools
from concurrent.futures import ThreadPoolExecutor

import pytest
from starlette.applications import Starlette

from storage import Database
from storage.events import EventStore
from sync_core.engine.workspace import Workspace
from sync_core.live import LiveSync
from sync_core.live.worker import WorkerSettings
from sync_core.sandbox import sandbox_client
from tests.engine.test_crash import CountingAccount
from tests.webhooks.helpers import (
    ClientPerThread,
    both_sources_config,
    dodo_body,
    dodo_headers,
    partnero_body,
    partnero_headers,
    serve_app,
)
from tests.webhooks.test_worker import wait_until

EVENTS = 150  # per source


@pytest.mark.slow
@pytest.mark.usefixtures("secrets_in_env")
def test_two_receivers_and_two_workers_side_by_side(workspace, tmp_path):
    workspace.save_config(both_sources_config())
    account = CountingAccount(limit=100_000, window_seconds=1, import_limit=10_000)
    settings = WorkerSettings(
        idle_seconds=0.02,
        gather_seconds=0.05,
        heartbeat_seconds=0.1,
        standby_seconds=0.02,
        backoff_initial_seconds=0.05,
    )
    second_database = Database(workspace.database.url)  # another "process" on the same database
    second = Workspace(second_database, directory=workspace.directory)
    lives = [
        LiveSync(lambda ws=ws: ws, worker=True, worker_settings=settings, worker_client=sandbox_client(account))
        for ws in (workspace, second)
    ]
    bodies = [("/webhooks/dodo-payments", dodo_body(n), f"msg_{n}") for n in range(EVENTS)]
    bodies += [("/webhooks/partnero", partnero_body(n), None) for n in range(EVENTS)]
    try:
        with (
            serve_app(Starlette(routes=lives[0].routes(), lifespan=lives[0].lifespan)) as first_url,
            serve_app(Starlette(routes=lives[1].routes(), lifespan=lives[1].lifespan)) as second_url,
        ):
            # every event goes to both receivers (a sender retrying through another node)
            jobs = [
                (url, path, body, msg_id)
                for (path, body, msg_id), url in itertools.product(bodies, (first_url, second_url))
            ]

            def send(job):
                url, path, body, msg_id = job
                headers = dodo_headers(body, msg_id=msg_id) if msg_id else partnero_headers(body)
                return clients.get().post(url + path, content=body, headers=headers).status_code

            with ThreadPoolExecutor(8) as pool, ClientPerThread() as clients:
                codes = list(pool.map(send, jobs))
            assert codes == [200] * len(jobs)
            wait_until(lambda: EventStore(workspace.database).counts() == {"synced": 2 * EVENTS}, timeout=60)
            assert all(live.worker is not None and live.worker.alive for live in lives)
    finally:
        second_database.dispose()
    assert len(account.upserts) == 2 * EVENTS and set(account.upserts.values()) == {1}
    with workspace.database.engine.connect() as connection:
        created = connection.exec_driver_sql(
            "SELECT email, count(*) FROM sync_item WHERE outcome = 'created' GROUP BY email"
        ).all()
        triggers = {row[0] for row in connection.exec_driver_sql("SELECT DISTINCT trigger FROM sync_run")}
    assert len(created) == 2 * EVENTS and {count for _, count in created} == {1}
    assert triggers == {"worker"}
