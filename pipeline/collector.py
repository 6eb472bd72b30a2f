"""Pausing Python's cyclic garbage collector around bulk work.

A bulk job (a ledger import of 100,000 rows) builds millions of objects that all stay alive until it
ends. Each allocation burst triggers a collection, and every full collection walks all of them again:
a third of the import's CPU time went to collections that found nothing to free. Reference counting
still frees everything the job drops; cycles made meanwhile are collected once the collector runs
again. The collector is process-wide, so in `riskwatch serve` the other threads go without it for
the job's seconds too, which costs them nothing but the same deferral.
"""

from __future__ import annotations

import gc
import threading
from collections.abc import Iterator
from contextlib import contextmanager


class _Pauses:
    """How many bulk jobs are running, and whether the collector was on before the first began."""

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.running = 0
        self.was_enabled = True


_pauses = _Pauses()


@contextmanager
def collector_paused() -> Iterator[None]:
    """The cyclic collector is off inside (nested and concurrent uses included), and back as it was
    once the last one has left."""
    with _pauses.lock:
        if _pauses.running == 0:
            _pauses.was_enabled = gc.isenabled()
            gc.disable()
        _pauses.running += 1
    try:
        yield
    finally:
        with _pauses.lock:
            _pauses.running -= 1
            if _pauses.running == 0 and _pauses.was_enabled:
                gc.enable()
