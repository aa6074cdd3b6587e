"""The continuous worker: stored events → MailerLite, for as long as the process runs.

It loops: when events wait, it runs the sync engine (which takes every pending event, within the account's rate
limits); when none wait, it sleeps a little (or until the webhook receiver in the same process says that an
event arrived). Nothing is held in memory between runs, so a restart loses nothing: events wait in the database
and a run cut short is finished by the next one (see sync_core.engine.run).

- **A trickle of events is gathered** into one run: a run starts when a full batch waits or when the oldest
  waiting event is ``gather_seconds`` old, because every run costs a few requests of its own (groups, fields).
- **When MailerLite fails** (a run fails, or contacts fail), the worker backs off, doubling the pause up to
  ``backoff_max_seconds``; before it syncs again it checks that MailerLite answers (one cheap request), then
  puts the failed events back in the queue. The engine's rule still holds: after 3 attempts a contact is dead
  and waits for a person.
- **Several workers** (threads, processes, machines on one PostgreSQL) can run side by side: the engine lets one
  sync per MailerLite account at a time, and the others stand by.
- **Runs a person asked for** (the Run sync page's start button: a dry run or a sync, staged imports included)
  come first: the worker looks for them at every turn, so one starts within a second or so, and it writes their
  progress where the page reads it (sync_core.engine.run_requests). The live runs take webhook events only;
  imported files wait for a person.
- **The daily comparison with MailerLite** (sync_core.engine.drift) runs when no event waits and the last one is
  older than ``SYNC_STUDIO_DRIFT_CHECK_SECONDS`` (a day), unless the configuration switched it off.
- **A heartbeat** row (storage.heartbeats) is written every ``heartbeat_seconds`` by a thread of its own, with the
  worker's state in plain words, so the dashboard can tell whether a worker is alive.
"""

from __future__ import annotations

import argparse
import logging
import os
import random
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime

from storage.heartbeats import HeartbeatStore
from storage.locks import new_holder
from storage.run_requests import RunRequestStore
from storage.statuses import EventStatus, ItemOutcome, RunStatus
from storage.tables import SyncRun, utcnow
from sync_core.engine import drift
from sync_core.engine.alerts import alert_worker_stalled, alert_worker_stopped
from sync_core.engine.mailerlite_events import settle_mailerlite_events
from sync_core.engine.run import SyncEngine, SyncError
from sync_core.engine.run_requests import AccountBusyNow, carry_out
from sync_core.engine.sender import MailerLiteUnavailable
from sync_core.engine.workspace import KeyAddressError, Workspace
from sync_core.live.queue_status import waiting
from sync_core.mailerlite import MailerLiteClient
from sync_core.mailerlite.errors import AuthError, MailerLiteError
from sync_core.settings import PROJECT_ROOT, get_settings

log = logging.getLogger("sync_core.live.worker")

IDLE, GATHERING, SYNCING, STANDBY, BACKING_OFF, STOPPED = (
    "idle",
    "waiting",
    "syncing",
    "standby",
    "backing_off",
    "stopped",
)


@dataclass(slots=True)
class WorkerSettings:
    idle_seconds: float = 1.0  # how often an idle worker looks for events (a nudge wakes it at once)
    gather_seconds: float = 1.0  # how long a few events may wait for others to join them in one run
    full_batch: int = 49  # this many waiting events start a run at once (one MailerLite batch)
    heartbeat_seconds: float = 5.0
    backoff_initial_seconds: float = 5.0
    backoff_max_seconds: float = 300.0
    standby_seconds: float = 5.0  # how long to wait when another worker is syncing the account
    stop_timeout_seconds: float = 15.0  # how long ``stop`` waits for a run in progress
    # How often an idle worker looks for unsubscribed contacts due for their daily check with MailerLite.
    recheck_seconds: float = 3600.0


