"""Interception events (自动拦截) for the check path, serialised without pydantic.

Why: a block writes one `jsb.feedback.intercepted` event per (designation, measure),
and building it through the models (the event's model, its `model_dump`, the
envelope's model and its JSON) was ~8 % of the responder's event
loop under check load (py-spy, docs/benchmarks.md). Here the same envelope is one
`orjson.dumps` of a plain dict, in the models' field order and formats; that it is the
same, byte for byte, as the models' and that the ledger's decoding accepts it, is
tested (tests/unit/test_check_interceptions.py), not validated per check.
"""

from __future__ import annotations

from datetime import datetime
from uuid import UUID

import orjson

from services.responder.feedback import source_of
from shared.adapters.outbox import OutboxMessage
from shared.adapters.random_ids import uuid4_str
from shared.adapters.topics import FEEDBACK
from shared.domain.envelope import SPEC_VERSION, dataschema_uri
from shared.domain.feedback_events import SubjectIntercepted

_TYPE = SubjectIntercepted.TYPE
_SCHEMA = dataschema_uri(SubjectIntercepted.TYPE, SubjectIntercepted.VERSION)
_VERSION = SubjectIntercepted.VERSION


def interception(
    *,
    subject_id: str,
    designation_id: UUID | str,
    measure: str,
    department: str,
    check_id: UUID | str,
    action: str | None,
    suffix: str,
    time: datetime,
    event_id: UUID | None = None,
) -> OutboxMessage:
    """自动拦截: a check blocked the subject; one event per (designation, measure), at
    `time` (aware, UTC), with `event_id` (new if None). The ids as `UUID`s or as their
    text (the check path has the text already)."""
    check = str(check_id)
    envelope = {
        "specversion": SPEC_VERSION,
        "id": uuid4_str() if event_id is None else str(event_id),
        "type": _TYPE,
        "source": source_of(department),
        "subject": subject_id,
        "time": time,
        "datacontenttype": "application/json",
        "dataschema": _SCHEMA,
        "schemaversion": _VERSION,
        "correlationid": check,
        "data": {
            "designation_id": str(designation_id),
            "measure": measure,
            "department": department,
            "note": f"blocked {action}" if action else "blocked",
            "check_id": check,
            "action": action,
        },
    }
    value = orjson.dumps(envelope, option=orjson.OPT_UTC_Z)
    return OutboxMessage(FEEDBACK + suffix, subject_id, value)
