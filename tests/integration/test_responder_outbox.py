"""The responder's outbox (services/responder/outbox_copy.py: rows written by COPY)
passes the outbox's contract, as the shared Postgres adapter does."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest

from services.responder import tables
from services.responder.outbox_copy import CopiedOutbox
from shared.adapters.db import PostgresTransactions, make_engine
from tests.contracts.outbox import OutboxContract
from tests.support.infra import Infra

pytestmark = pytest.mark.integration


class TestCopiedOutbox(OutboxContract):
    @pytest.fixture
    async def outbox(
        self, infra: Infra, schema_suffix: str
    ) -> AsyncIterator[PostgresTransactions[CopiedOutbox]]:
        engine = make_engine(infra.database_url, schema="responder" + schema_suffix)
        yield PostgresTransactions(engine, lambda conn: CopiedOutbox(conn, tables.outbox))
        await engine.dispose()
