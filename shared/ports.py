"""The ports every service shares, as Protocols: transactions, the outbox, consumer
offsets, Idempotency-Key answers.

Each has a Postgres adapter in shared/adapters (outbox.py, consumer.py,
idempotency.py) and an in-memory one in shared/adapters/memory.py; one contract
suite per port (tests/contracts/) runs against both. A service's own ports (its
event streams, the ledger's event store, the ledger client) are in its ports.py.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Sequence
from contextlib import AbstractAsyncContextManager
from dataclasses import dataclass, field
from typing import Any, Protocol, TypeVar

from aiokafka.structs import TopicPartition

T_co = TypeVar("T_co", covariant=True)

Answer = tuple[int, Any]
"""What a request was answered: a status and a JSON body."""


class Transactions(Protocol[T_co]):
    """Opens a transaction and hands the block the port bound to it: it commits when
    the block ends and rolls back when the block raises."""

    def begin(self) -> AbstractAsyncContextManager[T_co]: ...


@dataclass(frozen=True)
class OutboxMessage:
    topic: str
    key: str
    value: bytes
    headers: dict[str, str] = field(default_factory=dict)


class Outbox(Protocol):
    """The outbox inside one transaction: what is enqueued is published only if the
    transaction commits (shared/adapters/outbox.py says why)."""

    async def enqueue(self, messages: Sequence[OutboxMessage]) -> None: ...

    async def pending(self, limit: int) -> list[tuple[int, OutboxMessage]]:
        """Unpublished messages in the order they were enqueued, with their ids."""

    async def mark_published(self, ids: Sequence[int]) -> None: ...


class ConsumerOffsets(Protocol):
    """A consumer's next offsets, stored in the transaction that applied the records
    before them (shared/adapters/consumer.py says why)."""

    async def stored(self, consumer: str) -> dict[TopicPartition, int]: ...

    async def store(self, consumer: str, offsets: dict[TopicPartition, int]) -> None: ...


class IdempotencyStore(Protocol[T_co]):
    """`Idempotency-Key`: a retry gets the first answer and changes nothing
    (shared/adapters/idempotency.py says how). `T_co`: what the action gets to make
    its change in the answer's transaction."""

    async def run_once(
        self,
        *,
        principal: str,
        key: str | None,
        fingerprint: str,
        action: Callable[[T_co], Awaitable[Answer]],
    ) -> Answer:
        """Run `action` in one transaction, or return the answer stored under `key`;
        IdempotencyKeyReused when `key` answered a different request."""

    async def run_once_across(
        self,
        *,
        principal: str,
        key: str | None,
        fingerprint: str,
        action: Callable[[Transactions[T_co]], Awaitable[Answer]],
    ) -> Answer:
        """The same for work that spans several transactions (a batch): the key is
        held for the whole call, the action opens its transactions from the
        `Transactions` it is given, the answer is stored once the work is done."""