class Worker:
    """One worker. ``start()`` runs it in a background thread (the web server's), ``run()`` in the caller's
    (``python -m sync_core worker``); ``step()`` does one turn of the loop (tests)."""

    def __init__(
        self,
        workspace: Workspace,
        *,
        client: MailerLiteClient | None = None,
        settings: WorkerSettings | None = None,
        name: str | None = None,
        on_run: Callable[[SyncRun], None] | None = None,
    ):
        self.workspace = workspace
        self.settings = settings or WorkerSettings()
        self.name = name or new_holder()
        self._client = client
        self._on_run = on_run
        self._events = workspace.events
        self._heartbeats = HeartbeatStore(workspace.database)
        self._requests = RunRequestStore(workspace.database)
        self._stop = threading.Event()
        self._wake = threading.Event()
        self._thread: threading.Thread | None = None
        self._beat_thread: threading.Thread | None = None
        self._beat_lock = threading.Lock()
        self.started_at = utcnow()
        self.state = IDLE
        self.detail = ""
        self.last_run: SyncRun | None = None
        self._summary = ""  # what the last good run did, shown while idle
        self.runs = 0
        self.failures_in_a_row = 0
        self._backoff_until = 0.0  # time.monotonic()
        self._failing_since = 0.0  # time.monotonic() of the first failure in a row (an alert when it lasts)
        self._next_recheck = 0.0  # time.monotonic() of the next look for unsubscribed contacts due a check
        self._check_before_sync = False  # after a failure: see that MailerLite answers, then requeue failed

    # --- life cycle ---------------------------------------------------------------------------------------------

    def start(self) -> Worker:
        """Run in background threads (the loop and its heartbeat) until ``stop()``."""
        if self._thread is not None and self._thread.is_alive():
            return self
        self._stop.clear()
        self._beat_thread = threading.Thread(target=self._beat_loop, name="sync-worker-heartbeat", daemon=True)
        self._thread = threading.Thread(target=self._loop, name="sync-worker", daemon=True)
        self._beat("starting")
        self._beat_thread.start()
        self._thread.start()
        return self

    def stop(self, timeout: float | None = None) -> bool:
        """Ask the loop to end and wait for the run in progress (up to ``timeout``); True when it ended. A run
        cut short by the process ending is finished by the next worker: nothing is lost."""
        self.request_stop()
        ended = True
        timeout = self.settings.stop_timeout_seconds if timeout is None else timeout
        if self._thread is not None:
            self._thread.join(timeout)
            ended = not self._thread.is_alive()
        if self._beat_thread is not None:
            self._beat_thread.join(2)
        if ended:
            self._set(STOPPED, "stopped with the server")
            self._beat()
        return ended

    def run(self) -> None:
        """Run in the calling thread until ``stop()`` (from a signal handler or another thread)."""
        self._stop.clear()
        self._beat_thread = threading.Thread(target=self._beat_loop, name="sync-worker-heartbeat", daemon=True)
        self._beat("starting")
        self._beat_thread.start()
        try:
            self._loop()
        finally:
            self._stop.set()
            self._beat_thread.join(2)
            self._set(STOPPED, "stopped")
            self._beat()

    def request_stop(self) -> None:
        """Ask the loop to end after the run in progress, without waiting (safe in a signal handler)."""
        self._stop.set()
        self._wake.set()

    @property
    def alive(self) -> bool:
        return self._thread is not None and self._thread.is_alive()

    def nudge(self, *_: object) -> None:
        """An event was stored: look now rather than at the next idle check."""
        self._wake.set()

    # --- the loop -----------------------------------------------------------------------------------------------

    def _loop(self) -> None:
        log.info("sync worker %s started", self.name)
        while not self._stop.is_set():
            try:
                pause = self.step()
            except KeyAddressError as exc:  # the key may not go to this address: the events wait, said in words
                log.warning("the sync worker waits: %s", exc)
                pause = self._back_off(str(exc))
            except Exception as exc:  # noqa: BLE001 - the loop must go on; say why in the heartbeat
                log.exception("the sync worker hit an unexpected error")
                pause = self._back_off(f"unexpected error: {exc}")
            if pause > 0:
                self._sleep(pause)
        log.info("sync worker %s stopped", self.name)

    def _sleep(self, seconds: float) -> None:
        if self.state in (BACKING_OFF, GATHERING, STANDBY):
            self._stop.wait(seconds)  # arriving events do not cut these pauses short
        else:
            self._wake.wait(seconds)
        self._wake.clear()

    def step(self) -> float:
        """One turn: a run a person asked for, else sync if there is something to sync and nothing forbids it.
        Returns how long to pause."""
        request = self._requests.next_queued()
        if request is not None and request.id is not None:
            return self._carry_out(request.id)
        now = time.monotonic()
        if now < self._backoff_until:
            return min(self._backoff_until - now, 1.0)
        if self._check_before_sync:
            if not self._mailerlite_answers():
                return self._back_off(self.detail)
            self._check_before_sync = False
            requeued = self._events.requeue(statuses=(EventStatus.FAILED,))
            if requeued:
                log.info("MailerLite answers again: %d failed event(s) go back in the queue", requeued)
        queue = waiting(self.workspace.database, cap=self.settings.full_batch)
        if queue.count and settle_mailerlite_events(self.workspace):  # no run (no request) needed for those
            queue = waiting(self.workspace.database, cap=self.settings.full_batch)
        if queue.count == 0:
            if now >= self._next_recheck:
                self._next_recheck = now + self.settings.recheck_seconds
                if self._recheck_suppressed():
                    return 0.0  # events of contacts subscribed again wait: sync them
            if drift.check_due(self.workspace):
                return self._check_drift()
            self._set(IDLE, self._summary)
            return self.settings.idle_seconds
        age = (utcnow() - queue.oldest_received_at).total_seconds() if queue.oldest_received_at else 1e9
        if queue.count < self.settings.full_batch and age < self.settings.gather_seconds:
            self._set(GATHERING, f"{queue.count} event(s) waiting, gathering more for one run")
            return max(0.01, self.settings.gather_seconds - age)
        return self._sync()

    def _sync(self) -> float:
        self._set(SYNCING, "syncing the waiting events")
        client = self._client or self.workspace.client()
        engine = SyncEngine(self.workspace, client=client)
        try:
            run = engine.run(trigger="worker", progress=self._progress, staged=False)
        except SyncError as exc:
            if "another sync is running" in str(exc):
                self._set(STANDBY, "another worker or sync is syncing this account; standing by")
                return self.settings.standby_seconds
            return self._back_off(str(exc))
        finally:
            if self._client is None:
                client.close()
        self.runs += 1
        self.last_run = run
        if self._on_run is not None:
            self._on_run(run)
        if run.status != RunStatus.FINISHED or run.failed:
            reason = run.error or (
                f"{run.failed} contact(s) failed in run {run.id}; they are tried again when MailerLite answers"
            )
            log.warning("sync run %s: %s", run.id, reason)
            self._check_before_sync = True
            pause = self._back_off(reason)
            if engine.resume_at is not None:  # MailerLite was waited out: come back when the run's message says
                delay = max(0.0, (engine.resume_at - datetime.now().astimezone()).total_seconds())
                self._backoff_until = time.monotonic() + delay
                self._set(BACKING_OFF, reason)
                pause = min(delay, 1.0)
            return pause
        self.failures_in_a_row = 0
        log.info("sync run %s finished: %s", run.id, _counts(run))
        self._summary = f"last run {run.id}: {_counts(run)}"
        self._set(IDLE, self._summary)
        return 0.0

    def _recheck_suppressed(self) -> bool:
        """The daily check of unsubscribed contacts; whether events of theirs went back in the queue. A failure
        waits for the next turn; syncing goes on."""
        client = self._client or self.workspace.client()
        try:
            summary = SyncEngine(self.workspace, client=client).recheck_suppressed()
        except (SyncError, MailerLiteError, MailerLiteUnavailable) as exc:
            log.info("the check of unsubscribed contacts waits for the next turn: %s", exc)
            return False
        finally:
            if self._client is None:
                client.close()
        if summary.checked:
            log.info("%s", summary.in_words())
        return summary.requeued > 0

    def _carry_out(self, request_id: int) -> float:
        """Run what a person asked for on the Run sync page (its progress and outcome go on the request)."""
        self._set(SYNCING, f"running the sync a person started (request {request_id})")
        client = self._client or self.workspace.client()
        try:
            run = carry_out(self.workspace, request_id, runner="worker", holder=self.name, client=client)
        except AccountBusyNow:
            self._set(STANDBY, "another worker or sync is syncing this account; the requested run waits")
            return self.settings.standby_seconds
        finally:
            if self._client is None:
                client.close()
        if run is not None:
            self.runs += 1
            self.last_run = run
            if self._on_run is not None:
                self._on_run(run)
            self._summary = f"last run {run.id}: {_counts(run)}"
        self._set(IDLE, self._summary)
        return 0.0

    def _check_drift(self) -> float:
        """The scheduled comparison with MailerLite (when no event waits), recorded like one a person starts."""
        self._set(SYNCING, "comparing the account with what the studio decided (the daily check)")
        client = self._client or self.workspace.client()
        try:
            check = drift.check(self.workspace, client=client, trigger="schedule")
            log.info("scheduled drift check %s: %s", check.id, drift.describe(check))
        except drift.DriftError as exc:
            log.info("scheduled drift check not run: %s", exc)
        finally:
            if self._client is None:
                client.close()
        self._set(IDLE, self._summary)
        return 0.0

    def _progress(self, progress) -> None:  # noqa: ANN001 - sync_core.engine.run.RunProgress
        self.detail = f"run {progress.run_id}: {progress.events:,} event(s) handled, {progress.contacts:,} contact(s)"

    def _mailerlite_answers(self) -> bool:
        client = self._client or self.workspace.client()
        try:
            client.count_subscribers()
            return True
        except AuthError as exc:
            self.detail = f"MailerLite refuses the API key ({exc}); fix it on the Connection page"
        except MailerLiteError as exc:
            self.detail = f"MailerLite does not answer well yet: {exc}"
        except Exception as exc:  # noqa: BLE001
            self.detail = f"MailerLite cannot be reached: {exc}"
        finally:
            if self._client is None:
                client.close()
        return False

    def _back_off(self, reason: str) -> float:
        self.failures_in_a_row += 1
        base = self.settings.backoff_initial_seconds * 2 ** min(self.failures_in_a_row - 1, 16)
        delay = min(self.settings.backoff_max_seconds, base) * random.uniform(0.8, 1.0)
        self._backoff_until = time.monotonic() + delay
        self._alert_if_stalled(reason)
        until = datetime.now().astimezone().strftime("%H:%M:%S")
        self._set(BACKING_OFF, f"{reason} — next try in {delay:.0f} s (from {until})")
        return min(delay, 1.0)

    def _alert_if_stalled(self, reason: str) -> None:
        """Failing for longer than ``SYNC_STUDIO_STALL_SECONDS``: an alert (at most one an hour, any process)."""
        if self.failures_in_a_row == 1:
            self._failing_since = time.monotonic()
        elif time.monotonic() - self._failing_since >= get_settings().stall_seconds:
            plain = "" if reason.startswith("unexpected error") else reason
            alert_worker_stalled(self.workspace, waiting(self.workspace.database).count, plain)

    # --- state and heartbeat ------------------------------------------------------------------------------------

    def _set(self, state: str, detail: str) -> None:
        changed = state != self.state
        self.state, self.detail = state, detail
        if changed and state in (BACKING_OFF, STANDBY, IDLE):
            self._beat()  # say it at once, not at the next heartbeat

    def _beat_loop(self) -> None:
        while not self._stop.wait(self.settings.heartbeat_seconds):
            self._beat()

    def _beat(self, state: str | None = None) -> None:
        # One beat at a time, each reading the state when it writes: the newest state is the one left.
        with self._beat_lock:
            try:
                self._heartbeats.beat(
                    self.name,
                    role="worker",
                    state=state or self.state,
                    detail=self.detail,
                    started_at=self.started_at,
                    last_run_id=self.last_run.id if self.last_run is not None else None,
                )
            except Exception:  # noqa: BLE001 - a database hiccup must not stop the worker
                log.warning("the worker's heartbeat could not be written", exc_info=True)


