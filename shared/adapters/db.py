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

import asyncpg
from sqlalchemy import text
from sqlalchemy.exc import DBAPIError
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


_UNREACHABLE: tuple[type[BaseException], ...] = (
    OSError,  # refused, reset, unreachable (ConnectionError is one)
    TimeoutError,
    asyncpg.exceptions.PostgresConnectionError,  # the connection was lost
    asyncpg.exceptions.OperatorInterventionError,  # shutting down, starting up (57xxx)
    asyncpg.exceptions.InterfaceError,  # "connection is closed"
)


def database_unreachable(exc: BaseException) -> bool:
    """Whether `exc` (or what caused it) says the database cannot be reached, rather
    than that a statement failed: the request may succeed once it is back."""
    seen: set[int] = set()
    found: BaseException | None = exc
    while found is not None and id(found) not in seen:
        seen.add(id(found))
        if isinstance(found, _UNREACHABLE):
            return True
        if isinstance(found, DBAPIError) and found.connection_invalidated:
            return True
        found = found.__cause__ or found.__context__
    return False
