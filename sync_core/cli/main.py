"""Command line: ``python -m sync_core COMMAND``.

The command groups are the modules in ``COMMAND_MODULES``; this module wires them into one parser and turns any
failure into one plain sentence on standard error (``sync_core.cli.errors.plain_message``) and an exit code:
2 for a command that cannot be carried out as typed (``CommandError``), 1 for a failure on the way (MailerLite,
the database, a file). A traceback is printed only with ``SYNC_STUDIO_DEBUG=1``, for a problem nobody expected.
"""

from __future__ import annotations

import argparse
import logging
import os
import sys
import traceback
from collections.abc import Sequence

from storage.db import is_transient
from storage.locks import AccountBusy
from sync_core.cli import alerts, configuration, drift, forgetting, live, people, status, syncing, webhooks
from sync_core.cli.errors import CommandError, print_error, use_plain_logging
from sync_core.engine.workspace import KeyAddressError
from sync_core.mailerlite.errors import MailerLiteError
from sync_core.sandbox import cli as sandbox_cli

#: Modules that contribute sub-commands, each with ``register(subparsers)``.
COMMAND_MODULES = [configuration, syncing, status, drift, forgetting, people, live, webhooks, alerts, sandbox_cli]

UNEXPECTED = (
    "The command stopped on a problem the studio did not expect; nothing more was done. Try again, and if it "
    "happens again, run it with SYNC_STUDIO_DEBUG=1 and send what it prints to support."
)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python -m sync_core",
        description="MailerLite sync studio: map partner, customer and payment data onto MailerLite.",
    )
    subparsers = parser.add_subparsers(dest="command", metavar="COMMAND")
    subparsers.required = True
    for module in COMMAND_MODULES:
        module.register(subparsers)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    handler = None if getattr(args, "server_logging", False) else use_plain_logging()
    try:
        return int(args.handler(args) or 0)
    except (CommandError, KeyAddressError) as exc:
        print_error(exc)
        return 2
    except KeyboardInterrupt:
        print("Stopped.", file=sys.stderr)
        return 130
    except (MailerLiteError, AccountBusy, PermissionError, OSError) as exc:
        print_error(exc)
        return 1
    except Exception as exc:
        if is_transient(exc):
            print_error("the database was busy for too long and nothing was changed; try again in a moment")
        else:
            if os.environ.get("SYNC_STUDIO_DEBUG") == "1":
                traceback.print_exc()
            print_error(UNEXPECTED)
        return 1
    finally:
        if handler is not None:
            logging.getLogger("sync_core").removeHandler(handler)
