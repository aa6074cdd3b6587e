"""Engine figures (issue 4), each measured in this one run:

1. peak memory (max RSS of a child process) while importing a 1,000,000-row partners CSV; target < 300 MB; then
   the memory a run's walk over those events by contact holds (one chunk at a time, nothing kept per contact);
2. API requests and sandbox wall time to sync 10,000 new and then 10,000 changed contacts, next to a naive
   integration that sends one request per event (plus one per group removal), against the same kind of
   sandbox; target: at most 1/20 of the naive requests;
3. requests, operations and peak memory (tracemalloc) to sync 100,000 events for 50,000 contacts, two events per
   contact in random order, next to 50,000 contacts with one event each; target: one operation per contact and at
   most 1 request per 45 contacts, setup included.

The sandbox's window is shortened to 1 s (120 requests per second instead of per minute) so that the naive
side finishes in minutes; the real-time equivalent at 120 per minute is printed too.

    .venv/bin/python bench/bench_engine.py [--rows 1000000] [--contacts 10000] [--spread-contacts 50000]
        [--skip-memory] [--skip-requests] [--skip-spread]
"""

from __future__ import annotations

import argparse
import csv
import os
import random
import resource
import subprocess
import sys
import tempfile
import time
import tracemalloc
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from storage import Database  # noqa: E402
from storage.events import EventStore  # noqa: E402
from storage.runs import RunStore  # noqa: E402
from sync_core.domain.presets import load_preset  # noqa: E402
from sync_core.engine.file_import import import_file  # noqa: E402
from sync_core.engine.run import SyncEngine  # noqa: E402
from sync_core.engine.workspace import Workspace  # noqa: E402
from sync_core.sandbox import SandboxAccount, sandbox_client  # noqa: E402


