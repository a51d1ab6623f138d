"""`Idempotency-Key` for mutating HTTP calls: a retry returns the first answer
and changes nothing.

The key is scoped to the caller. The first answer is stored in the transaction
that made the change (and wrote the outbox), so "answered" and "changed" cannot
come apart; a transaction-scoped advisory lock on the key makes a concurrent
retry wait for the first attempt instead of racing it. Refusals are not stored:
nothing changed, so a retry is simply decided again.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Awaitable, Callable
from typing import Any

from sqlalchemy import Column, DateTime, Integer, MetaData, Table, Text, func, select, text
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from shared.web.problems import FieldError, ProblemError

Answer = tuple[int, Any]


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
        row = (
            await conn.execute(
                select(table.c.request_hash, table.c.status_code, table.c.response).where(
                    table.c.principal == principal, table.c.key == key
                )
            )
        ).first()
        if row is not None:
            if row.request_hash != fingerprint:
                raise ProblemError(
                    status=422,
                    code="idempotency_key_reused",
                    detail="this Idempotency-Key was used for a different request",
                    errors=[
                        FieldError(
                            "Idempotency-Key",
                            "idempotency_key_reused",
                            "send a new key for a new request",
                        )
                    ],
                )
            return row.status_code, row.response
        status, body = await action(conn)
        await conn.execute(
            table.insert().values(
                principal=principal,
                key=key,
                request_hash=fingerprint,
                status_code=status,
                response=body,
            )
        )
        return status, body
