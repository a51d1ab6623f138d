"""The chain's bytes and the stored payload (services/ledger/canonical.py): byte for
byte what the standard library's encoder and `model_dump` give — the hashes of every
stored chain and what `history/verify` recomputes depend on it — for arbitrary
values (the awkward ones included) and for every event fixture."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable
from datetime import UTC, datetime, timedelta, timezone
from enum import IntEnum
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from services.ledger.canonical import canonical_json, chain_input, json_native, stored_form
from services.ledger.store import GENESIS, chain_hash, link_hash
from shared.domain.envelope import Envelope
from shared.domain.events import decode_bytes
from tests.support.ledger_workload import court_bulk, records
from tests.unit.domain_fixtures import Subject, resident_id
from tests.unit.test_restriction_index import SCENARIOS


def standard(value: Any) -> bytes:
    """The encoder every stored chain was computed with (store.py before orjson)."""
    return json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode()


def old_chain_hash(prev: str, stream: str, version: int, payload: dict[str, Any]) -> str:
    h = hashlib.sha256()
    h.update(prev.encode())
    h.update(standard([stream, version, payload]))
    return h.hexdigest()


def outcome(encode: Callable[[Any], bytes], value: Any) -> tuple[str, bytes | str]:
    """The bytes, or the kind of error (the same error is the same contract)."""
    try:
        return "bytes", encode(value)
    except (TypeError, ValueError) as exc:
        return "error", type(exc).__name__


# Strings from the whole of Unicode: astral characters (orjson sorts UTF-8 bytes,
# the standard library code points), controls, quotes, backslashes, U+2028, and
# lone surrogates (which neither can encode as UTF-8).
texts = st.text(st.characters(), max_size=12) | st.sampled_from(
    ["", '"', "\\", "\x00", "\x1f", "\x7f", "\u2028", "\ufeff", "\uffff", "\U00010000", "\ud800"]
)
numbers = (
    st.integers()
    | st.integers(min_value=-(2**64), max_value=2**64)
    | st.sampled_from([2**63 - 1, 2**63, 2**64 - 1, 2**64, -(2**63), -(2**63) - 1])
    | st.floats(allow_nan=True, allow_infinity=True)
    | st.sampled_from([0.0, -0.0, 1e16, 1e-7, 1.5, 1e308, float("nan"), float("inf")])
)
scalars = st.none() | st.booleans() | numbers | texts
keys = texts | st.integers(-3, 3) | st.booleans() | st.none()


class Level(IntEnum):
    ONE = 1


json_values = st.recursive(
    scalars,
    lambda inner: (
        st.lists(inner, max_size=4)
        | st.dictionaries(texts, inner, max_size=4)
        | st.dictionaries(keys, inner, max_size=3)
        | st.tuples(inner)
        | st.just(Level.ONE)
    ),
    max_leaves=20,
)


@settings(max_examples=2000, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(json_values)
def test_canonical_json_is_the_standard_librarys_bytes(value: Any) -> None:
    assert outcome(canonical_json, value) == outcome(standard, value)


@pytest.mark.parametrize(
    "value",
    [
        {"\uffff": 1, "\U00010000": 2, "a": 3, "\u00e9": 4},
        {"big": 2**64, "small": 1},
        {"f": 1e-7},
        {"nan": float("nan"), "inf": float("-inf")},
        {1: "int key", 2: "another"},
        {1: "mixed", "a": "keys"},
        {"s": "\ud800"},
        {"deep": [[[["x"]]]]},
        [[]] * 3,
        {"x": (1, 2)},
        {"x": Level.ONE},
    ],
)
def test_canonical_json_on_the_awkward_values(value: Any) -> None:
    assert outcome(canonical_json, value) == outcome(standard, value)


def test_deeper_than_orjson_goes_falls_back() -> None:
    value: Any = "x"
    for _ in range(300):  # orjson refuses nesting beyond 254
        value = [value]
    assert canonical_json(value) == standard(value)


def test_json_native_names_the_types_orjson_writes_as_the_standard_library() -> None:
    assert json_native({"a": [1, "b", True, None, {"c": []}]})
    assert not json_native({"a": [1.0]})
    assert not json_native({"a": (1,)})
    assert not json_native(Level.ONE)


# --- the stored payload -------------------------------------------------------------

offsets = st.integers(-23 * 3600, 23 * 3600).map(lambda s: timezone(timedelta(seconds=s)))
instants = st.datetimes(
    min_value=datetime(1, 1, 2), max_value=datetime(9999, 12, 30), timezones=offsets | st.just(UTC)
)
data_values = st.dictionaries(texts, json_values, max_size=5)


@st.composite
def envelopes(draw: st.DrawFn) -> Envelope:
    """Envelopes as pydantic validates them from the wire: any data and extra fields
    (None included), optional fields present or absent, any offset."""
    fields: dict[str, Any] = {
        "id": draw(st.uuids()),
        "type": draw(st.text(min_size=1, max_size=8)),
        "source": draw(st.text(min_size=1, max_size=8)),
        "subject": draw(st.text(min_size=1, max_size=8)),
        "time": draw(instants),
        "schemaversion": draw(st.integers(1, 5)),
        "data": draw(data_values),
    }
    for name in ("dataschema", "correlationid", "causationid"):
        fields[name] = draw(st.none() | st.text(max_size=8))
    extra = draw(st.dictionaries(st.sampled_from(["x", "y", "traceparent"]), json_values))
    return Envelope.model_validate({**fields, **extra})


def _same_as_dump(env: Envelope) -> None:
    before = outcome(lambda e: standard(e.model_dump(mode="json", exclude_none=True)), env)
    if before[0] == "error":  # lone surrogates: appending raised, and still raises
        assert outcome(lambda e: stored_form(e)[1], env) == before
        return
    dumped = env.model_dump(mode="json", exclude_none=True)
    payload, payload_json, exact = stored_form(env)
    assert payload == dumped
    assert payload_json == standard(dumped)
    assert link_hash(GENESIS, env.subject, 7, payload_json) == old_chain_hash(
        GENESIS, env.subject, 7, dumped
    )
    assert chain_hash(GENESIS, env.subject, 7, payload) == old_chain_hash(
        GENESIS, env.subject, 7, dumped
    )
    if exact:
        assert Envelope.model_validate(payload) == env


@settings(max_examples=1000, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(envelopes())
def test_stored_form_is_the_dump_and_its_hash(env: Envelope) -> None:
    _same_as_dump(env)


@pytest.mark.parametrize(
    "raw",
    [
        b'{"id":"6F9619FF-8B86-D011-B42D-00C04FC964FF","type":"t","source":"s","subject":"S",'
        b'"time":"2026-01-01T00:00:00.5+08:00","correlationid":null,"schemaversion":"2",'
        b'"data":{"a":null,"b":{"c":null},"e":1e400,"f":123456789012345678901234,"g":1.5},'
        b'"extra":null,"extra2":{"z":null}}',
        b'{"type":"t","source":"s","subject":"S","time":"2026-01-01T00:00:00Z",'
        b'"data":{"n":NaN,"i":-Infinity}}',
        b'{"type":"t","source":"s","subject":"S","time":1700000000,"data":{"k":18446744073709551616}}',
        b'{"type":"t","source":"s","subject":"S","time":"2026-01-01T00:00:00+00:00","data":{},'
        b'"\\u00e9":"\\ud83d\\ude00","x":[1,{"y":-9223372036854775809}]}',
    ],
)
def test_stored_form_of_awkward_envelopes_off_the_wire(raw: bytes) -> None:
    _same_as_dump(Envelope.model_validate_json(raw))


def _scenario(make: Callable[[Subject], object]) -> list[Envelope]:
    subject = Subject(resident_id())
    make(subject)
    return [r.envelope for r in subject.events]


def test_stored_form_of_every_event_fixture() -> None:
    """Court lists off the wire (the ledger's records: issues, batched answers,
    related persons) and the domain tests' lifecycles (objections, repairs, exits,
    revocations, amendments): payload, canonical JSON and chain equal the dump's."""
    fixtures = [decode_bytes(r.value)[0] for r in records(court_bulk(12, seed=3).envelopes)]
    for make in SCENARIOS.values():
        fixtures.extend(_scenario(make))
    types = {env.type for env in fixtures}
    assert len(types) >= 8, types
    exact = 0
    prev = GENESIS
    for version, env in enumerate(fixtures, start=1):
        _same_as_dump(env)
        _, payload_json, built = stored_form(env)
        exact += built
        digest = link_hash(prev, "S", version, payload_json)
        assert digest == old_chain_hash(
            prev, "S", version, env.model_dump(mode="json", exclude_none=True)
        )
        prev = digest
    assert exact == len(fixtures)  # the fast path holds for every real event


def test_chain_input_is_the_canonical_list() -> None:
    payload = {"b": [1, "é"], "a": None}
    assert chain_input("S-1", 12, canonical_json(payload)) == standard(["S-1", 12, payload])
