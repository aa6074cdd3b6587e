"""``python -m sync_core forget EMAIL``: forget a contact (GDPR), after a confirmation.

It asks first unless ``--yes`` is given; with no one to answer (no input) it refuses rather than guess. Exit
code 0 when the contact is forgotten everywhere, 1 when it is not (refused, not an address, MailerLite could
not be asked, or the database file could not be rewritten yet).
"""

from __future__ import annotations

import argparse
import sys

from storage.db import is_transient
from sync_core.domain.messages import clean_text
from sync_core.engine.forget import WHAT_HAPPENS, ForgetError, forget_contact, who_asks
from sync_core.engine.workspace import Workspace


def register(subparsers: argparse._SubParsersAction) -> None:
    command = subparsers.add_parser("forget", help="forget a contact (GDPR): in MailerLite and in the studio, for good")
    command.add_argument("email", help="the contact's email address")
    command.add_argument("--yes", action="store_true", help="do not ask for confirmation")
    command.set_defaults(handler=run_forget)


def run_forget(args: argparse.Namespace) -> int:
    if not args.yes:
        print(f"Forget {args.email.strip()}? {WHAT_HAPPENS}")
        try:
            answer = input("Type yes to forget this contact: ")
        except EOFError:
            print(
                "\nNot forgotten: there is no one to confirm (no input). Run it again with --yes to forget "
                "without being asked.",
                file=sys.stderr,
            )
            return 1
        if answer.strip().lower() not in ("yes", "y"):
            print("Not forgotten: nothing was changed.", file=sys.stderr)
            return 1
    workspace = Workspace()
    try:
        result = forget_contact(workspace, args.email, requested_by=who_asks("cli"), origin="cli")
    except ForgetError as exc:
        print(f"Not forgotten: {clean_text(str(exc)).rstrip('.')}.", file=sys.stderr)
        return 1
    except Exception as exc:
        if not is_transient(exc):
            raise
        print("Not forgotten: the database was busy for too long; nothing was erased. Try again.", file=sys.stderr)
        return 1
    print(("Forgotten. " if result.ok else "Not completely forgotten. ") + clean_text(result.in_words()))
    return 0 if result.ok else 1
