"""Feedback events (执行反馈) as outbox messages for jsb.feedback.v1, keyed by subject.

A department's transitions of one designation caused by one lifecycle event (or one
clock re-evaluation) travel in one `jsb.feedback.measures_reported` event, one item
per measure (`reported`); a lone transition stays a single event (`task_feedback`).
Why this keeps the one-to-one trace: docs/responder.md, "Batched feedback".

Serialised without pydantic, as the check path's interceptions are
(interceptions.py): building each report through the models (the event's model, its
`model_dump`, the envelope's model and its JSON) was 5.7 % of the responder's event
loop in the pipeline bench (py-spy, docs/benchmarks.md "Pipeline"). The envelope is one
`orjson.dumps` of a plain dict in the models' field order and formats; that it is the
models' envelope byte for byte, for every outcome, batched or single, caused or not,
is tested (tests/unit/test_feedback_bytes.py).
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any
from uuid import UUID, uuid4

import orjson

from shared.adapters.outbox import OutboxMessage
from shared.adapters.topics import FEEDBACK
from shared.domain.envelope import SPEC_VERSION, Envelope, dataschema_uri, utc_now
from shared.domain.event_base import DomainEvent
from shared.domain.feedback_events import (
    OUTCOMES,
    FeedbackEvent,
    MeasuresReported,
    ReportedMeasure,
)

KINDS: dict[str, type[FeedbackEvent]] = OUTCOMES

_EVENTS: tuple[type[DomainEvent], ...] = (*OUTCOMES.values(), MeasuresReported)
_SCHEMAS = {cls.TYPE: dataschema_uri(cls.TYPE, cls.VERSION) for cls in _EVENTS}
_VERSIONS = {cls.TYPE: cls.VERSION for cls in _EVENTS}


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
    event_id: UUID | None = None,
    time: datetime | None = None,
) -> OutboxMessage:
    """One reported transition of a task; `cause` is the lifecycle event behind it
    (None when the clock alone caused it: expiry, end of a measure's own duration).
    `event_id` and `time`: new and now unless given."""
    data = {
        "designation_id": str(designation_id),
        "measure": measure,
        "department": department,
        "note": note,
    }
    return _caused(KINDS[kind].TYPE, data, subject_id, department, cause, suffix, event_id, time)


def reported(
    items: Sequence[ReportedMeasure],
    *,
    subject_id: str,
    designation_id: UUID,
    department: str,
    cause: Envelope | None,
    suffix: str,
    event_id: UUID | None = None,
    time: datetime | None = None,
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
            event_id=event_id,
            time=time,
        )
    if not items:
        raise ValueError("a measures_reported event holds at least one item")
    data = {
        "designation_id": str(designation_id),
        "department": department,
        "items": [{"measure": i.measure, "outcome": i.outcome, "note": i.note} for i in items],
    }
    return _caused(
        MeasuresReported.TYPE, data, subject_id, department, cause, suffix, event_id, time
    )


def _caused(
    event_type: str,
    data: dict[str, Any],
    subject_id: str,
    department: str,
    cause: Envelope | None,
    suffix: str,
    event_id: UUID | None,
    time: datetime | None,
) -> OutboxMessage:
    """The envelope as `make_envelope(...).to_json_bytes()` writes it (no None fields)."""
    envelope: dict[str, Any] = {
        "specversion": SPEC_VERSION,
        "id": str(event_id or uuid4()),
        "type": event_type,
        "source": source_of(department),
        "subject": subject_id,
        "time": time or utc_now(),
        "datacontenttype": "application/json",
        "dataschema": _SCHEMAS[event_type],
        "schemaversion": _VERSIONS[event_type],
    }
    if cause is not None:
        envelope["correlationid"] = cause.correlationid or str(cause.id)
        envelope["causationid"] = str(cause.id)
    envelope["data"] = data
    value = orjson.dumps(envelope, option=orjson.OPT_UTC_Z)
    return OutboxMessage(FEEDBACK + suffix, subject_id, value)
