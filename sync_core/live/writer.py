"""Group commit: the webhook requests of one moment are stored together, in one transaction.

Each request hands its event to the writer thread and waits for the commit; the thread takes whatever has queued
up meanwhile (up to ``max_batch``) and stores it in one ``INSERT … ON CONFLICT DO NOTHING``. A request is answered
only once its event is committed (durable before the 2xx), yet the database sees one short write per moment
instead of one per request. That keeps the answers fast when many arrive at once, and on SQLite, where writers
take turns, it keeps webhook writes from queueing behind each other.
"""

from __future__ import annotations

import logging
import queue
import threading
import time
from collections.abc import Callable, Iterable
from concurrent.futures import Future

from storage.db import is_transient
from storage.events import EventStore, NewEvent

log = logging.getLogger("sync_core.live")
_STOP = object()
RETRIES = 3


class WriterStopped(RuntimeError):
    """The writer is not running (the server is stopping)."""


class EventWriter:
    def __init__(self, events: EventStore, *, max_batch: int = 500, on_stored: Callable[[int], None] | None = None):
        self.events = events
        self.max_batch = max_batch
        self.on_stored = on_stored
        self._queue: queue.SimpleQueue = queue.SimpleQueue()
        self._thread: threading.Thread | None = None
        self._lock = threading.Lock()
        self._stopping = False
        self.batches = 0
        self.stored = 0

    def start(self) -> EventWriter:
        with self._lock:
            if self._thread is None or not self._thread.is_alive():
                self._stopping = False
                self._thread = threading.Thread(target=self._run, name="webhook-writer", daemon=True)
                self._thread.start()
        return self

    def stop(self, timeout: float = 10.0) -> None:
        """Store what is queued, then end."""
        with self._lock:
            self._stopping = True
            thread = self._thread
        if thread is not None and thread.is_alive():
            self._queue.put(_STOP)
            thread.join(timeout)

    def submit(self, event: NewEvent) -> Future:
        """Queue ``event``; the future resolves once it is committed (or with the error that prevented it)."""
        if self._stopping:
            raise WriterStopped("the server is stopping")
        if self._thread is None or not self._thread.is_alive():
            self.start()
        future: Future = Future()
        self._queue.put((event, future))
        return future

    def _run(self) -> None:
        while True:
            item = self._queue.get()
            if item is _STOP:
                return
            batch = [item]
            stop_after = False
            while len(batch) < self.max_batch:
                try:
                    more = self._queue.get_nowait()
                except queue.Empty:
                    break
                if more is _STOP:
                    stop_after = True
                    break
                batch.append(more)
            self._write(batch)
            if stop_after:
                return

    def _write(self, batch: list[tuple[NewEvent, Future]]) -> None:
        # A request that gave up waiting has cancelled its future; its event is stored all the same (it was
        # verified, and the sender's retry will be a duplicate).
        live = [(event, future) for event, future in batch if future.set_running_or_notify_cancel()]
        try:
            new = self._add(_in_key_order(event for event, _ in batch))
        except BaseException as exc:  # noqa: BLE001 - every waiting request must get an answer
            if len(batch) == 1 or is_transient(exc):
                log.error("%d webhook event(s) could not be stored: %s", len(batch), type(exc).__name__)
                for _, future in live:
                    future.set_exception(exc)
                return
            new = self._write_each(live, [event for event, future in batch if future.cancelled()])
        else:
            for _, future in live:
                future.set_result(None)
        self.batches += 1
        self.stored += new
        if new and self.on_stored is not None:
            try:
                self.on_stored(new)
            except Exception:  # noqa: BLE001
                log.warning("on_stored failed", exc_info=True)

    def _write_each(self, live: list[tuple[NewEvent, Future]], unwaited: list[NewEvent]) -> int:
        """After a batch failed for a reason other than a conflict (a row the database refuses), each event in a
        transaction of its own: the refused one fails alone and the others of that moment are stored."""
        new = 0
        for event, future in [*live, *((event, None) for event in unwaited)]:
            try:
                new += self._add([event])
            except Exception as exc:  # noqa: BLE001
                log.error("a webhook event could not be stored: %s", type(exc).__name__)
                if future is not None:
                    future.set_exception(exc)
            else:
                if future is not None:
                    future.set_result(None)
        return new

    def _add(self, events: list[NewEvent]) -> int:
        """``add_many``, tried again after a transient conflict (a deadlock victim, a busy SQLite file): the
        failed transaction stored nothing, so trying again is safe."""
        for attempt in range(RETRIES):
            try:
                return self.events.add_many(events)
            except Exception as exc:
                if not is_transient(exc) or attempt == RETRIES - 1:
                    raise
                log.info("storing %d webhook event(s) met a conflict; trying again", len(events))
                time.sleep(0.02 * (attempt + 1))
        raise AssertionError("unreachable")


def _in_key_order(events: Iterable[NewEvent]) -> list[NewEvent]:
    """Rows in key order: two receivers inserting overlapping batches then take the unique-index locks in the
    same order, so PostgreSQL never has to break a deadlock between them."""
    return sorted(events, key=lambda event: (event.source, event.event_id))


__all__ = ["EventWriter", "WriterStopped"]
