"""A realistic ingest mix for the ledger's benchmark and tests: a court list imported
in bulk (每名失信被执行人 a designation with 49 tasks at `especially_serious`) and the
feedback the responder's department lanes send back.

The order is the one the ledger sees behind the real services: the initiator
publishes the designations in chunks (`POST /v1/designations/batch`), each department
lane then answers its tasks of a chunk in one pass, departments in no particular
order, while the next chunk's designations are already coming. So a consumed batch
holds feedback for hundreds of subjects, a subject's feedback is spread over several
batches, and some feedback lands in the same batch as its designation — the case
that made ingest cost a whole-stream refold per event.
"""

from __future__ import annotations

import random
import zlib
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from aiokafka import ConsumerRecord

from shared.adapters import topics
from shared.domain.envelope import Envelope
from tests.support.ledger_events import Script, feedback
from tests.support.subjects import new_resident_id

COURT = "court.dishonest-debtor"


@dataclass(frozen=True)
class Workload:
    envelopes: list[Envelope]
    """In arrival order."""
    designations: int

    @property
    def events(self) -> int:
        return len(self.envelopes)


def court_bulk(
    subjects: int, *, chunk: int = 200, seed: int = 7, at: datetime | None = None
) -> Workload:
    """`subjects` court debtors designated at `at` (default: an hour ago, so that the
    tasks' deadlines lie ahead, as in a bulk import), answered ten minutes later;
    chunks of `chunk` designations; feedback per department for a chunk arrives
    after that chunk, interleaved with the next one."""
    rng = random.Random(seed)
    at = at or datetime.now(UTC).replace(microsecond=0) - timedelta(hours=1)
    issued: list[Envelope] = []
    for i in range(subjects):
        script = Script(new_resident_id())
        issued.append(
            script.issue(
                list_type=COURT,
                level="especially_serious",
                at=at,
                name=f"被执行人{i}",
                decision_no=f"(2026)京0105执{i}号",
            )
        )
    arrival: list[Envelope] = []
    pending: list[Envelope] = []  # feedback of the previous chunk, not yet sent
    for start in range(0, subjects, chunk):
        part = issued[start : start + chunk]
        lanes: dict[str, list[Envelope]] = {}
        for env in part:
            for fb in feedback(env, at=at + timedelta(minutes=10)):
                lanes.setdefault(fb.data["department"], []).append(fb)
        passes = list(lanes.values())
        rng.shuffle(passes)
        # the next chunk's designations arrive while the lanes answer the last one
        cut = rng.randrange(len(pending) + 1)
        arrival.extend([*pending[:cut], *part, *pending[cut:]])
        pending = [fb for lane in passes for fb in lane]
    arrival.extend(pending)
    return Workload(arrival, subjects)


def records(
    envelopes: Sequence[Envelope], topic_suffix: str = "", partitions: int = 3
) -> list[ConsumerRecord]:
    """The envelopes as the consumer would hand them over (keyed by subject, offsets
    counted per topic and partition)."""
    next_offset: dict[tuple[str, int], int] = {}
    out: list[ConsumerRecord] = []
    for env in envelopes:
        topic = (
            topics.FEEDBACK if env.type.startswith("jsb.feedback.") else topics.DESIGNATIONS
        ) + topic_suffix
        partition = zlib.crc32(env.subject.encode()) % partitions
        offset = next_offset.get((topic, partition), 0)
        next_offset[(topic, partition)] = offset + 1
        out.append(
            consumer_record(topic, partition, offset, env.subject.encode(), env.to_json_bytes())
        )
    return out


def consumer_record(
    topic: str, partition: int, offset: int, key: bytes, value: bytes
) -> ConsumerRecord:
    """A record as aiokafka's consumer hands it over."""
    return ConsumerRecord(
        topic=topic,
        partition=partition,
        offset=offset,
        timestamp=0,
        timestamp_type=0,
        key=key,
        value=value,
        checksum=None,
        serialized_key_size=len(key),
        serialized_value_size=len(value),
        headers=(),
    )


def batches(items: Sequence[ConsumerRecord], size: int) -> Iterator[Sequence[ConsumerRecord]]:
    for start in range(0, len(items), size):
        yield items[start : start + size]
