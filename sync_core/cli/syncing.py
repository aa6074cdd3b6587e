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
from storage.statuses import EventStatus, ItemOutcome, RunStatus
from storage.tables import SyncRun
from sync_core.cli.errors import CommandError, plain_message
from sync_core.cli.output import Column, print_json, print_table
from sync_core.domain.config import ConfigError, load_config
from sync_core.domain.sources.records import RECORD_KINDS
from sync_core.engine.accounts import account_in_use
from sync_core.engine.file_import import import_file, preview_file
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
    command.add_argument(
        "--preview",
        action="store_true",
        help="show the columns, how they map and the rows it would reject; store nothing",
    )
    command.add_argument("--email-column", metavar="NAME", help="the column that holds the email addresses")
    command.add_argument("--json", action="store_true", help="machine-readable output")
    command.set_defaults(handler=run_import)

    command = subparsers.add_parser("sync", help="sync the waiting events (imported files and webhooks) to MailerLite")
    command.add_argument("--dry-run", action="store_true", help="plan and record what would be sent; send nothing")
    command.add_argument("--limit", type=int, metavar="N", help="only the first N contacts (a careful start)")
    command.add_argument(
        "--json",
        action="store_true",
        help="the run as JSON; with --dry-run: every contact's changes, one JSON object per line",
    )
    command.set_defaults(handler=run_sync)

    command = subparsers.add_parser("retry", help="sync failed items again")
    which = command.add_mutually_exclusive_group(required=True)
    which.add_argument("--all", action="store_true", help="every failed item")
    which.add_argument("--item", type=int, action="append", metavar="ID", help="this item (repeatable)")
    command.add_argument("--json", action="store_true", help="machine-readable output")
    command.set_defaults(handler=run_retry)

    command = subparsers.add_parser("runs", help="recent sync runs")
    command.add_argument("--limit", type=int, default=20)
    command.add_argument("--json", action="store_true", help="machine-readable output")
    command.set_defaults(handler=list_runs)

    command = subparsers.add_parser("contact", help="one contact's events and sync items")
    command.add_argument("email")
    command.add_argument("--json", action="store_true", help="machine-readable output")
    command.set_defaults(handler=show_contact)

    command = subparsers.add_parser("test-connection", help="check the MailerLite key and account")
    command.add_argument("--json", action="store_true", help="machine-readable output")
    command.set_defaults(handler=run_test_connection)


def register_config(config_commands: argparse._SubParsersAction) -> None:
    """``config import`` (and ``config export`` of the stored configuration) join the core's config group."""
    command = config_commands.add_parser("import", help="store a configuration document as the new version")
    command.add_argument("file", type=Path)
    command.add_argument("--comment", default="")
    command.add_argument("--json", action="store_true", help="machine-readable output")
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
    say_account(workspace, file=sys.stderr if args.json else None)
    if not args.file.exists():
        raise CommandError(f"there is no file {args.file}; check the path")
    if args.preview:
        return _preview_import(workspace, args)
    try:
        summary = import_file(
            workspace.events,
            args.file,
            kind=args.kind,
            file_format=args.format,
            progress=lambda s: print(f"  {s.read:,} read...", file=sys.stderr),
            account=account.key if (account := account_in_use(workspace)) else None,
            config=workspace.active_config().config,
            email_column=args.email_column,
        )
    except ValueError as exc:
        raise CommandError(str(exc)) from None
    if args.json:
        print_json(
            {
                "name": summary.name,
                "read": summary.read,
                "stored": summary.stored,
                "duplicates": summary.duplicates,
                "requeued": summary.requeued,
                "rejected": summary.rejected,
                "invalid": summary.invalid,
                "problems": summary.problems,
            }
        )
        return 0
    print(summary.describe())
    if summary.stored:
        print(
            "The new rows wait for you: see what would be sent with `python -m sync_core sync --dry-run`, "
            "then send them with `python -m sync_core sync`."
        )
    return 0


