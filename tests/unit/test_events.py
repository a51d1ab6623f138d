"""Events: the registry, the envelope round trip, poison detection, upcasting."""

from __future__ import annotations

import json
from datetime import date
from uuid import uuid4

import pytest

from shared.domain.envelope import Envelope, dataschema_uri
from shared.domain.events import (
    EVENT_TYPES,
    DesignationAmended,
    DesignationIssued,
    DesignationRevoked,
    DomainEvent,
    Family,
    FieldChange,
    InvalidEventData,
    PoisonEvent,
    UnknownEventType,
    decode,
    decode_bytes,
    event_class,
    make_envelope,
)
from shared.domain.upcasting import (
    LEGACY_MODELS,
    UPCASTERS,
    DesignationRevokedV1,
    MissingUpcaster,
    upcast,
    upcaster,
)
from shared.domain.wire import PoisonMessage
from tests.unit.domain_fixtures import T0, Subject, issue, uscc

CONTRACT_TYPES = {
    "jsb.designation.issued",
    "jsb.designation.amended",
    "jsb.designation.revoked",
    "jsb.designation.superseded",
    "jsb.designation.expired",
    "jsb.objection.filed",
    "jsb.objection.resolved",
    "jsb.objection.reminder",
    "jsb.repair.granted",
    "jsb.repair.refused",
    "jsb.exit.applied",
    "jsb.exit.approved",
    "jsb.exit.window_opened",
    "jsb.feedback.executed",
    "jsb.feedback.not_applicable",
    "jsb.feedback.failed",
    "jsb.feedback.suspended",
    "jsb.feedback.resumed",
    "jsb.feedback.lifted",
    "jsb.feedback.intercepted",
    "jsb.feedback.measures_reported",
}


def sample(model: type[DomainEvent]) -> DomainEvent:
    """A valid instance of every event type, built from its schema's required fields."""
    d = uuid4()
    values = {
        "designation_id": d,
        "subject_id": uscc(),
        "subject_kind": "organization",
        "subject_name": "Acme",
        "list_type": "market.serious-illegal",
        "polarity": "sanction",
        "level": "serious",
        "expiry": "automatic",
        "reason": "r",
        "decision_no": "D-1",
        "decided_at": date(2025, 3, 3),
        "designated_by": "samr",
        "effective_from": T0,
        "effective_until": None,
        "catalogue_version": "2025.1.0",
        "changes": {"reason": FieldChange(old="a", new="b")},
        "restore_reputation": True,
        "by_designation_id": uuid4(),
        "objection_id": uuid4(),
        "raised_by": "subject",
        "grounds": "g",
        "review_deadline": date(2025, 3, 24),
        "suspends_measures": True,
        "pauses_clock": False,
        "outcome": "rejected",
        "stage": "nearing",
        "exited_at": T0,
        "opens_on": date(2025, 3, 3),
        "measure": "procurement.tender",
        "department": "ggzy",
        "check_id": uuid4(),
        "items": [{"measure": "procurement.tender", "outcome": "executed"}],
    }
    required = {name: values[name] for name, f in model.model_fields.items() if f.is_required()}
    if "opens_on" in required:
        required["effective_until"] = T0
    return model.model_validate(required)


def test_the_registry_holds_exactly_the_contract_types() -> None:
    assert set(EVENT_TYPES) == CONTRACT_TYPES
    for event_type, model in EVENT_TYPES.items():
        assert event_type == model.TYPE
        expected = Family.FEEDBACK if ".feedback." in event_type else Family.LIFECYCLE
        assert model.FAMILY is expected


@pytest.mark.parametrize("event_type", sorted(CONTRACT_TYPES))
def test_every_event_round_trips_through_its_envelope(event_type: str) -> None:
    data = sample(EVENT_TYPES[event_type])
    subject = getattr(data, "subject_id", uscc())
    env = make_envelope(data, subject=subject, source="/jsb/test", time=T0, correlationid="c")
    assert env.type == event_type
    assert env.schemaversion == data.VERSION
    assert env.dataschema == dataschema_uri(event_type, data.VERSION)
    wire = Envelope.from_json_bytes(env.to_json_bytes())
    assert decode(wire) == data
    assert decode_bytes(env.to_json_bytes()) == (wire, data)


def test_make_envelope_keeps_given_ids() -> None:
    data = sample(DesignationRevoked)
    event_id = uuid4()
    env = make_envelope(data, subject="s", source="src", time=T0, id=event_id, causationid="x")
    assert env.id == event_id
    assert env.causationid == "x"
    assert env.correlationid is None


def test_events_are_frozen() -> None:
    data = sample(DesignationRevoked)
    with pytest.raises(ValueError, match="frozen"):
        data.reason = "other"  # type: ignore[misc]


def _envelope(event_type: str, data: dict[str, object], version: int = 1) -> Envelope:
    return Envelope(
        type=event_type, source="s", subject=uscc(), time=T0, data=data, schemaversion=version
    )


def test_unknown_type_is_poison() -> None:
    with pytest.raises(UnknownEventType, match="unknown event type") as caught:
        decode(_envelope("jsb.designation.teleported", {}))
    assert isinstance(caught.value, PoisonEvent)
    assert isinstance(caught.value, PoisonMessage)
    assert isinstance(caught.value, ValueError)
    assert "teleported" in caught.value.reason
    with pytest.raises(UnknownEventType):
        event_class("nope")


def test_a_newer_version_than_known_is_poison() -> None:
    with pytest.raises(UnknownEventType, match="newer than the known version 2"):
        decode(_envelope("jsb.designation.revoked", {}, version=3))


