"""The responder's ingest and department lanes in-process, on a fresh schema of the
real Postgres: feed designation events as Kafka records, run departments' passes,
read what they wrote (tasks, cursors, outbox)."""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from typing import Any

from aiokafka import ConsumerRecord
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncEngine

from services.responder import execution, tables
from services.responder.hosting import Hosting
from services.responder.ingest import Ingest
from services.responder.pg_store import PostgresResponderStore
from services.responder.ports import ResponderStore
from services.responder.settings import ResponderSettings
from shared.adapters.topics import DEADLETTER, DESIGNATIONS, FEEDBACK
from shared.domain.catalogue.index import default_index
from shared.domain.commands import (
    FileObjection,
    IssueDesignation,
    ResolveObjection,
    SubjectRef,
)
from shared.domain.envelope import Envelope
from shared.domain.events import ObjectionOutcome, RaisedBy
from tests.support.feedback_items import reports
from tests.support.initiator_bodies import stated_facts
from tests.unit.domain_fixtures import Subject

Key = tuple[str, str, str, str]


def hosting(**settings: Any) -> Hosting:
    return Hosting.of(ResponderSettings(**settings), default_index())


def issue_command(
    subject_id: str, list_type: str, department: str, **fields: Any
) -> IssueDesignation:
    at = fields.pop("at", datetime.now(UTC))
    fields.setdefault("facts", stated_facts(list_type))
    return IssueDesignation(
        department=department,
        at=at,
        subject=SubjectRef(
            id=subject_id,
            name=fields.pop("name", "某某公司"),
            other_ids=tuple(fields.pop("other_ids", ())),
        ),
        list_type=list_type,
        level=fields.pop("level", "especially_serious"),
        reason="harness",
        decision_no="H-1",
        decided_at=fields.pop("decided_at", date.today()),
        **fields,
    )


def objection(designation_id: Any, department: str = "tax") -> FileObjection:
    """The subject objects to its designation (filed with the designating department)."""
    return FileObjection(
        department=department,
        at=datetime.now(UTC),
        designation_id=designation_id,
        raised_by=RaisedBy.SUBJECT,
        grounds="paid",
    )


def rejection(filed: FileObjection) -> ResolveObjection:
    return ResolveObjection(
        department=filed.department,
        at=datetime.now(UTC),
        objection_id=filed.objection_id,
        outcome=ObjectionOutcome.REJECTED,
    )


def designation_record(
    suffix: str, offset: int, value: bytes, key: str = "k"
) -> ConsumerRecord[bytes, bytes]:
    """A record of the designations topic as the ingest consumer hands it on."""
    return ConsumerRecord(
        topic=DESIGNATIONS + suffix,
        partition=0,
        offset=offset,
        timestamp=0,
        timestamp_type=0,
        key=key.encode(),
        value=value,
        checksum=None,
        serialized_key_size=len(key),
        serialized_value_size=len(value),
        headers=(),
    )


def run(subject: Subject, command: Any) -> list[Envelope]:
    """Decide a command against the subject (real catalogue); its envelopes."""
    before = len(subject.events)
    subject.run(command, default_index())
    return [r.envelope for r in subject.events[before:]]


class Pipeline:
    """Feeds designation records to the ingest and runs the departments' passes, on
    the `store` a subclass sets up (Postgres here, memory in responder_memory.py)."""

    store: ResponderStore
    hosting: Hosting
    suffix: str
    ingest: Ingest
    ctx: execution.Context
    _offset: int

    def record(self, value: bytes, key: str = "k") -> ConsumerRecord[bytes, bytes]:
        self._offset += 1
        return designation_record(self.suffix, self._offset, value, key)

    async def feed(self, items: Iterable[Envelope | bytes]) -> None:
        """One ingest batch, in one transaction (as the consumer applies it)."""
        records = [
            self.record(i.to_json_bytes(), i.subject) if isinstance(i, Envelope) else self.record(i)
            for i in items
        ]
        async with self.store.begin() as unit:
            await self.ingest(unit, records)

    async def ensure(self) -> None:
        async with self.store.begin() as unit:
            await unit.deliveries.ensure(self.hosting.departments)

    async def advance(self, department: str, ctx: execution.Context | None = None) -> bool:
        return await execution.advance(self.store, department, ctx or self.ctx)

    async def drain(self, departments: Iterable[str] | None = None) -> None:
        for department in sorted(departments or self.hosting.departments):
            while await self.advance(department):
                pass


@dataclass
class Harness(Pipeline):
    engine: AsyncEngine
    hosting: Hosting
    suffix: str
    ingest: Ingest = field(init=False)
    _offset: int = 0

    def __post_init__(self) -> None:
        self.store = PostgresResponderStore(self.engine)
        self.ingest = Ingest(self.hosting, self.suffix)
        self.ctx = execution.Context(self.hosting, self.suffix, batch=50)

    async def outbox(self) -> list[Any]:
        async with self.engine.connect() as conn:
            rows = await conn.execute(select(tables.outbox).order_by(tables.outbox.c.id))
            return list(rows.all())

    async def feedback(self) -> Counter[Key]:
        counts: Counter[Key] = Counter()
        for row in await self.outbox():
            if row.topic == FEEDBACK + self.suffix:
                env = json.loads(row.value)
                for kind, data in reports(env["type"], env["data"]):
                    key = (data["designation_id"], data["measure"], data["department"], kind)
                    counts[key] += 1
        return counts

    async def dead_letters(self) -> list[Any]:
        return [r for r in await self.outbox() if r.topic == DEADLETTER + self.suffix]

    async def cursor(self, department: str) -> int:
        d = tables.departments
        async with self.engine.connect() as conn:
            value = await conn.scalar(select(d.c.position).where(d.c.department == department))
        return int(value or 0)

    async def tasks(self, department: str | None = None) -> Sequence[Any]:
        t = tables.tasks
        query = select(t).order_by(t.c.department, t.c.measure)
        if department is not None:
            query = query.where(t.c.department == department)
        async with self.engine.connect() as conn:
            return (await conn.execute(query)).all()


def kinds(counts: Counter[Key], kind: str) -> set[tuple[str, str]]:
    return {(m, d) for (_, m, d, k) in counts if k == kind}
