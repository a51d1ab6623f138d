"""Corrections and objections: amend (更正), revoke (撤销), object (异议), resolve."""

from __future__ import annotations

from datetime import datetime
from typing import Any
from uuid import UUID

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse

from services.initiator.api_common import (
    act_on_designation,
    acting,
    designation_subject,
    not_found,
    run_command,
    show,
)
from services.initiator.designation_bodies import changes_of
from services.initiator.ports import SubjectStreams
from services.initiator.schemas import (
    AmendmentCreate,
    DesignationPublic,
    ObjectionCreate,
    ObjectionPublic,
    ResolutionCreate,
    RevocationCreate,
)
from shared.domain.commands import (
    AmendDesignation,
    FileObjection,
    ResolveObjection,
    RevokeDesignation,
)
from shared.domain.errors import CommandRefused
from shared.domain.event_base import RaisedBy
from shared.domain.fold_state import SubjectState
from shared.domain.rejections import RejectionCode
from shared.web.deps import CurrentPrincipal, IdempotencyKey

router = APIRouter(prefix="/v1", tags=["initiator"])


@router.post(
    "/designations/{designation_id}/amendments", status_code=201, response_model=DesignationPublic
)
async def amend(
    designation_id: UUID,
    body: AmendmentCreate,
    request: Request,
    principal: CurrentPrincipal,
    idempotency_key: IdempotencyKey = None,
) -> JSONResponse:
    """Correct a designation (更正); the old and new values are both kept."""
    changes = changes_of(body.changes)
    assert changes is not None
    command = AmendDesignation(
        **acting(principal),
        designation_id=designation_id,
        changes=changes,
        reason=body.reason,
    )
    return await act_on_designation(
        request, principal, idempotency_key, body, designation_id, command, 201
    )


@router.post("/designations/{designation_id}/revocation", response_model=DesignationPublic)
async def revoke(
    designation_id: UUID,
    body: RevocationCreate,
    request: Request,
    principal: CurrentPrincipal,
    idempotency_key: IdempotencyKey = None,
) -> JSONResponse:
    """Revoke a designation that was wrong (撤销), restoring the subject's reputation."""
    command = RevokeDesignation(
        **acting(principal),
        designation_id=designation_id,
        reason=body.reason,
        restore_reputation=body.restore_reputation,
    )
    return await act_on_designation(
        request, principal, idempotency_key, body, designation_id, command
    )


@router.post(
    "/designations/{designation_id}/objections", status_code=201, response_model=ObjectionPublic
)
async def file_objection(
    designation_id: UUID,
    body: ObjectionCreate,
    request: Request,
    principal: CurrentPrincipal,
    idempotency_key: IdempotencyKey = None,
) -> JSONResponse:
    """Record an objection (异议) by the subject or by an implementing department."""
    by = acting(principal)
    if body.raised_by is RaisedBy.DEPARTMENT and body.department not in (None, by["department"]):
        message = "a department raises objections with its own token"
        raise CommandRefused.because(RejectionCode.DEPARTMENT_NOT_ALLOWED, "department", message)
    command = FileObjection(
        **by,
        designation_id=designation_id,
        raised_by=body.raised_by,
        grounds=body.grounds,
    )

    def respond(state: SubjectState, at: datetime) -> tuple[int, Any]:
        found = state.objection(command.objection_id)
        assert found is not None
        _, o = found
        return 201, ObjectionPublic(
            objection_id=o.objection_id,
            designation_id=designation_id,
            review_deadline=o.review_deadline,
            suspends_measures=o.suspends_measures,
            pauses_clock=o.pauses_clock,
        ).model_dump(mode="json")

    return await run_command(
        request,
        principal,
        idempotency_key,
        body,
        designation_subject(designation_id),
        command,
        respond,
    )


@router.post("/objections/{objection_id}/resolution", response_model=DesignationPublic)
async def resolve_objection(
    objection_id: UUID,
    body: ResolutionCreate,
    request: Request,
    principal: CurrentPrincipal,
    idempotency_key: IdempotencyKey = None,
) -> JSONResponse:
    """Answer an objection: rejected restores, upheld revokes, partially upheld amends."""
    command = ResolveObjection(
        **acting(principal),
        objection_id=objection_id,
        outcome=body.outcome,
        note=body.note,
        amendment=changes_of(body.amendment),
    )
    target: dict[str, UUID] = {}

    async def find(tx: SubjectStreams) -> str:
        found = await tx.objection_target(objection_id)
        if found is None:
            raise not_found(
                RejectionCode.OBJECTION_NOT_FOUND, "objection_id", f"no objection {objection_id}"
            )
        target["designation_id"] = found[0]
        return found[1]

    def respond(state: SubjectState, at: datetime) -> tuple[int, Any]:
        return show(target["designation_id"], principal)(state, at)

    return await run_command(request, principal, idempotency_key, body, find, command, respond)
