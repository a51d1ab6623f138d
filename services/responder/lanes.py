"""One lane per hosted department: an asyncio task that applies that department's
deliveries whenever it is woken, independently of every other department.

Why lanes and not one consumer per department: an idle lane is a parked coroutine,
an idle aiokafka consumer is a group member with heartbeats and long-poll fetches
(measured in docs/responder.md). Why independent: a department whose pass fails
(or is slow) backs off on its own; the others keep going, and since each pass
moves only its own cursor, nothing is applied twice when it comes back.

Woken by the ingest right after a batch that gave it work, and by a scanner every
`scan_interval_s` that finds due clock work (expiry, end of a measure's own
duration) or deliveries another instance ingested.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Awaitable, Callable, Iterable, Mapping

from services.responder.ports import ResponderStore
from shared.domain.envelope import utc_now

log = logging.getLogger(__name__)

Advance = Callable[[str], Awaitable[bool]]
"""Apply one pass of a department; True when more may be waiting."""


class Lanes:
    def __init__(
        self,
        store: ResponderStore,
        departments: Iterable[str],
        advance: Advance,
        *,
        concurrency: int = 3,
        scan_interval_s: float = 1.0,
        max_backoff_s: float = 30.0,
        on_failure: Callable[[str], None] | None = None,
        applied: Callable[[str], int] | None = None,
    ) -> None:
        self._store = store
        self._departments = sorted(departments)
        self._advance = advance
        self._gate = asyncio.Semaphore(concurrency)
        self._scan_interval_s = scan_interval_s
        self._max_backoff_s = max_backoff_s
        self._on_failure = on_failure
        self._wake = {d: asyncio.Event() for d in self._departments}
        self._applied = applied
        """How far a department's committed passes have applied its deliveries (its
        cursor, execution.Context.cursors); None: every wake makes a pass."""
        self._delivered: dict[str, int] = {}
        """The last position the ingest said it delivered to each department."""
        self._forced: set[str] = set()
        """Departments woken for more than deliveries (the scanner: clock work, other
        instances' deliveries; a failed pass; the start): their next pass is made."""
        self._applying: set[str] = set()
        """Departments whose lane is in a pass (the scanner leaves them be)."""
        self.passes = dict.fromkeys(self._departments, 0)
        self.failures = dict.fromkeys(self._departments, 0)

    def wake(self, departments: Iterable[str]) -> None:
        """Make the departments' lanes pass (again)."""
        for d in departments:
            event = self._wake.get(d)
            if event is not None:
                self._forced.add(d)
                event.set()

    def delivered(self, positions: Mapping[str, int]) -> None:
        """The ingest has committed deliveries to these departments, up to these
        positions: their lanes pass, unless their passes have applied them already.

        Why: a batch the ingest commits while a lane's pass is starting is read by
        that pass, and the wake that follows the commit made one more pass that found
        nothing (3-5 per run of the pipeline bench at 300 debtors, each a transaction
        of ~8 round trips: docs/benchmarks.md, "fourth pass"). Whether the pass read
        them is known only once it has committed: the lane looks after its passes, and
        when its turn comes again."""
        for d, position in positions.items():
            event = self._wake.get(d)
            if event is not None:
                if position > self._delivered.get(d, 0):
                    self._delivered[d] = position
                event.set()

    def _more(self, department: str) -> None:
        """After a full pass, the department's next pass waits for its turn like any
        wake, behind the lanes already waiting, instead of following at once.

        Why: the departments' passes share the subjects' folds (fold_memo.py, bounded by
        count and age), and a lane that kept its turn until its backlog was empty went
        through every pending position before the next department started: with more
        pending positions than the memo holds (1,100 for 1,000 court debtors against
        1,000 entries) or lanes more than its 30 s behind, each department found the
        folds gone and read and decoded the subjects' events again (py-spy in the
        pipeline at 1,000 debtors under load: the history read 9.6 % and pydantic's
        validation 21 % of the responder's busy samples, against 0.6 % and 6.8 % in a
        quiet run). Taking turns pass by pass, the departments move over the same
        positions within one round of the lanes, and the memo serves them."""
        self._forced.add(department)
        self._wake[department].set()

    def _applied_already(self, department: str) -> bool:
        """Woken only by deliveries its committed passes have applied."""
        if self._applied is None or department in self._forced:
            return False
        return self._delivered.get(department, 0) <= self._applied(department)

    async def run(self, stop: asyncio.Event) -> None:
        while not stop.is_set():
            try:
                async with self._store.begin() as unit:
                    await unit.deliveries.ensure(self._departments)
                break
            except Exception:
                log.warning("lanes: the store is not reachable yet; retrying", exc_info=True)
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(stop.wait(), 1.0)
        lanes = [
            asyncio.create_task(self._lane(d, stop), name=f"lane:{d}") for d in self._departments
        ]
        self.wake(self._departments)  # catch up on whatever arrived while we were away
        try:
            await self._scan(stop)
        finally:
            for lane in lanes:
                lane.cancel()
            for lane in lanes:
                with contextlib.suppress(asyncio.CancelledError):
                    await lane

    async def _scan(self, stop: asyncio.Event) -> None:
        while not stop.is_set():
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(stop.wait(), self._scan_interval_s)
            if stop.is_set():
                return
            try:
                async with self._store.begin() as unit:
                    pending = await unit.deliveries.pending(self._departments, utc_now())
                # A lane in a pass is left be: what it has read but not yet committed
                # looks pending, and waking it made a pass that found nothing after
                # each (about half of the passes that found nothing in the pipeline
                # bench, docs/benchmarks.md "third pass"). What another instance
                # delivers meanwhile is found by the next scan.
                self.wake(d for d in pending if d not in self._applying)
            except Exception:  # the database is away: the next scan tries again
                log.warning("lane scan failed", exc_info=True)

    async def _lane(self, department: str, stop: asyncio.Event) -> None:
        wake = self._wake[department]
        backoff = 0.0
        while not stop.is_set():
            await wake.wait()
            try:
                async with self._gate:
                    if self._applied_already(department):
                        # Woken by deliveries the last pass applied (the ingest's wake
                        # came after that pass had read them).
                        wake.clear()
                        continue
                    # Cleared once the lane has its turn, not before waiting for it:
                    # the pass reads every delivery committed before this instant
                    # (the ingest wakes after its commit), so the wakes that came
                    # while it waited need no pass of their own. Cleared before the
                    # wait, each of them made one more pass that found nothing: 730
                    # of 850 passes in the pipeline bench at 300 debtors, each a
                    # transaction of ~8 round trips (docs/benchmarks.md, "third pass").
                    wake.clear()
                    self._forced.discard(department)
                    self._applying.add(department)
                    try:
                        more = await self._advance(department)
                        self.passes[department] += 1
                    finally:
                        self._applying.discard(department)
                    if more:
                        # A full pass: the next one takes its turn behind the lanes
                        # waiting now, not at once (`_more`).
                        self._more(department)
                    elif wake.is_set() and self._applied_already(department):
                        wake.clear()
                backoff = 0.0
            except asyncio.CancelledError:
                raise
            except Exception:
                self.failures[department] += 1
                if self._on_failure is not None:
                    self._on_failure(department)
                backoff = min(self._max_backoff_s, max(0.5, backoff * 2))
                log.exception("department %s: pass failed; retrying in %.1fs", department, backoff)
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(stop.wait(), backoff)
                self.wake([department])
