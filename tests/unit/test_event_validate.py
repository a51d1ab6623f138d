"""`validate` / `validate_bytes` (shared/domain/events.py) decide as `decode` /
`decode_bytes` decide: on envelopes of every event type (and a court list's, and an
older version to upcast) mutated at random — a value replaced by one of another type
or form, a key removed, added or given twice, a value moved from elsewhere — they
accept exactly what `decode_bytes` accepts, with the same envelope, and refuse the
rest with the same exception and reason. The msgspec fast path takes the canonical
envelopes producers write; the mirrors are built from the models at import, so a
field added to a model is in its mirror (nothing written by hand can drift)."""

from __future__ import annotations

import copy
import json
from typing import Any

import msgspec
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from pydantic import BaseModel

from shared.domain import events
from shared.domain.envelope import Envelope
from shared.domain.events import (
    EVENT_TYPES,
    DesignationAmended,
    DesignationIssued,
    DesignationRevoked,
    decode_bytes,
    make_envelope,
    validate,
    validate_bytes,
)
from shared.domain.msgspec_mirror import Unmirrorable, mirror
from tests.support.ledger_workload import court_bulk, records
from tests.unit.domain_fixtures import T0, uscc
from tests.unit.test_events import sample
from tests.unit.test_notifier_status_decoder import POOL, Dup, _at, _paths, _write


def _envelope(event_type: str) -> dict[str, Any]:
    data = sample(EVENT_TYPES[event_type])
    subject = getattr(data, "subject_id", uscc())
    env = make_envelope(data, subject=subject, source="/jsb/test", time=T0, correlationid="c")
    doc: dict[str, Any] = json.loads(env.to_json_bytes())
    return doc


def _revoked_v1() -> dict[str, Any]:
    doc = _envelope(DesignationRevoked.TYPE)
    data = {k: v for k, v in doc["data"].items() if k != "restore_reputation"}
    return {**doc, "schemaversion": 1, "data": {**data, "restore_credit": True}}


COURT = [json.loads(r.value) for r in records(court_bulk(1).envelopes)[:2]]
BASES = [*(_envelope(t) for t in sorted(EVENT_TYPES)), *COURT, _revoked_v1()]


@st.composite
def messages(draw: st.DrawFn) -> bytes:
    doc = copy.deepcopy(draw(st.sampled_from(BASES)))  # drawn values copied too: POOL's
    for _ in range(draw(st.integers(1, 3))):
        # mostly inside the data, where the mirror decides; sometimes the envelope
        inside = draw(st.booleans()) and isinstance(doc.get("data"), dict) and doc["data"]
        paths = [("data", *p) for p in _paths(doc["data"])][1:] if inside else []
        paths = paths or list(_paths(doc))[1:]
        path = draw(st.sampled_from(paths))
        parent, last = _at(doc, path[:-1]), path[-1]
        op = draw(st.sampled_from(["replace", "move", "delete", "add", "twice"]))
        if op == "replace":
            parent[last] = copy.deepcopy(draw(st.sampled_from([*POOL, *_VALUES])))
        elif op == "move":
            parent[last] = copy.deepcopy(_at(doc, draw(st.sampled_from(paths))))
        elif op == "delete":
            del parent[last]
        elif op == "add" and isinstance(parent, dict):
            key = draw(st.sampled_from(["extra", "note", "level", "subject_id"]))
            parent[key] = copy.deepcopy(draw(st.sampled_from(POOL)))
        elif op == "twice" and isinstance(parent, dict) and len(path) > 1:
            holder, key = _at(doc, path[:-2]), path[-2]
            first = copy.deepcopy(draw(st.sampled_from([*POOL, parent[last]])))
            holder[key] = Dup(parent, str(last), first)
    return _write(doc).encode()


