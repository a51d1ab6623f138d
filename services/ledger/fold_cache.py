"""The folded state of recently changed subjects, kept in memory between batches, so
that a batch adding a few events to a long stream evolves the state with those events
instead of reading the whole stream back and folding it again.

Why it can never serve a wrong state: an entry is keyed by the stream's head *hash*,
and the hash chains every payload of the stream in order (store.chain_hash). The
fold reads nothing but the payloads, in stream order (shared.domain.fold: `evolve`
uses the envelope only), so the same head hash means the same payloads, hence the same
state — whoever appended them. An entry left by a transaction that rolled back
names a head the store does not have (no batch will chain onto it: a miss) or, if
the batch is retried, the very same payloads (a hit that is right). Another ledger
instance appending to the stream moves the head (a miss). On a miss the caller folds
the stream from the store, as a rebuild does. `fold_recorded` is a left fold, so
evolving a cached state with the next events equals folding all of them.

An entry also keeps a snapshot of the projection rows written for its head, so
that the next refresh writes only the rows that changed; read_models/changed_rows.py says
when a snapshot is trusted.

The cache is bounded three ways, least recently used out, and only an
optimisation: empty, it changes nothing but speed.
- by count (`capacity` subjects);
- by the events its states hold (`max_events`): an entry's memory grows with the
  events folded into it (every feedback is kept per task), ~2.3 KB per event
  measured (a court debtor of 49 events: ~110 KB with its row snapshot,
  tests/unit/test_ledger_fold_cache.py), so a bound in events is a bound in bytes
  that a few subjects with long histories cannot exceed; a state bigger than the
  bound is not kept. 2,000 events (~4.5 MB): the cache fills at the pace the load
  brings feedback — on the whole stack a court debtor's answers come over a minute
  or more (~6.6 refreshes each), so with the age bound alone the soak's cache grew
  for ~4 minutes to ~6,000 events and the ledger's RSS with it (docs/reliability.md,
  "The ledger's RSS: what grows"), and at 4,000 it was still filling 40 s after the
  warm-up; bounded in bytes, it is full within the soak's warm-up, least recently
  used out;
- by age (an entry is dropped `max_age_s` after it was last put): under a steady
  load of new subjects it holds the last `max_age_s` of them. Measured with the
  soak's load on the ledger alone (bench/ledger_soak.py, docs/reliability.md "Soak"):
  the process's RSS grew with the cache's entries, linearly, until the entries
  reached their age bound, and stayed flat after; with 120 s that was after the
  soak's 90 s warm-up (+6.4 % from 90 s to the end), hence 60 s. A court list's
  feedback follows its designations within seconds unless the feedback lane lags
  further behind, when the refresh folds from the store as on any miss.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime

from cachetools import TTLCache

from services.ledger.read_models.changed_rows import Written
from shared.domain.fold_state import SubjectState
from shared.domain.status_view import RenderMemo

DAWN = datetime.min.replace(tzinfo=UTC)
"""Before any event."""


@dataclass(frozen=True, slots=True)
class Folded:
    """A stream folded up to its event `version`, whose chain hash is `hash`."""

    version: int
    hash: str
    state: SubjectState
    latest_effective: datetime
    """The latest effective time among the folded events (read_models/rows.change_instant)."""
    written: Written | None = None
    """The rows written for this state, if this process wrote them (read_models/changed_rows.py)."""
    memo: RenderMemo | None = None
    """The designations last rendered for this subject, when it has several
    (read_models/refresh.py): the next refresh renders again only those its events
    touched (shared.domain.status_view.RenderMemo says why that is the same view)."""
    latest_recorded: datetime = DAWN
    """The latest recorded time among the folded events (a stored snapshot serves
    reads known at it or later: stored_snapshots.py)."""


class FoldCache:
    def __init__(
        self,
        capacity: int = 500,
        max_age_s: float = 60.0,
        timer: Callable[[], float] = time.monotonic,
        max_events: int = 2_000,
    ) -> None:
        self.capacity = capacity
        self._entries: TTLCache[str, Folded] = TTLCache(
            max(max_events, 1), max_age_s, timer, getsizeof=_events
        )
        self.hits = 0
        self.misses = 0

    def get(self, stream: str, version: int, head_hash: str) -> Folded | None:
        """The stream's state folded up to (`version`, `head_hash`), if kept."""
        entry = self._entries.get(stream)
        if entry is None or entry.version != version or entry.hash != head_hash:
            self.misses += 1
            return None
        self.hits += 1
        return entry

    def holds(self, stream: str, version: int, head_hash: str) -> bool:
        """Whether `get` would find this state (counted as neither hit nor miss)."""
        entry = self._entries.get(stream)
        return entry is not None and entry.version == version and entry.hash == head_hash

    def put(self, stream: str, folded: Folded) -> None:
        if self.capacity <= 0 or _events(folded) > self._entries.maxsize:
            self._entries.pop(stream, None)  # an older state of it is no use either
            return
        if stream not in self._entries:
            self._entries.expire()
            while len(self._entries) >= self.capacity:
                self._entries.popitem()  # the least recently used
        self._entries[stream] = folded

    @property
    def events(self) -> int:
        """The events folded into the states kept (what the `max_events` bound counts)."""
        return int(self._entries.currsize)

    def __len__(self) -> int:
        return len(self._entries)


def _events(folded: Folded) -> int:
    return max(folded.version, 1)
