"""``python -m sync_core status [--json]``: where things stand, in a few lines: the account in use, the rows and
events waiting, the last run and whether a sync worker runs."""

from __future__ import annotations

import argparse

from storage import describe_url
from sync_core.cli.output import print_json
from sync_core.cli.syncing import outcome_words, say_account
from sync_core.engine.workspace import EventStatus, Workspace
from sync_core.live.queue_status import worker_states


def register(subparsers: argparse._SubParsersAction) -> None:
    command = subparsers.add_parser("status", help="the account in use, what waits to sync, the last run, the worker")
    command.add_argument("--json", action="store_true", help="machine-readable output")
    command.set_defaults(handler=run_status)


def run_status(args: argparse.Namespace) -> int:
    workspace = Workspace()
    counts = workspace.events.counts()
    last = next(iter(workspace.runs.recent(limit=1)), None)
    workers = [worker for worker in worker_states(workspace.database) if worker.alive]
    waiting = {
        "imported_rows": counts.get(EventStatus.STAGED, 0),
        "events": counts.get(EventStatus.PENDING, 0),
        "failed": counts.get(EventStatus.FAILED, 0),
    }
    if args.json:
        print_json(
            {
                "account": "sandbox" if workspace.uses_sandbox() else "mailerlite",
                "base_url": None if workspace.uses_sandbox() else workspace.base_url(),
                "database": describe_url(workspace.database.url),
                "waiting": waiting,
                "last_run": None
                if last is None
                else {
                    "id": last.id,
                    "dry_run": last.dry_run,
                    "status": last.status,
                    "started_at": last.started_at.isoformat(),
                    "summary": outcome_words(last),
                },
                "workers": [{"name": worker.name, "state": worker.state} for worker in workers],
            }
        )
        return 0
    say_account(workspace)
    print(
        f"Waiting: {waiting['imported_rows']:,} imported row(s) for you to sync, {waiting['events']:,} webhook "
        f"event(s) for the worker, {waiting['failed']:,} failed for a retry."
    )
    if last is None:
        print("No sync run yet: import a file (python -m sync_core import FILE), then sync.")
    else:
        kind = "dry run" if last.dry_run else "run"
        print(
            f"Last {kind}: {last.id}, {last.status} on {last.started_at:%Y-%m-%d %H:%M} UTC: "
            f"{outcome_words(last) or 'nothing to do'}."
        )
    if workers:
        print(f"Sync worker: running ({', '.join(worker.name for worker in workers)}).")
    else:
        print("Sync worker: not running; webhook events wait until one runs (python -m sync_core worker).")
    return 0
