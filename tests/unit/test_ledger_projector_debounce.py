"""The projector's debounce (services/ledger/projector.py, `max_delay_s`), on the
in-memory ports, with the projector's own loop running as the service runs it: a
court designation's issue and the answers that follow it within the delay share one
refresh; a subject that keeps getting events is still projected by the bound; and
without the debounce (the delay counted from the first batch) the same arrivals
cost two refreshes — what the pipeline showed (docs/benchmarks.md, Ledger)."""

from __future__ import annotations

import asyncio
from collections.abc import Sequence

from aiokafka import ConsumerRecord

from services.ledger.ingest import Ingest
from services.ledger.memory import MemoryLedger
from services.ledger.projector import Projector
from shared.adapters.topics import STATUS
from tests.support.ledger_workload import court_bulk, records


def _issue_then_answers() -> tuple[list[ConsumerRecord], list[ConsumerRecord]]:
    """One court debtor: its designation, then its departments' answers."""
    workload = court_bulk(1)
    parts = records(workload.envelopes)
    issue = [r for r in parts if not r.topic.startswith("jsb.feedback")]
    answers = [r for r in parts if r.topic.startswith("jsb.feedback")]
    assert len(issue) == 1
    assert answers
    return issue, answers


async def _arrive(
    delay_s: float,
    max_delay_s: float | None,
    parts: Sequence[Sequence[ConsumerRecord]],
    gap_s: float,
) -> tuple[Projector, MemoryLedger, list[float]]:
    """The parts ingested `gap_s` apart while the projector's loop runs; returns the
    projector, the ledger, and when (seconds after the first part) each round
    projected something."""
    ledger = MemoryLedger()
    projector = Projector(ledger, delay_s=delay_s, max_delay_s=max_delay_s, poll_s=0.05)
    ingest = Ingest(hand_over=projector.hand_over)
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    started = loop.time()
    projected: list[float] = []
    original = projector.project_once

    async def timed() -> int:
        n = await original()
        if n:
            projected.append(loop.time() - started)
        return n

    projector.project_once = timed  # type: ignore[method-assign]
    running = asyncio.create_task(projector.run(stop))
    for n, part in enumerate(parts):
        if n:
            await asyncio.sleep(gap_s)
        async with ledger.begin() as tx:
            await ingest.apply(tx, part)
    for _ in range(200):  # until the queue is empty (10 s at most)
        if not await _queued(ledger):
            break
        await asyncio.sleep(0.05)
    stop.set()
    await running
    return projector, ledger, projected


async def _queued(ledger: MemoryLedger) -> int:
    async with ledger.begin() as tx:
        return (await tx.queue.depth()).subjects


def _statuses(ledger: MemoryLedger) -> int:
    return sum(1 for r in ledger.outbox.rows if r.message.topic == STATUS)


async def test_an_issue_and_its_answers_within_the_delay_share_one_refresh() -> None:
    issue, answers = _issue_then_answers()
    parts = [issue, answers[: len(answers) // 2], answers[len(answers) // 2 :]]
    projector, ledger, _ = await _arrive(0.3, 2.0, parts, gap_s=0.25)
    assert projector.refreshed == 1
    assert _statuses(ledger) == 1


async def test_without_the_debounce_the_same_arrivals_cost_two_refreshes() -> None:
    issue, answers = _issue_then_answers()
    parts = [issue, answers[: len(answers) // 2], answers[len(answers) // 2 :]]
    projector, ledger, _ = await _arrive(0.3, None, parts, gap_s=0.25)
    assert projector.refreshed == 2
    assert _statuses(ledger) == 2


async def test_a_subject_that_keeps_getting_events_is_projected_by_the_bound() -> None:
    """Answers every 0.1 s for ~1.6 s, never quiet for the 0.3 s delay: the subject is
    projected within the bound (0.6 s) of being first queued, and again later."""
    issue, answers = _issue_then_answers()
    parts = [issue, *([a] for a in answers[:16])]
    projector, _, projected = await _arrive(0.3, 0.6, parts, gap_s=0.1)
    assert projected[0] < 0.6 + 0.5  # the bound, plus the loop's wake-up and a round
    assert projector.refreshed >= 2
