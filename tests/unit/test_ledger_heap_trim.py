"""The ledger's heap trimmer (services/ledger/heap_trim.py): memory freed inside glibc's
heap stays resident until trimmed, then goes back to the system."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest

from services.ledger.heap_trim import Heap, trimmer

MB = 2**20


def _rss_anon() -> int:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("RssAnon:"):
            return int(line.split()[1]) * 1024
    raise RuntimeError("no RssAnon")


@pytest.mark.skipif(not Heap().available, reason="glibc's malloc_trim/mallinfo2 only")
async def test_freed_heap_pages_stay_resident_until_trimmed() -> None:
    heap = Heap()
    # blocks under glibc's mmap threshold come from the heap; a live block after each
    # one keeps the freed ones apart and the heap's top from shrinking
    transient, pinned = [], []
    for _ in range(600):
        transient.append(bytearray(50_000))
        pinned.append(bytearray(50_000))
    resident = _rss_anon()
    del transient
    assert heap.free_bytes() > 20 * MB
    assert _rss_anon() > resident - 5 * MB  # freed, yet still resident
    stop = asyncio.Event()
    task = asyncio.create_task(trimmer(10 * MB, interval_s=0.01, heap=heap)(stop))
    await asyncio.sleep(0.1)
    stop.set()
    await task
    assert _rss_anon() < resident - 20 * MB
    assert len(pinned) == 600  # alive to the end


async def test_a_heap_with_little_free_is_left_alone() -> None:
    class Counting(Heap):
        trims = 0

        def free_bytes(self) -> int:
            return 1 * MB

        def trim(self) -> bool:
            self.trims += 1
            return True

    heap = Counting()
    stop = asyncio.Event()
    task = asyncio.create_task(trimmer(4 * MB, interval_s=0.01, heap=heap)(stop))
    await asyncio.sleep(0.05)
    stop.set()
    await task
    assert heap.trims == 0
