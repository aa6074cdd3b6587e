"""Webhook receiver benchmark: signed webhooks accepted per second, with p50 and p99 latency, on SQLite, next to
a bare route that only answers 200 (``/webhooks/ping``) in the same server, measured in the same run.

A server is started on 127.0.0.1 with a fresh SQLite database: the whole dashboard (``--server dashboard``:
``streamlit run dashboard.py``, the default once dashboard.py serves the webhook routes) or the receiver alone
under uvicorn (``--server asgi``).
Its sync worker runs too (``--no-worker`` to leave it out), draining the events into the built-in sandbox
account within its rate limit, as it would in production. Clients keep their connections open and send signed
Dodo Payments and Partnero events (half each, all distinct); bodies and signatures are made before the clock
starts. Every event answered 200 is checked to be in the database afterwards.

Target: at least 300 events/s and p99 under 100 ms.

    .venv/bin/python bench/bench_webhooks.py [--events 3000] [--concurrency 8] [--server dashboard|asgi]
"""

from __future__ import annotations

import argparse
import base64
import hashlib
import hmac
import http.client
import json
import os
import shutil
import signal
import socket
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from datetime import UTC, datetime
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from standardwebhooks import Webhook  # noqa: E402

DODO_SECRET = "whsec_" + base64.b64encode(b"bench-secret-0123456789abcdef").decode()
PARTNERO_SECRET = "bench-partnero-secret"


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def make_jobs(count: int, offset: int) -> list[tuple[str, bytes, dict[str, str]]]:
    """Signed requests, half Dodo Payments (payment.succeeded), half Partnero (partner.created)."""
    signer = Webhook(DODO_SECRET)
    now = datetime.now(UTC)
    jobs = []
    for n in range(offset, offset + count):
        if n % 2 == 0:
            body = json.dumps(
                {
                    "business_id": "bus_bench",
                    "type": "payment.succeeded",
                    "timestamp": now.isoformat(),
                    "data": {
                        "payload_type": "Payment",
                        "payment_id": f"pay_{n}",
                        "total_amount": 400 + n % 20000,
                        "currency": "USD",
                        "status": "succeeded",
                        "customer": {"customer_id": f"cus_{n}", "email": f"buyer{n}@example.com", "name": f"Buyer {n}"},
                        "product_cart": [{"product_id": "pdt_bench", "quantity": 1}],
                    },
                },
                separators=(",", ":"),
            )
            msg_id = f"msg_bench_{n}"
            headers = {
                "webhook-id": msg_id,
                "webhook-timestamp": str(int(now.timestamp())),
                "webhook-signature": signer.sign(msg_id, now, body),
            }
            jobs.append(("/webhooks/dodo-payments", body.encode(), headers))
        else:
            raw = json.dumps(
                {
                    "event": "partner.created",
                    "url": "https://studio.example.com/webhooks/partnero",
                    "webhook_key": "wh_bench",
                    "created_at": now.isoformat(),
                    "data": {
                        "id": f"partner_{n}",
                        "key": f"partner_{n}",
                        "email": f"partner{n}@example.com",
                        "name": "Pat",
                        "surname": f"Number{n}",
                        "status": "active",
                        "total_sales": n % 40,
                        "total_earned": f"{n % 9}.50",
                    },
                },
                separators=(",", ":"),
            ).encode()
            headers = {"Signature": hmac.new(PARTNERO_SECRET.encode(), raw, hashlib.sha256).hexdigest()}
            jobs.append(("/webhooks/partnero", raw, headers))
    for _, _, headers in jobs:
        headers["Content-Type"] = "application/json"
    return jobs


def fire(
    port: int, jobs: list[tuple[str, bytes, dict[str, str]]], concurrency: int, *, path_override: str | None = None
) -> tuple[float, list[float], dict[int, int]]:
    """Send every job with ``concurrency`` keep-alive connections; wall time, latencies (s), status counts."""
    latencies: list[float] = []
    statuses: dict[int, int] = {}
    lock = threading.Lock()
    position = iter(range(len(jobs)))

    def client() -> None:
        connection = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
        mine: list[float] = []
        codes: dict[int, int] = {}
        while True:
            with lock:
                index = next(position, None)
            if index is None:
                break
            path, body, headers = jobs[index]
            started = time.perf_counter()
            connection.request("POST", path_override or path, body=body, headers=headers)
            answer = connection.getresponse()
            answer.read()
            mine.append(time.perf_counter() - started)
            codes[answer.status] = codes.get(answer.status, 0) + 1
        connection.close()
        with lock:
            latencies.extend(mine)
            for code, number in codes.items():
                statuses[code] = statuses.get(code, 0) + number

    threads = [threading.Thread(target=client) for _ in range(concurrency)]
    started = time.perf_counter()
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return time.perf_counter() - started, latencies, statuses


def percentile(values: list[float], share: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(share * len(ordered)))]


def report(name: str, wall: float, latencies: list[float], statuses: dict[int, int]) -> tuple[float, float]:
    rate = len(latencies) / wall
    p50, p99 = percentile(latencies, 0.50), percentile(latencies, 0.99)
    print(
        f"{name:<26} {rate:>8,.0f}/s   p50 {p50 * 1000:6.1f} ms   p99 {p99 * 1000:6.1f} ms   "
        f"max {max(latencies) * 1000:6.1f} ms   mean {statistics.fmean(latencies) * 1000:5.1f} ms   "
        f"answers {dict(sorted(statuses.items()))}"
    )
    return rate, p99


