"""`POST /v1/designations/batch`: bulk designations with per-item results.

The Idempotency-Key spans the whole batch, which runs in several transactions
(services/initiator/batch.py): a session-level advisory lock on the key, held on
one connection for the whole call, makes a concurrent retry wait for the first
attempt (the same lock key as `run_once`, so single calls with the key wait too).
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse
from sqlalchemy import select, text
from sqlalchemy.ext.asyncio import AsyncConnection

from services.initiator import batch, tables
from services.initiator.api_common import IdempotencyKey, context
from services.initiator.schemas import BatchCreate, BatchResult
from services.initiator.subjects import department_of
from shared.adapters.idempotency import lock_key, request_fingerprint
from shared.web.deps import CurrentPrincipal
from shared.web.problems import FieldError, ProblemError

router = APIRouter(prefix="/v1", tags=["initiator"])


@router.post("/designations/batch", response_model=BatchResult)
async def create_batch(
    body: BatchCreate,
    request: Request,
    principal: CurrentPrincipal,
    idempotency_key: IdempotencyKey = None,
) -> JSONResponse:
    """Designate many subjects at once (court lists): one result per item, in order."""
    department = department_of(principal)
    app = request.app
    fingerprint = request_fingerprint(request.method, request.url.path, body.model_dump())
    async with app.state.engine.connect() as conn:
        if idempotency_key is not None:
            await conn.execute(
                text("SELECT pg_advisory_lock(:k)"),
                {"k": lock_key(principal.name, idempotency_key)},
            )
            await conn.commit()
        try:
            stored = await _stored(conn, principal.name, idempotency_key, fingerprint)
            if stored is not None:
                return JSONResponse(stored[1], status_code=stored[0])
            items = batch.parse(
                body.designations,
                department,
                datetime.now(UTC),
                app.state.catalogue,
                principal=principal.name,
                key=idempotency_key,
            )
            verdicts = await batch.cross_check(
                items, app.state.ledger, app.state.settings.ledger_concurrency
            )
            ctx = context(request)
            size = app.state.settings.batch_chunk_size
            results: list[dict[str, Any]] = []
            for start in range(0, len(items), size):
                async with conn.begin():
                    results += await batch.decide_chunk(
                        conn,
                        items[start : start + size],
                        ctx,
                        verdicts,
                        sees_identity_numbers=principal.sees_identity_numbers,
                    )
            answer = batch.summary(results)
            if idempotency_key is not None:
                async with conn.begin():
                    await conn.execute(
                        tables.idempotency.insert().values(
                            principal=principal.name,
                            key=idempotency_key,
                            request_hash=fingerprint,
                            status_code=200,
                            response=answer,
                        )
                    )
            return JSONResponse(answer)
        finally:
            if idempotency_key is not None:
                await conn.execute(
                    text("SELECT pg_advisory_unlock(:k)"),
                    {"k": lock_key(principal.name, idempotency_key)},
                )
                await conn.commit()


async def _stored(
    conn: AsyncConnection, principal: str, key: str | None, fingerprint: str
) -> tuple[int, Any] | None:
    if key is None:
        return None
    t = tables.idempotency
    row = (
        await conn.execute(
            select(t.c.request_hash, t.c.status_code, t.c.response).where(
                t.c.principal == principal, t.c.key == key
            )
        )
    ).first()
    await conn.commit()
    if row is None:
        return None
    if row.request_hash != fingerprint:
        raise ProblemError(
            422,
            "idempotency_key_reused",
            "this Idempotency-Key was used for a different request",
            [FieldError("Idempotency-Key", "idempotency_key_reused", "send a new key")],
        )
    return row.status_code, row.response