def test_invalid_data_is_poison_with_a_reason_naming_the_field() -> None:
    data = sample(DesignationRevoked).model_dump(mode="json")
    data["restore_reputation"] = "perhaps"
    with pytest.raises(InvalidEventData) as caught:
        decode(_envelope("jsb.designation.revoked", data, version=2))
    assert caught.value.reason.startswith("invalid jsb.designation.revoked: restore_reputation")
    assert "1 error(s)" in caught.value.reason


def test_invalid_data_at_the_root_names_data() -> None:
    env = _envelope("jsb.designation.expired", {"designation_id": str(uuid4())})
    object.__setattr__(env, "data", ["not", "an", "object"])
    with pytest.raises(InvalidEventData, match="data:"):
        decode(env)


def test_extra_fields_are_refused() -> None:
    data = {"designation_id": str(uuid4()), "colour": "red"}
    with pytest.raises(InvalidEventData, match="colour"):
        decode(_envelope("jsb.designation.expired", data))


def test_issued_data_must_be_about_the_envelope_subject() -> None:
    subject = Subject()
    news = subject.run(issue(subject.subject_id))
    env = news[0].envelope(source="s").model_copy(update={"subject": uscc(2)})
    with pytest.raises(InvalidEventData, match="differs from the envelope subject"):
        decode(env)


def test_unparseable_bytes_are_poison() -> None:
    with pytest.raises(PoisonMessage, match="empty"):
        decode_bytes(b"")
    with pytest.raises(PoisonMessage, match="not a valid event envelope"):
        decode_bytes(b"{not json")


def test_amendments_name_only_amendable_fields_with_valid_values() -> None:
    d = uuid4()
    ok = DesignationAmended(
        designation_id=d, reason="r", changes={"level": FieldChange(old="serious", new="general")}
    )
    assert ok.changes["level"].new == "general"
    with pytest.raises(ValueError, match="'subject_id' is not amendable"):
        DesignationAmended(
            designation_id=d, reason="r", changes={"subject_id": FieldChange(old="a", new="b")}
        )
    with pytest.raises(ValueError, match="level: Input should be"):
        DesignationAmended(
            designation_id=d, reason="r", changes={"level": FieldChange(old="a", new="grave")}
        )
    with pytest.raises(ValueError, match="at least 1 item"):
        DesignationAmended(designation_id=d, reason="r", changes={})


# --- upcasting ----------------------------------------------------------------------


def test_revoked_v1_is_upcast_on_read_and_the_stored_payload_is_untouched() -> None:
    d = uuid4()
    v1 = DesignationRevokedV1(designation_id=d, reason="wrong", restore_credit=False)
    stored = v1.model_dump(mode="json")
    env = _envelope("jsb.designation.revoked", stored, version=1)
    before = json.dumps(env.data, sort_keys=True)
    event = decode(env)
    assert event == DesignationRevoked(designation_id=d, reason="wrong", restore_reputation=False)
    assert json.dumps(env.data, sort_keys=True) == before  # never rewritten
    assert DesignationRevokedV1 in LEGACY_MODELS


def test_a_v1_payload_missing_its_field_is_invalid_not_defaulted() -> None:
    env = _envelope("jsb.designation.revoked", {"designation_id": str(uuid4()), "reason": "x"})
    with pytest.raises(InvalidEventData, match="restore_reputation"):
        decode(env)


def test_a_gap_in_the_upcaster_chain_is_reported() -> None:
    assert upcast("jsb.any", 3, {"a": 1}, 3) == {"a": 1}
    with pytest.raises(MissingUpcaster, match="from version 1"):
        upcast("jsb.designation.expired", 1, {}, 2)


def test_a_missing_upcaster_makes_the_event_unknown(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delitem(UPCASTERS, ("jsb.designation.revoked", 1))
    env = _envelope("jsb.designation.revoked", {"designation_id": str(uuid4())}, version=1)
    with pytest.raises(UnknownEventType, match="no upcaster"):
        decode(env)


def test_upcasters_chain_one_version_at_a_time(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr("shared.domain.upcasting.UPCASTERS", dict(UPCASTERS))

    @upcaster("jsb.test.thing", 1)
    def _one(payload: dict[str, object]) -> dict[str, object]:
        return {**payload, "steps": ["1→2"]}

    @upcaster("jsb.test.thing", 2)
    def _two(payload: dict[str, object]) -> dict[str, object]:
        return {**payload, "steps": [*payload["steps"], "2→3"]}  # type: ignore[misc]

    assert upcast("jsb.test.thing", 1, {}, 3) == {"steps": ["1→2", "2→3"]}


def test_issued_sample_is_complete() -> None:
    issued = sample(DesignationIssued)
    assert isinstance(issued, DesignationIssued)
    assert issued.tasks == ()


def test_envelope_helpers_chain_correlation_and_read_the_clock_outside_the_domain() -> None:
    from datetime import UTC

    from shared.domain.envelope import utc_now

    first = make_envelope(sample(DesignationRevoked), subject="s", source="src", time=T0)
    caused = first.caused(source="other")
    assert caused == {
        "correlationid": str(first.id),
        "causationid": str(first.id),
        "source": "other",
    }
    second = make_envelope(
        sample(DesignationRevoked), subject="s", source="src", time=T0, **first.caused()
    )
    assert second.caused()["correlationid"] == str(first.id)
    assert utc_now().tzinfo is UTC


def test_the_domain_imports_no_io_framework() -> None:
    import re
    from pathlib import Path

    import shared.domain

    forbidden = re.compile(r"^\s*(from|import)\s+(fastapi|sqlalchemy|asyncpg|aiokafka)\b", re.M)
    root = Path(shared.domain.__file__).parent
    offenders = [p.name for p in root.rglob("*.py") if forbidden.search(p.read_text("utf-8"))]
    assert offenders == []
