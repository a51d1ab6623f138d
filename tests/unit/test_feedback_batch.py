"""`jsb.feedback.measures_reported`: several reports of one department for one
designation in one event. The fold of the batch must equal the fold of the single
events its items stand for (same ids, time and causation), for every outcome, in
any order and wherever the batch falls among other events."""

from __future__ import annotations

from datetime import timedelta
from uuid import UUID, uuid4

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from pydantic import ValidationError

from shared.domain.envelope import Envelope
from shared.domain.events import decode, make_envelope
from shared.domain.feedback_events import (
    OUTCOMES,
    MeasuresReported,
    ReportedMeasure,
    item_event_id,
)
from shared.domain.fold import Recorded, fold
from shared.domain.fold_state import SubjectState
from shared.domain.lifecycle_events import DesignationIssued
from shared.domain.status_view import render_status
from tests.unit.domain_fixtures import T0, accepted, issue, recorded, uscc

pytestmark = pytest.mark.filterwarnings("ignore::shared.domain.calendar.CalendarFallbackWarning")

SUBJECT = uscc(77)
OUTCOME_NAMES = sorted(OUTCOMES)


def _issued() -> tuple[Recorded, DesignationIssued]:
    new = accepted(SubjectState(), issue(SUBJECT))
    rec = recorded(new[0])
    event = decode(rec.envelope)
    assert isinstance(event, DesignationIssued)
    return rec, event


def _batch(
    designation_id: UUID,
    department: str,
    items: list[tuple[str, str]],
    days: float,
    cause: str | None,
) -> Envelope:
    data = MeasuresReported(
        designation_id=designation_id,
        department=department,
        items=tuple(ReportedMeasure(measure=m, outcome=o, note=f"{o} {m}") for m, o in items),  # type: ignore[arg-type]
    )
    return make_envelope(
        data,
        subject=SUBJECT,
        source=f"/responder/{department}",
        time=T0 + timedelta(days=days),
        correlationid=cause,
        causationid=cause,
    )


def _singles(batch: Envelope) -> list[Envelope]:
    """The single events a batch stands for, built independently of the fold's code:
    one envelope per item, with the derived id and the batch's time and causation."""
    out = []
    for index, item in enumerate(batch.data["items"]):
        data = OUTCOMES[item["outcome"]](
            designation_id=UUID(batch.data["designation_id"]),
            measure=item["measure"],
            department=batch.data["department"],
            note=item["note"],
        )
        out.append(
            make_envelope(
                data,
                subject=batch.subject,
                source=batch.source,
                time=batch.time,
                correlationid=batch.correlationid,
                causationid=batch.causationid,
                id=item_event_id(batch.id, index),
            )
        )
    return out


def _as_recorded(envelopes: list[Envelope]) -> list[Recorded]:
    return [Recorded(envelope=e, recorded_at=e.time) for e in envelopes]


def _assert_same_fold(before: list[Recorded], batches: list[Envelope], issued_at: int) -> None:
    batched = _as_recorded(batches)
    singles = _as_recorded([s for b in batches for s in _singles(b)])
    with_batches = fold([*before[:issued_at], *batched, *before[issued_at:]])
    with_singles = fold([*before[:issued_at], *singles, *before[issued_at:]])
    assert with_batches == with_singles
    as_of = T0 + timedelta(days=1000)
    assert render_status(with_batches, as_of) == render_status(with_singles, as_of)


@pytest.mark.parametrize("outcome", OUTCOME_NAMES)
def test_each_outcome_folds_as_its_single_event(outcome: str) -> None:
    rec, event = _issued()
    tasks = [t for t in event.tasks if t.department == event.tasks[0].department]
    items = [(t.measure, outcome) for t in tasks]
    batch = _batch(event.designation_id, tasks[0].department, items, 1, str(uuid4()))
    _assert_same_fold([rec], [batch], issued_at=1)
    state = fold([rec, *_as_recorded([batch])])
    for index, t in enumerate(tasks):  # every item traced to its own task, one to one
        history = state.task_feedback((event.designation_id, t.measure, t.department)).history
        assert [(h.event_id, h.kind) for h in history] == [
            (item_event_id(batch.id, index), outcome)
        ]


@settings(max_examples=120, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    reports=st.lists(
        st.lists(
            st.tuples(st.integers(0, 50), st.sampled_from(OUTCOME_NAMES)), min_size=1, max_size=6
        ),
        min_size=1,
        max_size=5,
    ),
    issued_at=st.integers(0, 1),
    clock_caused=st.booleans(),
)
def test_batches_fold_as_the_singles_in_any_order(
    reports: list[list[tuple[int, str]]], issued_at: int, clock_caused: bool
) -> None:
    rec, event = _issued()
    department = event.tasks[0].department
    tasks = [t.measure for t in event.tasks if t.department == department]
    batches = [
        _batch(
            event.designation_id,
            department,
            [(tasks[i % len(tasks)], outcome) for i, outcome in items],
            days=1 + n,
            cause=None if clock_caused else str(uuid4()),
        )
        for n, items in enumerate(reports)
    ]
    # issued_at=0: the feedback overtakes its designation (held by the fold until then)
    _assert_same_fold([rec], batches, issued_at=issued_at)


def test_a_batch_round_trips_and_refuses_bad_items() -> None:
    _, event = _issued()
    batch = _batch(event.designation_id, "samr", [("a.b", "executed"), ("c.d", "lifted")], 1, "x")
    decoded = decode(Envelope.from_json_bytes(batch.to_json_bytes()))
    assert isinstance(decoded, MeasuresReported)
    assert [s.measure for s in decoded.singles()] == ["a.b", "c.d"]
    with pytest.raises(ValidationError):
        MeasuresReported(designation_id=event.designation_id, department="samr", items=())
    with pytest.raises(ValidationError):
        ReportedMeasure.model_validate({"measure": "a.b", "outcome": "intercepted"})


def test_item_ids_are_distinct_and_stable() -> None:
    batch_id = uuid4()
    ids = [item_event_id(batch_id, i) for i in range(50)]
    assert len(set(ids)) == 50
    assert ids == [item_event_id(batch_id, i) for i in range(50)]
    assert batch_id not in ids
