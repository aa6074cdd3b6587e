"""Commands over the stored history: import, sync, retry, runs, contact, config import/export, test-connection.

Every command that talks to an account says on its first line which one: the sandbox (no API key set, or
sandbox switched on) or MailerLite.
"""

from __future__ import annotations

import argparse
import itertools
import json
import sys
from pathlib import Path
from typing import TextIO

from storage import describe_url
from storage.statuses import ItemOutcome, RunStatus
from storage.tables import SyncRun
from sync_core.cli.errors import CommandError
from sync_core.domain.config import ConfigError, load_config
from sync_core.domain.sources.records import RECORD_KINDS
from sync_core.engine.accounts import account_in_use
from sync_core.engine.file_import import import_file
from sync_core.engine.run import SyncEngine, SyncError
from sync_core.engine.run_changes import iter_run_changes
from sync_core.engine.workspace import Workspace
from sync_core.mailerlite import test_connection


def register(subparsers: argparse._SubParsersAction) -> None:
    command = subparsers.add_parser("import", help="store the rows or events of a file; they wait until you sync them")
    command.add_argument("file", type=Path, help="a .csv or .jsonl of records, or .json/.jsonl of webhook events")
    command.add_argument(
        "--kind", choices=RECORD_KINDS, help="records are partners or customers (default: told by the columns)"
    )
    command.add_argument("--format", choices=["csv", "jsonl", "json"], help="default: from the file name")
    command.set_defaults(handler=run_import)

    command = subparsers.add_parser("sync", help="sync the waiting events (imported files and webhooks) to MailerLite")
    command.add_argument("--dry-run", action="store_true", help="plan and record what would be sent; send nothing")
    command.add_argument("--limit", type=int, metavar="N", help="only the first N contacts (a careful start)")
    command.add_argument(
        "--json", action="store_true", help="with --dry-run: every contact's changes, one JSON object per line"
    )
    command.set_defaults(handler=run_sync)

    command = subparsers.add_parser("retry", help="sync failed items again")
    which = command.add_mutually_exclusive_group(required=True)
    which.add_argument("--all", action="store_true", help="every failed item")
    which.add_argument("--item", type=int, action="append", metavar="ID", help="this item (repeatable)")
    command.set_defaults(handler=run_retry)

    command = subparsers.add_parser("runs", help="recent sync runs")
    command.add_argument("--limit", type=int, default=20)
    command.add_argument("--json", action="store_true", help="machine-readable output")
    command.set_defaults(handler=list_runs)

    command = subparsers.add_parser("contact", help="one contact's events and sync items")
    command.add_argument("email")
    command.add_argument("--json", action="store_true")
    command.set_defaults(handler=show_contact)

    command = subparsers.add_parser("test-connection", help="check the MailerLite key and account")
    command.set_defaults(handler=run_test_connection)


def register_config(config_commands: argparse._SubParsersAction) -> None:
    """``config import`` (and ``config export`` of the stored configuration) join the core's config group."""
    command = config_commands.add_parser("import", help="store a configuration document as the new version")
    command.add_argument("file", type=Path)
    command.add_argument("--comment", default="")
    command.set_defaults(handler=import_config)


def _workspace() -> Workspace:
    return Workspace()


def say_account(workspace: Workspace, file: TextIO | None = None) -> None:
    if workspace.uses_sandbox():
        reason = "no MailerLite API key set" if not workspace.api_key() else "sandbox switched on"
        print(f"Account: the sandbox ({reason}). Database: {describe_url(workspace.database.url)}", file=file)
    else:
        print(
            f"Account: MailerLite at {workspace.base_url()} (key {workspace.api_key_status().words()}). "
            f"Database: {describe_url(workspace.database.url)}",
            file=file,
        )


def run_import(args: argparse.Namespace) -> int:
    workspace = _workspace()
    say_account(workspace)
    if not args.file.exists():
        raise CommandError(f"there is no file {args.file}")
    try:
        summary = import_file(
            workspace.events,
            args.file,
            kind=args.kind,
            file_format=args.format,
            progress=lambda s: print(f"  {s.read:,} read...", file=sys.stderr),
            account=account.key if (account := account_in_use(workspace)) else None,
            config=workspace.active_config().config,
        )
    except ValueError as exc:
        raise CommandError(str(exc)) from None
    print(summary.describe())
    if summary.stored:
        print(
            "The new rows wait for you: see what would be sent with `python -m sync_core sync --dry-run`, "
            "then send them with `python -m sync_core sync`."
        )
    return 0


def _print_run(run: SyncRun) -> None:
    counts = ", ".join(f"{getattr(run, name)} {name}" for name in ItemOutcome if getattr(run, name))
    kind = "Dry run" if run.dry_run else "Run"
    nothing = "nothing to do" if run.status == RunStatus.FINISHED else "nothing synced"
    print(
        f"{kind} {run.id} {run.status} in {run.duration_seconds:.1f} s: {counts or nothing}; "
        f"{run.requests} request(s) to MailerLite"
    )
    for text in (run.error, run.notes):
        if text:
            print(f"  {text}")


#: How many of a dry run's changes the summary prints in words (``--json`` gives them all).
FIRST_CHANGES = 10


