"""The ledger bench's workload on disk: consumer records of a bulk court list
(tests/support/ledger_workload.py: designations in chunks, each department's feedback
per chunk, interleaved with the next chunk), written once per run and read back batch
by batch by every phase (bench/ledger_phases.py). On disk, not in memory: a million
records are ~600 MB, which the phases must not hold (their RSS is measured).

One record a line: topic, partition, offset, key, value, tab-separated (compact JSON
escapes tabs and newlines inside strings, so a value holds neither).
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

from aiokafka import ConsumerRecord

from tests.support.ledger_workload import consumer_record, court_bulk, records

SUBJECTS_PER_PART = 1000
"""Debtors generated at a time (~49,000 events, ~200 MB while generating)."""


def write(path: Path, subjects: int, seed: int = 7) -> int:
    """`subjects` court debtors' records into `path`; returns the number of records."""
    offsets: dict[tuple[str, int], int] = {}
    n = 0
    with path.open("wb") as out:
        for part, start in enumerate(range(0, subjects, SUBJECTS_PER_PART)):
            workload = court_bulk(min(SUBJECTS_PER_PART, subjects - start), seed=seed + part)
            for r in records(workload.envelopes):
                offset = offsets.get((r.topic, r.partition), 0)
                offsets[(r.topic, r.partition)] = offset + 1
                out.write(b"\t".join((r.topic.encode(), b"%d" % r.partition, b"%d" % offset)))
                out.write(b"\t" + r.key + b"\t" + r.value + b"\n")
                n += 1
    return n


def read(path: Path, batch: int, topic_prefix: str = "") -> Iterator[list[ConsumerRecord]]:
    """The records (of the topics named `topic_prefix`...) in batches of `batch`, as
    the consumer hands them over."""
    part: list[ConsumerRecord] = []
    prefix = topic_prefix.encode()
    with path.open("rb") as src:
        for line in src:
            if not line.startswith(prefix):
                continue
            topic, partition, offset, key, value = line.rstrip(b"\n").split(b"\t", 4)
            part.append(consumer_record(topic.decode(), int(partition), int(offset), key, value))
            if len(part) >= batch:
                yield part
                part = []
    if part:
        yield part
