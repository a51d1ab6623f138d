"""The restriction index in the process's memory: what a check reads, with no database
round trip (the table `restriction_index` stays the source of truth).

Why a copy in memory, and how it stays equal to the table:

- At start-up it is loaded from `subject_identifiers` and `restriction_index` in one
  transaction that holds the ingest's lock (INGEST_LOCK), so no ingest batch commits
  while the copy is read: the copy is the table as of one commit.
- The ingest runs in this process. After each of its transactions has committed, it
  applies what that transaction wrote (the subjects' new interval rows and
  identifiers) to this copy (IngestConsumer.poll_once): a check never answers from
  something that did not commit. Between the commit and the copy's update (the same
  event-loop turn's continuation) a check answers as the table did just before.
- Expiry by the clock needs no update: the rows are intervals (restriction_index.py),
  and a check compares them with its own instant.
- On a restart the copy is rebuilt from the table; until it is loaded, checks read the
  table (index_store.lookup), as before this copy existed.
- With several processes (instances sharing the ingest's consumer group), each one's
  ingest sees only its partitions; the others' commits reach this copy through
  `follow`: the subjects whose `indexed_subjects.position` is beyond the highest one
  read here are re-read every `scan_interval_s` (positions commit in order: the
  ingest lock), so another instance's change is seen within that interval. `follow`
  reads and applies under the ingest lock, so no ingest of this process commits a
  newer version of a subject between the read and the apply.

Compact by construction (measured: docs/benchmarks.md, "Check API"; `python -m
bench.index_memory`): per subject its spans, one per designation and interval, each
holding the (department, measure) pairs it restricts for the hosted departments and
their ordinals; a subject with one span holds it as itself (no tuple around it). The
pairs, their tuples, the ordinals' tuples and the list type strings are shared by every
subject (a bounded table: `_SHARED_MOST`), "until further notice" is one float object,
and an identifier that names one subject maps to that subject's string itself. Per
subject, its id string, dict entries and designation UUID included: one row (the check
bench's) ~285-320 bytes, ~580-650 as a span with its own tuples; a court debtor's 48 rows ~450
bytes, ~1.4 kB as a span with its own tuples, 5.8 kB as 48 row objects.

The load makes each subject's spans as its rows stream in (any order: a row joins its
span in ordinal order), so it never holds a row object per row beside the spans; once
every row is read, `settle` shares the tuples of spans of several rows (only then final).
"""

from __future__ import annotations

import asyncio
import gc
import math
from bisect import bisect
from collections.abc import Collection, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from itertools import islice
from operator import itemgetter
from typing import Any, TypeVar
from uuid import UUID

import asyncpg

from services.responder.fold_memo import Folded
from services.responder.restriction_index import Found, IndexRow


@dataclass(slots=True)
class Held:
    """One interval of one sanction measure a hosted department enforces, as read (not
    frozen: a frozen dataclass's __init__ costs 6x more, and a million are built at
    start-up; never changed once built). Held in spans (`Span`), not one by one."""

    department: str
    measure: str
    designation_id: UUID
    list_type: str
    active_from: float
    active_until: float
    """POSIX seconds; `math.inf`: until an event changes it."""
    ordinal: int


@dataclass(slots=True)
class Span:
    """A subject's rows of one designation sharing one interval: the (department,
    measure) pairs it restricts, in the fold's order (`ordinals`, parallel to `pairs`)."""

    designation_id: UUID
    list_type: str
    active_from: float
    active_until: float
    pairs: tuple[tuple[str, str], ...]
    ordinals: tuple[int, ...]


Entry = Span | tuple[Span, ...]
"""A subject's spans: its one span itself (most subjects), else several in the fold's
order (by their first ordinal)."""

_T = TypeVar("_T")

_SHARED_MOST = 4096
"""Tuples of pairs and of ordinals shared between subjects, at most (the table is
never emptied, so it is bounded: a few MB at worst). Subjects of one bundle share the
same few; a tuple found past the bound is held by its span alone."""


@dataclass(frozen=True, slots=True)
class IndexChanges:
    """What one committed ingest transaction (or one follow pass) wrote to the index:
    the subjects' whole new rows (replacing theirs), and new identifiers."""

    rows: Mapping[str, Sequence[IndexRow]] = field(default_factory=dict)
    identifiers: Sequence[tuple[str, str]] = ()
    """(identifier, subject id) pairs."""
    folds: Mapping[str, tuple[int, Folded]] = field(default_factory=dict)
    """Per subject refreshed, the fold at its last event (fold_memo.at_last): the
    ingest hands it to the departments' memo."""


