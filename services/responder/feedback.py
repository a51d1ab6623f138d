"""Feedback events (执行反馈) as outbox messages for jsb.feedback.v1, keyed by subject."""

from __future__ import annotations

from uuid import UUID

from shared.adapters.outbox import OutboxMessage
from shared.adapters.topics import FEEDBACK
from shared.domain.envelope import Envelope, utc_now
from shared.domain.events import make_envelope
from shared.domain.feedback_events import (
    FeedbackEvent,
    MeasureExecuted,
    MeasureFailed,
    MeasureLifted,
    MeasureNotApplicable,
    MeasureResumed,
    MeasureSuspended,
    SubjectIntercepted,
)

KINDS: dict[str, type[FeedbackEvent]] = {
    "executed": MeasureExecuted,
    "not_applicable": MeasureNotApplicable,
    "failed": MeasureFailed,
    "suspended": MeasureSuspended,
    "resumed": MeasureResumed,
    "lifted": MeasureLifted,
}


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
    envelope = make_envelope(
        data,
        subject=subject_id,
        source=source_of(department),
        time=utc_now(),
        correlationid=None if cause is None else (cause.correlationid or str(cause.id)),
        causationid=None if cause is None else str(cause.id),
    )
    return message(envelope, suffix)


def interception(
    *,
    subject_id: str,
    designation_id: UUID,
    measure: str,
    department: str,
    check_id: UUID,
    action: str | None,
    suffix: str,
) -> OutboxMessage:
    """自动拦截: a check blocked the subject; one event per (designation, measure)."""
    data = SubjectIntercepted(
        designation_id=designation_id,
        measure=measure,
        department=department,
        check_id=check_id,
        action=action,
        note=f"blocked {action}" if action else "blocked",
    )
    envelope = make_envelope(
        data,
        subject=subject_id,
        source=source_of(department),
        time=utc_now(),
        correlationid=str(check_id),
    )
    return message(envelope, suffix)
