"""The status message's bytes (services/ledger/status_stream.py): the status document
is serialised once, for its row, and spliced into the envelope's JSON; the message is
byte for byte the envelope's whole dump with the document dumped by pydantic, and the
message of the subject's projection from scratch at its cause — through ingest, on
court lists in random batches."""

from __future__ import annotations

import json
import random
from uuid import uuid5

import pydantic_core
import pytest
from aiokafka import ConsumerRecord

from services.ledger.fold_cache import FoldCache
from services.ledger.ingest import Ingest
from services.ledger.memory import MemoryLedger
from services.ledger.projector import Projector
from services.ledger.read_models.rows import SubjectProjection, project
from services.ledger.replay import to_recorded
from services.ledger.status_stream import _IDS, SOURCE, status_message
from shared.domain.status_view import status_envelope
from tests.support.ledger_events import Script, feedback, stored
from tests.support.ledger_workload import court_bulk, records
from tests.support.subjects import new_resident_id


def _dumped_message(projection: SubjectProjection) -> bytes:
    """The status message as the envelope dumps it whole (the status document dumped
    by pydantic, not spliced in as serialised for its row)."""
    caused_by = to_recorded(projection.head).envelope
    envelope = status_envelope(
        projection.status,
        caused_by,
        source=SOURCE,
        time=projection.as_of,
        document=projection.status.model_dump(mode="json"),
    )
    return envelope.model_copy(update={"id": uuid5(_IDS, str(caused_by.id))}).to_json_bytes()


def test_the_row_and_the_message_carry_the_same_serialised_document() -> None:
    s = Script(new_resident_id())
    issued = s.issue(list_type="court.dishonest-debtor", level="especially_serious")
    projection = project(s.subject_id, stored([issued, *feedback(issued, only=5)]))
    assert projection.status_json == pydantic_core.to_json(projection.status_row["status"])
    message = status_message(projection)
    assert message.value == _dumped_message(projection)
    data = json.loads(message.value)["data"]
    cause = str(projection.head.event_id)
    assert data == {**projection.status.model_dump(mode="json"), "caused_by": cause}


async def _ingest(ledger: MemoryLedger, parts: list[list[ConsumerRecord]]) -> None:
    """Ingest each part, then project what it queued (services/ledger/projector.py)."""
    projector = Projector(ledger, cache=FoldCache())
    ingest = Ingest(hand_over=projector.hand_over)
    for part in parts:
        async with ledger.begin() as tx:
            await ingest.apply(tx, part)
        await projector.drain()


@pytest.mark.parametrize("seed", [11, 12, 13])
async def test_every_status_message_of_a_court_list_is_the_one_from_scratch(seed: int) -> None:
    """Through ingest (fold cache, lanes interleaved, random batch sizes): every status
    message published is, byte for byte, the envelope's whole dump of the subject's
    projection from scratch at the message's cause."""
    rng = random.Random(seed)
    recs = records(court_bulk(6, chunk=2, seed=seed).envelopes)
    parts: list[list[ConsumerRecord]] = []
    while recs:
        size = rng.choice([1, 5, 20, 60])
        parts.append(recs[:size])
        recs = recs[size:]
    ledger = MemoryLedger()
    await _ingest(ledger, parts)
    messages = [r.message for r in ledger.outbox.rows]
    assert len(messages) > len(parts)  # several subjects per batch, every batch
    for message in messages:
        stream = await ledger.events.stream(message.key)
        cause = message.headers["jsb-caused-by"]
        prefix = stream[: 1 + next(i for i, e in enumerate(stream) if str(e.event_id) == cause)]
        scratch = project(message.key, prefix)
        assert message.value == status_message(scratch).value
        assert message.value == _dumped_message(scratch)
        assert json.loads(message.value)["data"]["caused_by"] == cause
