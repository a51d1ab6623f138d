"""What every consumer refuses before its handler sees a record: one too large to
be an event, and one whose Kafka key is not its envelope's subject.

Why the key matters: every topic is keyed by subject so that one subject's events
stay in order in one partition (topics.py); a record under another key may overtake
or trail its subject's other events, so applying it could reorder a subject's
history. The key is checked last: a record that is also unparseable, of an unknown
type or invalid is left to the handler, whose reason names that first defect.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import msgspec
from aiokafka import ConsumerRecord

from shared.adapters.deadletter import dead_letter
from shared.adapters.topics import MAX_EVENT_BYTES
from shared.domain.events import decode
from shared.domain.status_models import StatusChanged
from shared.domain.wire import PoisonMessage, parse_event
from shared.ports import OutboxMessage


def refuse_nul(raw: bytes) -> None:
    """Raise PoisonMessage for a value with a NUL character (\\u0000): valid JSON, but
    neither JSONB nor text can hold it, so storing it would fail the batch on every
    retry and stop the consumer for good."""
    if b"\\u0000" in raw:
        raise PoisonMessage("a NUL character (\\u0000) cannot be stored")


def too_large(record: ConsumerRecord) -> str | None:
    size = len(record.value or b"")
    if size <= MAX_EVENT_BYTES:
        return None
    return f"record too large: {size} bytes (the backbone applies up to {MAX_EVENT_BYTES})"


class _Head(msgspec.Struct, gc=False):
    subject: Any = None


_HEAD = msgspec.json.Decoder(_Head)
"""The envelope's subject alone: the other fields are skipped, not built (a 24 kB
status: ~10 µs against ~42 µs for a whole parse, which was ~5 % of the notifier's
CPU in the pipeline). A mismatch is confirmed by `_valid`'s full parse."""


def wrong_key(record: ConsumerRecord) -> str | None:
    """The reason a record that is otherwise a valid event is under the wrong key."""
    key = record.key.decode(errors="replace") if record.key is not None else None
    try:
        subject = _HEAD.decode(record.value or b"").subject
    except msgspec.MsgspecError:
        return None  # not a JSON object: the handler's to refuse
    if not isinstance(subject, str) or key == subject or not _valid(record.value):
        return None
    return f"wrong key: the record's key {key!r} is not the envelope's subject"


def _valid(raw: bytes) -> bool:
    """A well-formed event of a known type and schema (the rare mismatched key only)."""
    try:
        refuse_nul(raw)
        envelope = parse_event(raw)
        if envelope.type != StatusChanged.TYPE:
            decode(envelope)
    except PoisonMessage:
        return False
    return True


@dataclass(frozen=True)
class Screen:
    """Splits a batch into the records for the handler and dead letters (dead-lettered
    as `consumer`, on the dead-letter topic with `suffix`)."""

    consumer: str
    suffix: str = ""

    def split(
        self, records: Sequence[ConsumerRecord]
    ) -> tuple[list[ConsumerRecord], list[OutboxMessage]]:
        kept: list[ConsumerRecord] = []
        dead: list[OutboxMessage] = []
        for r in records:
            reason = too_large(r) or wrong_key(r)
            if reason is None:
                kept.append(r)
            else:
                dead.append(dead_letter(r, reason, self.consumer, self.suffix))
        return kept, dead
