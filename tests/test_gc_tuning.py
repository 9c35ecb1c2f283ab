"""The garbage collector's settings for a long-running bot (bot.app.tune_garbage_collector).

Why it matters: in a vote burst the collector's young collections, at CPython's default
threshold of 700, cost the event loop ~15 % of its CPU per vote (benchmarks/votes.py;
benchmarks/RESULTS.md). ``python -m bot`` tunes the collector once start-up is done
(``HearthBot(freeze_gc=True)``; in-process test bots leave the test runner's collector
alone); these tests pin what the tuning does. Its effect is measured by the vote
benchmark, which runs ``python -m bot``.
"""

from __future__ import annotations

import gc
from collections.abc import Iterator

import pytest

from bot.app import GC_THRESHOLDS, tune_garbage_collector


@pytest.fixture
def collector() -> Iterator[None]:
    before = gc.get_threshold()
    try:
        yield
    finally:
        gc.unfreeze()
        gc.set_threshold(*before)


def test_start_up_objects_are_frozen_and_young_collections_made_rarer(collector: None) -> None:
    survivor = [object() for _ in range(10)]  # alive at the end of start-up
    tune_garbage_collector()
    assert gc.get_threshold() == GC_THRESHOLDS
    assert GC_THRESHOLDS[0] > 700  # rarer than CPython's default
    assert gc.get_freeze_count() >= len(survivor)
    assert not any(gc.is_finalized(o) for o in survivor)


def test_cyclic_garbage_is_still_collected(collector: None) -> None:
    """Raised thresholds delay cycles, they do not leak them: the next collection frees them."""
    import weakref

    tune_garbage_collector()

    class Node:
        other: Node

    a, b = Node(), Node()
    a.other, b.other = b, a
    ref = weakref.ref(a)
    del a, b
    assert ref() is not None  # a cycle: reference counting alone cannot free it
    gc.collect()
    assert ref() is None
