"""`Idempotency-Key` for mutating HTTP calls: a retry returns the first answer
and changes nothing.

The key is scoped to the caller. The first answer is stored in the transaction
that made the change (and wrote the outbox), so "answered" and "changed" cannot
come apart; a transaction-scoped advisory lock on the key makes a concurrent
retry wait for the first attempt instead of racing it. Refusals are not stored:
nothing changed, so a retry is simply decided again.

Work that spans several transactions (a batch, in chunks) holds a session-level
advisory lock on the same key for the whole call instead, runs its transactions one
after the other on the connection that holds the lock (one connection per call, as
for a single command: a burst of batches cannot take the whole pool), and stores the
answer in a transaction of its own once the work is done (`run_once_across`).

`PostgresIdempotency` is the adapter of shared/ports.py's `IdempotencyStore`;
shared/adapters/memory.py has the in-memory one.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from typing import Any, Generic, TypeVar

from sqlalchemy import Column, DateTime, Integer, MetaData, Table, Text, func, select, text
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from shared.domain.errors import IdempotencyKeyReused
from shared.ports import Answer, Transactions

T = TypeVar("T")


def idempotency_table(metadata: MetaData) -> Table:
    return Table(
        "idempotency_keys",
        metadata,
        Column("principal", Text, primary_key=True),
        Column("key", Text, primary_key=True),
        Column("request_hash", Text, nullable=False),
        Column("status_code", Integer, nullable=False),
        Column("response", JSONB, nullable=False),
        Column("created_at", DateTime(timezone=True), nullable=False, server_default=func.now()),
    )


def lock_key(principal: str, key: str) -> int:
    """A signed 64-bit advisory-lock key for (caller, Idempotency-Key)."""
    digest = hashlib.sha256(json.dumps([principal, key]).encode()).digest()
    return int.from_bytes(digest[:8], "big", signed=True)


def request_fingerprint(method: str, path: str, body: Any) -> str:
    raw = json.dumps([method, path, body], sort_keys=True, default=str).encode()
    return hashlib.sha256(raw).hexdigest()


async def run_once(
    engine: AsyncEngine,
    table: Table,
    *,
    principal: str,
    key: str | None,
    fingerprint: str,
    action: Callable[[AsyncConnection], Awaitable[Answer]],
) -> Answer:
    """Run `action` in one transaction, or return the answer stored under `key`."""
    async with engine.begin() as conn:
        if key is None:
            return await action(conn)
        await conn.execute(
            text("SELECT pg_advisory_xact_lock(:k)"), {"k": lock_key(principal, key)}
        )
        stored = await _stored(conn, table, principal, key, fingerprint)
        if stored is not None:
            return stored
        answer = await action(conn)
        await _remember(conn, table, principal, key, fingerprint, answer)
        return answer


async def run_once_across(
    engine: AsyncEngine,
    table: Table,
    *,
    principal: str,
    key: str | None,
    fingerprint: str,
    action: Callable[[AsyncConnection], Awaitable[Answer]],
) -> Answer:
    """Run `action` (which begins and ends transactions on the connection it is
    given), or return the answer stored under `key`. The session-level lock has the
    same key as `run_once`'s, so single calls with the key wait for a batch too."""
    async with engine.connect() as holder:
        if key is None:
            return await action(holder)
        lock = {"k": lock_key(principal, key)}
        await holder.execute(text("SELECT pg_advisory_lock(:k)"), lock)
        await holder.commit()
        try:
            async with holder.begin():
                stored = await _stored(holder, table, principal, key, fingerprint)
            if stored is not None:
                return stored
            answer = await action(holder)
            async with holder.begin():
                await _remember(holder, table, principal, key, fingerprint, answer)
            return answer
        finally:
            await holder.execute(text("SELECT pg_advisory_unlock(:k)"), lock)
            await holder.commit()


async def _stored(
    conn: AsyncConnection, table: Table, principal: str, key: str, fingerprint: str
) -> Answer | None:
    row = (
        await conn.execute(
            select(table.c.request_hash, table.c.status_code, table.c.response).where(
                table.c.principal == principal, table.c.key == key
            )
        )
    ).first()
    if row is None:
        return None
    if row.request_hash != fingerprint:
        raise IdempotencyKeyReused(key)
    return row.status_code, row.response


async def _remember(
    conn: AsyncConnection, table: Table, principal: str, key: str, fingerprint: str, answer: Answer
) -> None:
    status, body = answer
    await conn.execute(
        table.insert().values(
            principal=principal,
            key=key,
            request_hash=fingerprint,
            status_code=status,
            response=body,
        )
    )


class PostgresIdempotency(Generic[T]):
    """`IdempotencyStore` on Postgres; `port` turns the answer's transaction into
    what the action works with (a service's repository on that connection)."""

    def __init__(
        self, engine: AsyncEngine, table: Table, port: Callable[[AsyncConnection], T]
    ) -> None:
        self.engine, self.table, self.port = engine, table, port

    async def run_once(
        self,
        *,
        principal: str,
        key: str | None,
        fingerprint: str,
        action: Callable[[T], Awaitable[Answer]],
    ) -> Answer:
        async def on_connection(conn: AsyncConnection) -> Answer:
            return await action(self.port(conn))

        return await run_once(
            self.engine,
            self.table,
            principal=principal,
            key=key,
            fingerprint=fingerprint,
            action=on_connection,
        )

    async def run_once_across(
        self,
        *,
        principal: str,
        key: str | None,
        fingerprint: str,
        action: Callable[[Transactions[T]], Awaitable[Answer]],
    ) -> Answer:
        async def on_connection(conn: AsyncConnection) -> Answer:
            return await action(_OnConnection(conn, self.port))

        return await run_once_across(
            self.engine,
            self.table,
            principal=principal,
            key=key,
            fingerprint=fingerprint,
            action=on_connection,
        )


class _OnConnection(Generic[T]):
    """`Transactions` one after the other on one connection."""

    def __init__(self, conn: AsyncConnection, port: Callable[[AsyncConnection], T]) -> None:
        self.conn, self.port = conn, port

    @asynccontextmanager
    async def begin(self) -> AsyncIterator[T]:
        async with self.conn.begin():
            yield self.port(self.conn)