_VALUES = [
    "2025-03-10T00:00:00.123456789Z", "2025-03-10t00:00:00z", "2025-03-10T24:00:00Z",
    "2025-03-10T00:00:60Z", "2025-03-10T00:00:00+24:00", "2025-03-10T00:00:00-00:00",
    "20250310", "2025-W11-1", "0000-01-01", "9999-12-31T23:59:59.999999Z", -0.0, 1e-7,
    "ggzy", "procurement.tender", "market.serious-illegal", "organization", "2",
]  # fmt: skip


def _verdict(decoder: Any, raw: bytes | None) -> tuple[str, Any]:
    try:
        result = decoder(raw)
    except ValueError as exc:  # PoisonMessage and PoisonEvent among them
        return "refused", (type(exc), exc.reason if hasattr(exc, "reason") else str(exc))
    envelope = result[0] if isinstance(result, tuple) else result
    # every field, and which were given (an id left out is a new uuid4 each time)
    given = envelope.model_fields_set
    return "accepted", (given, envelope.model_dump(exclude=None if "id" in given else {"id"}))


@settings(max_examples=600, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(messages())
def test_validate_accepts_and_refuses_exactly_what_decode_does(raw: bytes) -> None:
    assert _verdict(validate_bytes, raw) == _verdict(decode_bytes, raw)


@pytest.mark.parametrize("doc", BASES, ids=lambda d: f"{d['type']}@{d['schemaversion']}")
def test_every_fixture_is_accepted_as_decode_accepts_it(doc: dict[str, Any]) -> None:
    raw = _write(doc).encode()
    assert _verdict(validate_bytes, raw) == _verdict(decode_bytes, raw)
    assert _verdict(validate_bytes, raw)[0] == "accepted"


@pytest.mark.parametrize(
    "raw",
    [
        None,
        b"",
        b"{not json",
        _write({**BASES[0], "type": "jsb.designation.teleported"}).encode(),
        _write({**BASES[0], "schemaversion": 99}).encode(),
        _write({**COURT[0], "subject": uscc(7)}).encode(),  # data.subject_id differs
        _write({**COURT[1], "data": {}}).encode(),
        _write({**COURT[1], "data": {**COURT[1]["data"], "extra": 1}}).encode(),
    ],
)
def test_poison_is_refused_with_decodes_reason(raw: bytes | None) -> None:
    assert _verdict(validate_bytes, raw)[0] == "refused"
    assert _verdict(validate_bytes, raw) == _verdict(decode_bytes, raw)


def test_canonical_envelopes_take_the_fast_path(monkeypatch: pytest.MonkeyPatch) -> None:
    """Every type but the one whose model has a validator is checked by its mirror,
    without `decode` (which would build the event)."""
    assert set(events._MIRRORS) == set(EVENT_TYPES) - {DesignationAmended.TYPE}

    def refuse(envelope: Envelope) -> None:
        raise AssertionError(f"decode called for {envelope.type}")

    monkeypatch.setattr(events, "decode", refuse)
    for doc in [*BASES[:-1]]:
        if doc["type"] != DesignationAmended.TYPE:
            validate(Envelope.model_validate(doc))
    with pytest.raises(AssertionError, match=DesignationAmended.TYPE):
        validate(Envelope.model_validate(_envelope(DesignationAmended.TYPE)))
    with pytest.raises(AssertionError, match="revoked"):  # an older version: upcast first
        validate(Envelope.model_validate(_revoked_v1()))


def test_a_lax_form_the_mirror_refuses_is_accepted_by_decode() -> None:
    doc = copy.deepcopy(COURT[0])
    assert doc["type"] == DesignationIssued.TYPE
    doc["data"]["effective_from"] = 1741564800  # a number for a time: pydantic lax only
    envelope = Envelope.model_validate(doc)
    with pytest.raises(msgspec.ValidationError):
        msgspec.convert(envelope.data, events._MIRRORS[DesignationIssued.TYPE], strict=True)
    validate(envelope)  # decode accepts it: so does validate
    assert validate_bytes(_write(doc).encode()) == envelope


class _Floating(BaseModel):
    x: float


def test_the_mirror_refuses_a_type_it_does_not_know() -> None:
    with pytest.raises(Unmirrorable):
        mirror(_Floating)
