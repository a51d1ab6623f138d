"""The check path's interception events (services/responder/interceptions.py), built
without the models, are the models' bytes: the same as the event and envelope models
give for the same id and time, unchanged by a round trip through the envelope model, and decoded by
the ledger's `decode` into the event they report."""

from __future__ import annotations

from datetime import UTC, datetime
from uuid import UUID, uuid4

import orjson
from hypothesis import given, settings
from hypothesis import strategies as st

from services.responder import interceptions
from services.responder.feedback import source_of
from shared.adapters.outbox import OutboxMessage
from shared.adapters.topics import FEEDBACK
from shared.domain.envelope import Envelope, utc_now
from shared.domain.events import decode, make_envelope
from shared.domain.feedback_events import SubjectIntercepted

_TEXT = st.text(min_size=1, max_size=30)  # any unicode: quotes, controls, CJK, surrogates out


def _by_models(
    subject: str,
    designation: UUID,
    measure: str,
    department: str,
    check: UUID,
    action: str | None,
    suffix: str,
) -> OutboxMessage:
    """The interception as the models build and serialise it (the event's model, the
    envelope's, its JSON): what the responder wrote before interceptions.py."""
    data = SubjectIntercepted(
        designation_id=designation,
        measure=measure,
        department=department,
        check_id=check,
        action=action,
        note=f"blocked {action}" if action else "blocked",
    )
    envelope = make_envelope(
        data,
        subject=subject,
        source=source_of(department),
        time=utc_now(),
        correlationid=str(check),
    )
    return OutboxMessage(FEEDBACK + suffix, subject, envelope.to_json_bytes())


@given(
    subject=_TEXT,
    measure=_TEXT,
    department=_TEXT,
    action=st.none() | st.text(max_size=30),
    suffix=st.text(max_size=10),
)
@settings(max_examples=300, deadline=None)
def test_the_same_bytes_as_the_models(
    subject: str, measure: str, department: str, action: str | None, suffix: str
) -> None:
    designation, check = uuid4(), uuid4()
    by_models = _by_models(subject, designation, measure, department, check, action, suffix)
    envelope = Envelope.from_json_bytes(by_models.value)
    fast = interceptions.interception(
        subject_id=subject,
        designation_id=designation,
        measure=measure,
        department=department,
        check_id=check,
        action=action,
        suffix=suffix,
        time=envelope.time,
        event_id=envelope.id,
    )
    assert fast == by_models


@given(
    at=st.datetimes(
        min_value=datetime(2000, 1, 1), max_value=datetime(2100, 1, 1), timezones=st.just(UTC)
    ),
    action=st.none() | st.text(max_size=30),
)
@settings(max_examples=300, deadline=None)
def test_any_instant_round_trips_through_the_models_and_decodes(
    at: datetime, action: str | None
) -> None:
    designation, check = uuid4(), uuid4()
    fast = interceptions.interception(
        subject_id="91110000MA01ABCDE1",
        designation_id=designation,
        measure="civil_aviation.restrict_flights",
        department="caac",
        check_id=check,
        action=action,
        suffix="",
        time=at,
    )
    envelope = Envelope.from_json_bytes(fast.value)
    assert envelope.to_json_bytes() == fast.value
    assert envelope.time == at
    assert envelope.correlationid == str(check)
    assert decode(envelope) == SubjectIntercepted(
        designation_id=designation,
        measure="civil_aviation.restrict_flights",
        department="caac",
        check_id=check,
        action=action,
        note=f"blocked {action}" if action else "blocked",
    )


def test_each_event_gets_its_own_id() -> None:
    made = [
        interceptions.interception(
            subject_id="s",
            designation_id=UUID(int=1),
            measure="m",
            department="d",
            check_id=UUID(int=2),
            action=None,
            suffix="",
            time=datetime.now(UTC),
        )
        for _ in range(100)
    ]
    assert len({orjson.loads(m.value)["id"] for m in made}) == 100
