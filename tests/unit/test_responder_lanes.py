"""The lanes' scheduling (services/responder/lanes.py): a lane waiting for its turn
makes one pass for every wake that came while it waited, not one pass per wake."""

from __future__ import annotations

import asyncio

from services.responder.lanes import Lanes
from services.responder.memory import MemoryResponderStore


async def test_wakes_while_waiting_for_a_turn_make_one_pass() -> None:
    passes: list[str] = []
    first_running = asyncio.Event()
    release = asyncio.Event()

    async def advance(department: str) -> bool:
        passes.append(department)
        if department == "a" and passes.count("a") == 1:
            first_running.set()
            await release.wait()  # holds the only turn while "b" is woken again and again
        return False

    lanes = Lanes(MemoryResponderStore(), ["a", "b"], advance, concurrency=1, scan_interval_s=3600)
    stop = asyncio.Event()
    running = asyncio.create_task(lanes.run(stop))
    await asyncio.wait_for(first_running.wait(), 5)
    for _ in range(5):  # five ingest batches gave "b" work while "a" held the turn
        lanes.wake(["b"])
        await asyncio.sleep(0)
    release.set()
    for _ in range(100):
        await asyncio.sleep(0.01)
        if passes.count("b") >= 1 and lanes.passes["b"] >= 1:
            break
    await asyncio.sleep(0.1)  # room for any further pass "b" would make
    stop.set()
    await asyncio.wait_for(running, 5)
    assert passes.count("b") == 1, passes
    assert passes.count("a") == 1, passes
