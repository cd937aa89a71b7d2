"""A simulation collects garbage in batches and leaves the process as it found it."""

from __future__ import annotations

import gc
import threading

import pytest

from sim.kernel import gc_policy


def test_batch_collection_restores_the_collector_even_after_an_error() -> None:
    """A run (or a failing one) leaves the host program's collector settings and frozen
    objects as they were: embedding pkilab must not change how a program collects."""
    before = gc.get_threshold()
    frozen = gc.get_freeze_count()
    with pytest.raises(RuntimeError):
        with gc_policy.batch_collection():
            assert gc.get_threshold() == gc_policy.BATCH_THRESHOLDS
            raise RuntimeError("a run that fails")
    assert gc.get_threshold() == before
    assert gc.get_freeze_count() == frozen


def test_nested_and_concurrent_runs_share_one_setting() -> None:
    """Two runs in threads of one process (a sweep worker) overlap: the first to finish
    must not restore the defaults under the other."""
    before = gc.get_threshold()
    inside = threading.Event()
    release = threading.Event()
    seen: list[tuple[int, int, int]] = []

    def other_run() -> None:
        with gc_policy.batch_collection():
            inside.set()
            release.wait(5)
            seen.append(gc.get_threshold())

    worker = threading.Thread(target=other_run)
    with gc_policy.batch_collection():
        worker.start()
        inside.wait(5)
    seen.append(gc.get_threshold())  # this run ended; the other still runs
    release.set()
    worker.join(5)
    assert seen == [gc_policy.BATCH_THRESHOLDS, gc_policy.BATCH_THRESHOLDS]
    assert gc.get_threshold() == before


class _Cycle:
    """Half of a reference cycle that counts its own freeing."""

    freed = 0

    def __init__(self) -> None:
        self.other: _Cycle | None = None

    def __del__(self) -> None:
        type(self).freed += 1


def test_cycles_made_during_a_run_are_still_collected() -> None:
    """Batching delays collection, it does not stop it: garbage cycles a long run makes
    are freed as it goes, without anyone calling gc.collect (memory stays bounded)."""
    _Cycle.freed = 0
    with gc_policy.batch_collection():
        for _ in range(100_000):
            a, b = _Cycle(), _Cycle()
            a.other, b.other = b, a
        del a, b
        assert _Cycle.freed > 100_000  # of 200,000; with no collection it would be 0