def _preview_import(workspace: Workspace, args: argparse.Namespace) -> int:
    """``import FILE --preview``: what the import would do; nothing is stored."""
    try:
        preview = preview_file(
            args.file,
            kind=args.kind,
            file_format=args.format,
            config=workspace.active_config().config,
            email_column=args.email_column,
        )
    except ValueError as exc:
        raise CommandError(str(exc)) from None
    if args.json:
        print_json(preview.to_json())
        return 0
    print(preview.describe().splitlines()[0])
    if preview.columns:
        print("Columns and what they become in MailerLite:")
        print_table(
            (Column("column", min_width=8), Column("sent as", min_width=20), Column("for example", drop_order=1)),
            [(use.column, use.in_words(), ", ".join(use.examples)) for use in preview.mapping],
        )
    if preview.rows:
        print(f"The first {len(preview.rows)} row(s):")
        print_table(
            [Column(name, min_width=6) for name in preview.columns],
            [[row.get(name, "") for name in preview.columns] for row in preview.rows],
        )
    if preview.problem:
        print("Choose the email column with --email-column NAME.")
        return 0
    if preview.rejected:
        print("Rows that would be rejected:")
        print_table(
            (Column("row", right=True), Column("why", min_width=20)),
            [(row.row, row.reason) for row in preview.rejected[:20]],
        )
        if preview.rejected_count > 20:
            print(f"  … and {preview.rejected_count - 20:,} more (--json lists them all)")
    print("Nothing was stored. Import it without --preview when it looks right.")
    return 0


#: What became of the contacts of a run, in words; a dry run says what *would* happen (``WOULD``).
OUTCOME_WORDS = {
    ItemOutcome.CREATED: "created",
    ItemOutcome.UPDATED: "updated",
    ItemOutcome.UNSUBSCRIBED: "unsubscribed",
    ItemOutcome.DELETED: "deleted",
    ItemOutcome.UNCHANGED: "unchanged",
    ItemOutcome.SUPPRESSED: "not sent (unsubscribed or bounced)",
    ItemOutcome.SKIPPED: "skipped",
    ItemOutcome.INVALID: "with data to fix",
    ItemOutcome.FAILED: "failed",
    ItemOutcome.DEAD: "given up after failing again and again",
    ItemOutcome.IGNORED: "ignored",
    ItemOutcome.REJECTED: "rejected",
    ItemOutcome.FORGOTTEN: "forgotten",
}
WOULD = {
    ItemOutcome.CREATED: "would create",
    ItemOutcome.UPDATED: "would update",
    ItemOutcome.UNSUBSCRIBED: "would unsubscribe",
    ItemOutcome.DELETED: "would delete",
    ItemOutcome.FORGOTTEN: "would forget",
    ItemOutcome.FAILED: "could not plan",
}


def outcome_words(run: SyncRun) -> str:
    """``2 created, 1 failed`` (a dry run: ``would create 2, 1 unchanged``); empty when nothing happened."""
    parts = []
    for outcome in ItemOutcome:
        number = getattr(run, outcome)
        if not number:
            continue
        if run.dry_run and outcome in WOULD:
            parts.append(f"{WOULD[outcome]} {number:,}")
        else:
            parts.append(f"{number:,} {OUTCOME_WORDS[outcome]}")
    return ", ".join(parts)


def _print_run(run: SyncRun) -> None:
    kind = "Dry run" if run.dry_run else "Run"
    nothing = "nothing to do" if run.status == RunStatus.FINISHED else "nothing synced"
    print(
        f"{kind} {run.id} {run.status} in {run.duration_seconds:.1f} s: {outcome_words(run) or nothing}; "
        f"{run.requests} request(s) to MailerLite"
    )
    if run.error:
        print(f"  {plain_message(run.error)}")
    if run.notes:
        print(f"  {run.notes}")


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
    if args.json and args.dry_run:
        _print_changes(workspace, run, as_json=True)
    elif args.json:
        print_json(run_json(run))
    else:
        _print_run(run)
        if run.dry_run:
            _print_changes(workspace, run, as_json=False)
    return 0 if run.status == RunStatus.FINISHED else 1


