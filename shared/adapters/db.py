"""PostgreSQL through SQLAlchemy 2 (async, asyncpg). Engines are built in a
service's lifespan, never at import.

Each service keeps its tables in a schema of its own (`ledger`, `initiator`, ...)
and declares them without a schema: the engine's `search_path` chooses it. A test
points a service at a fresh schema of its own the same way.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from typing import Any, Generic, TypeVar

import asyncpg
from sqlalchemy import text
from sqlalchemy.exc import DBAPIError
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine, create_async_engine

T = TypeVar("T")


def session_settings(schema: str) -> dict[str, str]:
    """A service's connection settings: its schema first on the `search_path`, and the
    schema as the connection's `application_name`, so `pg_stat_activity` tells which
    service (and which test's schema) each backend serves (bench/machine_cpu.py counts
    a pipeline run's backends by it)."""
    return {"search_path": schema, "application_name": schema[:63]}


def make_engine(url: str, *, schema: str | None = None, pool_size: int = 5) -> AsyncEngine:
    connect_args = {"server_settings": session_settings(schema)} if schema else {}
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


_BEGIN = text("SELECT 1")


async def driver_of(conn: AsyncConnection) -> asyncpg.Connection[Any]:
    """The asyncpg connection under `conn`, inside `conn`'s transaction: for what
    SQLAlchemy cannot send, or sends at a cost that matters (a binary COPY, constant
    statements prepared once per connection: services/responder/pass_sql.py says why).

    Why it may begin the transaction: SQLAlchemy begins the driver's transaction
    lazily, at its first statement; a statement sent to the driver before that would
    run outside the transaction (a `FOR UPDATE` would lock nothing, a write would
    commit on its own). So if the transaction has not begun, `driver_of` begins it the
    way SQLAlchemy's asyncpg adapter does at a first statement (its private
    `_start_transaction`, which the adapter's commit and rollback then end), one
    `BEGIN`. Should a SQLAlchemy release rename it, a trivial statement through
    SQLAlchemy is the fallback (one more round trip)."""
    raw = await conn.get_raw_connection()
    driver: asyncpg.Connection[Any] = raw.driver_connection
    if not driver.is_in_transaction():
        adapted = raw.dbapi_connection
        start = getattr(adapted, "_start_transaction", None)
        if start is not None and getattr(adapted, "_transaction", False) is None:
            await start()
        else:
            await conn.execute(_BEGIN)
    return driver


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
