"""`mask_personal_numbers_json` (shared/domain/identifiers.py) = serialising the
result of `mask_personal_numbers`, on random JSON trees holding personal numbers,
organisation codes, look-alikes and strings with quotes and backslashes."""

from __future__ import annotations

import json
import re
from typing import Any

import orjson
from hypothesis import example, given, settings
from hypothesis import strategies as st

from shared.domain.identifiers import mask, mask_personal_numbers, mask_personal_numbers_json
from tests.support.subjects import new_resident_id, new_uscc

IDS = [new_resident_id() for _ in range(3)]
TEXTS = st.one_of(
    st.sampled_from(IDS),
    st.sampled_from([new_uscc(), "E12345678", "G1234567", "AB1234567", "91110000MA01ABCD2X"]),
    st.sampled_from([f'a"{IDS[0]}', f"{IDS[1]}\\", f'\\"{IDS[2]}\\"', f"{IDS[0]} 王五", "x"]),
    st.text(alphabet='0123456789Xx"\\:AB王 ', max_size=20),
)
TREES = st.recursive(
    st.one_of(TEXTS, st.integers(-(2**63), 2**63 - 1), st.booleans(), st.none()),
    lambda inner: st.one_of(st.lists(inner, max_size=4), st.dictionaries(TEXTS, inner, max_size=4)),
    max_leaves=25,
)


@settings(max_examples=400)
@given(TREES)
def test_masking_the_serialised_json_equals_masking_the_tree(value: Any) -> None:
    expected = orjson.dumps(mask_personal_numbers(value))
    assert mask_personal_numbers_json(orjson.dumps(value)) == expected
    compact = json.dumps(value, separators=(",", ":"), ensure_ascii=False).encode()
    masked = json.dumps(mask_personal_numbers(value), separators=(",", ":"), ensure_ascii=False)
    assert mask_personal_numbers_json(compact) == masked.encode()


def test_a_personal_number_is_masked_and_a_key_or_part_of_a_string_is_not() -> None:
    person = IDS[0]
    raw = orjson.dumps({"subject_id": person, person: [f"{person} x", new_uscc()]})
    out = orjson.loads(mask_personal_numbers_json(raw))
    assert out["subject_id"] == mask(person) != person
    assert out[person][0] == f"{person} x"


LOOKBEHIND = re.compile(rb'(?<!\\)"([0-9]{17}[0-9Xx]|[A-Z]{1,2}[0-9]{7,8})"(?!:)')
"""The pattern `mask_personal_numbers_json` used before: its reference here."""
PIECES = st.sampled_from(
    [
        b'"',
        b"\\",
        b":",
        b",",
        b"X",
        b"AB",
        b"E",
        b"9",
        b"1234567",
        b"12345678",
        b"ABCDEFG",
        IDS[0].encode(),
    ]
)


@settings(max_examples=400)
@given(st.lists(PIECES, max_size=12).map(b"".join))
@example(b'"' + IDS[0].encode() + b'"')
@example(b'\\"' + IDS[0].encode() + b'"' + IDS[1].encode() + b'"')
@example(b'"' + IDS[0].encode() + b'":"' + IDS[1].encode() + b'"')
def test_the_scan_equals_the_lookbehind_pattern_on_any_bytes(raw: bytes) -> None:
    def masked(match: re.Match[bytes]) -> bytes:
        return b'"' + mask(match.group(1).decode()).encode() + b'"'

    assert mask_personal_numbers_json(raw) == LOOKBEHIND.sub(masked, raw)
