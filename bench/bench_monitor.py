"""How long the Monitor page takes to render (Streamlit AppTest) with 1,000 sync items and 1,000 received events,
and with 1,000,000 of each, and their ratio (issue 15; target: at most 1.3). Both histories are written straight
into SQLite, with the daily rollups the engine keeps, spread over 60 days, 20 event types and 8 groups, one
contact for every two items (created, some updated later), and as many received events as items: mostly synced,
some ignored, about one in a thousand failed, dead or invalid (which the page lists and counts).

Also prints what each of the page's queries costs on both histories, to see which one grows.

    .venv/bin/python bench/bench_monitor.py [--small 1000] [--large 1000000] [--renders 5]
"""

from __future__ import annotations

import argparse
import os
import random
import statistics
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

import sqlalchemy as sa  # noqa: E402

from storage import Database  # noqa: E402
from storage.tables import (  # noqa: E402
    Contact,
    DailyGroup,
    DailyOutcome,
    ReceivedEvent,
    SyncItem,
    SyncItemGroup,
    SyncRun,
)

OUTCOMES = ["created"] * 5 + ["updated"] * 8 + ["unchanged"] * 4 + ["failed", "invalid", "suppressed"]
TYPES = [f"event.type_{n}" for n in range(20)]
GROUPS = [f"Group {n}" for n in range(8)]


def event_status(n: int) -> str:
    """Mostly synced; one in a hundred ignored; one in a thousand failed, one in two thousand dead or invalid."""
    if n % 1000 == 500:
        return "failed"
    if n % 2000 == 1:
        return "dead"
    if n % 2000 == 2:
        return "invalid"
    return "ignored" if n % 100 == 3 else "synced"


