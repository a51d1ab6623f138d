"""`POST /v1/designations/batch`: bulk designations with per-item results.

The Idempotency-Key spans the whole batch, which runs in several transactions
(services/initiator/batch.py): the shared idempotency mechanism holds the key for
the whole call (`run_once_across`, shared/adapters/idempotency.py) and hands the
batch the transactions to run its chunks in, so a concurrent retry waits for the
first attempt, and single calls with the key wait too.
"""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse

from services.initiator import batch, batch_view
from services.initiator.api_common import acting, context, fingerprint
from services.initiator.ports import StreamStore, SubjectStreams
from services.initiator.schemas import BatchCreate, BatchResult
from shared.ports import Answer, IdempotencyStore
from shared.web.deps import CurrentPrincipal, IdempotencyKey

router = APIRouter(prefix="/v1", tags=["initiator"])


@router.post("/designations/batch", response_model=BatchResult)
async def create_batch(
    body: BatchCreate,
    request: Request,
    principal: CurrentPrincipal,
    idempotency_key: IdempotencyKey = None,
) -> JSONResponse:
    """Designate many subjects at once (court lists): one result per item, in order."""
    by = acting(principal)
    state = request.app.state

    async def designate(store: StreamStore) -> Answer:
        items = batch.parse(
            body.designations,
            by["department"],
            by["at"],
            state.catalogue,
            principal=principal.name,
            key=idempotency_key,
        )
        verdicts = await batch.cross_check(items, state.ledger, state.settings.ledger_concurrency)
        ctx = context(request)
        size = state.settings.batch_chunk_size
        results: list[batch.Outcome] = []
        for start in range(0, len(items), size):
            async with store.begin() as tx:
                results += await batch.decide_chunk(
                    tx,
                    items[start : start + size],
                    ctx,
                    verdicts,
                    sees_identity_numbers=principal.sees_identity_numbers,
                )
        return 200, batch_view.summary(results)

    idempotency: IdempotencyStore[SubjectStreams] = state.idempotency
    status, answer = await idempotency.run_once_across(
        principal=principal.name,
        key=idempotency_key,
        fingerprint=fingerprint(request, body),
        action=designate,
    )
    return JSONResponse(answer, status_code=status)
