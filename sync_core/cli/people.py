"""``python -m sync_core users …`` and ``audit``: who may sign in to the dashboard, and who did what.

The command line acts as the studio itself (whoever may run it owns the data directory), so it can add the
first admin on a machine where no one can sign in yet. Passwords are read from standard input, never from the
command line, where other users of the machine could read them.
"""

from __future__ import annotations

import argparse
import json
import sys

from sync_core.cli.errors import CommandError
from sync_core.cli.output import Column, print_table
from sync_core.domain.access import NotAllowed, Role
from sync_core.engine.people import add_person, change_person, remove_person
from sync_core.engine.workspace import Workspace

ROLES = [role.value for role in Role]


def register(subparsers: argparse._SubParsersAction) -> None:
    users = subparsers.add_parser("users", help="who may sign in to the dashboard, and their roles")
    commands = users.add_subparsers(dest="users_command", metavar="ACTION")
    commands.required = True

    add = commands.add_parser("add", help="let someone sign in (a password from stdin, or single sign-on)")
    add.add_argument("name", help="a user name, or the person's email for single sign-on")
    add.add_argument("--role", choices=ROLES, required=True)
    add.add_argument("--password-stdin", action="store_true", help="read their password from standard input")
    add.add_argument("--may-export-bodies", action="store_true", help="a viewer whose exports hold request bodies")
    add.set_defaults(handler=run_add)

    listing = commands.add_parser("list", help="everyone who may sign in")
    listing.add_argument("--json", action="store_true", help="print JSON for machines")
    listing.set_defaults(handler=run_list)

    remove = commands.add_parser("remove", help="stop someone from signing in (their sessions end)")
    remove.add_argument("name")
    remove.set_defaults(handler=run_remove)

    role = commands.add_parser("set-role", help="change someone's role")
    role.add_argument("name")
    role.add_argument("role", choices=ROLES)
    role.set_defaults(handler=run_set_role)

    password = commands.add_parser("set-password", help="change someone's password (their sessions end)")
    password.add_argument("name")
    password.add_argument("--password-stdin", action="store_true", required=True)
    password.set_defaults(handler=run_set_password)

    audit = subparsers.add_parser("audit", help="the audit log: sign-ins, secrets, changes, syncs, exports")
    audit.add_argument("--limit", type=int, default=50, help="how many entries, newest first (default 50)")
    audit.add_argument("--json", action="store_true", help="print JSON for machines")
    audit.set_defaults(handler=run_audit)


def _password() -> str:
    text = sys.stdin.readline()
    if not text:
        raise CommandError("no password on standard input: pipe it in, e.g. printf '%s' \"$PASSWORD\" | …")
    return text.rstrip("\r\n")


def _carry_out(action, *args, **kwargs):  # noqa: ANN001, ANN002, ANN003, ANN202
    try:
        return action(*args, **kwargs)
    except (ValueError, NotAllowed) as exc:
        raise CommandError(str(exc).rstrip(".")) from None


def run_add(args: argparse.Namespace) -> int:
    password = _password() if args.password_stdin else None
    person = _carry_out(
        add_person,
        Workspace(),
        args.name,
        Role(args.role),
        password=password,
        may_export_bodies=args.may_export_bodies,
    )
    how = "with their password" if password is not None else "with their company account (single sign-on)"
    print(f"{person.name} may sign in {how}, as {person.role}.")
    return 0


def run_list(args: argparse.Namespace) -> int:
    people = Workspace().people.all()
    if args.json:
        rows = [
            {
                "name": person.name,
                "role": person.role,
                "signs_in_with": "password" if person.password_hash else "single sign-on",
                "may_export_bodies": person.may_export_bodies,
                "created_at": person.created_at.isoformat(),
            }
            for person in people
        ]
        print(json.dumps(rows, indent=2))
        return 0
    if not people:
        print("No one signs in yet: the dashboard is only for this machine (see the README to share it).")
        return 0
    print_table(
        (Column("name", min_width=12), Column("role"), Column("signs in with", drop_order=1)),
        [(person.name, person.role, "password" if person.password_hash else "single sign-on") for person in people],
    )
    return 0


def run_remove(args: argparse.Namespace) -> int:
    _carry_out(remove_person, Workspace(), args.name)
    print(f"{args.name} can no longer sign in.")
    return 0


def run_set_role(args: argparse.Namespace) -> int:
    _carry_out(change_person, Workspace(), args.name, role=Role(args.role))
    print(f"{args.name} is {args.role} now.")
    return 0


def run_set_password(args: argparse.Namespace) -> int:
    _carry_out(change_person, Workspace(), args.name, password=_password())
    print(f"{args.name}'s password is changed; their sessions were ended.")
    return 0


def run_audit(args: argparse.Namespace) -> int:
    entries = Workspace().audit_log.recent(limit=max(1, args.limit))
    if args.json:
        print(
            json.dumps(
                [
                    {
                        "at": entry.at.isoformat(),
                        "actor": entry.actor,
                        "role": entry.role,
                        "action": entry.action,
                        "subject": entry.subject,
                        "address": entry.address,
                        "detail": entry.detail,
                    }
                    for entry in entries
                ],
                indent=2,
                default=str,
            )
        )
        return 0
    if not entries:
        print("Nothing is recorded in the audit log yet.")
        return 0
    print_table(
        (Column("when (UTC)"), Column("who", min_width=8), Column("what", min_width=10), Column("about", min_width=8)),
        [
            (f"{entry.at:%Y-%m-%d %H:%M}", entry.actor or "—", entry.action.replace("_", " "), entry.subject)
            for entry in entries
        ],
    )
    return 0
