"""The initiator's HTTP API (issue 5): designate, show, the catalogue. Corrections
and objections are in api_corrections.py, repair and exit in api_relief.py, the batch
in api_batch.py; what they share in api_common.py."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any
from uuid import UUID

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse

from services.initiator.api_common import acting, not_found, run_command, show
from services.initiator.cross_check import incentive_guard
from services.initiator.designation_bodies import issue_command
from services.initiator.ports import StreamStore
from services.initiator.schemas import (
    DesignationCreate,
    DesignationPublic,
)
from services.initiator.subjects import subject_key
from services.initiator.views import designation_public, sees_in_full
from shared.domain.catalogue.index import CatalogueIndex
from shared.domain.errors import CommandRefused
from shared.domain.rejections import RejectionCode
from shared.web.deps import CurrentPrincipal, IdempotencyKey

router = APIRouter(prefix="/v1", tags=["initiator"])


@router.post("/designations", status_code=201, response_model=DesignationPublic)
async def create_designation(
    body: DesignationCreate,
    request: Request,
    principal: CurrentPrincipal,
    idempotency_key: IdempotencyKey = None,
) -> JSONResponse:
    """Designate a subject onto a list; related persons get linked designations."""
    command = issue_command(body, **acting(principal))
    subject_id = subject_key([body.subject.id, *body.subject.other_ids])
    state = request.app.state
    guard = incentive_guard(state.catalogue, state.ledger, body.list_type, subject_id)
    return await run_command(
        request,
        principal,
        idempotency_key,
        body,
        subject_id,
        command,
        show(command.designation_id, principal, 201),
        guard,
    )


@router.get("/designations/{designation_id}", response_model=DesignationPublic)
async def get_designation(
    designation_id: UUID, principal: CurrentPrincipal, request: Request
) -> DesignationPublic:
    """One designation, for its initiating department (and the auditor and ops desks)."""
    store: StreamStore = request.app.state.streams
    async with store.begin() as tx:
        subject_id = await tx.subject_of_designation(designation_id)
        streams = await tx.load([subject_id] if subject_id else [])
    record = streams[subject_id].state.designation(designation_id) if subject_id else None
    if record is None:
        raise not_found(
            RejectionCode.DESIGNATION_NOT_FOUND,
            "designation_id",
            f"no designation {designation_id}",
        )
    if principal.department not in (None, record.data.designated_by):
        message = f"designation {designation_id} belongs to {record.data.designated_by}"
        raise CommandRefused.because(RejectionCode.NOT_OWN_DESIGNATION, "department", message)
    in_clear = sees_in_full(record, principal.department, principal.sees_identity_numbers)
    return designation_public(record, datetime.now(UTC), sees_identity_numbers=in_clear)


@router.get("/catalogue")
async def catalogue(request: Request, principal: CurrentPrincipal) -> dict[str, Any]:
    """Measures, list types (regimes), departments and the catalogue version."""
    index: CatalogueIndex = request.app.state.catalogue
    return index.to_public_dict()
