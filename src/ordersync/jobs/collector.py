"""The cyclic garbage collector, held off while an import chunk is worked.

A chunk builds a few hundred thousand small objects (rows, order states, history changes)
that live until it commits. Each one the collector sees counts towards its next collection,
and the survivors are promoted until full collections walk them all again and again: on a
100,000-row import that was 30 µs of every row's 170 (benchmarks/import.py, stop 17). The
chunk's objects form no cycles worth collecting while it runs, and reference counting frees
them when it ends, so the automatic collector is paused for the chunk's span and resumes
afterwards. Threads that work chunks at once (`ordersync worker --concurrency N`, the
in-process dispatcher) share one count: the collector resumes when the last of them is done.
"""

from __future__ import annotations

import gc
import threading
from collections.abc import Iterator
from contextlib import contextmanager

_lock = threading.Lock()
_holders = 0
_was_enabled = False


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


def freeze_start_up_objects() -> None:
    """Move what is alive at a process's start (modules, settings, the app) out of the
    collector's generations, so that no later collection walks it again."""
    gc.collect()
    gc.freeze()