def run_retry(args: argparse.Namespace) -> int:
    workspace = _workspace()
    say_account(workspace, file=sys.stderr if args.json else None)
    if args.all and not workspace.events.counts().get(EventStatus.FAILED, 0):
        return _nothing_to_retry("no contact failed to sync, so none waits for a retry", as_json=args.json)
    try:
        run = SyncEngine(workspace).retry(item_ids=None if args.all else args.item)
    except SyncError as exc:
        if str(exc).startswith("nothing to retry"):  # the items asked for were synced since: a normal state
            return _nothing_to_retry("these items' contacts are not failed (retried and synced already?)", args.json)
        raise CommandError(str(exc)) from None
    if args.json:
        print_json(run_json(run))
    else:
        _print_run(run)
    return 0 if run.status == RunStatus.FINISHED else 1


def _nothing_to_retry(why: str, as_json: bool) -> int:
    if as_json:
        print_json({"retried": False, "message": f"Nothing to retry: {why}.", "run": None})
    else:
        print(f"Nothing to retry: {why}.")
    return 0


def run_json(run: SyncRun) -> dict[str, object]:
    """A run for machines: every column of the stored run, plus its outcome in words."""
    return {**run.model_dump(mode="json"), "summary": outcome_words(run)}


def list_runs(args: argparse.Namespace) -> int:
    runs = _workspace().runs.recent(limit=args.limit)
    if args.json:
        print_json([run_json(run) for run in runs])
        return 0
    if not runs:
        print("No sync run yet: import a file (python -m sync_core import FILE), then sync.")
        return 0
    print_table(
        RUN_COLUMNS,
        [
            (
                run.id,
                f"{run.started_at:%Y-%m-%d %H:%M}",
                "dry run" if run.dry_run else "sync",
                run.status,
                outcome_words(run) or ("nothing to do" if run.status == RunStatus.FINISHED else "nothing synced"),
                run.requests,
            )
            for run in runs
        ],
    )
    return 0


RUN_COLUMNS = (
    Column("run", right=True),
    Column("started (UTC)", min_width=10),
    Column("kind", drop_order=1),
    Column("status", min_width=6),
    Column("contacts", min_width=16),
    Column("requests", right=True, drop_order=2),
)


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
    if events:
        print("Events:")
        print_table(
            EVENT_COLUMNS,
            [
                (
                    event.id,
                    f"{event.received_at:%Y-%m-%d %H:%M}",
                    event.source,
                    event.event_type,
                    event.status,
                    plain_message(event.reason) if event.reason else "",
                )
                for event in events
            ],
        )
    if items:
        print("Sync items:")
        print_table(
            ITEM_COLUMNS,
            [
                (
                    item.id,
                    item.run_id,
                    f"{item.created_at:%Y-%m-%d %H:%M}",
                    _item_outcome(item.outcome, item.dry_run),
                    plain_message(item.reason) if item.reason else "",
                )
                for item in items
            ],
        )
    return 0


EVENT_COLUMNS = (
    Column("event", right=True),
    Column("received (UTC)", min_width=10),
    Column("from", drop_order=2),
    Column("what", drop_order=1, min_width=8),
    Column("status"),
    Column("why", min_width=12),
)
ITEM_COLUMNS = (
    Column("item", right=True),
    Column("run", right=True),
    Column("when (UTC)", min_width=10),
    Column("outcome", min_width=10),
    Column("why", min_width=12),
)


def _item_outcome(outcome: str, dry_run: bool) -> str:
    """An item's outcome in words: ``created``, or ``would create (dry run)``."""
    try:
        known = ItemOutcome(outcome)
    except ValueError:
        return outcome
    if not dry_run:
        return OUTCOME_WORDS[known]
    return f"{WOULD.get(known, OUTCOME_WORDS[known])} (dry run)"


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
    say_account(workspace, file=sys.stderr if args.json else None)
    report = test_connection(workspace.client())
    if args.json:
        print_json(
            {
                "connected": report.ok,
                "problem": plain_message(report.problem) if report.problem else None,
                "subscribers": report.subscriber_count,
                "groups": len(report.groups),
                "fields": len(report.fields),
                "requests_left_this_minute": report.rate_limit_remaining,
            }
        )
    else:
        print(report.summary() if report.ok else f"Not connected. {plain_message(report.problem or '')}")
    return 0 if report.ok else 1
