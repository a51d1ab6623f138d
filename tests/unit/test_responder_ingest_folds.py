"""The ingest hands the departments' memo the fold it made for the restriction
index (fold_memo.at_last): the entry is what a department's pass folds for itself
from the stored events (state, latest time, the event), and a responder whose passes
start from those entries applies and reports exactly what one without them does —
through a court list, an objection and its rejection, a revocation, and a batch
holding two events of one subject. In-memory adapters (tests/support/responder_memory.py)."""

from __future__ import annotations

from collections import Counter
from typing import Any

from services.responder.fold_memo import FoldMemo
from services.responder.folds import SubjectFolds
from services.responder.ingest import Ingest
from shared.domain.envelope import Envelope
from tests.support.feedback_items import reports
from tests.support.responder_harness import hosting, issue_command, objection, rejection, run
from tests.support.responder_memory import MemoryResponder
from tests.support.subjects import new_resident_id, new_uscc
from tests.unit.domain_fixtures import Subject
from tests.unit.test_responder_service import revocation

COURT = "court.dishonest-debtor"
TAX = "tax.major-violation"


async def _responder(memo_from_ingest: bool) -> MemoryResponder:
    r = MemoryResponder(hosting())
    if memo_from_ingest:
        r.ingest = Ingest(r.hosting, r.suffix, memo=r.ctx.memo)
    await r.ensure()
    return r


def _lifecycle() -> list[list[Envelope]]:
    """Ingest batches: a court list, then an objection, its rejection and a
    revocation of one tax designation, the last two in one batch."""
    court = [Subject(new_resident_id()) for _ in range(3)]
    batches = [[e for s in court for e in run(s, issue_command(s.subject_id, COURT, "court"))]]
    tax = Subject(new_uscc())
    (issued,) = run(tax, issue_command(tax.subject_id, TAX, "tax"))
    did = issued.data["designation_id"]
    filed = objection(did)
    batches += [[issued], run(tax, filed)]
    batches.append([*run(tax, rejection(filed)), *run(tax, revocation(did))])
    return batches


def _reported(r: MemoryResponder) -> Counter[tuple[str, str, str, str, str | None]]:
    return Counter(
        (e["subject"], data["measure"], data["department"], kind, e.get("causationid"))
        for e in r.feedback()
        for kind, data in reports(e["type"], e["data"])
    )


def _tasks(r: MemoryResponder) -> list[tuple[Any, ...]]:
    return [
        (t.department, t.designation_id, t.measure, t.state, t.resume_to, t.wake_at)
        for t in r.store.tasks()
    ]


async def test_the_entries_are_what_a_pass_folds() -> None:
    r = await _responder(memo_from_ingest=True)
    memo: FoldMemo = r.ctx.memo
    checked = 0
    for batch in _lifecycle():
        await r.feed(batch)
        async with r.store.begin() as unit:
            history = await unit.events.history({e.subject for e in batch})
        for subject, events in history.items():
            last = events[-1].position
            assert last is not None
            entry = memo.get(subject, last)
            assert entry is not None
            state, latest = SubjectFolds(history).up_to(subject, last)
            assert entry == (state, latest, events[-1].envelope)
            checked += 1
    assert checked >= 6


async def test_the_same_tasks_and_reports_with_and_without_the_entries() -> None:
    batches = _lifecycle()
    runs = []
    for memo_from_ingest in (False, True):
        r = await _responder(memo_from_ingest)
        for batch in batches:
            await r.feed(batch)
            await r.drain()
        runs.append(r)
    without, with_entries = runs
    assert with_entries.ctx.memo.hits > without.ctx.memo.hits
    assert _tasks(with_entries) == _tasks(without)
    assert _reported(with_entries) == _reported(without)
    kinds = {k for (_, _, _, k, _) in _reported(without)}
    assert {"executed", "suspended", "resumed", "lifted"} <= kinds
