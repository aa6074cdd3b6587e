"""``python -m sync_core sandbox serve``: run a sandbox MailerLite account on localhost.

Without ``--key`` it accepts the documented key ``sandbox-key``. Keys given are never printed.
Also runnable alone as ``python -m sync_core.sandbox.cli serve ...``.
"""

from __future__ import annotations

import argparse
import signal
import sys
import threading
from collections.abc import Sequence

from .account import DEFAULT_SANDBOX_KEY, SandboxAccount, SandboxStateError
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
        print(f"error: {exc}", file=sys.stderr)
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
