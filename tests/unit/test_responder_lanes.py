"""The lanes' scheduling (services/responder/lanes.py): a lane waiting for its turn
makes one pass for every wake that came while it waited, not one pass per wake; the
scanner does not wake a lane that is in a pass; deliveries the ingest reports while a
pass runs make another pass only if that pass did not apply them."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from types import SimpleNamespace
from typing import Any

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


class _Pending:
    """A store whose scans always find the department's deliveries pending, as a
    pass's own deliveries look until it commits."""

    def __init__(self, department: str) -> None:
        self.department = department
        self.scans = 0
        self.committed = False
        """Once the pass has committed, nothing is pending any more."""

    @asynccontextmanager
    async def begin(self) -> AsyncIterator[Any]:
        yield SimpleNamespace(deliveries=self)

    async def ensure(self, departments: Any) -> None:
        return None

    async def pending(self, departments: Any, now: Any) -> list[str]:
        self.scans += 1
        return [] if self.committed else [self.department]


async def test_the_scanner_leaves_a_lane_in_a_pass_be() -> None:
    passes = 0
    release = asyncio.Event()
    store = _Pending("a")

    async def advance(department: str) -> bool:
        nonlocal passes
        passes += 1
        if passes == 1:
            await release.wait()  # the first pass lasts several scans
        return False

    lanes = Lanes(store, ["a"], advance, concurrency=1, scan_interval_s=0.01)
    stop = asyncio.Event()
    running = asyncio.create_task(lanes.run(stop))
    for _ in range(500):
        await asyncio.sleep(0.01)
        if store.scans >= 5:
            break
    assert passes == 1
    assert store.scans >= 5  # scans while the pass ran
    store.committed = True
    release.set()
    scans = store.scans
    for _ in range(500):  # a few scans after the pass: a wake made during it shows by now
        await asyncio.sleep(0.01)
        if store.scans >= scans + 5:
            break
    stop.set()
    await asyncio.wait_for(running, 5)
    assert passes == 1


def _one_lane(advance: Any, cursors: dict[str, int]) -> Lanes:
    """Department "a" alone, its committed passes' cursor read from `cursors`."""
    return Lanes(
        MemoryResponderStore(),
        ["a"],
        advance,
        concurrency=1,
        scan_interval_s=3600,
        applied=lambda d: cursors.get(d, -1),
    )


async def _in_a_pass(
    during: Any, read_up_to: int, passes_expected: int
) -> tuple[list[int], dict[str, int]]:
    """One lane whose first pass calls `during(lanes)` (the ingest committing a batch,
    or the scanner, while the pass starts) and applies deliveries up to `read_up_to`;
    later passes apply up to 100. Returns the passes made and the cursors."""
    cursors: dict[str, int] = {}
    passes: list[int] = []
    started = asyncio.Event()

    async def advance(department: str) -> bool:
        passes.append(len(passes) + 1)
        if len(passes) == 1:
            during(lanes)
            cursors[department] = read_up_to
        else:
            cursors[department] = 100
        started.set()
        return False

    lanes = _one_lane(advance, cursors)
    stop = asyncio.Event()
    running = asyncio.create_task(lanes.run(stop))
    await asyncio.wait_for(started.wait(), 5)
    for _ in range(50):  # room for any further pass
        await asyncio.sleep(0.01)
        if len(passes) >= passes_expected + 1:
            break
    stop.set()
    await asyncio.wait_for(running, 5)
    return passes, cursors


async def test_deliveries_a_pass_applied_make_no_further_pass() -> None:
    passes, _ = await _in_a_pass(lambda lanes: lanes.delivered({"a": 7}), 7, 1)
    assert passes == [1]


async def test_deliveries_beyond_what_a_pass_applied_make_one() -> None:
    passes, cursors = await _in_a_pass(lambda lanes: lanes.delivered({"a": 8}), 7, 2)
    assert passes == [1, 2]
    assert cursors == {"a": 100}


async def test_a_forced_wake_during_a_pass_makes_one() -> None:
    def both(lanes: Lanes) -> None:
        lanes.delivered({"a": 7})
        lanes.wake(["a"])  # the scanner: clock work, another instance's deliveries

    passes, _ = await _in_a_pass(both, 7, 2)
    assert passes == [1, 2]


async def test_deliveries_reported_after_the_pass_that_applied_them_make_none() -> None:
    """The ingest's wake may come once the pass that read its batch has committed."""
    cursors: dict[str, int] = {}
    passes: list[str] = []

    async def advance(department: str) -> bool:
        passes.append(department)
        cursors[department] = 7
        return False

    lanes = _one_lane(advance, cursors)
    stop = asyncio.Event()
    running = asyncio.create_task(lanes.run(stop))
    for _ in range(100):  # the start's pass
        await asyncio.sleep(0.01)
        if passes:
            break
    lanes.delivered({"a": 7})
    await asyncio.sleep(0.2)
    assert passes == ["a"]
    lanes.delivered({"a": 8})
    for _ in range(100):
        await asyncio.sleep(0.01)
        if len(passes) == 2:
            break
    stop.set()
    await asyncio.wait_for(running, 5)
    assert passes == ["a", "a"]


async def test_a_lane_with_more_to_apply_takes_its_next_turn_behind_the_others() -> None:
    """A full pass (more may be waiting) is followed by the department's next pass only
    once the lanes waiting meanwhile have had theirs: the departments move over the same
    positions together, so the folds they share are still in the memo (lanes.Lanes._more).
    Before: "a" kept the only turn for its three passes, then "b" made its three."""
    passes: list[str] = []

    async def advance(department: str) -> bool:
        passes.append(department)
        await asyncio.sleep(0)
        return passes.count(department) < 3  # two full passes, then the rest

    lanes = Lanes(MemoryResponderStore(), ["a", "b"], advance, concurrency=1, scan_interval_s=3600)
    stop = asyncio.Event()
    running = asyncio.create_task(lanes.run(stop))
    for _ in range(200):
        await asyncio.sleep(0.01)
        if len(passes) >= 6:
            break
    await asyncio.sleep(0.1)  # room for any further pass
    stop.set()
    await asyncio.wait_for(running, 5)
    assert passes == ["a", "b", "a", "b", "a", "b"]
    assert lanes.passes == {"a": 3, "b": 3}
