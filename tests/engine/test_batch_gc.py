"""The collector tuned for a batch: set while any batch runs, restored after the last, cycles still freed."""

from __future__ import annotations

import gc
import weakref

from sync_core.engine.batch_gc import batch_gc


class _Node:
    def __init__(self) -> None:
        self.other: _Node | None = None


def test_the_collector_is_restored_after_nested_batches():
    before = gc.get_threshold()
    with batch_gc(12_345):
        assert gc.get_threshold()[0] == 12_345 and gc.get_freeze_count() > 0
        with batch_gc(999):  # a nested batch keeps the outer one's settings
            assert gc.get_threshold()[0] == 12_345
        assert gc.get_threshold()[0] == 12_345
    assert gc.get_threshold() == before and gc.get_freeze_count() == 0


def test_a_cycle_made_in_a_batch_is_still_freed():
    with batch_gc():
        first, second = _Node(), _Node()
        first.other, second.other = second, first
        alive = weakref.ref(first)
        del first, second
        gc.collect()
        assert alive() is None