def write_partners(path: Path, count: int, *, day: int = 1) -> None:
    """Partners whose status and sales differ on day 2 (every contact changes)."""
    with path.open("w", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(["email", "name", "surname", "key", "status", "total_sales", "total_earned"])
        for n in range(count):
            active = (n % 2 == 1) if day == 1 else (n % 2 == 0)
            writer.writerow(
                [
                    f"partner{n}@example.com",
                    "Pat",
                    f"Number{n}",
                    f"key{n}",
                    "active" if active else "pending",
                    n % 50 + day,
                    f"{n % 7}.50",
                ]
            )


def measure_import_memory(rows: int) -> None:
    with tempfile.TemporaryDirectory() as directory:
        path = Path(directory) / "partners.csv"
        started = time.perf_counter()
        write_partners(path, rows)
        size_mb = path.stat().st_size / 1e6
        print(f"import: {rows:,} rows, {size_mb:.0f} MB CSV (written in {time.perf_counter() - started:.0f} s)")
        code = (
            "import sys; from storage import Database; from storage.events import EventStore; "
            "from sync_core.engine.file_import import import_file; "
            f"db = Database('sqlite:///{directory}/import.db'); "
            f"s = import_file(EventStore(db), {str(path)!r}); print(s.describe())"
        )
        started = time.perf_counter()
        before = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
        result = subprocess.run(
            [sys.executable, "-c", code],
            cwd=ROOT,
            capture_output=True,
            text=True,
            env=dict(os.environ, PYTHONPATH=str(ROOT)),
        )
        elapsed = time.perf_counter() - started
        peak_mb = max(resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss, before) / 1024
        if result.returncode:
            raise SystemExit(result.stderr)
        print(f"  {result.stdout.strip()}")
        print(
            f"  peak memory (max RSS of the importing process): {peak_mb:.0f} MB; {elapsed:.0f} s, "
            f"{rows / elapsed:,.0f} rows/s"
        )
        print(f"  target < 300 MB: {'met' if peak_mb < 300 else 'NOT met'}")
        measure_walk_memory(directory, rows)


def measure_walk_memory(directory: str, rows: int) -> None:
    """How much a run's walk over the stored events holds: every chunk of contacts read with all of its events
    (the events left pending, as a dry run would), in a child process; nothing is kept per contact between
    chunks, so the peak is one chunk's, whatever the number of events."""
    code = (
        "import resource, time, tracemalloc; from storage import Database; from storage.events import EventStore; "
        f"db = Database('sqlite:///{directory}/import.db'); tracemalloc.start(); started = time.perf_counter(); "
        "chunks = events = 0\n"
        "for rows in EventStore(db).pending_by_contact(contacts=1960):\n"
        "    chunks += 1; events += len(rows)\n"
        "print(chunks, events, tracemalloc.get_traced_memory()[1], time.perf_counter() - started, "
        "resource.getrusage(resource.RUSAGE_SELF).ru_maxrss)"
    )
    result = subprocess.run(
        [sys.executable, "-c", code],
        cwd=ROOT,
        capture_output=True,
        text=True,
        env=dict(os.environ, PYTHONPATH=str(ROOT)),
    )
    if result.returncode:
        raise SystemExit(result.stderr)
    chunks, events, traced, seconds, rss = result.stdout.split()
    print(
        f"walk: {int(events):,} of {rows:,} events read as {int(chunks):,} chunks of up to 1,960 contacts in "
        f"{float(seconds):.0f} s; peak traced memory {int(traced) / 1e6:.1f} MB, max RSS {int(rss) / 1024:.0f} MB "
        "(the same for any number of events: one chunk is held at a time)"
    )


def naive_sync(
    account: SandboxAccount, path: Path, group_ids: dict[str, str], previous: dict[str, bool]
) -> tuple[int, float]:
    """What a per-event script does: one upsert per row (groups in the body), one DELETE per group left."""
    client = sandbox_client(account)
    requests = 0
    started = time.perf_counter()
    with path.open(newline="") as handle:
        for row in csv.DictReader(handle):
            active = row["status"] == "active"
            groups = [group_ids["Partners"]] + ([group_ids["Active Partners"]] if active else [])
            result = client.upsert_subscriber(
                row["email"],
                fields={
                    "name": f"{row['name']} {row['surname']}",
                    "partner_key": row["key"],
                    "status": row["status"],
                    "total_sales": row["total_sales"],
                    "total_earned": row["total_earned"],
                },
                groups=groups,
            )
            requests += 1
            if previous.get(row["email"]) and not active:
                client.unassign_from_group(result.subscriber.id, group_ids["Active Partners"])
                requests += 1
            previous[row["email"]] = active
    return requests, time.perf_counter() - started


def compare_requests(contacts: int) -> None:
    with tempfile.TemporaryDirectory() as directory:
        root = Path(directory)
        day1, day2 = root / "day1.csv", root / "day2.csv"
        write_partners(day1, contacts, day=1)
        write_partners(day2, contacts, day=2)
        os.environ["SYNC_STUDIO_DATA_DIR"] = str(root / "data")
        workspace = Workspace(Database(f"sqlite:///{root / 'studio.db'}"), directory=root / "data")
        workspace.save_config(load_preset("partnero"))
        ours_account = SandboxAccount(limit=120, window_seconds=1)
        engine = SyncEngine(workspace, client=sandbox_client(ours_account))
        ours = []
        for label, path in (("new", day1), ("changed", day2)):
            import_file(EventStore(workspace.database), path)
            started = time.perf_counter()
            run = engine.run()
            ours.append((label, run.requests, time.perf_counter() - started, run))

        naive_account = SandboxAccount(limit=120, window_seconds=1)
        naive_client = sandbox_client(naive_account)
        group_ids = {name: naive_client.create_group(name).id for name in ("Partners", "Active Partners")}
        for key, kind in (
            ("partner_key", "text"),
            ("status", "text"),
            ("total_sales", "number"),
            ("total_earned", "number"),
        ):
            naive_client.create_field(key, kind)
        previous: dict[str, bool] = {}
        naive = [
            (label, *naive_sync(naive_account, path, group_ids, previous))
            for label, path in (("new", day1), ("changed", day2))
        ]

        print(f"sync: {contacts:,} contacts, sandbox limit 120 requests per 1 s window (MailerLite: per 60 s)")
        for (label, requests, seconds, run), (_, naive_requests, naive_seconds) in zip(ours, naive):
            print(
                f"  {label:8} ours: {requests:>6,} requests, {seconds:6.1f} s  (created {run.created:,}, updated "
                f"{run.updated:,}, unchanged {run.unchanged:,}, failed {run.failed + run.dead:,})"
            )
            print(f"  {'':8} naive: {naive_requests:>5,} requests, {naive_seconds:6.1f} s")
            print(
                f"  {'':8} ratio: 1/{naive_requests / max(requests, 1):.0f} of the naive requests; at MailerLite's "
                f"120 per minute: {requests / 2 / 60:.1f} min vs {naive_requests / 2 / 60:.0f} min"
            )
        total, naive_total = sum(o[1] for o in ours), sum(n[1] for n in naive)
        print(
            f"  total: {total:,} vs {naive_total:,} requests = 1/{naive_total / max(total, 1):.0f}; "
            f"target at most 1/20: {'met' if total * 20 <= naive_total else 'NOT met'}"
        )


def write_spread(path: Path, contacts: int, per_contact: int, seed: int = 11) -> None:
    """``per_contact`` rows per partner (their sales go up by one each time), all rows in random order."""
    rows = [(n, k) for n in range(contacts) for k in range(per_contact)]
    random.Random(seed).shuffle(rows)
    with path.open("w", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(["email", "name", "surname", "key", "status", "total_sales", "total_earned"])
        for n, k in rows:
            writer.writerow([f"partner{n}@example.com", "Pat", f"Number{n}", f"key{n}", "active", n % 50 + k, "1.50"])


def sync_spread(root: Path, label: str, contacts: int, per_contact: int) -> None:
    """One run over ``contacts`` contacts with ``per_contact`` events each in random order, on a fresh database and
    sandbox account; prints requests, operations per contact and the run's peak traced memory."""
    path = root / f"{label}.csv"
    write_spread(path, contacts, per_contact)
    workspace = Workspace(Database(f"sqlite:///{root / label}.db"), directory=root / "data")
    workspace.save_config(load_preset("partnero"))
    summary = import_file(EventStore(workspace.database), path)
    account = SandboxAccount(limit=120, window_seconds=1)
    engine = SyncEngine(workspace, client=sandbox_client(account))
    tracemalloc.start()
    before = tracemalloc.get_traced_memory()[0]
    started = time.perf_counter()
    run = engine.run()
    seconds = time.perf_counter() - started
    after, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    items = RunStore(workspace.database).items(run_id=run.id, limit=10 * contacts)
    per_email: dict[str, int] = {}
    for item in items:
        per_email[item.email] = per_email.get(item.email, 0) + len(item.requests)
    operations = sum(per_email.values())
    total = account.stats.requests  # batches and setup (groups, fields)
    print(
        f"  {label:8} {summary.stored:>7,} events, {contacts:,} contacts: {total:,} requests "
        f"({run.requests:,} batches + {total - run.requests} setup) = 1 per {contacts / max(total, 1):.1f} contacts; "
        f"{operations:,} operations ({', '.join(f'{k} per contact: {v:,}' for k, v in _spread(per_email).items())}); "
        f"{seconds:.0f} s"
    )
    print(
        f"  {'':8} created {run.created:,}, updated {run.updated:,}, failed {run.failed + run.dead:,}; peak traced "
        f"memory during the run {(peak - before) / 1e6:.0f} MB, of which {(after - before) / 1e6:.0f} MB still held "
        "after it (the sandbox's subscribers)"
    )
    met = set(per_email.values()) == {1} and len(per_email) == contacts and total * 45 <= contacts
    print(
        f"  {'':8} target one operation per contact, at most 1 request per 45 contacts: {'met' if met else 'NOT met'}"
    )


def _spread(per_email: dict[str, int]) -> dict[int, int]:
    counts: dict[int, int] = {}
    for number in per_email.values():
        counts[number] = counts.get(number, 0) + 1
    return dict(sorted(counts.items()))


#: The spread cases: events per contact (one: nothing to merge, the baseline; two, far apart in random order).
SPREAD_CASES = {"baseline": 1, "shuffled": 2}


def compare_spread(contacts: int, cases: list[str]) -> None:
    print(f"spread: {contacts:,} contacts, in-process sandbox at 120 requests per 1 s window")
    with tempfile.TemporaryDirectory() as directory:
        os.environ["SYNC_STUDIO_DATA_DIR"] = str(Path(directory) / "data")
        for label in cases:
            sync_spread(Path(directory), label, contacts, SPREAD_CASES[label])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--contacts", type=int, default=10_000)
    parser.add_argument("--spread-contacts", type=int, default=50_000)
    parser.add_argument("--skip-memory", action="store_true")
    parser.add_argument("--skip-requests", action="store_true")
    parser.add_argument("--skip-spread", action="store_true")
    parser.add_argument("--spread-cases", default="baseline,shuffled", help="which of baseline,shuffled to run")
    args = parser.parse_args()
    if not args.skip_memory:
        measure_import_memory(args.rows)
    if not args.skip_requests:
        compare_requests(args.contacts)
    if not args.skip_spread:
        compare_spread(args.spread_contacts, args.spread_cases.split(","))


if __name__ == "__main__":
    main()
