"""The two ways `store.append` writes a batch — COPY for batches of `COPY_FROM`
events or more, one INSERT ... RETURNING below — store the same rows: same ids,
versions, payloads, sources, hash chain and positions, and return what they stored."""

from __future__ import annotations

from typing import Any

import pytest
from sqlalchemy import select

from services.ledger import store, tables
from services.ledger.verify import verify_chain
from shared.adapters.db import driver_of
from shared.domain.envelope import Envelope
from tests.support.infra import Infra
from tests.support.ledger_harness import fresh_engine
from tests.support.ledger_workload import court_bulk

pytestmark = pytest.mark.integration

Batch = list[tuple[Envelope, store.SourceRef | None]]


def _batches() -> list[Batch]:
    """Three debtors' designations and feedback (147 events) in two transactions,
    so the second chains onto heads stored by the first; a redelivered event in each,
    and events without a source."""
    envelopes = court_bulk(3, chunk=2).envelopes
    sourced: Batch = [
        (env, store.SourceRef("t", i % 3, i) if i % 5 else None) for i, env in enumerate(envelopes)
    ]
    first, second = sourced[:70], sourced[70:]
    return [[*first, first[3]], [first[0], *second]]


async def _stored_by(
    infra: Infra, batches: list[Batch], copy_from: int, monkeypatch: pytest.MonkeyPatch
) -> Any:
    monkeypatch.setattr(store, "COPY_FROM", copy_from)
    returned: list[store.StoredEvent] = []
    async with fresh_engine(infra) as engine:
        for batch in batches:
            async with engine.begin() as conn:
                returned += await store.append(conn, tables.events, batch)
        async with engine.connect() as conn:
            rows = (await conn.execute(select(tables.events).order_by("position"))).all()
            streams = {r.stream for r in rows}
            chains = {s: await store.stream(conn, tables.events, s) for s in streams}
    return returned, rows, chains


async def test_copy_and_insert_store_the_same_rows_and_chains(
    infra: Infra, monkeypatch: pytest.MonkeyPatch
) -> None:
    batches = _batches()
    by_copy = await _stored_by(infra, batches, 1, monkeypatch)
    by_insert = await _stored_by(infra, batches, 10**9, monkeypatch)
    for returned, rows, chains in (by_copy, by_insert):
        assert len(rows) == 147  # the redelivered events were dropped
        assert [store.row_to_event(r) for r in rows] == returned  # it returns what it stored
        assert all(verify_chain(s, events).ok for s, events in chains.items())

    def without_clock(rows: Any) -> list[tuple[Any, ...]]:
        return [tuple(v for k, v in r._mapping.items() if k != "recorded_at") for r in rows]

    assert without_clock(by_copy[1]) == without_clock(by_insert[1])


async def test_copy_draws_the_rows_as_they_are_built(
    infra: Infra, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The COPY is handed the rows as a generator, not a list built beforehand: the
    server parses and indexes the first rows while the next are built (their payload
    JSON and hash). Checked by the hashes computed when each row reaches the driver:
    one per row drawn so far (the old code had hashed the whole batch before the COPY
    began), and the stored rows are those of the batch, in order."""
    envelopes = court_bulk(3, chunk=2).envelopes
    batch: Batch = [(env, store.SourceRef("t", 0, i)) for i, env in enumerate(envelopes)]
    assert len(batch) >= store.COPY_FROM
    hashed = 0
    real_link_hash = store.link_hash

    def counting_link_hash(*args: Any) -> str:
        nonlocal hashed
        hashed += 1
        return real_link_hash(*args)

    monkeypatch.setattr(store, "link_hash", counting_link_hash)
    drawn: list[int] = []

    def watched(records: Any) -> Any:
        for i, row in enumerate(records, 1):
            drawn.append(hashed - i)  # hashes computed beyond the rows drawn so far
            yield row

    async with fresh_engine(infra) as engine:
        async with engine.begin() as conn:
            driver = await driver_of(conn)
            real_copy = type(driver).copy_records_to_table

            async def copy(self: Any, table: str, *, records: Any, columns: Any) -> Any:
                return await real_copy(self, table, records=watched(records), columns=columns)

            monkeypatch.setattr(type(driver), "copy_records_to_table", copy)
            appended = await store.append(conn, tables.events, batch)
        async with engine.connect() as conn:
            ids = (await conn.execute(select(tables.events.c.event_id).order_by("position"))).all()
    assert drawn == [0] * len(batch)
    assert [r[0] for r in ids] == [env.id for env, _ in batch] == [e.event_id for e in appended]
