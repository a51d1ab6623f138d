"""The real adapters pass the ports' contract suites (tests/contracts/): Postgres
for the stores (the outbox on each of its write paths), the ledger's own HTTP API for
the cross-check's ledger client. The in-memory adapters pass the same suites in
tests/unit/test_memory_adapters.py."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import timedelta
from pathlib import Path
from typing import Any

import asyncpg
import httpx
import pytest
from sqlalchemy.ext.asyncio import AsyncEngine

from services.initiator import tables as initiator_tables
from services.initiator.ledger_client import LedgerCrossCheck
from services.initiator.repository import PostgresSubjectStreams
from services.ledger import tables as ledger_tables
from services.ledger.store import PostgresEventStore
from shared.adapters.consumer import PostgresOffsets
from shared.adapters.db import PostgresTransactions, make_engine
from shared.adapters.idempotency import PostgresIdempotency
from shared.adapters.outbox import COPY_THRESHOLD, PostgresOutbox
from shared.domain.commands import RevokeDesignation
from tests.contracts.event_store import EventStoreContract
from tests.contracts.idempotency import IdempotencyContract
from tests.contracts.ledger_status import CLEAN, SANCTIONED, LedgerStatusContract
from tests.contracts.offsets import OffsetsContract
from tests.contracts.outbox import OutboxContract, message
from tests.contracts.subject_streams import SubjectStreamsContract
from tests.support.infra import Infra
from tests.support.ledger_events import T0, Script, designation_id
from tests.support.ledger_harness import Ledger, fresh_engine, ledger

pytestmark = pytest.mark.integration


@pytest.fixture
async def ledger_engine(infra: Infra) -> AsyncIterator[AsyncEngine]:
    async with fresh_engine(infra) as engine:
        yield engine


@pytest.fixture
async def initiator_engine(infra: Infra, schema_suffix: str) -> AsyncIterator[AsyncEngine]:
    engine = make_engine(infra.database_url, schema="initiator" + schema_suffix, pool_size=10)
    yield engine
    await engine.dispose()


class TestPostgresEventStore(EventStoreContract):
    @pytest.fixture
    def store(self, ledger_engine: AsyncEngine) -> PostgresEventStore:
        return PostgresEventStore(ledger_engine, ledger_tables.events)


class TestPostgresSubjectStreams(SubjectStreamsContract):
    @pytest.fixture
    def streams(
        self, initiator_engine: AsyncEngine
    ) -> PostgresTransactions[PostgresSubjectStreams]:
        return PostgresTransactions(initiator_engine, PostgresSubjectStreams)


class TestPostgresIdempotency(IdempotencyContract):
    @pytest.fixture
    def answers(self, initiator_engine: AsyncEngine) -> PostgresIdempotency[Any]:
        return PostgresIdempotency(
            initiator_engine, initiator_tables.idempotency, PostgresSubjectStreams
        )


class TestPostgresOutbox(OutboxContract):
    """The default COPY threshold: the contract's batches fall on both sides of it."""

    copy_threshold = COPY_THRESHOLD

    @pytest.fixture
    def outbox(self, initiator_engine: AsyncEngine) -> PostgresTransactions[PostgresOutbox]:
        return PostgresTransactions(
            initiator_engine,
            lambda conn: PostgresOutbox(
                conn, initiator_tables.outbox, copy_threshold=self.copy_threshold
            ),
        )


class TestPostgresOutboxByInsert(TestPostgresOutbox):
    """Every batch by INSERT (a threshold no batch reaches)."""

    copy_threshold = 10**9


class TestPostgresOutboxByCopy(TestPostgresOutbox):
    """Every batch by binary COPY, the first statement of its transaction included
    (db.driver_of begins it: the rolled-back test)."""

    copy_threshold = 1


async def test_an_outbox_batch_goes_by_copy_from_the_threshold_on(
    initiator_engine: AsyncEngine, monkeypatch: pytest.MonkeyPatch
) -> None:
    copied: list[int] = []
    copy = asyncpg.Connection.copy_records_to_table

    async def counted(self: asyncpg.Connection[Any], table: str, **kwargs: Any) -> str:
        copied.append(len(kwargs["records"]))
        return await copy(self, table, **kwargs)

    monkeypatch.setattr(asyncpg.Connection, "copy_records_to_table", counted)
    below = [message(n, "t") for n in range(COPY_THRESHOLD - 1)]
    at = [message(n, "t") for n in range(COPY_THRESHOLD)]
    async with initiator_engine.begin() as conn:
        outbox = PostgresOutbox(conn, initiator_tables.outbox)
        await outbox.enqueue(below)
        await outbox.enqueue(at)
        assert len(await outbox.pending(100)) == len(below) + len(at)
    assert copied == [COPY_THRESHOLD]


class TestPostgresOffsets(OffsetsContract):
    @pytest.fixture
    def offsets(self, ledger_engine: AsyncEngine) -> PostgresTransactions[PostgresOffsets]:
        return PostgresTransactions(
            ledger_engine, lambda conn: PostgresOffsets(conn, ledger_tables.consumer_offsets)
        )


@pytest.fixture(scope="module")
async def running_ledger(
    infra: Infra, tmp_path_factory: pytest.TempPathFactory
) -> AsyncIterator[Ledger]:
    """A ledger that knows SANCTIONED (a sanction in force) and CLEAN (revoked)."""
    async with ledger(infra, tmp_path_factory.mktemp("ledger")) as led:
        sanctioned, clean = Script(SANCTIONED), Script(CLEAN)
        issued = clean.issue(
            list_type="court.dishonest-debtor",
        )
        revoked = clean.run(
            RevokeDesignation(
                department="court",
                at=T0 + timedelta(hours=1),
                designation_id=designation_id(issued),
                reason="错误",
            )
        )
        await led.producer.send([sanctioned.issue(), issued, *revoked])
        await led.wait_caught_up()
        yield led


class TestLedgerCrossCheckOverHttp(LedgerStatusContract):
    @pytest.fixture
    async def ledger(self, running_ledger: Ledger) -> AsyncIterator[LedgerCrossCheck]:
        assert running_ledger.app is not None
        client = LedgerCrossCheck(
            "http://ledger",
            running_ledger.tokens["ops"],
            5.0,
            transport=httpx.ASGITransport(app=running_ledger.app),
        )
        yield client
        await client.aclose()

    @pytest.fixture
    async def away(self, tmp_path: Path) -> AsyncIterator[LedgerCrossCheck]:
        client = LedgerCrossCheck("http://127.0.0.1:9", None, 1.0)  # nobody listens there
        yield client
        await client.aclose()
