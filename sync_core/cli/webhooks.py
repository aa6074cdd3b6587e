"""``webhooks register`` and ``webhooks status``: the MailerLite webhook that tells the studio about unsubscribes,
bounces, deletes and edits made in MailerLite (see ``sync_core.engine.mailerlite_webhook``)."""

from __future__ import annotations

import argparse
import json

from sync_core.cli.errors import CommandError
from sync_core.cli.syncing import say_account
from sync_core.engine.mailerlite_webhook import (
    WebhookSetupError,
    configured_webhook_url,
    mailerlite_webhook_url,
    register_mailerlite_webhook,
    webhook_state,
)
from sync_core.engine.workspace import Workspace
from sync_core.mailerlite.errors import MailerLiteError


def register(subparsers: argparse._SubParsersAction) -> None:
    group = subparsers.add_parser("webhooks", help="the MailerLite webhook that reports unsubscribes and deletes")
    commands = group.add_subparsers(dest="webhooks_command", metavar="ACTION")
    commands.required = True
    for name, handler, text in (
        ("register", run_register, "create the MailerLite webhook for this studio, or repair it"),
        ("status", run_status, "say whether the MailerLite webhook is registered, enabled and delivering"),
    ):
        command = commands.add_parser(name, help=text)
        command.add_argument(
            "--url",
            metavar="URL",
            help="the studio's public address (default: SYNC_STUDIO_PUBLIC_URL); /webhooks/mailerlite is added",
        )
        if name == "status":
            command.add_argument("--json", action="store_true", help="the webhook's raw details (no secret)")
        command.set_defaults(handler=handler)


def _url(args: argparse.Namespace) -> str:
    if args.url:
        return mailerlite_webhook_url(args.url)
    url = configured_webhook_url()
    if url is None:
        raise CommandError(
            "the studio's public address is not known: set SYNC_STUDIO_PUBLIC_URL (e.g. https://studio.example.com) "
            "or pass --url"
        )
    return url


def run_register(args: argparse.Namespace) -> int:
    url = _url(args)
    workspace = Workspace()
    say_account(workspace)
    client = workspace.client()
    try:
        registration = register_mailerlite_webhook(workspace, client, url)
    except WebhookSetupError as exc:
        raise CommandError(str(exc)) from None
    finally:
        client.close()
    print(registration.summary())
    for sentence in registration.state.sentences():
        print(f"  {sentence}")
    return 0


def run_status(args: argparse.Namespace) -> int:
    url = _url(args)
    workspace = Workspace()
    client = workspace.client()
    try:
        state = webhook_state(client, url)
    except MailerLiteError as exc:
        raise CommandError(f"MailerLite could not be asked about its webhooks: {exc}") from None
    finally:
        client.close()
    if args.json:
        print(json.dumps(state.details(), indent=2))
    else:
        say_account(workspace)
        print(f"MailerLite webhook for {url}:")
        for sentence in state.sentences():
            print(f"  {sentence}")
        status = workspace.webhook_secret_status("mailerlite")
        grace = f"; {status.grace_words()}" if status.grace_words() else ""
        print(f"  Signing secret: {status.words() if status.source else 'not saved'}{grace}")
    return 0 if state.healthy else 1
