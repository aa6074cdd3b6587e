"""``python -m sync_core sandbox serve``: run a sandbox MailerLite account on localhost; and the commands that act
on the installation's sandbox as a MailerLite user would (``sandbox unsubscribe EMAIL``, ``bounce``, ``spam``,
``reactivate``, ``delete``, ``add-to-group``, ``remove-from-group``, ``set-field``).

Without ``--key`` it accepts the documented key ``sandbox-key``. Keys given are never printed. An action changes
the sandbox the studio uses (``sandbox.db`` in the data directory, or ``--state-file``) and sends the webhooks
registered in it before the command ends; a delivery that did not get through is tried again by a process that
keeps the sandbox open (the dashboard's server, its worker, ``sandbox serve``).
Also runnable alone as ``python -m sync_core.sandbox.cli serve ...``.
"""

from __future__ import annotations

import argparse
import signal
import sys
import threading
from collections.abc import Callable, Sequence
from pathlib import Path

from sync_core.domain.messages import as_sentence, plain_message
from sync_core.settings import get_settings

from .account import DEFAULT_SANDBOX_KEY, SANDBOX_FILE, SandboxAccount, SandboxActionError, SandboxStateError
from .faults import FaultSettings
from .server import SandboxServer


def _rate(text: str) -> float:
    value = float(text)
    if not 0.0 <= value <= 1.0:
        raise argparse.ArgumentTypeError("a rate is a number between 0 and 1")
    return value


def _positive(text: str) -> float:
    value = float(text)
    if value <= 0:
        raise argparse.ArgumentTypeError("must be more than 0")
    return value


def register(subparsers: argparse._SubParsersAction) -> None:
    sandbox = subparsers.add_parser("sandbox", help="a simulated MailerLite account for trying things safely")
    commands = sandbox.add_subparsers(dest="sandbox_command", metavar="SANDBOX_COMMAND")
    commands.required = True
    serve = commands.add_parser(
        "serve",
        help="serve the sandbox over HTTP",
        description="Serve a MailerLite sandbox account. Point MAILERLITE_BASE_URL at http://HOST:PORT/api.",
    )
    serve.add_argument("--host", default="127.0.0.1", help="address to listen on (default: 127.0.0.1)")
    serve.add_argument("--port", type=int, default=8025, help="port (default: 8025; 0 picks a free one)")
    serve.add_argument(
        "--key",
        action="append",
        dest="keys",
        metavar="KEY",
        help=f"a bearer key to accept (repeatable; default: {DEFAULT_SANDBOX_KEY})",
    )
    serve.add_argument("--limit", type=int, default=120, help="requests per window (default: 120)")
    serve.add_argument(
        "--window-seconds",
        type=_positive,
        default=60.0,
        help="rate-limit window in seconds (default: 60; e.g. 1 for benchmarks)",
    )
    serve.add_argument("--import-limit", type=int, default=5, help="all-upsert batches per window (default: 5)")
    serve.add_argument(
        "--state-file", help="keep the account in this SQLite file, shared with every process that opens it"
    )
    serve.add_argument("--seed", type=int, help="seed for ids and faults (reproducible runs)")
    faults = serve.add_argument_group("fault injection")
    faults.add_argument("--error-rate", type=_rate, default=0.0, help="share of requests answered 5xx")
    faults.add_argument("--latency", type=float, default=0.0, help="seconds added to every answer")
    faults.add_argument("--latency-jitter", type=float, default=0.0, help="plus up to this many random seconds")
    faults.add_argument("--burst-429-rate", type=_rate, default=0.0, help="chance a burst of 429s starts")
    faults.add_argument("--burst-429-length", type=int, default=3, help="429s in a burst (default: 3)")
    faults.add_argument("--burst-retry-after", type=int, default=1, help="Retry-After during a burst (s)")
    faults.add_argument("--timeout-rate", type=_rate, default=0.0, help="share of requests never answered")
    faults.add_argument(
        "--hang-seconds",
        type=float,
        default=5.0,
        help="how long an unanswered request hangs before the connection is closed",
    )
    serve.set_defaults(handler=serve_handler)
    _register_actions(commands)


#: command: (help, extra arguments, the account's method)
ACTIONS: dict[str, tuple[str, tuple[str, ...], Callable[..., str]]] = {
    "unsubscribe": ("the subscriber unsubscribes", (), SandboxAccount.unsubscribe),
    "bounce": ("an email to the subscriber bounces for good", (), SandboxAccount.bounce),
    "spam": ("the subscriber marks a campaign as spam", (), SandboxAccount.report_spam),
    "reactivate": ("the subscriber signs up again (active)", (), lambda account, email: _reactivate(account, email)),
    "delete": ("delete the subscriber", (), SandboxAccount.delete_subscriber),
    "add-to-group": ("add the subscriber to a group", ("GROUP",), SandboxAccount.add_to_group),
    "remove-from-group": ("remove the subscriber from a group", ("GROUP",), SandboxAccount.remove_from_group),
    "set-field": (
        "edit one field of the subscriber (an empty VALUE clears it)",
        ("FIELD", "VALUE"),
        SandboxAccount.set_field,
    ),
}


