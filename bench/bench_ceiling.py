"""The account's ceiling with real latency (issue 15): a sync of 5,000 new contacts against the HTTP sandbox,
every answer 1.5 s late, with a 6-second window of 12 requests (MailerLite's 120 a minute, ten times shorter).

Requests are counted by the sandbox, setup included, per window of its own (a fixed window starting at the first
request after the previous one ended, as MailerLite's throttle counts). Printed: the requests per window as a
share of the limit, "N% of the limit" (target >= 90%), and the 429s the client received (target 0), next to the
baseline measured in the same run: the limit itself, and the same sync sending one batch at a time.

    .venv/bin/python bench/bench_ceiling.py [--contacts 5000] [--baseline-contacts 1000] [--latency 1.5]
        [--limit 12] [--window 6] [--in-flight N]
"""

from __future__ import annotations

import argparse
import csv
import os
import statistics
import sys
import tempfile
import threading
import time
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from storage import Database  # noqa: E402
from storage.events import EventStore  # noqa: E402
from sync_core.domain.presets import load_preset  # noqa: E402
from sync_core.engine.file_import import import_file  # noqa: E402
from sync_core.engine.run import SyncEngine  # noqa: E402
from sync_core.engine.workspace import Workspace  # noqa: E402
from sync_core.mailerlite import Exchange  # noqa: E402
from sync_core.sandbox import FaultSettings, SandboxAccount, sandbox_client, serve_sandbox  # noqa: E402
from sync_core.settings import get_settings  # noqa: E402


@dataclass
class Measured:
    label: str
    contacts: int
    in_flight: int
    created: int
    requests: int
    seconds: float
    windows: list[int]
    received_429: int
    refused: int

    @property
    def full_windows(self) -> list[int]:
        """Every window but the last, which the end of the run cuts short."""
        return self.windows[:-1] if len(self.windows) > 1 else self.windows


def write_partners(path: Path, count: int) -> None:
    with path.open("w", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(["email", "name", "surname", "key", "status", "total_sales", "total_earned"])
        for n in range(count):
            writer.writerow(
                [f"partner{n}@example.com", "Pat", f"Number{n}", f"key{n}", "active", n % 50, f"{n % 7}.50"]
            )


def measure(root: Path, label: str, contacts: int, in_flight: int, args: argparse.Namespace) -> Measured:
    """One sync of ``contacts`` new contacts, on a fresh database and sandbox account served over HTTP."""
    path = root / f"{label}.csv"
    write_partners(path, contacts)
    workspace = Workspace(Database(f"sqlite:///{root / label}.db"), directory=root / "data")
    workspace.save_config(load_preset("partnero"))
    import_file(EventStore(workspace.database), path)
    account = SandboxAccount(
        limit=args.limit,
        window_seconds=args.window,
        seed=15,
        faults=FaultSettings(latency_seconds=args.latency),
    )
    received_429 = 0
    lock = threading.Lock()

    def count(exchange: Exchange) -> None:
        nonlocal received_429
        if exchange.status == 429:
            with lock:
                received_429 += 1

    with serve_sandbox(account) as server:
        client = sandbox_client(account, server=server, client_options={"on_exchange": count})
        engine = SyncEngine(workspace, client=client, batches_in_flight=in_flight)
        started = time.perf_counter()
        run = engine.run()
        seconds = time.perf_counter() - started
        client.close()
    if run.status != "finished":
        raise SystemExit(f"the {label} sync did not finish: {run.error}")
    return Measured(
        label,
        contacts,
        in_flight,
        run.created,
        account.stats.requests,
        seconds,
        account.window_counts(),
        received_429,
        account.stats.rate_limited,
    )


def report(measured: Measured, limit: int, window: float) -> float:
    full = measured.full_windows
    share = statistics.mean(full) / limit
    over_run = measured.requests / measured.seconds * window / limit
    print(
        f"  {measured.label:14} {measured.contacts:>6,} contacts, {measured.in_flight} batch(es) in flight: "
        f"{measured.requests:,} requests (setup included) in {measured.seconds:.0f} s, created {measured.created:,}"
    )
    print(
        f"  {'':14} requests per window: mean {statistics.mean(full):.1f} of {limit} (min {min(full)}, max "
        f"{max(full)}, {len(full)} full windows) = {share:.0%} of the limit; over the whole run {over_run:.0%}"
    )
    print(f"  {'':14} 429 received by the client: {measured.received_429}; refused by the sandbox: {measured.refused}")
    return share


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--contacts", type=int, default=5000)
    parser.add_argument("--baseline-contacts", type=int, default=1000, help="for the one-at-a-time sync")
    parser.add_argument("--latency", type=float, default=1.5, help="seconds before every answer")
    parser.add_argument("--limit", type=int, default=12, help="requests per window")
    parser.add_argument("--window", type=float, default=6.0, help="rate-limit window in seconds")
    parser.add_argument("--in-flight", type=int, default=None, help="batches in flight (default: the setting's)")
    args = parser.parse_args()
    in_flight = args.in_flight or get_settings().batches_in_flight

    with tempfile.TemporaryDirectory() as directory:
        root = Path(directory)
        os.environ["SYNC_STUDIO_DATA_DIR"] = str(root / "data")
        print(
            f"ceiling: HTTP sandbox, {args.latency:g} s before every answer, {args.limit} requests per "
            f"{args.window:g} s window (the same rate as {args.limit * 60 / args.window:.0f} a minute)"
        )
        print(f"  {'the limit':14} {args.limit} requests per window = 100% of the limit")
        baseline = measure(root, "one at a time", args.baseline_contacts, 1, args)
        baseline_share = report(baseline, args.limit, args.window)
        ours = measure(root, "in flight", args.contacts, in_flight, args)
        share = report(ours, args.limit, args.window)
    print(
        f"result: {share:.0%} of the limit with {in_flight} batches in flight, {ours.received_429} 429 received; "
        f"one batch at a time: {baseline_share:.0%} of the limit ({share / baseline_share:.1f} x)"
    )
    met = share >= 0.9 and ours.received_429 == 0 and ours.created == args.contacts
    print("target (>= 90% of the limit, no 429):", "met" if met else "NOT met")
    return 0 if met else 1


if __name__ == "__main__":
    sys.exit(main())
