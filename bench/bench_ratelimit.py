"""Rate-limit benchmark: 3,000 upserts against the HTTP sandbox (limit 120 per 1-second window).

The client's own limiter paces the requests; the figures say how much of the limit it used and whether the
sandbox ever had to refuse one. Target: at least 90% of the limit per window, and no 429 received.

    .venv/bin/python bench/bench_ratelimit.py [--upserts 3000] [--threads 4] [--limit 120] [--window 1]
"""

from __future__ import annotations

import argparse
import statistics
import sys
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from sync_core.mailerlite import Exchange  # noqa: E402
from sync_core.sandbox import SandboxAccount, sandbox_client, serve_sandbox  # noqa: E402


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--upserts", type=int, default=3000)
    parser.add_argument("--threads", type=int, default=4)
    parser.add_argument("--limit", type=int, default=120)
    parser.add_argument("--window", type=float, default=1.0, help="rate-limit window in seconds")
    args = parser.parse_args()

    account = SandboxAccount(limit=args.limit, window_seconds=args.window, seed=3000)
    received_429 = 0
    lock = threading.Lock()

    def count(exchange: Exchange) -> None:
        nonlocal received_429
        if exchange.status == 429:
            with lock:
                received_429 += 1

    with serve_sandbox(account) as server:
        client = sandbox_client(account, server=server, client_options={"on_exchange": count})
        emails = [f"bench{i:05d}@example.com" for i in range(args.upserts)]

        def upsert(email: str) -> bool:
            return client.upsert_subscriber(email, fields={"name": email.split("@")[0]}).created

        started = time.perf_counter()
        with ThreadPoolExecutor(max_workers=args.threads) as pool:
            created = sum(pool.map(upsert, emails))
        wall = time.perf_counter() - started
        client.close()

    windows = account.window_counts()
    full = windows[:-1] if len(windows) > 1 else windows  # the last window is cut short by the end of the run
    shares = [count / args.limit for count in full]
    throughput_share = args.upserts / wall * args.window / args.limit
    print(f"upserts: {args.upserts} ({created} created) with {args.threads} threads against {server.base_url}")
    print(f"limit: {args.limit} requests per {args.window:g} s window; wall time {wall:.2f} s")
    print(
        f"windows: {len(windows)}; requests per full window: mean {statistics.mean(full):.1f}, "
        f"min {min(full)}, max {max(full)}"
    )
    print(
        f"share of the limit per window: mean {statistics.mean(shares):.1%}, min {min(shares):.1%}, "
        f"max {max(shares):.1%}"
    )
    print(f"share of the limit over the whole run (requests per second x window / limit): {throughput_share:.1%}")
    print(f"429 received by the client: {received_429}; refused by the sandbox: {account.stats.rate_limited}")
    target_met = throughput_share >= 0.9 and received_429 == 0
    print("target (>= 90% of the limit, no 429):", "met" if target_met else "NOT met")
    return 0 if target_met else 1


if __name__ == "__main__":
    sys.exit(main())
