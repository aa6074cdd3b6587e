"""Command line: ``python -m sync_core COMMAND``.

The command groups live in ``sync_core.cli.errors``; this module only wires them into one parser and turns a
``CommandError`` (or an API key refused for the address asked for) into a plain message and a non-zero exit code.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence

from sync_core.cli import alerts, configuration, drift, forgetting, live, people, syncing, webhooks
from sync_core.cli.errors import CommandError
from sync_core.engine.workspace import KeyAddressError
from sync_core.sandbox import cli as sandbox_cli

#: Modules that contribute sub-commands, each with ``register(subparsers)``.
COMMAND_MODULES = [configuration, syncing, drift, forgetting, people, live, webhooks, alerts, sandbox_cli]


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
    try:
        return int(args.handler(args) or 0)
    except (CommandError, KeyAddressError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        return 130
