"""The responder's check, inbox and ingest consumer on the real Kafka and Postgres
(issue 6): what a check records and reports, how an officer's answer and a lane
serialise, and the ingest reading Kafka and saying how fresh the store is."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import func, select

from services.responder import checks, inbox, tables
from services.responder.freshness import Freshness
from services.responder.ingest import CONSUMER, Ingest
from services.responder.ingest_consumer import IngestConsumer
from services.responder.pg_store import on_connection, postgres_unit
from services.responder.schemas import CheckCreate, FeedbackCreate
from shared.adapters.db import make_engine
from shared.adapters.kafka_clients import make_producer
from shared.adapters.topics import DESIGNATIONS
from shared.domain.catalogue.index import default_index
from shared.domain.commands import FileObjection
from shared.domain.errors import DomainError
from shared.domain.events import RaisedBy
from shared.domain.identifiers import org_code_of_uscc
from shared.web.problems import problem_of
from tests.support.infra import Infra, unique
from tests.support.responder_harness import Harness, hosting, issue_command, run
from tests.support.subjects import new_uscc
from tests.unit.domain_fixtures import Subject

pytestmark = pytest.mark.integration

TAX = "tax.major-violation"
PROCUREMENT = "procurement.restrict_government_procurement"


@pytest.fixture
async def harness(infra: Infra, schema_suffix: str) -> AsyncIterator[Harness]:
    engine = make_engine(infra.database_url, schema="responder" + schema_suffix)
    h = Harness(engine, hosting(execution_modes={PROCUREMENT: "manual"}), "." + unique())
    await h.ensure()
    yield h
    await engine.dispose()


async def _count(harness: Harness, table: object) -> int:
    async with harness.engine.connect() as conn:
        return int(await conn.scalar(select(func.count()).select_from(table)) or 0)  # type: ignore[arg-type]


async def test_a_block_is_recorded_and_reported_in_one_transaction(harness: Harness) -> None:
    subject = Subject(new_uscc())
    envelopes = run(subject, issue_command(subject.subject_id, TAX, "tax"))
    did = str(envelopes[0].data["designation_id"])
    await harness.feed(envelopes)
    body = CheckCreate(subject_id=org_code_of_uscc(subject.subject_id), action="bid_public_tender")
    catalogue = default_index()
    async with harness.engine.begin() as conn:
        answer = await checks.answer(
            conn,
            body,
            "mof",
            catalogue,
            as_of=datetime.now(UTC),
            fresh_as_of=None,
            suffix=harness.suffix,
        )
    assert answer.decision == "block"
    assert [(str(r.designation_id), r.measure) for r in answer.reasons] == [(did, PROCUREMENT)]
    assert (await harness.feedback())[(did, PROCUREMENT, "mof", "intercepted")] == 1
    async with harness.engine.connect() as conn:
        row = (await conn.execute(select(tables.checks))).one()
    assert (row.check_id, row.decision, row.subject_ids) == (
        answer.check_id,
        "block",
        [subject.subject_id],
    )

    # Nothing is reported for a check whose record did not commit.
    async with harness.engine.connect() as conn:
        tx = await conn.begin()
        await checks.answer(
            conn,
            body,
            "mof",
            catalogue,
            as_of=datetime.now(UTC),
            fresh_as_of=None,
            suffix=harness.suffix,
        )
        await tx.rollback()
    assert await _count(harness, tables.checks) == 1
    assert (await harness.feedback())[(did, PROCUREMENT, "mof", "intercepted")] == 1

    # Before it takes effect, a designation does not block yet.
    later = Subject(new_uscc())
    await harness.feed(
        run(
            later,
            issue_command(
                later.subject_id, TAX, "tax", effective_from=datetime.now(UTC) + timedelta(days=1)
            ),
        )
    )
    async with harness.engine.begin() as conn:
        ahead = await checks.answer(
            conn,
            CheckCreate(subject_id=later.subject_id, measure=PROCUREMENT),
            "mof",
            catalogue,
            as_of=datetime.now(UTC),
            fresh_as_of=None,
            suffix=harness.suffix,
        )
    assert ahead.decision == "allow"


async def test_an_officer_answer_and_a_suspension_take_turns(harness: Harness) -> None:
    subject = Subject(new_uscc())
    envelopes = run(subject, issue_command(subject.subject_id, TAX, "tax"))
    did = envelopes[0].data["designation_id"]
    await harness.feed(envelopes)
    await harness.drain(["mof"])
    (task,) = [t for t in await harness.tasks("mof") if t.measure == PROCUREMENT]
    assert task.state == "pending"
    await harness.feed(
        run(
            subject,
            FileObjection(
                department="tax",
                at=datetime.now(UTC),
                designation_id=did,
                raised_by=RaisedBy.SUBJECT,
                grounds="paid",
            ),
        )
    )

    async with harness.engine.connect() as officer:
        tx = await officer.begin()
        await inbox.answer(
            postgres_unit(officer),
            "mof",
            task.task_id,
            FeedbackCreate(outcome="executed", note="done"),
            harness.suffix,
        )
        # The lane must wait for the officer's transaction (the task row is locked) ...
        lane = asyncio.create_task(harness.advance("mof"))
        await asyncio.sleep(0.5)
        assert not lane.done()
        await tx.commit()
    await lane
    # ... and then suspends what the officer executed, to resume it as executed.
    (task,) = [t for t in await harness.tasks("mof") if t.measure == PROCUREMENT]
    assert (task.state, task.resume_to) == ("suspended", "executed")
    counts = await harness.feedback()
    assert counts[(str(did), PROCUREMENT, "mof", "executed")] == 1
    assert counts[(str(did), PROCUREMENT, "mof", "suspended")] == 1
    async with harness.engine.begin() as conn:
        with pytest.raises(DomainError) as closed:
            await inbox.answer(
                postgres_unit(conn),
                "mof",
                task.task_id,
                FeedbackCreate(outcome="failed"),
                harness.suffix,
            )
    assert problem_of(closed.value).status == 409
    async with harness.engine.begin() as conn:
        with pytest.raises(DomainError) as elsewhere:
            await inbox.answer(
                postgres_unit(conn),
                "tax",
                task.task_id,
                FeedbackCreate(outcome="failed"),
                harness.suffix,
            )
    assert problem_of(elsewhere.value).status == 404


async def test_the_ingest_consumer_reads_kafka_and_says_how_fresh_the_store_is(
    infra: Infra, topic_suffix: str, schema_suffix: str
) -> None:
    engine = make_engine(infra.database_url, schema="responder" + schema_suffix)
    h = hosting()
    subject = Subject(new_uscc())
    envelopes = run(subject, issue_command(subject.subject_id, TAX, "tax"))
    producer = make_producer(infra.kafka, "responder-it")
    await producer.start()
    try:
        for raw in (b"{not json", *(e.to_json_bytes() for e in envelopes)):
            await producer.send_and_wait(
                DESIGNATIONS + topic_suffix, raw, key=subject.subject_id.encode()
            )
    finally:
        await producer.stop()

    started = datetime.now(UTC)
    group = "g-" + unique()
    woken: set[str] = set()

    def consumer() -> tuple[IngestConsumer, Ingest, Freshness]:
        ingest = Ingest(h, topic_suffix)
        fresh = Freshness(engine, CONSUMER, persist_every_s=0.0)
        return (
            IngestConsumer(
                ingest=ingest,
                freshness=fresh,
                wake=woken.update,
                name=CONSUMER,
                engine=engine,
                offsets=tables.consumer_offsets,
                bootstrap=infra.kafka,
                group_id=group,
                topics=[DESIGNATIONS + topic_suffix],
                handler=on_connection(ingest),
            ),
            ingest,
            fresh,
        )

    try:
        first, ingest, fresh = consumer()
        await first.start()
        try:
            deadline = asyncio.get_running_loop().time() + 30
            while ingest.stored < 1 or fresh.caught_up_at is None:
                assert asyncio.get_running_loop().time() < deadline
                await first.poll_once()
        finally:
            await first.stop()
        assert ingest.dead_lettered == 1
        assert woken == {t["department"] for t in envelopes[0].data["tasks"]}
        assert fresh.caught_up_at is not None
        assert started - timedelta(seconds=1) <= fresh.caught_up_at <= datetime.now(UTC)
        # Written down for a restart while Kafka is away.
        again = Freshness(engine, CONSUMER, persist_every_s=5.0)
        await again.load()
        assert again.caught_up_at == fresh.caught_up_at

        # A second run resumes after the stored offsets: nothing ingested twice.
        second, ingest2, fresh2 = consumer()
        await second.start()
        try:
            deadline = asyncio.get_running_loop().time() + 30
            while fresh2.caught_up_at is None:
                assert asyncio.get_running_loop().time() < deadline
                await second.poll_once()
        finally:
            await second.stop()
        assert (ingest2.stored, ingest2.dead_lettered) == (0, 0)
        async with engine.connect() as conn:
            stored = await conn.scalar(select(func.count()).select_from(tables.designation_events))
        assert stored == 1
    finally:
        await engine.dispose()


async def test_a_new_group_applies_its_first_records_once(
    infra: Infra, topic_suffix: str, schema_suffix: str
) -> None:
    """aiokafka may fetch from the reset position before the rebalance listener's seek
    to the stored offsets runs, and that seek then rewinds over the first batch: the
    consumer's offset guard keeps the batch from being applied twice (a poison record,
    whose dead letter nothing else deduplicates, shows it)."""
    engine = make_engine(infra.database_url, schema="responder" + schema_suffix)
    producer = make_producer(infra.kafka, "responder-it")
    await producer.start()
    try:
        await producer.send_and_wait(DESIGNATIONS + topic_suffix, b"{poison", key=b"k")
    finally:
        await producer.stop()
    try:
        for attempt in range(3):  # before the guard: twice, nearly every time
            ingest = Ingest(hosting(), topic_suffix)
            name = f"{CONSUMER}.{attempt}"
            consumer = IngestConsumer(
                ingest=ingest,
                freshness=Freshness(engine, name, persist_every_s=60),
                wake=lambda _: None,
                name=name,
                engine=engine,
                offsets=tables.consumer_offsets,
                bootstrap=infra.kafka,
                group_id="g-" + unique(),
                topics=[DESIGNATIONS + topic_suffix],
                handler=on_connection(ingest),
            )
            await consumer.start()
            try:
                for _ in range(15):
                    await consumer.poll_once()
            finally:
                await consumer.stop()
            async with engine.connect() as conn:
                dead = await conn.scalar(select(func.count()).select_from(tables.outbox))
            assert dead == attempt + 1
    finally:
        await engine.dispose()