class LiveIndex:
    """Identifier → subjects, subject → the intervals its hosted departments enforce."""

    def __init__(self, departments: frozenset[str]) -> None:
        self.departments = departments
        self._subjects: dict[str, str | tuple[str, ...]] = {}
        """Identifier → its one subject (the identifier's own string when it is the
        subject's id), or its subjects sorted."""
        self._held: dict[str, Entry] = {}
        self._words: dict[str, str] = {}
        self._pairs: dict[tuple[str, str], tuple[str, str]] = {}
        self._shared: dict[tuple[Any, ...], tuple[Any, ...]] = {}
        self._settling: Iterator[Entry] | None = None
        """The subjects `settle` has still to visit."""
        self.loaded = False
        self.position = 0
        """The highest `indexed_subjects.position` read from the table (by the load or
        `follow`; not by this process's ingest, so that a lower position another
        instance committed before it is not skipped)."""

    def __len__(self) -> int:
        return len(self._held)

    def lookup(
        self, identifier: str, department: str, measures: Collection[str], at: float
    ) -> Found:
        """What `index_store.LOOKUP` answers, from memory: the subjects known by the
        identifier (sorted) and the rows in force at `at`, in the fold's order."""
        subjects = self._subjects.get(identifier, ())
        if isinstance(subjects, str):
            subjects = (subjects,)
        reasons: dict[tuple[UUID, str], tuple[str, UUID, str, str]] = {}
        for subject in subjects:
            entry = self._held.get(subject)
            if entry is None:
                continue
            hits: list[tuple[int, UUID, str, str]] = []
            for span in (entry,) if isinstance(entry, Span) else entry:
                if span.active_from <= at < span.active_until:
                    for (held_by, measure), ordinal in zip(span.pairs, span.ordinals, strict=True):
                        if held_by == department and measure in measures:
                            hits.append((ordinal, span.designation_id, span.list_type, measure))
            hits.sort(key=_first)  # the fold's order (ordinals are unique per subject)
            for _, designation_id, list_type, measure in hits:
                key = (designation_id, measure)
                if key not in reasons:
                    reasons[key] = (subject, designation_id, list_type, measure)
        return Found(list(subjects), list(reasons.values()))

    def apply(self, changes: IndexChanges) -> None:
        """Apply what a committed transaction wrote (idempotent: whole rows replace)."""
        for identifier, subject in changes.identifiers:
            self.add_identifier(identifier, subject)
        for subject, rows in changes.rows.items():
            self.replace(subject, [self.hold(r) for r in rows])

    def add_identifier(self, identifier: str, subject: str) -> None:
        known = self._subjects.get(identifier)
        if known is None:  # most identifiers: one subject, most often themselves
            one = identifier if subject == identifier else self._subject(subject)
            self._subjects[identifier] = one
            return
        subjects = (known,) if isinstance(known, str) else known
        if subject in subjects:
            return
        subject = identifier if subject == identifier else self._subject(subject)
        self._subjects[identifier] = tuple(sorted((*subjects, subject)))

    def replace(self, subject: str, rows: Iterable[Held]) -> None:
        kept = [h for h in rows if h.department in self.departments]
        if kept:
            self._held[self._subject(subject)] = self._entry(kept)
        else:
            self._held.pop(subject, None)

    def add_loaded(self, subject: str, h: Held) -> None:
        """One row read at start-up (any order); `settle` once every row is read."""
        self.merge(
            subject,
            self.pair(h.department, h.measure),
            h.designation_id,
            h.list_type,
            h.active_from,
            h.active_until,
            h.ordinal,
        )

    def merge(
        self,
        subject: str,
        pair: tuple[str, str],
        designation_id: UUID,
        list_type: str,
        active_from: float,
        active_until: float,
        ordinal: int,
    ) -> None:
        """One row read at start-up joins its subject's spans: its own span's pairs at
        its ordinal's place, or a new span (spans ordered by their first ordinal), so
        that the spans equal those of `replace` with all of the subject's rows."""
        if active_until == math.inf:
            active_until = math.inf  # one object for every row's "until further notice"
        held = self._held
        entry = held.get(subject)
        one = (designation_id, list_type, active_from, active_until, pair, ordinal)
        if entry is None:  # a subject's first row: most subjects' only one
            held[self._subject(subject)] = self._one(*one)
            return
        spans = [entry] if isinstance(entry, Span) else list(entry)
        for span in spans:
            if (
                span.designation_id == designation_id
                and span.active_from == active_from
                and span.active_until == active_until
                and span.list_type == list_type
            ):
                at = bisect(span.ordinals, ordinal)
                span.pairs = (*span.pairs[:at], pair, *span.pairs[at:])
                span.ordinals = (*span.ordinals[:at], ordinal, *span.ordinals[at:])
                if at == 0 and len(spans) > 1:  # its first ordinal moved: the order may
                    spans.sort(key=_first_ordinal)
                    held[subject] = tuple(spans)
                return
        spans.append(self._one(*one))
        spans.sort(key=_first_ordinal)
        held[subject] = tuple(spans)

    def _one(
        self,
        designation_id: UUID,
        list_type: str,
        active_from: float,
        active_until: float,
        pair: tuple[str, str],
        ordinal: int,
    ) -> Span:
        """A span of one row, its tuples shared."""
        share = self._share
        return Span(
            designation_id, list_type, active_from, active_until, share((pair,)), share((ordinal,))
        )

    def settle(self, most: int | None = None) -> bool:
        """Share the tuples of the loaded spans of several rows (final only once every
        row is read), `most` subjects at a time when given; True once every subject
        has been visited."""
        if self._settling is None:
            self._settling = iter(self._held.values())
        share, visited = self._share, 0
        for entry in islice(self._settling, most):
            visited += 1
            for span in (entry,) if isinstance(entry, Span) else entry:
                if len(span.ordinals) > 1:
                    span.pairs, span.ordinals = share(span.pairs), share(span.ordinals)
        if most is None or visited < most:
            self._settling = None
            return True
        return False

    def _entry(self, rows: Iterable[Held]) -> Entry:
        groups: dict[tuple[UUID, str, float, float], tuple[list[tuple[str, str]], list[int]]] = {}
        for h in sorted(rows, key=_ordinal):
            key = (h.designation_id, h.list_type, h.active_from, h.active_until)
            group = groups.get(key)
            if group is None:
                group = groups[key] = ([], [])
            group[0].append(self.pair(h.department, h.measure))
            group[1].append(h.ordinal)
        spans = tuple(
            Span(
                designation_id,
                list_type,
                active_from,
                math.inf if active_until == math.inf else active_until,
                self._share(tuple(p)),
                self._share(tuple(o)),
            )
            for (designation_id, list_type, active_from, active_until), (p, o) in groups.items()
        )
        return spans[0] if len(spans) == 1 else spans

    def _share(self, values: tuple[_T, ...]) -> tuple[_T, ...]:
        """The tuple already held with these values, if any (bounded: `_SHARED_MOST`)."""
        found = self._shared.get(values)
        if found is not None:
            return found
        if len(self._shared) < _SHARED_MOST:
            self._shared[values] = values
        return values

    def _subject(self, subject: str) -> str:
        """The string object already held for this subject id, if any."""
        known = self._subjects.get(subject, ())
        for held in (known,) if isinstance(known, str) else known:
            if held == subject:
                return held
        return subject

    def pair(self, department: str, measure: str) -> tuple[str, str]:
        """One tuple (and one string object each) per (department, measure)."""
        pair = (department, measure)
        return self._pairs.setdefault(pair, pair)

    def word(self, value: str) -> str:
        """One string object per department, measure and list type (they repeat)."""
        return self._words.setdefault(value, value)

    def hold(self, row: IndexRow) -> Held:
        return self.held(
            row.department,
            row.measure,
            row.designation_id,
            row.list_type,
            row.active_from.timestamp(),
            math.inf if row.active_until is None else row.active_until.timestamp(),
            row.ordinal,
        )

    def held(
        self,
        department: str,
        measure: str,
        designation_id: UUID,
        list_type: str,
        active_from: float,
        active_until: float,
        ordinal: int,
    ) -> Held:
        return Held(
            self.word(department),
            self.word(measure),
            designation_id,
            self.word(list_type),
            active_from,
            active_until,
            ordinal,
        )


