"""``python -m sync_core drift check [--json]`` and ``drift repair [--dry-run] [--recreate-deleted]``: compare the
account with what the studio decided, and bring it back (sync_core.engine.drift)."""

from __future__ import annotations

import argparse
import itertools
import json
import sys

from sync_core.cli.errors import CommandError
from sync_core.cli.syncing import FIRST_CHANGES, _print_changes, _print_run, say_account
from sync_core.engine import drift
from sync_core.engine.workspace import RunStatus, Workspace


def register(subparsers: argparse._SubParsersAction) -> None:
    group = subparsers.add_parser("drift", help="compare the MailerLite account with what the studio decided; repair")
    commands = group.add_subparsers(dest="drift_command", metavar="ACTION")
    commands.required = True

    command = commands.add_parser("check", help="read the account and list the contacts that differ")
    command.add_argument("--json", action="store_true", help="the check and every differing contact, as JSON")
    command.set_defaults(handler=run_check)

    command = commands.add_parser("repair", help="send what the last check found, so MailerLite holds it again")
    command.add_argument("--dry-run", action="store_true", help="record what would be sent; send nothing")
    command.add_argument(
        "--recreate-deleted", action="store_true", help="bring back the contacts deleted in MailerLite (off by default)"
    )
    command.add_argument("--json", action="store_true", help="with --dry-run: every contact's changes, one per line")
    command.set_defaults(handler=run_repair)


def run_check(args: argparse.Namespace) -> int:
    workspace = Workspace()
    say_account(workspace, file=sys.stderr if args.json else None)
    try:
        check = drift.check(
            workspace,
            trigger="cli",
            progress=lambda p: print(f"  {p.read:,} of {p.total:,} subscribers read", file=sys.stderr),
        )
    except drift.DriftError as exc:
        raise CommandError(str(exc)) from None
    assert check.id is not None
    if args.json:
        document = {
            "check": check.model_dump(mode="json"),
            "summary": drift.describe(check),
            "contacts": [item.to_json() for item in drift.iter_drifts(workspace, check.id)],
        }
        print(json.dumps(document, indent=2, ensure_ascii=False, default=str))
        return 0 if check.status == "finished" else 1
    print(drift.describe(check))
    print(
        f"  {check.subscribers_read:,} subscribers read, {check.contacts_compared:,} of them synced by the studio; "
        f"{check.requests:,} request(s) to MailerLite"
    )
    shown = list(itertools.islice(drift.iter_drifts(workspace, check.id), FIRST_CHANGES + 1))
    for item in shown[:FIRST_CHANGES]:
        parts = [f"{row['difference']} {row['what']}".strip() for row in item.rows()]
        print(f"  {item.email}: {'; '.join(parts)}")
    if len(shown) > FIRST_CHANGES:
        print("  … and more: python -m sync_core drift check --json lists every contact")
    if check.contacts_differ:
        print("See what a repair would send: python -m sync_core drift repair --dry-run")
    return 0 if check.status == "finished" else 1


def run_repair(args: argparse.Namespace) -> int:
    workspace = Workspace()
    if args.json and not args.dry_run:
        raise CommandError("--json goes with --dry-run: it lists what a repair would change")
    say_account(workspace, file=sys.stderr if args.json else None)
    try:
        run = drift.repair(
            workspace,
            dry_run=args.dry_run,
            recreate_deleted=args.recreate_deleted,
            progress=lambda p: print(f"  {p.contacts:,} contacts", file=sys.stderr),
        )
    except drift.DriftError as exc:
        if str(exc).startswith("there is nothing to repair"):  # no check yet: a normal state, said as one
            print("Nothing to repair yet: compare with MailerLite first (python -m sync_core drift check).")
            return 0
        raise CommandError(str(exc)) from None
    if args.json:
        _print_changes(workspace, run, as_json=True)
    else:
        _print_run(run)
        if run.dry_run:
            _print_changes(workspace, run, as_json=False)
            print(
                "Send it: python -m sync_core drift repair" + (" --recreate-deleted" if args.recreate_deleted else "")
            )
    return 0 if run.status == RunStatus.FINISHED else 1
