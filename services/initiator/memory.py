"""The initiator's streams in memory: the `StreamStore` / `SubjectStreams` ports of
ports.py without Postgres, for the service-layer unit tests (tests/unit) and for
trying the service without a database. It passes the same contract suite as the
Postgres adapter (tests/contracts/test_subject_streams.py).

A transaction stages its writes and applies them when its block ends without an
exception; subject locks are one asyncio.Lock per subject, held until then — the
same guarantees the Postgres adapter gets from advisory locks and MVCC.
"""

from __future__ import annotations

import asyncio
from collections import defaultdict
from collections.abc import AsyncIterator, Iterable
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime
from uuid import UUID

from services.initiator.ledger_client import LedgerUnavailable
from services.initiator.locks import ordered
from services.initiator.streams import Staged, Stream
from services.initiator.timer_plan import TimerSpec, plan
from shared.adapters.topics import DESIGNATIONS
from shared.domain.decide_support import CatalogueLookup
from shared.domain.envelope import Envelope
from shared.domain.errors import ConcurrentChange
from shared.domain.fold import Recorded, evolve
from shared.domain.fold_state import DesignationRecord
from shared.ports import OutboxMessage


@dataclass
class _Tables:
    events: dict[str, list[Recorded]] = field(default_factory=lambda: defaultdict(list))
    designations: dict[UUID, str] = field(default_factory=dict)
    objections: dict[UUID, tuple[UUID, str]] = field(default_factory=dict)
    outbox: list[OutboxMessage] = field(default_factory=list)
    timers: dict[str, TimerSpec] = field(default_factory=dict)
    """Armed timers by key (kind:target); cancelled ones are removed."""


class MemorySubjectStreams:
    """One transaction of a `MemoryStreamStore`."""

    def __init__(self, store: MemoryStreamStore) -> None:
        self._store = store
        self._held: set[str] = set()
        self._staged = _Tables()
        self._cancelled: set[str] = set()

    async def lock(self, subject_ids: Iterable[str]) -> None:
        for subject_id in ordered(subject_ids):  # the global order, as in Postgres
            if subject_id not in self._held:
                await self._store.lock_of(subject_id).acquire()
                self._held.add(subject_id)

    async def load(self, subject_ids: Iterable[str]) -> dict[str, Stream]:
        streams: dict[str, Stream] = {}
        for subject_id in sorted(set(subject_ids)):
            stream = Stream(subject_id)
            for recorded in self._events(subject_id):
                stream.state = evolve(stream.state, recorded)
                stream.version += 1
            streams[subject_id] = stream
        return streams

    async def write(self, staged: Staged, topic_suffix: str = "") -> None:
        if not staged.rows:
            return
        heads = {s: len(self._events(s)) for s in {r["subject_id"] for r in staged.rows}}
        for row in staged.rows:  # all or nothing, like the unique (subject, version) key
            subject_id = row["subject_id"]
            if row["stream_version"] != heads[subject_id] + 1:
                raise ConcurrentChange(f"{subject_id} version {row['stream_version']} taken")
            heads[subject_id] += 1
        now = datetime.now(UTC)
        for env in staged.envelopes:
            self._staged.events[env.subject].append(Recorded(_copy(env), now))
        for d in staged.designations:
            self._staged.designations.setdefault(d["designation_id"], d["subject_id"])
        for o in staged.objections:
            self._staged.objections.setdefault(
                o["objection_id"], (o["designation_id"], o["subject_id"])
            )
        self._staged.outbox += [
            OutboxMessage(DESIGNATIONS + topic_suffix, env.subject, env.to_json_bytes())
            for env in staged.envelopes
        ]

    async def plan_timers(
        self,
        records: Iterable[DesignationRecord],
        catalogue: CatalogueLookup,
        *,
        remind_before_working_days: int,
        fresh: set[UUID] | frozenset[UUID] = frozenset(),
    ) -> None:
        records = list(records)
        specs = [
            s
            for r in records
            for s in plan(r, catalogue, remind_before_working_days=remind_before_working_days)
        ]
        for spec in specs:
            self._staged.timers[spec.key] = spec
            self._cancelled.discard(spec.key)
        changed = {r.designation_id for r in records} - set(fresh)
        keep = {s.key for s in specs}
        armed = {**self._store.tables.timers, **self._staged.timers}
        for key, spec in armed.items():
            if spec.designation_id in changed and key not in keep:
                self._cancelled.add(key)
                self._staged.timers.pop(key, None)

    async def subject_of_designation(self, designation_id: UUID) -> str | None:
        return self._staged.designations.get(designation_id) or (
            self._store.tables.designations.get(designation_id)
        )

    async def objection_target(self, objection_id: UUID) -> tuple[UUID, str] | None:
        return self._staged.objections.get(objection_id) or (
            self._store.tables.objections.get(objection_id)
        )

    def _events(self, subject_id: str) -> list[Recorded]:
        return [
            *self._store.tables.events.get(subject_id, []),
            *self._staged.events.get(subject_id, []),
        ]

    def _commit(self) -> None:
        tables, staged = self._store.tables, self._staged
        for subject_id, events in staged.events.items():
            tables.events[subject_id].extend(events)
        for designation_id, subject_id in staged.designations.items():
            tables.designations.setdefault(designation_id, subject_id)
        for objection_id, target in staged.objections.items():
            tables.objections.setdefault(objection_id, target)
        tables.outbox += staged.outbox
        for key in self._cancelled:
            tables.timers.pop(key, None)
        tables.timers.update(staged.timers)

    def _release(self) -> None:
        for subject_id in self._held:
            self._store.lock_of(subject_id).release()
        self._held.clear()


class MemoryStreamStore:
    """`StreamStore` in memory; `tables` shows what committed transactions wrote."""

    def __init__(self) -> None:
        self.tables = _Tables()
        self._locks: dict[str, asyncio.Lock] = defaultdict(asyncio.Lock)

    def lock_of(self, subject_id: str) -> asyncio.Lock:
        return self._locks[subject_id]

    @asynccontextmanager
    async def begin(self) -> AsyncIterator[MemorySubjectStreams]:
        tx = MemorySubjectStreams(self)
        try:
            yield tx
            tx._commit()
        finally:
            tx._release()


def _copy(env: Envelope) -> Envelope:
    """What a database would hand back: the stored form, not the caller's object."""
    return Envelope.model_validate(env.model_dump(mode="json", exclude_none=True))


class MemoryLedgerStatus:
    """`LedgerStatus` without a ledger: the subjects under a sanction, or away."""

    def __init__(self, sanctioned: Iterable[str] = (), *, away: bool = False) -> None:
        self.sanctioned_subjects = set(sanctioned)
        self.away = away
        self.asked: list[str] = []

    async def sanctioned(self, subject_id: str) -> bool:
        self.asked.append(subject_id)
        if self.away:
            raise LedgerUnavailable("the ledger is away")
        return subject_id in self.sanctioned_subjects
