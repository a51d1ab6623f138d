"""The responder's HTTP API: checks, the inbox, restrictions (per department, from
the caller's token). Everything is read from the local Postgres store, so it keeps
answering while Kafka or the ledger is down; `X-Data-Fresh-As-Of` says how fresh."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated, Any, Literal
from uuid import UUID

import orjson
from fastapi import APIRouter, Query, Request, Response
from fastapi.responses import JSONResponse
from sqlalchemy.ext.asyncio import AsyncConnection

from services.responder import checks, inbox, views
from services.responder.freshness import HEADER, Freshness
from services.responder.hosting import Hosting
from services.responder.index_store import IndexReadiness
from services.responder.metrics import ResponderMetrics
from services.responder.ports import ResponderStore, ResponderUnit
from services.responder.schemas import (
    CheckCreate,
    CheckPublic,
    FeedbackCreate,
    RestrictionsPublic,
    TaskList,
    TaskPublic,
)
from services.responder.settings import ResponderSettings
from services.responder.tables import idempotency
from shared.adapters.idempotency import request_fingerprint, run_once
from shared.domain.errors import Forbidden, InvalidRequest
from shared.ports import IdempotencyStore
from shared.web.auth import Principal
from shared.web.deps import CurrentPrincipal, EngineDep, IdempotencyKey

router = APIRouter(prefix="/v1", tags=["responder"])

TaskStateQuery = Literal["pending", "executed", "not_applicable", "failed", "suspended", "lifted"]


def _hosted(request: Request, department: str | None) -> str:
    hosting: Hosting = request.app.state.hosting
    if department is None or department not in hosting.departments:
        raise Forbidden(
            "department_not_hosted",
            "Authorization",
            f"{department} is not a department of this responder",
        )
    return department


def _own_department(request: Request, principal: Principal) -> str:
    if principal.department is None or "responder" not in principal.roles:
        raise Forbidden(
            "department_required", "Authorization", "only a department's token may act here"
        )
    return _hosted(request, principal.department)


def _fresh_headers(request: Request) -> dict[str, str]:
    freshness: Freshness = request.app.state.freshness
    at = freshness.caught_up_at
    return {} if at is None else {HEADER: at.isoformat()}


def _store(request: Request) -> ResponderStore:
    store: ResponderStore = request.app.state.responder_store
    return store


def _metrics(request: Request) -> ResponderMetrics:
    metrics: ResponderMetrics = request.app.state.responder_metrics
    return metrics


@router.post("/checks", response_model=CheckPublic)
async def check(
    body: CheckCreate,
    request: Request,
    principal: CurrentPrincipal,
    idempotency_key: IdempotencyKey = None,
) -> Response:
    """May this subject receive / do this here? A block is recorded and reported."""
    department = _own_department(request, principal)
    state = request.app.state
    settings: ResponderSettings = state.settings
    freshness: Freshness = state.freshness
    index: IndexReadiness = state.index
    asked = checks.asked(
        body,
        department,
        state.catalogue,
        as_of=datetime.now(UTC),
        fresh_as_of=freshness.caught_up_at,
        suffix=settings.topic_suffix,
    )
    freshness.required()  # after the body's 422s: 503 until the first catch-up ever
    if idempotency_key is None and index.ready:
        found = (
            checks.found_live(index.live, asked)
            if index.live.loaded
            else await checks.found_in_table(state.check_pool, asked)
        )
        status, payload = 200, await checks.journaled(state.check_journal, found, asked)
    else:

        async def action(conn: AsyncConnection) -> tuple[int, Any]:
            answer = await checks.answer_asked(conn, asked, indexed=index.ready)
            return 200, answer.model_dump(mode="json")

        status, payload = await run_once(
            state.engine,
            idempotency,
            principal=principal.name,
            key=idempotency_key,
            fingerprint=request_fingerprint("POST", request.url.path, body.model_dump(mode="json")),
            action=action,
        )
    _metrics(request).checks.labels(payload["decision"]).inc()
    # orjson on a dict built by the check itself (FastAPI 0.165 deprecates ORJSONResponse:
    # it serializes response models with pydantic-core, but this route returns a Response).
    return Response(
        orjson.dumps(payload),
        status_code=status,
        headers=_fresh_headers(request),
        media_type="application/json",
    )


@router.get("/tasks", response_model=TaskList)
async def tasks(
    request: Request,
    response: Response,
    principal: CurrentPrincipal,
    state: TaskStateQuery | None = None,
    designation_id: UUID | None = None,
    limit: Annotated[int, Query(ge=1, le=1000)] = 200,
) -> TaskList:
    """The department's tasks, oldest first (`state=pending`: the inbox)."""
    department = _own_department(request, principal)
    async with _store(request).begin() as unit:
        rows = await inbox.list_tasks(unit, department, state, designation_id, limit)
    response.headers.update(_fresh_headers(request))
    return TaskList(tasks=[views.task_public(r, principal) for r in rows])