def start_server(kind: str, port: int, env: dict[str, str], log: Path) -> subprocess.Popen:
    if kind == "asgi":
        command = [
            sys.executable,
            "-m",
            "uvicorn",
            "sync_core.live.asgi:app",
            "--host",
            "127.0.0.1",
            "--port",
            str(port),
            "--no-access-log",
            "--log-level",
            "warning",
        ]
    else:
        command = [
            sys.executable,
            "-m",
            "streamlit",
            "run",
            "dashboard.py",
            "--server.address",
            "127.0.0.1",
            "--server.port",
            str(port),
            "--server.headless",
            "true",
        ]
    return subprocess.Popen(
        command, cwd=ROOT, env=env, stdout=log.open("wb"), stderr=subprocess.STDOUT, start_new_session=True
    )


def wait_ready(process: subprocess.Popen, port: int, log: Path) -> None:
    deadline = time.monotonic() + 90
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise SystemExit(f"the server exited:\n{log.read_text(errors='replace')}")
        try:
            connection = http.client.HTTPConnection("127.0.0.1", port, timeout=2)
            connection.request("GET", "/healthz")
            if connection.getresponse().status == 200:
                return
        except OSError:
            pass
        time.sleep(0.1)
    raise SystemExit(f"the server did not become ready:\n{log.read_text(errors='replace')}")


def save_config(database_url: str, data_dir: Path) -> None:
    """Dodo Payments' and Partnero's presets together, in the built-in sandbox: the worker has real work."""
    from storage import Database
    from sync_core.domain.presets import load_preset
    from sync_core.engine.workspace import Workspace

    config = load_preset("dodo-payments")
    for trigger in load_preset("partnero").triggers:
        config.triggers.append(trigger.model_copy(update={"source": "partnero"}))
    database = Database(database_url)
    Workspace(database, directory=data_dir).save_config(config, author="bench")
    database.dispose()


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--events", type=int, default=3000, help="signed events per measurement")
    parser.add_argument("--concurrency", type=int, default=8, help="connections sending at once")
    parser.add_argument(
        "--server",
        choices=["auto", "asgi", "dashboard"],
        default="auto",
        help="auto: the dashboard when dashboard.py serves the webhook routes, else asgi",
    )
    parser.add_argument("--no-worker", action="store_true", help="leave the sync worker out")
    args = parser.parse_args()

    wired = "st.App(" in (ROOT / "dashboard.py").read_text(encoding="utf-8")
    if args.server == "auto":
        args.server = "dashboard" if wired else "asgi"
    if args.server == "dashboard" and not wired:
        raise SystemExit("dashboard.py does not serve the webhook routes (no st.App); use --server asgi")
    directory = Path(tempfile.mkdtemp(prefix="bench-webhooks-"))
    database_file = directory / "studio.db"
    url = f"sqlite:///{database_file}"
    env = {
        key: value
        for key, value in os.environ.items()
        if key not in ("MAILERLITE_API_KEY", "MAILERLITE_BASE_URL", "DATABASE_URL")
    }
    env.update(
        SYNC_STUDIO_DATA_DIR=str(directory),
        DATABASE_URL=url,
        DODO_PAYMENTS_WEBHOOK_KEY=DODO_SECRET,
        PARTNERO_WEBHOOK_SECRET=PARTNERO_SECRET,
        SYNC_STUDIO_WORKER="off" if args.no_worker else "on",
        PYTHONPATH=str(ROOT),
    )
    os.environ["SYNC_STUDIO_DATA_DIR"] = str(directory)
    save_config(url, directory)
    port = free_port()
    log = directory / "server.log"
    warmup = make_jobs(200, 0)
    measured = make_jobs(args.events, 200)
    bare = make_jobs(args.events, 200 + args.events)
    server = start_server(args.server, port, env, log)
    try:
        wait_ready(server, port, log)
        fire(port, warmup, args.concurrency)
        fire(port, warmup, args.concurrency, path_override="/webhooks/ping")
        signed = fire(port, measured, args.concurrency)
        baseline = fire(port, bare, args.concurrency, path_override="/webhooks/ping")
    finally:
        if server.poll() is None:
            os.killpg(server.pid, signal.SIGTERM)
        try:
            server.wait(30)
        except subprocess.TimeoutExpired:
            os.killpg(server.pid, signal.SIGKILL)
    with sqlite3.connect(database_file) as connection:
        stored = connection.execute("SELECT count(*) FROM received_event WHERE origin = 'webhook'").fetchone()[0]
        synced = connection.execute("SELECT count(*) FROM received_event WHERE status = 'synced'").fetchone()[0]

    print(
        f"server: {args.server} on 127.0.0.1, SQLite (WAL), worker {'off' if args.no_worker else 'on'}; "
        f"{args.events:,} requests per measurement, {args.concurrency} connections; Python "
        f"{sys.version.split()[0]}, {os.cpu_count()} CPU(s)"
    )
    rate, p99 = report("signed webhooks (stored)", *signed)
    report("bare route (200 only)", *baseline)
    accepted = signed[2].get(200, 0)
    expected_stored = len(warmup) + accepted
    print(
        f"stored in the database: {stored:,} of {expected_stored:,} accepted (warm-up included); "
        f"{synced:,} already synced by the worker when the server stopped"
    )
    met = rate >= 300 and p99 < 0.100 and accepted == args.events and stored == expected_stored
    print(f"target (>= 300 events/s, p99 < 100 ms, every accepted event stored): {'met' if met else 'NOT met'}")
    if met:
        shutil.rmtree(directory, ignore_errors=True)
    else:
        print(f"the server's log and database are kept in {directory}")
    return 0 if met else 1


if __name__ == "__main__":
    sys.exit(main())