def open_workspace(factory: Callable[[], Workspace] = Workspace, attempts: int = 3) -> Workspace:
    """``factory()``, tried again after a moment if it fails: processes started together on a new database
    (a server and its worker, ``uvicorn --workers N``) may race to create its tables, and the loser finds
    them made when it tries again."""
    for attempt in range(1, attempts + 1):
        try:
            return factory()
        except Exception as exc:  # noqa: BLE001
            if attempt == attempts:
                raise
            log.info("opening the database failed (%s); trying again", type(exc).__name__)
            time.sleep(random.uniform(0.2, 0.6) * attempt)
    raise AssertionError("unreachable")


def _counts(run: SyncRun) -> str:
    text = ", ".join(f"{getattr(run, name)} {name}" for name in ItemOutcome if getattr(run, name))
    return f"{text or 'nothing to send'}; {run.requests} request(s)"


# --- the worker as a process of its own ------------------------------------------------------------------------------


class WorkerProcess:
    """The worker in a child process, kept running by a supervising thread: started again (after a pause that
    grows) if it ends without being asked. A child process keeps the sync's CPU work off the web server's
    interpreter, so that webhook answers stay fast while a large sync runs; the child ends by itself when the
    server is gone (``--parent``). Its environment is the server's: the same database and secrets."""

    def __init__(self, *, stop_timeout: float = 15.0, arguments: tuple[str, ...] = ()):
        self.stop_timeout = stop_timeout
        self.arguments = arguments
        self.process: subprocess.Popen | None = None
        self.restarts = 0
        self._stopping = threading.Event()
        self._supervisor: threading.Thread | None = None

    def command(self) -> list[str]:
        return [sys.executable, "-m", "sync_core.live.worker", "--parent", str(os.getpid()), *self.arguments]

    def _spawn(self) -> None:
        env = dict(os.environ)
        env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(PROJECT_ROOT), env.get("PYTHONPATH")]))
        self.process = subprocess.Popen(self.command(), cwd=PROJECT_ROOT, env=env)
        log.info("sync worker process %d started", self.process.pid)

    def start(self) -> WorkerProcess:
        self._stopping.clear()
        self._spawn()
        self._supervisor = threading.Thread(target=self._supervise, name="sync-worker-supervisor", daemon=True)
        self._supervisor.start()
        return self

    def _supervise(self) -> None:
        pause = 1.0
        while not self._stopping.wait(0.5):
            process = self.process
            if process is None or process.poll() is None:
                continue
            log.warning(
                "the sync worker process ended (exit code %s); starting it again in %.0f s", process.returncode, pause
            )
            threading.Thread(target=alert_worker_stopped, name="sync-worker-alert", daemon=True).start()
            if self._stopping.wait(pause):
                return
            self.restarts += 1
            pause = min(pause * 2, 60.0)
            self._spawn()

    @property
    def alive(self) -> bool:
        return self.process is not None and self.process.poll() is None

    def stop(self, timeout: float | None = None) -> bool:
        """SIGTERM (the run in progress finishes), then SIGKILL after ``timeout``; True when it ended in time."""
        self._stopping.set()
        if self._supervisor is not None:
            self._supervisor.join(5)
        process = self.process
        if process is None or process.poll() is not None:
            return True
        process.terminate()
        try:
            process.wait(self.stop_timeout if timeout is None else timeout)
            return True
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(5)
            return False


