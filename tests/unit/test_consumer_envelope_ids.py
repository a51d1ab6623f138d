"""The ids a consumer's batch log line is written under (shared/adapters/consumer.py
`_envelope_ids`), read with a two-field msgspec struct: the same as a whole parse of
the first record gave."""

from __future__ import annotations

import json
from typing import Any

import pytest
from aiokafka import ConsumerRecord

from shared.adapters.consumer import _envelope_ids
from tests.support.notifier_statuses import changed


def _whole_parse(value: bytes | None) -> tuple[Any, Any]:
    """What the consumer read before: the standard library's parse of everything."""
    try:
        head = json.loads(value)  # type: ignore[arg-type]
        return head.get("correlationid") or head.get("id"), head.get("id")
    except (ValueError, TypeError, AttributeError):
        return None, None


def _record(value: bytes | None) -> ConsumerRecord:
    size = len(value or b"")
    return ConsumerRecord("t", 0, 0, 0, 0, b"k", value, None, 1, size, ())


STATUS = changed("S1").to_json_bytes()


@pytest.mark.parametrize(
    "value",
    [
        STATUS,
        changed("S1").model_copy(update={"correlationid": "corr-1"}).to_json_bytes(),
        b'{"id": "only-id", "data": {"id": "inner"}}',
        b'{"correlationid": "", "id": "x"}',
        b'{"id": 7}',
        b"[1, 2]",
        b'"a string"',
        b"{not json",
        b"",
        None,
    ],
)
def test_the_ids_are_what_a_whole_parse_gave(value: bytes | None) -> None:
    assert _envelope_ids(_record(value)) == _whole_parse(value)