def _ordinal(h: Held) -> int:
    return h.ordinal


def _first_ordinal(span: Span) -> int:
    return span.ordinals[0]


_first = itemgetter(0)

SETTLE_CHUNK = 20_000
"""Subjects settled per turn of the event loop while loading (a few ms)."""


_IDENTIFIERS = "SELECT identifier, subject_id FROM subject_identifiers"
_ROWS = """
SELECT subject_id, department, measure, designation_id, list_type,
       extract(epoch FROM active_from)::float8 AS active_from,
       coalesce(extract(epoch FROM active_until)::float8, 'Infinity'::float8) AS active_until,
       ordinal
FROM restriction_index WHERE department = ANY($1::text[])
"""
_POSITION = "SELECT coalesce(max(position), 0) FROM indexed_subjects"


async def load(
    conn: asyncpg.Connection[Any] | asyncpg.pool.PoolConnectionProxy[Any],
    departments: frozenset[str],
    lock_sql: str,
    prefetch: int = 20_000,
) -> LiveIndex:
    """A copy of the table as of one commit (the ingest's lock held while reading).

    Why the garbage collector is paused, then the heap frozen: a million subjects are
    millions of objects the cyclic collector would traverse on every full collection —
    measured 1.5-1.8 s each with 1,000,000 subjects, a stall of the event loop that
    every check waiting meanwhile pays — and several such collections are triggered
    while the copy is built. Nothing in the copy forms a cycle (refcounting frees what
    a change replaces), so the objects alive after the load are moved out of the
    collector's sight (`gc.freeze`).

    Why the spans are made while the rows stream in, and settled a chunk at a time
    between turns of the event loop: made after every row was read, the load held each
    row as an object beside the spans (a court debtor's 48 rows: 6.1 kB at the peak for
    1.3 kB kept), and making them in one go for 1,000,000 subjects held the loop for
    seconds (more on a busy machine), while no check, `/readyz` or `/metrics` was
    answered: the check bench's poll of `/metrics` timed out after 10 s. The cursor's
    fetches turn the loop while rows are read; what is left once they all are (sharing
    the tuples of spans of several rows) goes `SETTLE_CHUNK` subjects a turn. Checks
    are answered from the table until `loaded` is set, so a half-settled copy is never
    read."""
    index = LiveIndex(departments)
    gc.disable()
    try:
        await _read(conn, index, departments, lock_sql, prefetch)
        while not index.settle(SETTLE_CHUNK):  # noqa: ASYNC110 - a turn of the loop, no event
            await asyncio.sleep(0)
    finally:
        gc.enable()
    gc.freeze()
    index.loaded = True
    return index


