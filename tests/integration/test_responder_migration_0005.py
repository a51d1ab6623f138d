"""Migration 0005 of the responder: the stored envelopes become `json` compressed with
lz4 (a stored event reads back as the same JSON), and the tasks' unique index of
(department, designation, measure) gives way to an index by designation; its
downgrade restores both."""

from __future__ import annotations

import asyncio
import json
from uuid import uuid4

import pytest
from alembic import command
from sqlalchemy import text

from shared.adapters.db import make_engine
from shared.adapters.migrations import config
from tests.support.infra import Infra, unique
from tests.support.ledger_harness import drop_schema

pytestmark = pytest.mark.integration

ENVELOPE = {"id": str(uuid4()), "type": "jsb.designation.issued", "data": {"tasks": [1, 2]}}

STORE = (
    "INSERT INTO designation_events (event_id, subject_id, designation_id, type,"
    " effective_at, envelope, source_partition, source_offset)"
    f" VALUES ('{ENVELOPE['id']}', 's', '{uuid4()}', 'jsb.designation.issued', now(),"
    f" '{json.dumps(ENVELOPE)}', 0, 0)"
)
COLUMN = (
    "SELECT format_type(atttypid, atttypmod), CAST(attcompression AS text) FROM pg_attribute"
    " WHERE attrelid = CAST('designation_events' AS regclass) AND attname = 'envelope'"
)
INDEXES = (
    "SELECT indexname FROM pg_indexes WHERE schemaname = current_schema() AND tablename = 'tasks'"
)
READ = "SELECT CAST(envelope AS text) FROM designation_events"


async def _rows(infra: Infra, schema: str, statement: str) -> list[tuple[object, ...]]:
    engine = make_engine(infra.admin_url, schema=schema)
    try:
        async with engine.begin() as conn:
            return [tuple(r) for r in await conn.execute(text(statement))]
    finally:
        await engine.dispose()


def test_0005_stores_envelopes_as_json_with_lz4_and_finds_tasks_by_designation(
    infra: Infra,
) -> None:
    schema = "responder_" + unique()
    cfg = config("responder", infra.admin_url, schema, infra.service_role)
    try:
        command.upgrade(cfg, "0004")
        asyncio.run(_rows(infra, schema, STORE + " RETURNING position"))
        command.upgrade(cfg, "0005")
        assert asyncio.run(_rows(infra, schema, COLUMN)) == [("json", "l")]
        ((stored,),) = asyncio.run(_rows(infra, schema, READ))
        assert json.loads(str(stored)) == ENVELOPE  # the jsonb row, converted
        indexes = {i for (i,) in asyncio.run(_rows(infra, schema, INDEXES))}
        assert indexes == {"tasks_pkey", "tasks_designation", "tasks_inbox", "tasks_wake"}
        command.downgrade(cfg, "0004")
        assert asyncio.run(_rows(infra, schema, COLUMN)) == [("jsonb", "")]  # the default
        ((stored,),) = asyncio.run(_rows(infra, schema, READ))
        assert json.loads(str(stored)) == ENVELOPE
        indexes = {i for (i,) in asyncio.run(_rows(infra, schema, INDEXES))}
        assert indexes == {"tasks_pkey", "tasks_department_measure", "tasks_inbox", "tasks_wake"}
    finally:
        asyncio.run(drop_schema(infra, schema))