def _print_changes(workspace: Workspace, run: SyncRun, *, as_json: bool) -> None:
    """A dry run's changes: the first few in words, or every one as a JSON object per line."""
    if run.id is None:
        return
    changes = iter_run_changes(workspace.runs, run.id)
    if as_json:
        for change in changes:
            print(json.dumps(change.to_json(), ensure_ascii=False, default=str))
        return
    shown = list(itertools.islice(changes, FIRST_CHANGES + 1))
    if not shown:
        return
    print("What would change:")
    for change in shown[:FIRST_CHANGES]:
        print(f"  {change.in_words()}")
    if len(shown) > FIRST_CHANGES:
        print("  … and more: python -m sync_core sync --dry-run --json lists every contact")


def run_sync(args: argparse.Namespace) -> int:
    workspace = _workspace()
    if args.json and not args.dry_run:
        raise CommandError("--json goes with --dry-run: it lists what a dry run would change")
    say_account(workspace, file=sys.stderr if args.json else None)
    if args.limit is not None and args.limit < 1:
        raise CommandError("--limit should be at least 1")
    try:
        run = SyncEngine(workspace).run(
            dry_run=args.dry_run,
            limit=args.limit,
            trigger="cli",
            staged=True,  # a person typed it: imported files too, not only the live queue
            progress=lambda p: print(f"  {p.contacts:,} contacts, {p.events:,} events", file=sys.stderr),
        )
    except SyncError as exc:
        raise CommandError(str(exc)) from None
    if args.json:
        _print_changes(workspace, run, as_json=True)
    else:
        _print_run(run)
        if run.dry_run:
            _print_changes(workspace, run, as_json=False)
    return 0 if run.status == RunStatus.FINISHED else 1


def run_retry(args: argparse.Namespace) -> int:
    workspace = _workspace()
    say_account(workspace)
    try:
        run = SyncEngine(workspace).retry(item_ids=None if args.all else args.item)
    except SyncError as exc:
        raise CommandError(str(exc)) from None
    _print_run(run)
    return 0 if run.status == RunStatus.FINISHED else 1


def list_runs(args: argparse.Namespace) -> int:
    runs = _workspace().runs.recent(limit=args.limit)
    if args.json:
        print(json.dumps([run.model_dump(mode="json") for run in runs], indent=2))
        return 0
    if not runs:
        print("No sync run yet: import a file (python -m sync_core import FILE), then sync.")
        return 0
    print(
        f"{'run':>5}  {'started (UTC)':19}  {'status':11}  {'dry':3}  "
        + "  ".join(f"{name:>9}" for name in ItemOutcome)
        + f"  {'requests':>8}"
    )
    for run in runs:
        print(
            f"{run.id:>5}  {run.started_at:%Y-%m-%d %H:%M:%S}  {run.status:11}  {'yes' if run.dry_run else '':3}  "
            + "  ".join(f"{getattr(run, name):>9}" for name in ItemOutcome)
            + f"  {run.requests:>8}"
        )
    return 0


def show_contact(args: argparse.Namespace) -> int:
    workspace = _workspace()
    email = args.email.strip().lower()
    events = workspace.events.for_email(email)
    items = workspace.runs.items(email=email, limit=200)
    if args.json:
        print(
            json.dumps(
                {
                    "email": email,
                    "events": [e.model_dump(mode="json", exclude={"body"}) for e in events],
                    "items": [i.model_dump(mode="json") for i in items],
                },
                indent=2,
            )
        )
        return 0
    account = account_in_use(workspace)
    remembered = workspace.contacts.get(account.key, email) if account is not None else None
    if not events and not items and remembered is None:
        print(f"Nothing is known about {email}: no event mentions this address.")
        return 1
    print(f"{email}: {len(events)} event(s), {len(items)} sync item(s)")
    if remembered is not None and account is not None:
        print(
            f"  in the account in use ({account.label}): MailerLite subscriber "
            f"{remembered.subscriber_id or 'not created yet'}, status {remembered.status or 'unknown'}"
        )
    for event in events:
        reason = f" — {event.reason}" if event.reason else ""
        print(
            f"  event {event.id}  {event.received_at:%Y-%m-%d %H:%M:%S}  {event.source} {event.event_type}  "
            f"{event.status}{reason}"
        )
    for item in items:
        dry = " (dry run)" if item.dry_run else ""
        reason = f" — {item.reason}" if item.reason else ""
        print(f"  item {item.id}  run {item.run_id}  {item.created_at:%Y-%m-%d %H:%M:%S}  {item.outcome}{dry}{reason}")
    return 0


def import_config(args: argparse.Namespace) -> int:
    try:
        config = load_config(args.file.read_text(encoding="utf-8"))
    except OSError as exc:
        raise CommandError(f"cannot read {args.file}: {exc.strerror}") from None
    except ConfigError as exc:
        raise CommandError(f"{args.file}: {exc} Nothing was saved.") from None
    version = _workspace().save_config(config, author="command line", comment=args.comment or args.file.name)
    print(f"Saved as configuration version {version}.")
    return 0


def run_test_connection(args: argparse.Namespace) -> int:
    workspace = _workspace()
    say_account(workspace)
    report = test_connection(workspace.client())
    print(report.summary())
    return 0 if report.ok else 1