@router.get("/tasks/{task_id}", response_model=TaskPublic)
async def task(task_id: UUID, request: Request, principal: CurrentPrincipal) -> TaskPublic:
    """One task of the department."""
    department = _own_department(request, principal)
    async with _store(request).begin() as unit:
        row = await inbox.task_of(unit, department, task_id, lock=False)
    return views.task_public(row, principal)


@router.post("/tasks/{task_id}/feedback", response_model=TaskPublic)
async def feedback(
    task_id: UUID,
    body: FeedbackCreate,
    request: Request,
    principal: CurrentPrincipal,
    idempotency_key: IdempotencyKey = None,
) -> JSONResponse:
    """An officer reports the outcome of a pending (manual) task; reported at once."""
    department = _own_department(request, principal)
    settings: ResponderSettings = request.app.state.settings

    async def action(unit: ResponderUnit) -> tuple[int, Any]:
        row = await inbox.answer(unit, department, task_id, body, settings.topic_suffix)
        return 200, views.task_public(row, principal).model_dump(mode="json")

    answers: IdempotencyStore[ResponderUnit] = request.app.state.task_answers
    status, payload = await answers.run_once(
        principal=principal.name,
        key=idempotency_key,
        fingerprint=request_fingerprint("POST", request.url.path, body.model_dump(mode="json")),
        action=action,
    )
    if status == 200:
        _metrics(request).feedback.labels(payload["state"]).inc()
    return JSONResponse(payload, status_code=status)


@router.get("/restrictions/{subject_id}", response_model=RestrictionsPublic)
async def restrictions(
    subject_id: str,
    request: Request,
    response: Response,
    principal: CurrentPrincipal,
    engine: EngineDep,
    department: Annotated[str | None, Query(description="auditor and ops only")] = None,
) -> RestrictionsPublic:
    """What this department enforces on the subject now, and why (any identifier)."""
    if principal.department is not None:
        if department not in (None, principal.department):
            raise Forbidden(
                "department_not_allowed",
                "department",
                "a department sees its own restrictions",
                reason="omit it",
            )
        department = _own_department(request, principal)
    elif department is None:
        raise InvalidRequest(
            "department_required",
            "department",
            "name the department whose restrictions to show",
            reason="required for auditor and ops",
            reason_code="missing",
        )
    else:
        department = _hosted(request, department)
    identifier = checks.identifier_of(subject_id)
    request.app.state.freshness.required()  # 503 until the first catch-up ever
    as_of = datetime.now(UTC)
    async with engine.connect() as conn:
        states = await checks.states_of(conn, identifier)
    response.headers.update(_fresh_headers(request))
    subject = states[0].subject_id if len(states) == 1 and states[0].subject_id else identifier
    return views.restrictions(
        subject, states, department, as_of, request.app.state.catalogue, principal
    )
