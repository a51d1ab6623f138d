"""Audit: recompute a stream's hash chain and name the first broken link.

Each stored event's `hash` is SHA-256 over the previous link and the canonical JSON of
(stream, stream_version, payload) (services/ledger/store.py). Recomputing it from the
stored payload shows any change to a payload, a version or a link made behind the
database's back (the trigger refuses UPDATE and DELETE; only a superuser who disables
it can change a row). The columns copied out of the payload for indexing (event id,
type, subject, effective time) are checked against it too.

What a chain cannot show: a rewrite of an event *and every later one* with fresh
hashes. Anchoring the head hash elsewhere (each status message names the causing
event; an auditor may keep head hashes) closes that gap.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from services.ledger.store import GENESIS, StoredEvent, chain_hash


@dataclass(frozen=True)
class BrokenLink:
    position: int
    stream_version: int
    event_id: str
    reason: str
    """`version_gap`, `prev_hash_mismatch`, `hash_mismatch` or `column_mismatch`."""
    detail: str


@dataclass(frozen=True)
class Verification:
    stream: str
    events: int
    head_hash: str
    first_broken: BrokenLink | None

    @property
    def ok(self) -> bool:
        return self.first_broken is None

    def public(self) -> dict[str, Any]:
        return {
            "subject_id": self.stream,
            "ok": self.ok,
            "events": self.events,
            "head_hash": self.head_hash,
            "first_broken": None if self.first_broken is None else self.first_broken.__dict__,
        }


def verify_chain(stream: str, events: Sequence[StoredEvent]) -> Verification:
    prev = GENESIS
    for expected, event in enumerate(events, start=1):
        problem = _check(stream, expected, prev, event)
        if problem is not None:
            reason, detail = problem
            broken = BrokenLink(
                event.position, event.stream_version, str(event.event_id), reason, detail
            )
            return Verification(stream, len(events), events[-1].hash, broken)
        prev = event.hash
    return Verification(stream, len(events), prev, None)


def _check(stream: str, expected: int, prev: str, e: StoredEvent) -> tuple[str, str] | None:
    if e.stream != stream or e.stream_version != expected:
        # the stream is the subject id: never in the detail (shown to every caller, and
        # a person's number inside a sentence escapes the masking of whole values)
        return "version_gap", f"expected version {expected} of the stream"
    if e.prev_hash != prev:
        return "prev_hash_mismatch", "prev_hash is not the hash of the previous event"
    if chain_hash(prev, e.stream, e.stream_version, e.payload) != e.hash:
        return "hash_mismatch", "the stored hash does not match the stored payload"
    mismatched = _columns_differing(e)
    if mismatched:
        return "column_mismatch", "columns differ from the payload: " + ", ".join(mismatched)
    return None


def _columns_differing(e: StoredEvent) -> list[str]:
    p = e.payload
    out = []
    if str(p.get("id")) != str(e.event_id):
        out.append("event_id")
    if p.get("type") != e.type:
        out.append("type")
    if p.get("subject") != e.stream:
        out.append("stream")
    try:
        if datetime.fromisoformat(str(p.get("time"))) != e.effective_at:
            out.append("effective_at")
    except ValueError:
        out.append("effective_at")
    return out