def main(argv: list[str] | None = None) -> int:
    """``python -m sync_core.live.worker``: what the web server starts beside itself (``--parent PID`` makes it end
    when that process is gone, even after a kill -9). ``python -m sync_core worker`` is the same for people."""
    parser = argparse.ArgumentParser(prog="python -m sync_core.live.worker", description="the continuous sync worker")
    parser.add_argument("--parent", type=int, help="end when the process with this id is gone")
    parser.add_argument("--idle", type=float, default=0.5)
    parser.add_argument("--gather", type=float, default=1.0)
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s", stream=sys.stderr)
    for noisy in ("httpx", "httpcore", "alembic"):
        logging.getLogger(noisy).setLevel(logging.WARNING)

    worker = Worker(open_workspace(), settings=WorkerSettings(idle_seconds=args.idle, gather_seconds=args.gather))
    signal.signal(signal.SIGTERM, lambda *_: worker.request_stop())
    signal.signal(signal.SIGINT, lambda *_: worker.request_stop())
    if args.parent:

        def watch_parent() -> None:
            while not worker._stop.wait(1.0):
                if os.getppid() != args.parent:
                    log.warning("the web server (process %d) is gone; the worker stops", args.parent)
                    worker.request_stop()

        threading.Thread(target=watch_parent, name="parent-watch", daemon=True).start()
    worker.run()
    return 0


__all__ = ["Worker", "WorkerProcess", "WorkerSettings", "main", "open_workspace"]

if __name__ == "__main__":
    raise SystemExit(main())
