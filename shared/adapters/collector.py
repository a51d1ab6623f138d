"""Python's garbage collector as a consumer process runs it."""

from __future__ import annotations

import gc
from collections.abc import Iterator
from contextlib import contextmanager


@contextmanager
def young_threshold(threshold: int) -> Iterator[None]:
    """Allocations between two young-generation collections set to `threshold`
    (Python's default is 700; 0 keeps it), restored at the end (tests run services
    inside the test process).

    Why: an ingest allocates many short-lived objects per record (decoded statuses,
    their models) beside a process's long-lived ones (imports, caches); at 700 the
    collector's older passes, which walk every long-lived object, run so often that
    they cost a large share of ingest (the ledger: about a third, docs/ledger.md; the
    notifier: a third of its status decoding, docs/benchmarks.md "Notifier ingest").
    A higher threshold collects as much, less often."""
    previous = gc.get_threshold()
    if threshold > 0:
        gc.set_threshold(threshold, *previous[1:])
    try:
        yield
    finally:
        gc.set_threshold(*previous)
