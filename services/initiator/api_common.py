"""What the initiator's routes share: who acts and when, the command context,
running a command under the request's Idempotency-Key in one transaction, showing
the result.

Routes stay thin: build the domain command from the body and the caller's token,
hand it to `handlers.execute` (lock, fold, decide, append, outbox, timers) and show
the result. Every refusal raises a domain exception (shared/domain/errors.py),
which rolls the transaction back — nothing is written, nothing published — and
which the app's one handler (shared/web/problems.py) answers as a problem document.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from datetime import UTC, datetime
from typing import Any, TypedDict
from uuid import UUID

from fastapi import Request
from fastapi.responses import JSONResponse
from pydantic import BaseModel

from services.initiator import handlers
from services.initiator.ports import SubjectStreams
from services.initiator.views import designation_public, sees_in_full
from shared.adapters.idempotency import request_fingerprint
from shared.adapters.observability import correlation_id
from shared.domain.commands import AnyCommand
from shared.domain.errors import CommandRefused
from shared.domain.fold_state import SubjectState
from shared.domain.rejections import RejectionCode
from shared.ports import IdempotencyStore
from shared.web.auth import Principal

Respond = Callable[[SubjectState, datetime], tuple[int, Any]]
FindSubject = Callable[[SubjectStreams], Awaitable[str]]


class Acting(TypedDict):
    """The fields every command starts with: who acts, and when."""

    department: str
    at: datetime


def department_of(principal: Principal) -> str:
    """The acting department; the auditor and ops desks designate nothing (403)."""
    if principal.department is None or "initiator" not in principal.roles:
        message = f"{principal.name} is not an initiating department"
        raise CommandRefused.because(RejectionCode.DEPARTMENT_NOT_ALLOWED, "Authorization", message)
    return principal.department


def acting(principal: Principal) -> Acting:
    """`department=…, at=…` of a command sent now by `principal`'s department."""
    return {"department": department_of(principal), "at": datetime.now(UTC)}


def context(request: Request) -> handlers.CommandContext:
    settings = request.app.state.settings
    return handlers.CommandContext(
        request.app.state.catalogue,
        settings.topic_suffix,
        correlationid=correlation_id.get(),  # the request's: follow it across services
        remind_before_working_days=settings.objection_reminder_working_days,
    )


def not_found(code: RejectionCode, field: str, message: str) -> CommandRefused:
    return CommandRefused.because(code, field, message)


def fingerprint(request: Request, body: BaseModel | None) -> str:
    """What a retry under the same Idempotency-Key must repeat."""
    return request_fingerprint(
        request.method, request.url.path, body.model_dump(mode="json") if body else None
    )


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

    async def action(tx: SubjectStreams) -> tuple[int, Any]:
        sid = subject_id if isinstance(subject_id, str) else await subject_id(tx)
        state = await handlers.execute(tx, sid, command, ctx, guard)
        return respond(state, command.at)

    idempotency: IdempotencyStore[SubjectStreams] = request.app.state.idempotency
    status, payload = await idempotency.run_once(
        principal=principal.name,
        key=idempotency_key,
        fingerprint=fingerprint(request, body),
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
    async def find(tx: SubjectStreams) -> str:
        subject_id = await tx.subject_of_designation(designation_id)
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
