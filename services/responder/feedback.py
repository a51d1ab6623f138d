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

import os
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Protocol
from uuid import UUID

import orjson

from shared.adapters.outbox import OutboxMessage
from shared.adapters.topics import FEEDBACK
from shared.domain.envelope import SPEC_VERSION, Envelope, dataschema_uri, utc_now
from shared.domain.event_base import DomainEvent
from shared.domain.feedback_events import (
    OUTCOMES,
    FeedbackEvent,
    MeasuresReported,
)

KINDS: dict[str, type[FeedbackEvent]] = OUTCOMES

_EVENTS: tuple[type[DomainEvent], ...] = (*OUTCOMES.values(), MeasuresReported)
_SCHEMAS = {cls.TYPE: dataschema_uri(cls.TYPE, cls.VERSION) for cls in _EVENTS}
_VERSIONS = {cls.TYPE: cls.VERSION for cls in _EVENTS}


class Item(Protocol):
    """One reported transition: a `ReportedMeasure`, or planning's lighter `Report`."""

    @property
    def measure(self) -> str: ...

    @property
    def outcome(self) -> str: ...

    @property
    def note(self) -> str: ...


@dataclass(frozen=True, slots=True)
class Head:
    """What every department's feedback on one designation for one cause shares, as
    text: made once per designation and cause (planning takes it from the departments'
    shared view, transitions.RecordAt), not once per department. Why: the designation
    id's and the cause's ids' formatting were ~2 of a department's ~7 us of feedback
    (docs/benchmarks.md, "fourth pass")."""

    subject_id: str
    designation_id: str
    correlationid: str | None
    causationid: str | None


def head_of(subject_id: str, designation_id: UUID, cause: Envelope | None) -> Head:
    if cause is None:
        return Head(subject_id, str(designation_id), None, None)
    causation = str(cause.id)
    return Head(subject_id, str(designation_id), cause.correlationid or causation, causation)


def new_event_id() -> str:
    """A random (version 4) UUID as text, as `str(uuid4())` writes it, in a third of its
    time (no UUID object: its constructor and `__str__` were most of it)."""
    raw = bytearray(os.urandom(16))
    raw[6] = (raw[6] & 0x0F) | 0x40  # version 4
    raw[8] = (raw[8] & 0x3F) | 0x80  # RFC 4122 variant
    h = raw.hex()
    return f"{h[:8]}-{h[8:12]}-{h[12:16]}-{h[16:20]}-{h[20:]}"


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
    head = head_of(subject_id, designation_id, cause)
    return _single(head, kind, measure, department, note, suffix, event_id, time)


def _single(
    head: Head,
    kind: str,
    measure: str,
    department: str,
    note: str,
    suffix: str,
    event_id: UUID | None,
    time: datetime | None,
) -> OutboxMessage:
    data = {
        "designation_id": head.designation_id,
        "measure": measure,
        "department": department,
        "note": note,
    }
    return _caused(KINDS[kind].TYPE, data, head, department, suffix, event_id, time)


def reported(
    items: Sequence[Item],
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
    head = head_of(subject_id, designation_id, cause)
    return reported_by(head, items, department, suffix, event_id, time)


def reported_by(
    head: Head,
    items: Sequence[Item],
    department: str,
    suffix: str,
    event_id: UUID | None = None,
    time: datetime | None = None,
) -> OutboxMessage:
    """`reported`, for the designation and cause of `head`."""
    if len(items) == 1:
        (item,) = items
        return _single(
            head, item.outcome, item.measure, department, item.note, suffix, event_id, time
        )
    if not items:
        raise ValueError("a measures_reported event holds at least one item")
    data = {
        "designation_id": head.designation_id,
        "department": department,
        "items": [{"measure": i.measure, "outcome": i.outcome, "note": i.note} for i in items],
    }
    return _caused(MeasuresReported.TYPE, data, head, department, suffix, event_id, time)


def _caused(
    event_type: str,
    data: dict[str, Any],
    head: Head,
    department: str,
    suffix: str,
    event_id: UUID | None,
    time: datetime | None,
) -> OutboxMessage:
    """The envelope as `make_envelope(...).to_json_bytes()` writes it (no None fields)."""
    envelope: dict[str, Any] = {
        "specversion": SPEC_VERSION,
        "id": new_event_id() if event_id is None else str(event_id),
        "type": event_type,
        "source": f"/responder/{department}",
        "subject": head.subject_id,
        "time": time or utc_now(),
        "datacontenttype": "application/json",
        "dataschema": _SCHEMAS[event_type],
        "schemaversion": _VERSIONS[event_type],
    }
    if head.causationid is not None:
        envelope["correlationid"] = head.correlationid
        envelope["causationid"] = head.causationid
    envelope["data"] = data
    value = orjson.dumps(envelope, option=orjson.OPT_UTC_Z)
    return OutboxMessage(FEEDBACK + suffix, head.subject_id, value)
