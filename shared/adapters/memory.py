"""In-memory adapters of shared/ports.py: the same contract suites as the Postgres
ones (tests/contracts/), for the service-layer unit tests, which run in seconds.

A transaction stages its changes and applies them when its block ends without an
exception, so a refusal leaves nothing behind — as a rolled-back Postgres
transaction does.
"""

from __future__ import annotations

import asyncio
from collections import defaultdict
from collections.abc import AsyncIterator, Awaitable, Callable, Sequence
from contextlib import AbstractAsyncContextManager, asynccontextmanager
from dataclasses import dataclass, field
from typing import Generic, TypeVar

from aiokafka.structs import TopicPartition

from shared.domain.errors import IdempotencyKeyReused
from shared.ports import Answer, OutboxMessage, Transactions

T = TypeVar("T")


@dataclass
class _OutboxRow:
    id: int
    message: OutboxMessage
    published: bool = False


class MemoryOutbox:
    """`Outbox` in one transaction of a `MemoryOutboxStore`."""

    def __init__(self, store: MemoryOutboxStore) -> None:
        self._store = store
        self._new: list[OutboxMessage] = []
        self._published: set[int] = set()

    async def enqueue(self, messages: Sequence[OutboxMessage]) -> None:
        self._new.extend(messages)

    async def pending(self, limit: int) -> list[tuple[int, OutboxMessage]]:
        rows = [r for r in self._store.rows if not r.published and r.id not in self._published]
        return [(r.id, r.message) for r in rows[:limit]]

    async def mark_published(self, ids: Sequence[int]) -> None:
        self._published.update(ids)

    def _commit(self) -> None:
        for row in self._store.rows:
            row.published = row.published or row.id in self._published
        for message in self._new:
            self._store.rows.append(_OutboxRow(len(self._store.rows) + 1, message))


class MemoryOutboxStore:
    """`Transactions[Outbox]` in memory; one transaction at a time, like the relay's
    `FOR UPDATE` turns."""

    def __init__(self) -> None:
        self.rows: list[_OutboxRow] = []
        self._turn = asyncio.Lock()

    @asynccontextmanager
    async def begin(self) -> AsyncIterator[MemoryOutbox]:
        async with self._turn:
            tx = MemoryOutbox(self)
            yield tx
            tx._commit()


class MemoryOffsets:
    """`ConsumerOffsets` in one transaction of a `MemoryOffsetStore`."""

    def __init__(self, store: MemoryOffsetStore) -> None:
        self._store = store
        self._new: dict[tuple[str, TopicPartition], int] = {}

    async def stored(self, consumer: str) -> dict[TopicPartition, int]:
        merged = {**self._store.offsets, **self._new}
        return {tp: o for (c, tp), o in merged.items() if c == consumer}

    async def store(self, consumer: str, offsets: dict[TopicPartition, int]) -> None:
        self._new.update({(consumer, tp): o for tp, o in offsets.items()})


class MemoryOffsetStore:
    def __init__(self) -> None:
        self.offsets: dict[tuple[str, TopicPartition], int] = {}

    @asynccontextmanager
    async def begin(self) -> AsyncIterator[MemoryOffsets]:
        tx = MemoryOffsets(self)
        yield tx
        self.offsets.update(tx._new)


@dataclass
class _Stored:
    fingerprint: str
    answer: Answer


@dataclass
class MemoryIdempotency(Generic[T]):
    """`IdempotencyStore` in memory. `begin` opens the transaction the action runs in
    (a service's in-memory store); one lock per (caller, key) makes a concurrent
    retry wait for the first attempt, as the advisory lock does in Postgres."""

    begin: Callable[[], AbstractAsyncContextManager[T]]
    answers: dict[tuple[str, str], _Stored] = field(default_factory=dict)
    _locks: dict[tuple[str, str], asyncio.Lock] = field(
        default_factory=lambda: defaultdict(asyncio.Lock)
    )

    async def run_once(
        self,
        *,
        principal: str,
        key: str | None,
        fingerprint: str,
        action: Callable[[T], Awaitable[Answer]],
    ) -> Answer:
        async def in_transaction(transactions: Transactions[T]) -> Answer:
            async with transactions.begin() as tx:
                return await action(tx)

        return await self.run_once_across(
            principal=principal, key=key, fingerprint=fingerprint, action=in_transaction
        )

    async def run_once_across(
        self,
        *,
        principal: str,
        key: str | None,
        fingerprint: str,
        action: Callable[[Transactions[T]], Awaitable[Answer]],
    ) -> Answer:
        if key is None:
            return await action(self)
        async with self._locks[principal, key]:
            stored = self.answers.get((principal, key))
            if stored is not None:
                if stored.fingerprint != fingerprint:
                    raise IdempotencyKeyReused(key)
                return stored.answer
            answer = await action(self)
            self.answers[principal, key] = _Stored(fingerprint, answer)
            return answer
