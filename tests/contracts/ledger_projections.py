"""The contract of the ledger's `IngestTransaction` read models (`Projections`,
services/ledger/ports.py): subclassed for the in-memory adapter
(tests/unit/test_ledger_ingest_memory.py) and Postgres
(tests/integration/test_ledger_projections_contract.py)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, Protocol

import pytest

from services.ledger import tables
from services.ledger.ports import IngestTransaction
from services.ledger.read_models.changed_rows import rows_of
from services.ledger.read_models.rows import Row, SubjectProjection, project
from services.ledger.store import StoredEvent
from shared.domain.envelope import Envelope
from shared.ports import Transactions
from tests.support.ledger_workload import court_bulk


class IngestLedger(Transactions[IngestTransaction], Protocol):
    pass


def _keys(table_name: str, rows: Sequence[Row]) -> set[tuple[Any, ...]]:
    """Each row's primary key and state (types agree across adapters; JSON may not)."""
    table = next(t for t in tables.PROJECTIONS if t.name == table_name)
    names = [c.name for c in table.primary_key.columns]
    extra = [n for n in ("state", "head_position", "overdue_from") if n in table.c]
    return {tuple(r[n] for n in (*names, *extra)) for r in rows}


def _same(stored: dict[str, list[Row]], projection: SubjectProjection | None) -> None:
    for table in tables.PROJECTIONS:
        want = [] if projection is None else rows_of(projection, table)
        assert _keys(table.name, stored[table.name]) == _keys(table.name, want), table.name


def _debtor(seed: int) -> tuple[list[Envelope], list[Envelope]]:
    listed = court_bulk(1, chunk=1, seed=seed).envelopes
    issued = [e for e in listed if e.type == "jsb.designation.issued"]
    return issued, [e for e in listed if e not in issued]


async def _issue_and_project(tx: IngestTransaction, issued: list[Envelope]) -> None:
    """Append a debtor's designation and write its projection."""
    events = await tx.events.append([(e, None) for e in issued])
    await tx.projections.write([project(issued[0].subject, events)], {}, [issued[0].subject])


class ProjectionsContract:
    """Subclasses provide a fixture `ledger`: an empty store (IngestLedger)."""

    async def test_streams_hold_this_transactions_events_in_stream_order(
        self, ledger: IngestLedger
    ) -> None:
        issued, answers = _debtor(1)
        subject = issued[0].subject
        async with ledger.begin() as tx:
            await tx.events.append([(e, None) for e in issued])
        async with ledger.begin() as tx:
            await tx.events.append([(e, None) for e in answers[:3]])
            found = await tx.projections.streams([subject, "NOBODY"])
        assert [e.stream_version for e in found[subject]] == [1, 2, 3, 4]
        assert [e.event_id for e in found[subject]] == [e.id for e in (*issued, *answers[:3])]
        assert found["NOBODY"] == []

    async def test_written_rows_are_the_projection_and_follow_it(
        self, ledger: IngestLedger
    ) -> None:
        issued, answers = _debtor(2)
        subject = issued[0].subject
        events: list[StoredEvent] = []
        async with ledger.begin() as tx:
            events += await tx.events.append([(e, None) for e in issued])
            first = project(subject, events)
            written = await tx.projections.write([first], {}, [subject])
            _same(await tx.projections.rows(subject), first)
        assert written[subject].position == events[-1].position
        async with ledger.begin() as tx:
            events += await tx.events.append([(e, None) for e in answers[:5]])
            second = project(subject, events)
            # the snapshot of the first write is trusted: only what changed is written
            await tx.projections.write([second], written, [subject])
        async with ledger.begin() as tx:
            _same(await tx.projections.rows(subject), second)
        tasks = {r["state"] for r in second.tasks}
        assert len(tasks) > 1  # some answered, some pending: the rows did change

    async def test_a_stale_snapshot_is_not_trusted(self, ledger: IngestLedger) -> None:
        issued, answers = _debtor(3)
        subject = issued[0].subject
        async with ledger.begin() as tx:
            events = await tx.events.append([(e, None) for e in (*issued, *answers[:2])])
            stale = await tx.projections.write([project(subject, events[:1])], {}, [subject])
            now = project(subject, events)
            await tx.projections.write([now], {}, [subject])
        async with ledger.begin() as tx:
            more = await tx.events.append([(e, None) for e in answers[2:4]])
            latest = project(subject, [*events, *more])
            await tx.projections.write([latest], stale, [subject])
            _same(await tx.projections.rows(subject), latest)

    async def test_a_subject_named_without_a_projection_loses_its_rows(
        self, ledger: IngestLedger
    ) -> None:
        issued, _ = _debtor(4)
        subject = issued[0].subject
        async with ledger.begin() as tx:
            await _issue_and_project(tx, issued)
        async with ledger.begin() as tx:
            await tx.projections.write([], {}, [subject])
        async with ledger.begin() as tx:
            _same(await tx.projections.rows(subject), None)

    async def test_nothing_is_written_when_the_transaction_rolls_back(
        self, ledger: IngestLedger
    ) -> None:
        issued, _ = _debtor(5)
        subject = issued[0].subject

        async def write_then_fail() -> None:
            async with ledger.begin() as tx:
                await _issue_and_project(tx, issued)
                raise RuntimeError("rolled back")

        with pytest.raises(RuntimeError):
            await write_then_fail()
        async with ledger.begin() as tx:
            _same(await tx.projections.rows(subject), None)
            assert (await tx.projections.streams([subject]))[subject] == []
