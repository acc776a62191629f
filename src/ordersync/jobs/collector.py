"""The cyclic garbage collector: held off while an import partition runs, and told to
collect a serving process's young objects less often (`collect_less_often`).

A chunk builds a few hundred thousand small objects (rows, order states, history changes)
that live until it commits. Each one the collector sees counts towards its next collection,
and the survivors are promoted until full collections walk them all again and again: on a
100,000-row import that was 30 µs of every row's 170 (stop 17, measured in-process). Pausing
it for each chunk alone is not enough: re-enabled between chunks, its first collection walks
the next chunk's objects, alive by then (20 % of the writing thread's time). The chunks make
almost no cyclic garbage (13,417 unreachable objects after a 100,000-row run with the
collector off), and reference counting frees the rest as each chunk ends, so the collector
is paused for a partition's whole run, and `sweep` collects in full every
`SWEEP_EVERY_CHUNKS` chunks all the same. Threads that run partitions at once (`ordersync
worker --concurrency N`, the in-process dispatcher) share one count: the collector resumes
when the last of them is done.
"""

from __future__ import annotations

import gc
import threading
from collections.abc import Iterator
from contextlib import contextmanager

SWEEP_EVERY_CHUNKS = 100

_lock = threading.Lock()
_holders = 0
_was_enabled = False
_chunks = 0


@contextmanager
def collector_paused() -> Iterator[None]:
    global _holders, _was_enabled
    with _lock:
        if _holders == 0:
            _was_enabled = gc.isenabled()
            gc.disable()
        _holders += 1
    try:
        yield
    finally:
        with _lock:
            _holders -= 1
            if _holders == 0 and _was_enabled:
                gc.enable()


def sweep() -> None:
    """A chunk is done: every SWEEP_EVERY_CHUNKS of them (of all threads), collect in full,
    so that what little cyclic garbage a run makes does not pile up while it lasts."""
    global _chunks
    with _lock:
        _chunks += 1
        due = _chunks % SWEEP_EVERY_CHUNKS == 0
    if due:
        gc.collect()


def freeze_start_up_objects() -> None:
    """Move what is alive at a process's start (modules, settings, the app) out of the
    collector's generations, so that no later collection walks it again."""
    gc.collect()
    gc.freeze()


def collect_less_often(young_threshold: int) -> None:
    """Let a serving process's requests make their objects and drop them before the
    collector looks: collect the youngest generation once `young_threshold` new objects
    (`ORDERSYNC_GC_YOUNG_THRESHOLD`, 50,000) are alive rather than CPython's 700.

    With 700, a 1,000-line synchronise went through about 28 young collections, 3 of the
    middle generation and, every other call or so, a full one of 8-12 ms, each walking the
    request's own objects while they were still alive (its lines, their snapshots, the offer
    prices); almost all of them are freed by reference counting when the request ends.
    Measured on two real servers side by side on one database, calls interleaved (stop 18,
    benchmarks/ab_sync.py): p50 87.4 / 90.4 ms with 700, 79.7 / 83.0 with 50,000. The
    middle and old generations keep their defaults."""
    _, middle, old = gc.get_threshold()
    gc.set_threshold(young_threshold, middle, old)