def _reactivate(account: SandboxAccount, email: str) -> str:
    if not account.resubscribe(email):
        raise SandboxActionError("No subscriber with that email in the sandbox.")
    return f"{email.strip().lower()} is active again."


def _register_actions(commands: argparse._SubParsersAction) -> None:
    for name, (help_text, extra, _) in ACTIONS.items():
        command = commands.add_parser(
            name,
            help=help_text,
            description=f"Act on the studio's sandbox as a MailerLite user would: {help_text}. "
            "The webhooks registered in the sandbox hear of it.",
        )
        command.add_argument("email", metavar="EMAIL")
        for argument in extra:
            command.add_argument(argument.lower(), metavar=argument)
        command.add_argument(
            "--state-file", help=f"the sandbox's file (default: {SANDBOX_FILE} in the studio's data directory)"
        )
        command.set_defaults(handler=action_handler, action=name)


def action_handler(args: argparse.Namespace) -> int:
    path = Path(args.state_file) if args.state_file else get_settings().data_dir / SANDBOX_FILE
    if not path.exists():
        print(
            f"There is no sandbox account yet at {path}: it is made when the studio first uses the sandbox "
            "(or give --state-file).",
            file=sys.stderr,
        )
        return 1
    _, extra, act = ACTIONS[args.action]
    try:
        account = SandboxAccount(state_file=path, send_in_background=False)
    except SandboxStateError as exc:
        print(str(exc), file=sys.stderr)
        return 1
    try:
        print(act(account, args.email, *(getattr(args, name.lower()) for name in extra)))
        sent = account.deliver_due()
        if sent.delivered:
            print(f"Webhooks: {sent.delivered} delivery(ies) sent.")
        if sent.failed:
            print(
                f"Webhooks: {sent.failed} delivery(ies) did not get through; they will be tried again while the "
                "studio (or sandbox serve) runs."
            )
        return 0
    except SandboxActionError as exc:
        print(str(exc), file=sys.stderr)
        return 1
    finally:
        account.close()


def build_account(args: argparse.Namespace) -> SandboxAccount:
    faults = FaultSettings(
        error_rate=args.error_rate,
        latency_seconds=args.latency,
        latency_jitter_seconds=args.latency_jitter,
        burst_429_rate=args.burst_429_rate,
        burst_429_length=args.burst_429_length,
        burst_retry_after_seconds=args.burst_retry_after,
        timeout_rate=args.timeout_rate,
        hang_seconds=args.hang_seconds,
        seed=args.seed,
    )
    return SandboxAccount(
        keys=tuple(args.keys or (DEFAULT_SANDBOX_KEY,)),
        limit=args.limit,
        window_seconds=args.window_seconds,
        import_limit=args.import_limit,
        faults=faults,
        state_file=args.state_file,
        seed=args.seed,
    )


def _stop_on_sigterm(signum: int, frame: object) -> None:
    raise KeyboardInterrupt


def serve_handler(args: argparse.Namespace, *, ready: threading.Event | None = None) -> int:
    try:
        account = build_account(args)
        server = SandboxServer(account, host=args.host, port=args.port)
    except (ValueError, SandboxStateError, OSError) as exc:
        print(as_sentence(plain_message(exc)), file=sys.stderr)
        return 2
    keys = "the default key 'sandbox-key'" if not args.keys else f"{len(args.keys)} key(s) given with --key"
    if threading.current_thread() is threading.main_thread():
        # Before the "listening" line: whoever reads it may stop the server at once, and a plain kill must still
        # flush the state file and exit cleanly.
        signal.signal(signal.SIGTERM, _stop_on_sigterm)
    try:
        print(
            f"MailerLite sandbox listening on {server.base_url} (accepting {keys}; "
            f"{args.limit} requests per {args.window_seconds:g} s)",
            flush=True,
        )
        if args.state_file:
            print(f"State kept in {args.state_file}", flush=True)
        if ready is not None:
            ready.set()
        server.serve_forever()
    except KeyboardInterrupt:
        pass
    finally:
        server.stop()
    return 0


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m sync_core.sandbox.cli")
    register(parser.add_subparsers(dest="command", metavar="COMMAND", required=True))
    args = parser.parse_args(["sandbox", *(argv if argv is not None else sys.argv[1:])])
    return int(args.handler(args) or 0)


if __name__ == "__main__":
    sys.exit(main())
