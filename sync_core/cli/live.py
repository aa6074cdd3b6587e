"""Live sync from the command line: ``worker`` (the continuous sync alone) and ``serve-webhooks`` (the webhook
routes alone under uvicorn, with the worker unless ``--no-worker``)."""

from __future__ import annotations

import argparse
import logging
import signal
import sys

import uvicorn

from sync_core.cli.errors import CommandError
from sync_core.cli.syncing import say_account
from sync_core.engine.workspace import Workspace
from sync_core.live.asgi import create_app
from sync_core.live.receiver import WEBHOOK_PATHS
from sync_core.live.worker import Worker, WorkerSettings, open_workspace


def register(subparsers: argparse._SubParsersAction) -> None:
    command = subparsers.add_parser(
        "worker", help="sync stored events continuously (webhooks as they arrive) until stopped"
    )
    command.add_argument(
        "--idle",
        type=float,
        default=1.0,
        metavar="SECONDS",
        help="how often to look for new events when there are none (default 1)",
    )
    command.add_argument(
        "--gather",
        type=float,
        default=1.0,
        metavar="SECONDS",
        help="how long a few events may wait for others to join them in one run (default 1)",
    )
    command.add_argument(
        "--max-backoff",
        type=float,
        default=300.0,
        metavar="SECONDS",
        help="longest pause after MailerLite failures (default 300)",
    )
    command.set_defaults(handler=run_worker, server_logging=True)

    command = subparsers.add_parser(
        "serve-webhooks", help="receive Dodo Payments and Partnero webhooks (without the dashboard)"
    )
    command.add_argument(
        "--host", default="127.0.0.1", help="address to listen on (default 127.0.0.1; 0.0.0.0 for every interface)"
    )
    command.add_argument("--port", type=int, default=8080, help="port (default 8080)")
    command.add_argument("--no-worker", action="store_true", help="only receive; leave syncing to a separate worker")
    command.set_defaults(handler=run_serve_webhooks, server_logging=True)


def _logging() -> None:
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s", stream=sys.stderr)
    for noisy in ("httpx", "httpcore", "alembic"):  # one line per request or migration step: not news
        logging.getLogger(noisy).setLevel(logging.WARNING)


def run_worker(args: argparse.Namespace) -> int:
    if args.idle <= 0 or args.gather < 0 or args.max_backoff <= 0:
        raise CommandError("--idle and --max-backoff should be more than 0, --gather at least 0")
    _logging()
    workspace = open_workspace(Workspace)
    say_account(workspace)
    worker = Worker(
        workspace,
        settings=WorkerSettings(
            idle_seconds=args.idle, gather_seconds=args.gather, backoff_max_seconds=args.max_backoff
        ),
    )

    def stop(signum: int, _frame: object) -> None:
        print(f"Stopping after the run in progress (signal {signum})...", file=sys.stderr, flush=True)
        worker.request_stop()

    signal.signal(signal.SIGTERM, stop)
    signal.signal(signal.SIGINT, stop)
    print(f"Worker {worker.name} started; stop it with Ctrl+C.", flush=True)
    worker.run()
    print("Worker stopped.", flush=True)
    return 0


def run_serve_webhooks(args: argparse.Namespace) -> int:
    if not 0 < args.port < 65536:
        raise CommandError("--port should be between 1 and 65535")
    _logging()
    application = create_app(worker=False if args.no_worker else None)
    base = f"http://{args.host}:{args.port}"
    print(
        f"Webhooks: {base}{WEBHOOK_PATHS['dodo_payments']}, {base}{WEBHOOK_PATHS['partnero']} and "
        f"{base}{WEBHOOK_PATHS['mailerlite']}; "
        f"health: {base}/healthz. Worker: {application.state.live.worker_mode or 'off'}.",
        flush=True,
    )
    uvicorn.run(application, host=args.host, port=args.port, access_log=False, log_level="info")
    return 0
