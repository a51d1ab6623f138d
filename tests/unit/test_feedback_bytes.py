"""The departments' feedback events (services/responder/feedback.py), built without
the models, are the models' bytes: for every outcome, a lone transition (single
event) or several (`measures_reported`), caused by a lifecycle event or by the clock,
the same as the event and envelope models give for the same id and time (what the
responder wrote before), unchanged by a round trip through the envelope model, and
decoded into the event they report."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime
from uuid import UUID, uuid4

import orjson
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from services.responder import feedback
from shared.adapters.outbox import OutboxMessage
from shared.adapters.topics import FEEDBACK
from shared.domain.envelope import Envelope
from shared.domain.event_base import DomainEvent
from shared.domain.events import decode, make_envelope
from shared.domain.feedback_events import OUTCOMES, MeasuresReported, ReportedMeasure

_TEXT = st.text(min_size=1, max_size=30)  # any unicode: quotes, controls, CJK
_INSTANT = st.datetimes(
    min_value=datetime(2000, 1, 1), max_value=datetime(2100, 1, 1), timezones=st.just(UTC)
)
_ITEM = st.builds(
    ReportedMeasure, measure=_TEXT, outcome=st.sampled_from(sorted(OUTCOMES)), note=st.text()
)
_CAUSE = st.none() | st.builds(
    lambda correlation, at: Envelope(
        type="jsb.designation.issued",
        source="/initiator",
        subject="s",
        time=at,
        correlationid=correlation,
    ),
    st.none() | _TEXT,
    _INSTANT,
)


def _by_models(
    items: Sequence[ReportedMeasure],
    subject: str,
    designation: UUID,
    department: str,
    cause: Envelope | None,
    suffix: str,
    event_id: UUID,
    at: datetime,
) -> OutboxMessage:
    """The feedback as the models build and serialise it: what the responder wrote
    before feedback.py serialised it itself."""
    data: DomainEvent
    if len(items) == 1:
        (item,) = items
        data = OUTCOMES[item.outcome](
            designation_id=designation, measure=item.measure, department=department, note=item.note
        )
    else:
        data = MeasuresReported(designation_id=designation, department=department, items=items)
    envelope = make_envelope(
        data,
        subject=subject,
        source=feedback.source_of(department),
        time=at,
        correlationid=None if cause is None else (cause.correlationid or str(cause.id)),
        causationid=None if cause is None else str(cause.id),
        id=event_id,
    )
    return OutboxMessage(FEEDBACK + suffix, subject, envelope.to_json_bytes())


@given(
    items=st.lists(_ITEM, min_size=1, max_size=6).map(tuple),
    subject=_TEXT,
    department=_TEXT,
    cause=_CAUSE,
    suffix=st.text(max_size=10),
    at=_INSTANT,
)
@settings(max_examples=400, deadline=None)
def test_the_same_bytes_as_the_models(
    items: tuple[ReportedMeasure, ...],
    subject: str,
    department: str,
    cause: Envelope | None,
    suffix: str,
    at: datetime,
) -> None:
    designation, event_id = uuid4(), uuid4()
    fast = feedback.reported(
        items,
        subject_id=subject,
        designation_id=designation,
        department=department,
        cause=cause,
        suffix=suffix,
        event_id=event_id,
        time=at,
    )
    by_models = _by_models(items, subject, designation, department, cause, suffix, event_id, at)
    assert fast == by_models
    envelope = Envelope.from_json_bytes(fast.value)
    assert envelope.to_json_bytes() == fast.value
    event = decode(envelope)
    if len(items) == 1:
        assert event == OUTCOMES[items[0].outcome](
            designation_id=designation,
            measure=items[0].measure,
            department=department,
            note=items[0].note,
        )
    else:
        assert event == MeasuresReported(
            designation_id=designation, department=department, items=items
        )


def test_a_new_id_and_the_current_time_unless_given() -> None:
    before = datetime.now(UTC)
    made = [
        feedback.task_feedback(
            "executed",
            subject_id="s",
            designation_id=UUID(int=1),
            measure="m",
            department="d",
            note="",
            cause=None,
            suffix="",
        )
        for _ in range(100)
    ]
    envelopes = [Envelope.from_json_bytes(m.value) for m in made]
    assert len({e.id for e in envelopes}) == 100
    assert all(before <= e.time <= datetime.now(UTC) for e in envelopes)
    assert all(e.causationid is None and e.correlationid is None for e in envelopes)
    assert "correlationid" not in orjson.loads(made[0].value)


def test_no_batch_without_items() -> None:
    with pytest.raises(ValueError, match="at least one item"):
        feedback.reported(
            (), subject_id="s", designation_id=UUID(int=1), department="d", cause=None, suffix=""
        )
