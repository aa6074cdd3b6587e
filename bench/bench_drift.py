"""Drift check figures (issue 12), measured in this one run against the in-process sandbox:

1. 50,000 partners are synced (the partnero preset), then a few hundred are changed directly in the sandbox
   (a field edited, taken out of a group, deleted), as someone in MailerLite would;
2. the baseline: paging through the same subscribers (``GET /subscribers?include=groups``, 1,000 a page) without
   comparing anything;
3. the drift check (``sync_core.engine.drift.check``): the same pages, each compared in bulk with the studio's
   states, the differing contacts stored, the deleted ones found with a query.

For each: wall time, requests to MailerLite, and peak traced memory (tracemalloc, which slows both alike). The
check's memory should stay close to the baseline's (one page at a time), whatever the number of subscribers.

    .venv/bin/python bench/bench_drift.py [--contacts 50000] [--changed 500]
"""

from __future__ import annotations

import argparse
import csv
import os
import sys
import tempfile
import time
import tracemalloc
from collections.abc import Callable
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from storage import Database
from storage.events import EventStore
from sync_core.domain.presets import load_preset
from sync_core.engine import drift
from sync_core.engine.file_import import import_file
from sync_core.engine.run import SyncEngine
from sync_core.engine.workspace import Workspace
from sync_core.mailerlite.models import BatchRequest
from sync_core.sandbox import SandboxAccount, sandbox_client


def write_partners(path: Path, count: int) -> None:
    with path.open("w", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(["email", "name", "surname", "key", "status", "total_sales", "total_earned"])
        for n in range(count):
            status = "active" if n % 2 else "pending"
            writer.writerow([f"partner{n}@example.com", "Pat", f"Number{n}", f"key{n}", status, n % 50, f"{n % 7}.50"])


def measured(action: Callable[[], Any]) -> tuple[Any, float, float]:
    """``action()``'s result, its wall time and its peak traced memory in MB."""
    tracemalloc.start()
    started = time.perf_counter()
    try:
        result = action()
        return result, time.perf_counter() - started, tracemalloc.get_traced_memory()[1] / 1e6
    finally:
        tracemalloc.stop()


def change_by_hand(client, changed: int) -> dict[str, int]:  # noqa: ANN001 - a MailerLiteClient
    """Edit a field of some subscribers, take others out of Active Partners, delete a few (in batches of 50)."""
    active = client.find_group("Active Partners")
    assert active is not None
    requests: list[BatchRequest] = []
    counts = {"field": 0, "group_removed": 0, "deleted": 0}
    for number, subscriber in enumerate(client.iter_subscribers(page_size=1000)):
        if number >= changed * 3:
            break
        kind = ("field", "group_removed", "deleted")[number % 3]
        if kind == "group_removed" and subscriber.fields.get("status") != "active":
            continue
        counts[kind] += 1
        if kind == "field":
            request = BatchRequest(
                method="PUT", path=f"api/subscribers/{subscriber.id}", body={"fields": {"name": "Edited by hand"}}
            )
        elif kind == "group_removed":
            request = BatchRequest(method="DELETE", path=f"api/subscribers/{subscriber.id}/groups/{active.id}")
        else:
            request = BatchRequest(method="DELETE", path=f"api/subscribers/{subscriber.id}")
        requests.append(request)
    for start in range(0, len(requests), 50):
        client.batch(requests[start : start + 50])
    return counts


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--contacts", type=int, default=50_000)
    parser.add_argument("--changed", type=int, default=500, help="about this many of each kind of change")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as directory:
        root = Path(directory)
        os.environ["SYNC_STUDIO_DATA_DIR"] = str(root / "data")
        workspace = Workspace(Database(f"sqlite:///{root / 'studio.db'}"), directory=root / "data")
        workspace.save_config(load_preset("partnero"))
        account = SandboxAccount(limit=100_000, window_seconds=1, import_limit=10_000)
        requests = [0]
        client = sandbox_client(
            account, client_options={"on_exchange": lambda _: requests.__setitem__(0, requests[0] + 1)}
        )

        path = root / "partners.csv"
        write_partners(path, args.contacts)
        started = time.perf_counter()
        import_file(EventStore(workspace.database), path)
        run = SyncEngine(workspace, client=client).run()
        print(
            f"setup: {args.contacts:,} partners synced in {time.perf_counter() - started:.0f} s "
            f"({run.created:,} created, {run.requests:,} requests)"
        )
        counts = change_by_hand(client, args.changed)
        print(
            f"changed in the sandbox: {counts['field']:,} fields edited, {counts['group_removed']:,} taken out of "
            f"Active Partners, {counts['deleted']:,} deleted"
        )

        def page_through() -> int:
            read = 0
            for page in client.iter_subscriber_pages(page_size=drift.PAGE_SIZE, include_groups=True):
                read += len(page.items)
            return read

        requests[0] = 0
        read, seconds, peak = measured(page_through)
        print(
            f"baseline (paging, no comparison): {read:,} subscribers in {seconds:.1f} s, {requests[0]:,} requests, "
            f"peak traced memory {peak:.1f} MB"
        )
        requests[0] = 0
        check, seconds, peak = measured(lambda: drift.check(workspace, client=client))
        print(
            f"drift check: {check.subscribers_read:,} subscribers, {check.contacts_compared:,} contacts compared "
            f"in {seconds:.1f} s, {requests[0]:,} requests, peak traced memory {peak:.1f} MB"
        )
        print(f"  found: {drift.describe(check)}")
        expected = counts["field"] + counts["group_removed"] + counts["deleted"]
        print(f"  every change found: {'yes' if check.contacts_differ == expected else 'NO'} ({expected:,} made)")


if __name__ == "__main__":
    main()
