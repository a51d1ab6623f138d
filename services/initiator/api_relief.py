"""Relief for the subject: credit repair (信用修复), exit application and approval."""

from __future__ import annotations

from collections.abc import Sequence
from uuid import UUID

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse

from services.initiator.api_common import (
    act_on_designation,
    acting,
)
from services.initiator.schemas import (
    DesignationPublic,
    ExitCreate,
    RepairCreate,
)
from shared.domain.commands import (
    ApplyExit,
    ApproveExit,
    GrantRepair,
)
from shared.web.deps import CurrentPrincipal, IdempotencyKey

router = APIRouter(prefix="/v1", tags=["initiator"])


@router.post("/designations/{designation_id}/repair", response_model=DesignationPublic)
async def repair(
    designation_id: UUID,
    body: RepairCreate,
    request: Request,
    principal: CurrentPrincipal,
    idempotency_key: IdempotencyKey = None,
) -> JSONResponse:
    """Grant credit repair (信用修复): all measures lifted, or only the listed ones."""
    command = GrantRepair(
        **acting(principal),
        designation_id=designation_id,
        measures=_tuple(body.measures),
        note=body.note,
    )
    return await act_on_designation(
        request, principal, idempotency_key, body, designation_id, command
    )


def _tuple(values: Sequence[str] | None) -> tuple[str, ...] | None:
    return None if values is None else tuple(values)


@router.post("/designations/{designation_id}/exit", response_model=DesignationPublic)
async def apply_exit(
    designation_id: UUID,
    body: ExitCreate,
    request: Request,
    principal: CurrentPrincipal,
    idempotency_key: IdempotencyKey = None,
) -> JSONResponse:
    """Record an exit application, for regimes whose listing ends on application."""
    command = ApplyExit(
        **acting(principal),
        designation_id=designation_id,
        note=body.note,
    )
    return await act_on_designation(
        request, principal, idempotency_key, body, designation_id, command
    )


@router.post("/designations/{designation_id}/exit/approval", response_model=DesignationPublic)
async def approve_exit(
    designation_id: UUID,
    body: ExitCreate,
    request: Request,
    principal: CurrentPrincipal,
    idempotency_key: IdempotencyKey = None,
) -> JSONResponse:
    """Approve the exit applied for: the listing ends at its end date (or now, if past)."""
    command = ApproveExit(
        **acting(principal),
        designation_id=designation_id,
        note=body.note,
    )
    return await act_on_designation(
        request, principal, idempotency_key, body, designation_id, command
    )
