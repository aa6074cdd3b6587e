"""The garbage collector tuned for one batch of planning (issue 15: 21% of the core's time was the collector).

A batch makes hundreds of thousands of small containers (parsed bodies, evaluations, plans) that mostly live
until the batch ends, so the default young-generation threshold (700 allocations) runs a collection every few
events that finds nothing to free and walks the long-lived contact states again and again. Inside
``batch_gc`` the objects alive before the batch are frozen (left out of every collection) and the young
generation is collected every ``threshold`` allocations; both are restored when the last batch (of any
thread) ends. Nothing is kept longer than the batch: a cycle made in it is still collected."""

from __future__ import annotations

import gc
import threading
from collections.abc import Iterator
from contextlib import contextmanager

#: Young-generation allocations between collections during a batch (the default is 700).
BATCH_THRESHOLD = 20_000

_lock = threading.Lock()
_depth = 0
_saved: tuple[int, int, int] | None = None


@contextmanager
def batch_gc(threshold: int = BATCH_THRESHOLD) -> Iterator[None]:
    """Run the block with the collector tuned for a batch (see the module); nests and is thread-safe."""
    global _depth, _saved
    with _lock:
        if _depth == 0:
            _saved = gc.get_threshold()
            gc.freeze()
            gc.set_threshold(threshold, *_saved[1:])
        _depth += 1
    try:
        yield
    finally:
        with _lock:
            _depth -= 1
            if _depth == 0 and _saved is not None:
                gc.set_threshold(*_saved)
                gc.unfreeze()
                _saved = None
