"""The responder's store ports on Postgres (services/responder/pg_store.py) pass the
contract suites their in-memory adapters pass (tests/unit/test_responder_memory_adapters.py)."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest

from services.responder.pg_store import PostgresResponderStore
from shared.adapters.db import make_engine
from tests.contracts.delivery_log import DeliveryLogContract
from tests.contracts.subject_events import SubjectEventsContract
from tests.contracts.task_store import TaskStoreContract
from tests.support.infra import Infra

pytestmark = pytest.mark.integration


@pytest.fixture
async def store(infra: Infra, schema_suffix: str) -> AsyncIterator[PostgresResponderStore]:
    engine = make_engine(infra.database_url, schema="responder" + schema_suffix)
    yield PostgresResponderStore(engine)
    await engine.dispose()


class TestPostgresSubjectEvents(SubjectEventsContract):
    pass


class TestPostgresDeliveryLog(DeliveryLogContract):
    pass


class TestPostgresTaskStore(TaskStoreContract):
    pass
