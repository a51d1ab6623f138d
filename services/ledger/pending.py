"""The events ingest appended, kept in memory until the projector has projected them
(projector.py), so that a projection round neither reads them back nor decodes
their payloads again.

Why they are used only where they are proven committed: ingest hands them over
before its transaction commits, and a batch may roll back (its events then name
positions no committed event has) and be applied again (the same payloads at new
positions). The projector asks for a subject's events up to the position its queue
row names — a committed position, since ingest queued it in the transaction that
appended it, and positions are never reused (store.py), so the event held at that
position is the committed one. From it, the chain is followed backwards by
`prev_hash`: the event before a committed one is the one whose hash it names, and
the hash chains every payload of the stream (store.chain_hash), so the payloads
found are the committed ones (a rolled-back copy with the same hash has the same
payload, and the fold reads nothing else: fold_cache.py). Where the chain breaks
(an event this process did not append, or one dropped by the bound), the refresh
reads the stream from the store, as on any fold cache miss.

Bounded by `max_events` (least recently added subjects out): when the projector
lags far behind, the oldest subjects are read back instead of held.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence

from services.ledger.store import StoredEvent


class Pending:
    def __init__(self, max_events: int = 10_000) -> None:
        self.max_events = max_events
        self._by_subject: dict[str, list[StoredEvent]] = {}
        self._events = 0

    def add(self, appended: Sequence[StoredEvent]) -> None:
        for event in appended:
            held = self._by_subject.pop(event.stream, None)  # re-added: most recent last
            if held is None:
                held = []
            held.append(event)
            self._by_subject[event.stream] = held
            self._events += 1
        while self._events > self.max_events and self._by_subject:
            oldest = next(iter(self._by_subject))
            self._events -= len(self._by_subject.pop(oldest))

    def chains(
        self, heads: Mapping[str, int], known: Callable[[str, int, str], bool] | None = None
    ) -> list[StoredEvent]:
        """For each subject, the held events of its stream up to the committed event at
        position `heads[subject]`, linked by their hashes, in stream order (all of
        the subjects' chains, one after the other; none for a subject whose event at
        that position is not held). A chain stops after the event whose predecessor
        `known(subject, version, hash)` says is known already (the fold cache's)."""
        out: list[StoredEvent] = []
        for subject, position in heads.items():
            held = self._by_subject.get(subject)
            if not held:
                continue
            head = next((e for e in held if e.position == position), None)
            if head is None:
                continue
            by_hash = {e.hash: e for e in held}
            chain = [head]
            while (before := by_hash.get(chain[-1].prev_hash)) is not None and (
                before.stream_version == chain[-1].stream_version - 1
            ):
                if known is not None and known(subject, before.stream_version, before.hash):
                    break
                chain.append(before)
            out.extend(reversed(chain))
        return out

    def projected(self, heads: Mapping[str, int]) -> None:
        """The subjects' projections are committed up to the event at `heads[subject]`:
        their events up to it are of no further use."""
        for subject, position in heads.items():
            held = self._by_subject.get(subject)
            if held is None:
                continue
            version = next((e.stream_version for e in held if e.position == position), None)
            keep = [
                e
                for e in held
                if e.position > position and (version is None or e.stream_version > version)
            ]
            self._events -= len(held) - len(keep)
            if keep:
                self._by_subject[subject] = keep
            else:
                del self._by_subject[subject]

    @property
    def events(self) -> int:
        return self._events

    def __len__(self) -> int:
        return len(self._by_subject)
