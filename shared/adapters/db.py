"""PostgreSQL through SQLAlchemy 2 (async, asyncpg). Engines are built in a
service's lifespan, never at import.

Each service keeps its tables in a schema of its own (`ledger`, `initiator`, ...)
and declares them without a schema: the engine's `search_path` chooses it. A test
points a service at a fresh schema of its own the same way.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from typing import Generic, TypeVar

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine, create_async_engine

T = TypeVar("T")


def make_engine(url: str, *, schema: str | None = None, pool_size: int = 5) -> AsyncEngine:
    connect_args = {"server_settings": {"search_path": schema}} if schema else {}
    return create_async_engine(
        url,
        pool_size=pool_size,
        max_overflow=pool_size,
        pool_pre_ping=True,
        connect_args=connect_args,
    )


async def ping(engine: AsyncEngine) -> None:
    async with engine.connect() as conn:
        await conn.execute(text("SELECT 1"))


class PostgresTransactions(Generic[T]):
    """shared/ports.py's `Transactions`: each `begin()` is one `engine.begin()`, and
    the block gets `port` bound to its connection (a repository, an outbox, ...)."""

    def __init__(self, engine: AsyncEngine, port: Callable[[AsyncConnection], T]) -> None:
        self.engine, self.port = engine, port

    @asynccontextmanager
    async def begin(self) -> AsyncIterator[T]:
        async with self.engine.begin() as conn:
            yield self.port(conn)