async def _read(
    conn: asyncpg.Connection[Any] | asyncpg.pool.PoolConnectionProxy[Any],
    index: LiveIndex,
    departments: frozenset[str],
    lock_sql: str,
    prefetch: int,
) -> None:
    async with conn.transaction(readonly=False):
        await conn.execute(lock_sql)
        async for r in conn.cursor(_IDENTIFIERS, prefetch=prefetch):
            index.add_identifier(r[0], r[1])
        merge, pair, word = index.merge, index.pair, index.word  # a million rows
        async for r in conn.cursor(_ROWS, sorted(departments), prefetch=prefetch):
            merge(r[0], pair(r[1], r[2]), r[3], word(r[4]), r[5], r[6], r[7])
        index.position = int(await conn.fetchval(_POSITION))


_FOLLOW = """
SELECT subject_id, position FROM indexed_subjects WHERE position > $1
ORDER BY position LIMIT $2
"""
_FOLLOW_IDENTIFIERS = _IDENTIFIERS + " WHERE subject_id = ANY($1::text[])"
_FOLLOW_ROWS = _ROWS + " AND subject_id = ANY($2::text[])"


async def follow(
    conn: asyncpg.Connection[Any] | asyncpg.pool.PoolConnectionProxy[Any],
    index: LiveIndex,
    lock_sql: str,
    batch: int = 5000,
) -> int:
    """Re-read the subjects indexed beyond `index.position` (by any instance) and
    apply them; returns how many. Nothing to follow costs one indexed query."""
    if not await conn.fetch(_FOLLOW, index.position, 1):
        return 0
    async with conn.transaction():
        await conn.execute(lock_sql)
        marks = await conn.fetch(_FOLLOW, index.position, batch)
        subjects = [m[0] for m in marks]
        for identifier, subject in await conn.fetch(_FOLLOW_IDENTIFIERS, subjects):
            index.add_identifier(identifier, subject)
        held: dict[str, list[Held]] = {s: [] for s in subjects}
        for r in await conn.fetch(_FOLLOW_ROWS, sorted(index.departments), subjects):
            held[r[0]].append(index.held(*r[1:]))
        for subject, rows in held.items():
            index.replace(subject, rows)
        if marks:
            index.position = max(index.position, int(marks[-1][1]))
    return len(subjects)
