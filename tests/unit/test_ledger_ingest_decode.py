"""The ledger's ingest without Postgres: a consumed batch becomes the envelopes to
append (with their sources, in record order) and one dead letter per poison record
(services/ledger/ingest.py `decode_records`)."""

from __future__ import annotations

import dataclasses
import json

from services.ledger.ingest import CONSUMER, decode_records
from services.ledger.store import SourceRef
from shared.adapters.topics import DEADLETTER
from tests.support.ledger_events import Script, feedback
from tests.support.ledger_workload import records
from tests.support.subjects import new_uscc


def test_a_batch_is_decoded_in_order_and_poison_is_dead_lettered_with_its_reason() -> None:
    issued = Script(new_uscc()).issue()
    good = records([issued, *feedback(issued, only=2)], topic_suffix=".x")
    doc = json.loads(good[1].value)
    doc["type"] = "jsb.feedback.unheard-of"
    unknown = dataclasses.replace(good[1], offset=97, value=json.dumps(doc).encode())
    doc = json.loads(good[2].value)
    doc["data"]["note"] = "a\u0000b"
    nul = dataclasses.replace(good[2], offset=98, value=json.dumps(doc).encode())
    garbage = dataclasses.replace(good[0], offset=99, value=b"{not json")
    batch, dead = decode_records([good[0], unknown, good[1], nul, garbage, good[2]], ".x")

    assert [str(env.id) for env, _ in batch] == [json.loads(r.value)["id"] for r in good]
    assert [src for _, src in batch] == [SourceRef(r.topic, r.partition, r.offset) for r in good]
    assert [m.headers["jsb-source-offset"] for m in dead] == ["97", "98", "99"]
    assert all(m.topic == DEADLETTER + ".x" for m in dead)
    assert all(m.headers["jsb-consumer"] == CONSUMER for m in dead)
    assert "NUL" in dead[1].headers["jsb-reason"]
    assert dead[2].value == b"{not json"
    assert all(m.headers["jsb-reason"] for m in dead)


def test_an_empty_batch_decodes_to_nothing() -> None:
    assert decode_records([]) == ([], [])