def fill(url: str, items: int) -> None:
    database = Database(url)
    rnd = random.Random(1)
    start = datetime(2026, 9, 1, tzinfo=UTC)
    outcome_counts: dict[tuple, int] = {}
    group_counts: dict[tuple, int] = {}
    with database.engine.begin() as connection:
        runs = max(1, items // 10_000)
        connection.execute(
            sa.insert(SyncRun),
            [
                {"trigger": "bench", "status": "finished", "started_at": start, "created": items // runs}
                for _ in range(runs)
            ],
        )
        batch, groups = [], []
        for n in range(1, items + 1):
            when = start + timedelta(seconds=n * 5_184_000 // items)
            outcome, event_type = rnd.choice(OUTCOMES), rnd.choice(TYPES)
            batch.append(
                {
                    "run_id": 1 + n * runs // (items + 1),
                    "created_at": when,
                    "email": f"c{n}@example.com",
                    "outcome": outcome,
                    "reason": "MailerLite answered 500" if outcome == "failed" else "",
                    "event_type": event_type,
                    "event_ids": [n],
                    "requests": [],
                    "changes": {},
                    "attempts": 1,
                    "dry_run": False,
                }
            )
            key = (when.date(), outcome, event_type)
            outcome_counts[key] = outcome_counts.get(key, 0) + 1
            if outcome in ("created", "updated"):
                group = rnd.choice(GROUPS)
                groups.append({"item_id": n, "created_at": when, "group": group, "action": "added"})
                group_counts[(when.date(), group, "added")] = group_counts.get((when.date(), group, "added"), 0) + 1
            if len(batch) == 20_000:
                connection.execute(sa.insert(SyncItem), batch)
                connection.execute(sa.insert(SyncItemGroup), groups)
                batch, groups = [], []
        if batch:
            connection.execute(sa.insert(SyncItem), batch)
        if groups:
            connection.execute(sa.insert(SyncItemGroup), groups)
        contacts = []
        for n in range(1, items // 2 + 1):
            created = start + timedelta(seconds=n * 5_184_000 // items)
            changed = created + timedelta(days=rnd.randint(0, 30)) if n % 3 else created
            contacts.append(
                {
                    "account": "sandbox",
                    "email": f"c{n}@example.com",
                    "status": "active",
                    "state": {},
                    "updated_at": changed,
                    "created_at": created,
                    "changed_at": changed,
                    "checked_at": changed,
                }
            )
            if len(contacts) == 20_000:
                connection.execute(sa.insert(Contact), contacts)
                contacts = []
        if contacts:
            connection.execute(sa.insert(Contact), contacts)
        received = []
        for n in range(1, items + 1):
            when = start + timedelta(seconds=n * 5_184_000 // items)
            received.append(
                {
                    "source": "dodo_payments",
                    "event_id": f"evt-{n}",
                    "event_type": TYPES[n % 20],
                    "email": f"c{n // 2 + 1}@example.com",
                    "status": event_status(n),
                    "reason": "" if n % 500 else "MailerLite answered 500",
                    "origin": "webhook",
                    "body": b'{"type": "payment.succeeded"}',
                    "occurred_at": when,
                    "received_at": when,
                    "processed_at": when,
                    "run_id": 1 + n * runs // (items + 1),
                }
            )
            if len(received) == 20_000:
                connection.execute(sa.insert(ReceivedEvent), received)
                received = []
        if received:
            connection.execute(sa.insert(ReceivedEvent), received)
        connection.execute(
            sa.insert(DailyOutcome),
            [{"day": d, "outcome": o, "event_type": t, "count": c} for (d, o, t), c in outcome_counts.items()],
        )
        connection.execute(
            sa.insert(DailyGroup),
            [{"day": d, "group": g, "action": a, "count": c} for (d, g, a), c in group_counts.items()],
        )
    database.dispose()


def render_times(directory: Path, renders: int) -> list[float]:
    os.environ["SYNC_STUDIO_DATA_DIR"] = str(directory)
    os.environ["DATABASE_URL"] = f"sqlite:///{directory / 'studio.db'}"
    from streamlit.testing.v1 import AppTest

    times = []
    for number in range(renders + 1):
        app = AppTest.from_file(str(ROOT / "dashboard.py"), default_timeout=120)
        app.run()
        app.switch_page("pages/monitor.py")
        app.session_state["monitor_period"] = "All time"
        started = time.perf_counter()
        app.run()
        elapsed = time.perf_counter() - started
        if app.exception:
            raise SystemExit(f"the Monitor page failed: {app.exception}")
        if number:  # the first render warms caches and imports
            times.append(elapsed)
    return times


def query_times(url: str) -> dict[str, float]:
    """Milliseconds each of the Monitor's queries takes (median of 5), and the status counts other pages read."""
    from storage.events import EventStore
    from storage.monitor import ItemFilter, MonitorQueries
    from sync_core.live.queue_status import queue_status

    database = Database(url)
    monitor, events = MonitorQueries(database), EventStore(database)
    failed = ItemFilter(outcomes=["failed", "dead"])
    calls = {
        "queue_status": lambda: queue_status(database),
        "totals": monitor.totals,
        "event counts per status": lambda: [events.count(s) for s in ("pending", "failed", "dead", "invalid")],
        "contacts_synced": monitor.contacts_synced,
        "contacts_created": monitor.contacts_created,
        "contacts_updated": monitor.contacts_updated,
        "contacts_failing": monitor.contacts_failing,
        "by_day + by_event_type + by_group": lambda: (monitor.by_day(), monitor.by_event_type(), monitor.by_group()),
        "items (all)": lambda: monitor.items(ItemFilter()),
        "items (failed and dead)": lambda: monitor.items(failed),
        "needs_attention": monitor.needs_attention,
        "emails_like": lambda: monitor.emails_like("c12"),
        "EventStore.counts (other pages)": events.counts,
    }
    times = {}
    for name, call in calls.items():
        runs = []
        for _ in range(5):
            started = time.perf_counter()
            call()
            runs.append(time.perf_counter() - started)
        times[name] = statistics.median(runs) * 1000
    database.dispose()
    return times


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--small", type=int, default=1_000)
    parser.add_argument("--large", type=int, default=1_000_000)
    parser.add_argument("--renders", type=int, default=5)
    args = parser.parse_args()
    results, queries = {}, {}
    with tempfile.TemporaryDirectory() as root:
        for label, count in (("small", args.small), ("large", args.large)):
            directory = Path(root) / label
            directory.mkdir()
            started = time.perf_counter()
            fill(f"sqlite:///{directory / 'studio.db'}", count)
            print(f"{count:>9,} items and {count:,} received events written in {time.perf_counter() - started:.0f} s")
            queries[count] = query_times(f"sqlite:///{directory / 'studio.db'}")
            results[count] = render_times(directory, args.renders)
    print(f"{'query (ms, median of 5)':<36}{args.small:>12,}{args.large:>12,}")
    for name in queries[args.small]:
        print(f"{name:<36}{queries[args.small][name]:>12.1f}{queries[args.large][name]:>12.1f}")
    for count, times in results.items():
        print(
            f"Monitor render with {count:>9,} items and events: median {statistics.median(times) * 1000:.0f} ms "
            f"(min {min(times) * 1000:.0f}, max {max(times) * 1000:.0f}, {len(times)} renders)"
        )
    small, large = (statistics.median(results[n]) for n in (args.small, args.large))
    print(
        f"ratio {args.large:,} / {args.small:,}: {large / small:.2f} (target at most 1.3: "
        f"{'met' if large / small <= 1.3 else 'NOT met'})"
    )


if __name__ == "__main__":
    main()
