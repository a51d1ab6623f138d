"""The bytes of the hash chain, and an envelope's stored payload, without the
standard library's encoder or a `model_dump` where they provably change nothing.

The chain (store.chain_hash) is SHA-256 over the previous hash and
`json.dumps([stream, version, payload], sort_keys=True, separators=(",", ":"),
ensure_ascii=False)` encoded as UTF-8: what every stored chain was computed with and
what `history/verify` recomputes, so those bytes may never change. On the append
path they cost ~6 µs per event with the standard library's C encoder (a court
designation is ~8.5 KB); orjson with `OPT_SORT_KEYS` writes the same bytes in ~2 µs
for the values it can reproduce, and `canonical_json` falls back to the standard
library for every other value:

- floats: orjson formats them differently (`1e-7` against `1e-07`) and writes NaN and
  the infinities as `null`, so any float goes to the standard library;
- integers beyond 64 bits, keys that are not strings, strings with lone surrogates,
  nesting deeper than orjson's limit: orjson raises, and the standard library does
  what it always did (including raising where it raised);
- any type but exactly dict, list, str, int, bool and None (subclasses, tuples,
  enums): the standard library, whose output for those orjson does not promise.

Keys are sorted by code point by both (orjson compares UTF-8 bytes, whose order is
the code points'). Proven with hypothesis over arbitrary values, the awkward ones
included, and over every event fixture (tests/unit/test_ledger_canonical.py).

`stored_form(envelope)` is the payload the store keeps for an envelope —
`envelope.model_dump(mode="json", exclude_none=True)`, as always — built from the
envelope's fields without dumping its data: the data and the extra fields are the
values pydantic parsed from JSON, which its JSON dump returns unchanged as long as
they are JSON's own types without floats (a non-finite float would be dumped as
null); whenever they are not, the payload is the dump itself. Same test file: the
payload and its hash equal the dump's for arbitrary envelopes and every fixture.
"""

from __future__ import annotations

import json
from datetime import timedelta
from typing import Any

import orjson
from pydantic import AwareDatetime, TypeAdapter

from shared.domain.envelope import Envelope

_TIME = TypeAdapter(AwareDatetime)
_MINUTE, _ZERO = timedelta(minutes=1), timedelta(0)


def json_native(value: Any) -> bool:
    """True when `value` holds nothing but dicts, lists, str, int, bool and None (those
    exact types; dict keys are left to the encoder): what orjson writes exactly as the
    standard library does, or refuses."""
    stack = [value]
    while stack:
        item = stack.pop()
        kind = type(item)
        if kind is dict:
            stack.extend(item.values())
        elif kind is list:
            stack.extend(item)
        elif kind is not str and kind is not int and kind is not bool and item is not None:
            return False
    return True


def canonical_json(value: Any) -> bytes:
    """`json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False)`
    as UTF-8, byte for byte (module docstring: when orjson writes it)."""
    if json_native(value):
        try:
            return orjson.dumps(value, option=orjson.OPT_SORT_KEYS)
        except TypeError:  # orjson.JSONEncodeError included
            pass
    return _standard(value)


def _standard(value: Any) -> bytes:
    return json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode()


def chain_input(stream: str, stream_version: int, payload_json: bytes) -> bytes:
    """`canonical_json([stream, stream_version, payload])` from the payload's own
    canonical JSON (a compact list is its items' JSON between brackets and commas)."""
    return b"[%s,%d,%s]" % (canonical_json(stream), stream_version, payload_json)


def stored_form(envelope: Envelope) -> tuple[dict[str, Any], bytes, bool]:
    """(payload, its canonical JSON, whether the payload was built from the fields):
    the payload is `envelope.model_dump(mode="json", exclude_none=True)`'s value. When
    built from the fields, `Envelope.model_validate(payload)` equals `envelope` (its
    values are JSON's own), so the projector may fold `envelope` itself."""
    offset = envelope.time.utcoffset()
    whole_minutes = offset is not None and offset % _MINUTE == _ZERO
    payload = _from_fields(envelope, whole_minutes)
    if json_native(payload):
        try:
            payload_json = orjson.dumps(payload, option=orjson.OPT_SORT_KEYS)
        except TypeError:
            pass
        else:
            extras = envelope.model_extra or {}
            return payload, payload_json, whole_minutes and None not in extras.values()
    payload = envelope.model_dump(mode="json", exclude_none=True)
    return payload, canonical_json(payload), False


def _from_fields(envelope: Envelope, whole_minutes: bool) -> dict[str, Any]:
    """The envelope's JSON dump without None fields, from its attributes; the data
    and the extra fields as they are (json_native then says whether that is the dump).
    The payload shares the envelope's data dict: neither is ever changed in place.

    The id and the time are written by orjson (~0.2 µs each against ~1.1 µs for
    `str(uuid)` and pydantic's dump): the same text — the UUID's canonical form,
    pydantic's RFC 3339 (`Z` for a zero offset, six fractional digits when any) —
    but only for an offset of whole minutes (`whole_minutes`): pydantic writes an
    offset without its seconds, orjson with them. No JSON input carries seconds in
    an offset, and a time whose offset has them does not read back as it was, nor
    does an extra field that is None: the payload then is not exact (`stored_form`)."""
    time = envelope.time
    payload: dict[str, Any] = {
        "specversion": envelope.specversion,
        "id": orjson.dumps(envelope.id)[1:-1].decode(),
        "type": envelope.type,
        "source": envelope.source,
        "subject": envelope.subject,
        "time": orjson.dumps(time, option=orjson.OPT_UTC_Z)[1:-1].decode()
        if whole_minutes
        else _TIME.dump_python(time, mode="json"),
        "datacontenttype": envelope.datacontenttype,
    }
    if envelope.dataschema is not None:
        payload["dataschema"] = envelope.dataschema
    payload["schemaversion"] = envelope.schemaversion
    if envelope.correlationid is not None:
        payload["correlationid"] = envelope.correlationid
    if envelope.causationid is not None:
        payload["causationid"] = envelope.causationid
    payload["data"] = envelope.data
    for key, value in (envelope.model_extra or {}).items():
        if value is not None:
            payload[key] = value
    return payload
