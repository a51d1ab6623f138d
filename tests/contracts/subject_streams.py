"""The contract of the initiator's `StreamStore` / `SubjectStreams`
(services/initiator/ports.py)."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime
from typing import Any

import pytest

from services.initiator import handlers
from services.initiator.designation_bodies import issue_command
from services.initiator.ports import StreamStore
from services.initiator.schemas import DesignationCreate
from services.initiator.streams import Staged
from shared.domain.catalogue.index import default_index
from shared.domain.commands import FileObjection, IssueDesignation
from shared.domain.decide import decide
from shared.domain.errors import ConcurrentChange
from shared.domain.event_base import RaisedBy
from shared.domain.fold_state import SubjectState
from tests.support import initiator_bodies as bodies
from tests.support.subjects import new_resident_id, new_uscc

CTX = handlers.CommandContext(default_index())


def issue(subject_id: str, department: str = "tax", **overrides: Any) -> IssueDesignation:
    body = DesignationCreate.model_validate(bodies.designation(subject_id, **overrides))
    return issue_command(body, department=department, at=datetime.now(UTC))


class SubjectStreamsContract:
    """Subclasses provide a fixture `streams` giving a StreamStore."""

    async def test_written_events_are_loaded_back_with_their_indexes(
        self, streams: StreamStore
    ) -> None:
        org, person = new_uscc(), new_resident_id()
        related = [{"id": person, "name": "张三", "role": "legal_representative"}]
        command = issue(org, related_persons=related)
        async with streams.begin() as tx:
            state = await handlers.execute(tx, org, command, CTX)
        record = state.designation(command.designation_id)
        assert record is not None
        async with streams.begin() as tx:
            loaded = await tx.load([org, person, new_uscc()])
            assert await tx.subject_of_designation(command.designation_id) == org
            [link] = record.data.related
            assert await tx.subject_of_designation(link.designation_id) == person
        assert loaded[org].version == 1
        assert loaded[person].version == 1
        assert loaded[org].state.designation(command.designation_id) is not None
        assert [s.version for s in loaded.values()].count(0) == 1  # the empty stream too

    async def test_a_refused_or_failed_transaction_leaves_nothing(
        self, streams: StreamStore
    ) -> None:
        org = new_uscc()

        async def fail_after_writing() -> None:
            async with streams.begin() as tx:
                await handlers.execute(tx, org, issue(org), CTX)
                raise RuntimeError("roll back")

        with pytest.raises(RuntimeError):
            await fail_after_writing()
        async with streams.begin() as tx:
            assert (await tx.load([org]))[org].version == 0

    async def test_objections_are_indexed(self, streams: StreamStore) -> None:
        org = new_uscc()
        command = issue(org)
        async with streams.begin() as tx:
            await handlers.execute(tx, org, command, CTX)
        objection = FileObjection(
            department="tax",
            at=datetime.now(UTC),
            designation_id=command.designation_id,
            raised_by=RaisedBy.SUBJECT,
            grounds="不服",
        )
        async with streams.begin() as tx:
            await handlers.execute(tx, org, objection, CTX)
        async with streams.begin() as tx:
            target = await tx.objection_target(objection.objection_id)
            assert target == (command.designation_id, org)
            assert (await tx.load([org]))[org].version == 2

    async def test_a_stream_that_moved_meanwhile_is_a_concurrent_change(
        self, streams: StreamStore
    ) -> None:
        """Without the lock, two writers staging on the same version: the second fails."""
        org = new_uscc()
        async with streams.begin() as tx:
            stale = await tx.load([org])
        async with streams.begin() as tx:
            await handlers.execute(tx, org, issue(org), CTX)
        events = decide(stale[org].state, issue(org), CTX.catalogue)
        assert isinstance(events, list)
        staged = Staged()
        staged.add(stale, events, handlers.envelopes_of(events, "tax", None))

        async def write_stale() -> None:
            async with streams.begin() as tx:
                await tx.write(staged)

        with pytest.raises(ConcurrentChange):
            await write_stale()

    async def test_the_subject_lock_makes_commands_take_turns(self, streams: StreamStore) -> None:
        org = new_uscc()
        release = asyncio.Event()

        async def first() -> None:
            async with streams.begin() as tx:
                await tx.lock([org])
                await release.wait()

        async def second() -> SubjectState:
            async with streams.begin() as tx:
                return await handlers.execute(tx, org, issue(org), CTX)

        holder = asyncio.create_task(first())
        await asyncio.sleep(0.1)
        later = asyncio.create_task(second())
        await asyncio.sleep(0.3)
        assert not later.done()
        release.set()
        await holder
        assert len((await later).designations) == 1

    async def test_concurrent_commands_on_one_subject_never_lose_an_event(
        self, streams: StreamStore
    ) -> None:
        org = new_uscc()

        async def designate(n: int) -> None:
            async with streams.begin() as tx:
                await handlers.execute(tx, org, issue(org, decision_no=f"D-{n}"), CTX)

        await asyncio.gather(*(designate(n) for n in range(6)))
        async with streams.begin() as tx:
            stream = (await tx.load([org]))[org]
        assert stream.version == 6
        assert len(stream.state.designations) == 6
