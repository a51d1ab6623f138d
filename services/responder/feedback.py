"""Feedback events (执行反馈) as outbox messages for jsb.feedback.v1, keyed by subject.

A department's transitions of one designation caused by one lifecycle event (or one
clock re-evaluation) travel in one `jsb.feedback.measures_reported` event, one item
per measure (`reported`); a lone transition stays a single event (`task_feedback`).
Why this keeps the one-to-one trace: docs/responder.md, "Batched feedback".
"""

from __future__ import annotations

from collections.abc import Sequence
from uuid import UUID

from shared.adapters.outbox import OutboxMessage
from shared.adapters.topics import FEEDBACK
from shared.domain.envelope import Envelope, utc_now
from shared.domain.event_base import DomainEvent
from shared.domain.events import make_envelope
from shared.domain.feedback_events import (
    OUTCOMES,
    FeedbackEvent,
    MeasuresReported,
    ReportedMeasure,
)

KINDS: dict[str, type[FeedbackEvent]] = OUTCOMES


def source_of(department: str) -> str:
    return f"/responder/{department}"


def message(envelope: Envelope, suffix: str) -> OutboxMessage:
    return OutboxMessage(FEEDBACK + suffix, envelope.subject, envelope.to_json_bytes())


def task_feedback(
    kind: str,
    *,
    subject_id: str,
    designation_id: UUID,
    measure: str,
    department: str,
    note: str,
    cause: Envelope | None,
    suffix: str,
) -> OutboxMessage:
    """One reported transition of a task; `cause` is the lifecycle event behind it
    (None when the clock alone caused it: expiry, end of a measure's own duration)."""
    data = KINDS[kind](
        designation_id=designation_id, measure=measure, department=department, note=note
    )
    return _caused(data, subject_id, department, cause, suffix)


def reported(
    items: Sequence[ReportedMeasure],
    *,
    subject_id: str,
    designation_id: UUID,
    department: str,
    cause: Envelope | None,
    suffix: str,
) -> OutboxMessage:
    """The transitions of one department's tasks of one designation that one cause
    (a lifecycle event, or the clock when None) made: one single event for one item,
    else one `measures_reported` event holding them in order."""
    if len(items) == 1:
        (item,) = items
        return task_feedback(
            item.outcome,
            subject_id=subject_id,
            designation_id=designation_id,
            measure=item.measure,
            department=department,
            note=item.note,
            cause=cause,
            suffix=suffix,
        )
    data = MeasuresReported(
        designation_id=designation_id, department=department, items=tuple(items)
    )
    return _caused(data, subject_id, department, cause, suffix)


def _caused(
    data: DomainEvent, subject_id: str, department: str, cause: Envelope | None, suffix: str
) -> OutboxMessage:
    envelope = make_envelope(
        data,
        subject=subject_id,
        source=source_of(department),
        time=utc_now(),
        correlationid=None if cause is None else (cause.correlationid or str(cause.id)),
        causationid=None if cause is None else str(cause.id),
    )
    return message(envelope, suffix)
