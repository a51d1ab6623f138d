"""The contract of `SubjectEvents` (services/responder/ports.py), through a
`ResponderStore`: events kept per subject in position order, each event id once,
designations and identifiers kept, nothing of a rolled-back transaction, and ingest
transactions taking turns."""

from __future__ import annotations

import asyncio
from uuid import uuid4

from services.responder.ports import Incoming, Kept, ResponderStore
from tests.contracts.responder_support import append, envelope, subject


class SubjectEventsContract:
    """Subclasses provide a fixture `store` giving a ResponderStore over an empty store."""

    async def test_each_subjects_events_in_position_order_up_to_a_position(
        self, store: ResponderStore
    ) -> None:
        a, b = subject(), subject()
        envs = [envelope(a, 1), envelope(b, 2), envelope(a, 3)]
        stored = await append(store, *envs)
        (later,) = await append(store, envelope(a, 4))
        positions = [p for p in stored if p is not None]
        assert len(positions) == 3
        assert later is not None
        assert positions == sorted(positions)
        assert later > max(positions)
        async with store.begin() as unit:
            whole = await unit.events.history([a, b, a, "nobody"])
            upto = await unit.events.history([a], up_to=positions[2])
        assert set(whole) == {a, b, "nobody"}
        assert [r.envelope.data["n"] for r in whole[a]] == [1, 3, 4]
        assert [r.position for r in whole[a]] == [positions[0], positions[2], later]
        assert [r.envelope for r in whole[b]] == [envs[1]]
        assert whole["nobody"] == []
        assert [r.envelope.data["n"] for r in upto[a]] == [1, 3]

    async def test_an_event_is_read_back_as_stored_by_its_position(
        self, store: ResponderStore
    ) -> None:
        env = envelope(subject(), 7)
        (position,) = await append(store, env)
        assert position is not None
        async with store.begin() as unit:
            assert await unit.events.stored(position) == env.model_dump(mode="json")
            assert await unit.events.stored(position + 1_000_000) is None

    async def test_an_event_id_is_stored_once(self, store: ResponderStore) -> None:
        env = envelope(subject())
        first = await append(store, env)
        again = await append(store, env)
        assert first[0] is not None
        assert again == [None]
        async with store.begin() as unit:
            assert len((await unit.events.history([env.subject]))[env.subject]) == 1

    async def test_designations_and_identifiers_are_kept(self, store: ResponderStore) -> None:
        did, s, t = uuid4(), subject(), subject()
        shared = "ID-" + uuid4().hex
        async with store.begin() as unit:
            assert await unit.events.departments_of(did) is None
            await unit.events.keep(did, s, {"mof", "caac"}, [s, shared])
            await unit.events.keep(uuid4(), t, {"tax"}, [t, shared])
        async with store.begin() as unit:
            await unit.events.keep(did, s, {"tax"}, [s])  # kept already: unchanged
            assert await unit.events.departments_of(did) == {"mof", "caac"}
            await unit.events.widen(did, {"mof", "caac", "tax"})
        async with store.begin() as unit:
            assert await unit.events.departments_of(did) == {"mof", "caac", "tax"}
            assert await unit.events.subjects_of(shared) == sorted([s, t])
            assert await unit.events.subjects_of(s) == [s]
            assert await unit.events.subjects_of("unknown") == []

    async def test_a_batch_is_stored_in_its_order_each_event_id_once(
        self, store: ResponderStore
    ) -> None:
        a, b = subject(), subject()
        old = envelope(a, 0)
        (kept,) = await append(store, old)
        envs = [envelope(a, 1), envelope(b, 2), old, envelope(a, 3)]
        twice = envs[1]
        async with store.begin() as unit:
            positions = await unit.events.append_many(
                [Incoming(e, uuid4(), 0, n) for n, e in enumerate([*envs, twice])]
            )
            assert await unit.events.append_many([]) == []
        assert positions[2] is None  # stored by an earlier batch
        assert positions[4] is None  # met earlier in this batch
        new = [p for p in (positions[0], positions[1], positions[3]) if p is not None]
        assert len(new) == 3
        assert kept is not None
        assert new == sorted(new)
        assert min(new) > kept
        async with store.begin() as unit:
            history = await unit.events.history([a, b])
        assert [r.envelope.data["n"] for r in history[a]] == [0, 1, 3]
        assert [r.position for r in history[a]] == [kept, positions[0], positions[3]]
        assert [r.envelope for r in history[b]] == [twice]

    async def test_a_batch_of_designations_is_kept_as_each_would_be(
        self, store: ResponderStore
    ) -> None:
        did, other, s, t = uuid4(), uuid4(), subject(), subject()
        shared = "ID-" + uuid4().hex
        async with store.begin() as unit:
            await unit.events.keep_many(
                [
                    Kept(did, s, {"mof", "caac"}, [s, shared]),
                    Kept(other, t, {"tax"}, [t, shared]),
                    Kept(did, s, {"tax"}, [s]),  # kept already (in this batch): unchanged
                ]
            )
            await unit.events.keep_many([])
        async with store.begin() as unit:
            found = await unit.events.departments_of_many([did, other, uuid4()])
            assert found == {did: {"mof", "caac"}, other: {"tax"}}
            assert await unit.events.departments_of_many([]) == {}
            assert await unit.events.subjects_of(shared) == sorted([s, t])
            assert await unit.events.subjects_of(t) == [t]

    async def test_a_rolled_back_transaction_keeps_nothing(self, store: ResponderStore) -> None:
        did, s = uuid4(), subject()
        try:
            async with store.begin() as unit:
                await unit.events.keep(did, s, {"mof"}, [s])
                assert await unit.events.append(envelope(s), did, 0, 0) is not None
                raise RuntimeError("roll back")
        except RuntimeError:
            pass
        async with store.begin() as unit:
            assert await unit.events.departments_of(did) is None
            assert await unit.events.subjects_of(s) == []
            assert await unit.events.history([s]) == {s: []}

    async def test_a_second_ingest_waits_for_the_first_ones_turn(
        self, store: ResponderStore
    ) -> None:
        release = asyncio.Event()
        positions: dict[str, int | None] = {}

        async def ingest(name: str, hold: bool) -> None:
            async with store.begin() as unit:
                await unit.events.take_ingest_turn()
                positions[name] = await unit.events.append(envelope(subject()), uuid4(), 0, 0)
                if hold:
                    await release.wait()

        first = asyncio.create_task(ingest("first", hold=True))
        await asyncio.sleep(0.1)
        second = asyncio.create_task(ingest("second", hold=False))
        await asyncio.sleep(0.3)
        assert not second.done()  # it waits for the first ingest's turn to end
        assert "second" not in positions
        release.set()
        await asyncio.gather(first, second)
        assert (positions["first"] or 0) < (positions["second"] or 0)
