"""How the status fold scales with a subject's history.

Baseline: decoding the same envelopes (the work every consumer does anyway). The
ratio fold/decode says what the rules cost on top of parsing."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from shared.domain.catalogue.index import default_index
from shared.domain.commands import IssueDesignation, SubjectRef
from shared.domain.decide import Rejected, decide
from shared.domain.events import decode, make_envelope
from shared.domain.feedback_events import MeasureExecuted
from shared.domain.fold import Recorded, evolve, fold, status
from shared.domain.vocabulary import Level
from tests.bench.report import best_of, peak_memory, record
from tests.support.subjects import new_uscc

pytestmark = pytest.mark.bench

T0 = datetime(2026, 3, 2, 2, 0, tzinfo=UTC)


def history(designations: int) -> list[Recorded]:
    index = default_index()
    subject = new_uscc()
    events: list[Recorded] = []
    state = fold([], subject)
    for n in range(designations):
        at = T0 + timedelta(days=n)
        command = IssueDesignation(
            department="tax",
            at=at,
            subject=SubjectRef(id=subject, name="某公司"),
            list_type="tax.major-violation",
            level=Level.ESPECIALLY_SERIOUS,
            reason="bench",
            decision_no=f"B-{n}",
            decided_at=at.date(),
        )
        outcome = decide(state, command, index)
        assert not isinstance(outcome, Rejected), outcome
        for new in outcome:
            env = new.envelope(source="/bench")
            rec = Recorded(env, at)
            events.append(rec)
            state = evolve(state, rec)
            for task in getattr(new.data, "tasks", ()):
                fb = make_envelope(
                    MeasureExecuted(
                        designation_id=new.data.designation_id,
                        measure=task.measure,
                        department=task.department,
                    ),
                    subject=subject,
                    source="/bench",
                    time=at + timedelta(hours=1),
                )
                events.append(Recorded(fb, at + timedelta(hours=1)))
    return events


@pytest.mark.parametrize("designations", [1, 10, 100])
def test_fold_cost_against_decoding(designations: int) -> None:
    events = history(designations)
    as_of = T0 + timedelta(days=designations + 1)
    decode_s = best_of(lambda: [decode(r.envelope) for r in events])
    status_s = best_of(lambda: status(events, as_of))
    record(
        f"fold-{designations}",
        {
            "events": len(events),
            "decode_ms": round(decode_s * 1000, 3),
            "status_ms": round(status_s * 1000, 3),
            "status_per_event_us": round(status_s / len(events) * 1e6, 1),
            "ratio_status_to_decode": round(status_s / decode_s, 2),
            "peak_memory_kib": peak_memory(lambda: status(events, as_of)) // 1024,
        },
    )
