"""What the initiator's routes share: the command context, running a command under
the request's Idempotency-Key in one transaction, showing the result.

Routes stay thin: build the domain command from the body and the caller's token,
hand it to `handlers.execute` (lock, fold, decide, append, outbox, timers) and show
the result. Every refusal is a problem document and rolls the transaction back:
nothing is written, nothing published.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from datetime import datetime
from typing import Annotated, Any
from uuid import UUID

from fastapi import Header, Request
from fastapi.responses import JSONResponse
from pydantic import BaseModel
from sqlalchemy.ext.asyncio import AsyncConnection

from services.initiator import handlers, repository, tables
from services.initiator.views import designation_public, sees_in_full
from shared.adapters.idempotency import request_fingerprint, run_once
from shared.adapters.observability import correlation_id
from shared.domain.commands import (
    AnyCommand,
)
from shared.domain.fold_state import SubjectState
from shared.domain.rejections import RejectionCode
from shared.web.auth import Principal
from shared.web.problems import FieldError, ProblemError

IdempotencyKey = Annotated[str | None, Header(alias="Idempotency-Key", max_length=200)]
Respond = Callable[[SubjectState, datetime], tuple[int, Any]]
FindSubject = Callable[[AsyncConnection], Awaitable[str]]


def context(request: Request) -> handlers.Context:
    settings = request.app.state.settings
    return handlers.Context(
        request.app.state.catalogue,
        settings.topic_suffix,
        correlationid=correlation_id.get(),  # the request's: follow it across services
        remind_before_working_days=settings.objection_reminder_working_days,
    )


def not_found(code: RejectionCode, field: str, message: str) -> ProblemError:
    return ProblemError(404, code.value, message, [FieldError(field, code.value, message)])


async def run_command(
    request: Request,
    principal: Principal,
    idempotency_key: str | None,
    body: BaseModel | None,
    subject_id: str | FindSubject,
    command: AnyCommand,
    respond: Respond,
    guard: handlers.Guard | None = None,
) -> JSONResponse:
    ctx = context(request)

    async def action(conn: AsyncConnection) -> tuple[int, Any]:
        sid = subject_id if isinstance(subject_id, str) else await subject_id(conn)
        state = await handlers.execute(conn, sid, command, ctx, guard)
        return respond(state, command.at)

    status, payload = await run_once(
        request.app.state.engine,
        tables.idempotency,
        principal=principal.name,
        key=idempotency_key,
        fingerprint=request_fingerprint(
            request.method, request.url.path, body.model_dump(mode="json") if body else None
        ),
        action=action,
    )
    return JSONResponse(payload, status_code=status)


def show(designation_id: UUID, principal: Principal, status: int = 200) -> Respond:
    def respond(state: SubjectState, at: datetime) -> tuple[int, Any]:
        record = state.designation(designation_id)
        assert record is not None
        in_clear = sees_in_full(record, principal.department, principal.sees_identity_numbers)
        public = designation_public(record, at, sees_identity_numbers=in_clear)
        return status, public.model_dump(mode="json")

    return respond


def designation_subject(designation_id: UUID) -> FindSubject:
    async def find(conn: AsyncConnection) -> str:
        subject_id = await repository.subject_of_designation(conn, designation_id)
        if subject_id is None:
            raise not_found(
                RejectionCode.DESIGNATION_NOT_FOUND,
                "designation_id",
                f"no designation {designation_id}",
            )
        return subject_id

    return find


async def act_on_designation(
    request: Request,
    principal: Principal,
    idempotency_key: str | None,
    body: BaseModel,
    designation_id: UUID,
    command: AnyCommand,
    status: int = 200,
) -> JSONResponse:
    """The common route body: run `command` on the designation's subject and show
    the designation as it is afterwards."""
    return await run_command(
        request,
        principal,
        idempotency_key,
        body,
        designation_subject(designation_id),
        command,
        show(designation_id, principal, status),
    )
