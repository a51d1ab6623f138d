"""The initiator's HTTP API (issue 5): initiating departments act on designations.

Routes stay thin: build the domain command from the body and the caller's token,
hand it to `handlers.execute` (lock, fold, decide, append, outbox) under the
request's Idempotency-Key, and show the resulting designation.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime
from typing import Annotated, Any
from uuid import UUID

from fastapi import APIRouter, Header, Request
from fastapi.responses import JSONResponse
from pydantic import BaseModel
from sqlalchemy.ext.asyncio import AsyncConnection

from services.initiator import handlers, repository, tables
from services.initiator.schemas import (
    AmendmentCreate,
    DesignationChangesIn,
    DesignationCreate,
    DesignationPublic,
    ExitCreate,
    ObjectionCreate,
    ObjectionPublic,
    RepairCreate,
    ResolutionCreate,
    RevocationCreate,
)
from services.initiator.views import designation_public
from shared.adapters.idempotency import request_fingerprint, run_once
from shared.domain.catalogue.index import CatalogueIndex
from shared.domain.commands import (
    AmendDesignation,
    AnyCommand,
    ApplyExit,
    DesignationChanges,
    FileObjection,
    GrantRepair,
    IssueDesignation,
    RelatedPerson,
    ResolveObjection,
    RevokeDesignation,
    SubjectRef,
)
from shared.domain.event_base import RaisedBy
from shared.domain.fold import fold
from shared.domain.fold_state import SubjectState
from shared.domain.identifiers import IdentifierError, derive_identity
from shared.web.auth import Principal
from shared.web.deps import CurrentPrincipal, EngineDep
from shared.web.problems import ProblemError

router = APIRouter(prefix="/v1", tags=["initiator"])

IdempotencyKey = Annotated[str | None, Header(alias="Idempotency-Key", max_length=200)]
Respond = Callable[[SubjectState, datetime], tuple[int, Any]]


def _department(principal: Principal) -> str:
    if principal.department is None or "initiator" not in principal.roles:
        raise ProblemError(403, "department_not_allowed", "only a department's token may act here")
    return principal.department


def subject_key(raw_ids: list[str]) -> str:
    """The canonical subject id the stream is kept under (or the raw id, which
    `decide` then refuses with the identifier's precise reason)."""
    try:
        return derive_identity(raw_ids).subject_id
    except IdentifierError:
        return raw_ids[0].strip().upper()


def _changes(body: DesignationChangesIn | None) -> DesignationChanges | None:
    if body is None:
        return None
    raw = body.model_dump(exclude_none=True)
    for key in ("legal_basis", "measures"):
        if key in raw:
            raw[key] = tuple(raw[key])
    return DesignationChanges(**raw)


async def _run(
    request: Request,
    principal: Principal,
    idempotency_key: str | None,
    body: BaseModel | None,
    subject_id: str | Callable[[AsyncConnection], Any],
    command: AnyCommand,
    respond: Respond,
) -> JSONResponse:
    engine = request.app.state.engine
    catalogue: CatalogueIndex = request.app.state.catalogue
    ctx = handlers.Context(catalogue, request.app.state.settings.topic_suffix)

    async def action(conn: AsyncConnection) -> tuple[int, Any]:
        sid = subject_id if isinstance(subject_id, str) else await subject_id(conn)
        await handlers.execute(conn, sid, command, ctx)
        recorded, _ = await repository.load(conn, sid)
        return respond(fold(recorded, sid), command.at)

    status, payload = await run_once(
        engine, tables.idempotency, principal=principal.name, key=idempotency_key,
        fingerprint=request_fingerprint(
            request.method, request.url.path, body.model_dump(mode="json") if body else None
        ),
        action=action,
    )
    return JSONResponse(payload, status_code=status)


def _show(designation_id: UUID, status: int = 200) -> Respond:
    def respond(state: SubjectState, at: datetime) -> tuple[int, Any]:
        record = state.designation(designation_id)
        assert record is not None
        return status, designation_public(record, at).model_dump(mode="json")

    return respond


def _designation_subject(designation_id: UUID) -> Callable[[AsyncConnection], Any]:
    async def find(conn: AsyncConnection) -> str:
        subject_id = await repository.subject_of_designation(conn, designation_id)
        if subject_id is None:
            raise ProblemError(404, "designation_not_found", f"no designation {designation_id}")
        return subject_id

    return find


@router.post("/designations", status_code=201, response_model=DesignationPublic)
async def create_designation(
    body: DesignationCreate, request: Request, principal: CurrentPrincipal,
    idempotency_key: IdempotencyKey = None,
) -> JSONResponse:
    """Designate a subject onto a list; related persons get linked designations."""
    command = IssueDesignation(
        department=_department(principal),
        at=datetime.now(UTC),
        subject=SubjectRef(id=body.subject.id, name=body.subject.name,
                           other_ids=tuple(body.subject.other_ids)),
        list_type=body.list_type,
        level=body.level,
        reason=body.reason,
        legal_basis=tuple(body.legal_basis),
        decision_no=body.decision_no,
        decided_at=body.decided_at,
        effective_from=body.effective_from,
        effective_until=body.effective_until,
        measures=tuple(body.measures) if body.measures is not None else None,
        related_persons=tuple(
            RelatedPerson(id=p.id, name=p.name, role=p.role) for p in body.related_persons
        ),
    )
    subject_id = subject_key([body.subject.id, *body.subject.other_ids])
    return await _run(request, principal, idempotency_key, body, subject_id, command,
                      _show(command.designation_id, 201))


@router.get("/designations/{designation_id}", response_model=DesignationPublic)
async def get_designation(
    designation_id: UUID, principal: CurrentPrincipal, engine: EngineDep
) -> DesignationPublic:
    """One designation as its initiating department sees it."""
    async with engine.connect() as conn:
        subject_id = await repository.subject_of_designation(conn, designation_id)
        record = None
        if subject_id is not None:
            recorded, _ = await repository.load(conn, subject_id)
            record = fold(recorded, subject_id).designation(designation_id)
    if record is None or principal.department not in (None, record.data.designated_by):
        raise ProblemError(404, "designation_not_found", f"no designation {designation_id}")
    return designation_public(record, datetime.now(UTC))


@router.post("/designations/{designation_id}/amendments", status_code=201,
             response_model=DesignationPublic)
async def amend(
    designation_id: UUID, body: AmendmentCreate, request: Request, principal: CurrentPrincipal,
    idempotency_key: IdempotencyKey = None,
) -> JSONResponse:
    """Correct a designation (更正); the old and new values are both kept."""
    changes = _changes(body.changes)
    assert changes is not None
    command = AmendDesignation(department=_department(principal), at=datetime.now(UTC),
                               designation_id=designation_id, changes=changes, reason=body.reason)
    return await _run(request, principal, idempotency_key, body,
                      _designation_subject(designation_id), command, _show(designation_id, 201))


@router.post("/designations/{designation_id}/revocation", response_model=DesignationPublic)
async def revoke(
    designation_id: UUID, body: RevocationCreate, request: Request, principal: CurrentPrincipal,
    idempotency_key: IdempotencyKey = None,
) -> JSONResponse:
    """Revoke a designation that was wrong (撤销), restoring the subject's reputation."""
    command = RevokeDesignation(department=_department(principal), at=datetime.now(UTC),
                                designation_id=designation_id, reason=body.reason,
                                restore_reputation=body.restore_reputation)
    return await _run(request, principal, idempotency_key, body,
                      _designation_subject(designation_id), command, _show(designation_id))


@router.post("/designations/{designation_id}/objections", status_code=201,
             response_model=ObjectionPublic)
async def file_objection(
    designation_id: UUID, body: ObjectionCreate, request: Request, principal: CurrentPrincipal,
    idempotency_key: IdempotencyKey = None,
) -> JSONResponse:
    """Record an objection (异议) by the subject or by an implementing department."""
    department = _department(principal)
    if body.raised_by is RaisedBy.DEPARTMENT and body.department not in (None, department):
        raise ProblemError(403, "department_not_allowed",
                           "a department raises objections with its own token")
    command = FileObjection(department=department, at=datetime.now(UTC),
                            designation_id=designation_id, raised_by=body.raised_by,
                            grounds=body.grounds)

    def respond(state: SubjectState, at: datetime) -> tuple[int, Any]:
        found = state.objection(command.objection_id)
        assert found is not None
        _, o = found
        return 201, ObjectionPublic(
            objection_id=o.objection_id, designation_id=designation_id,
            review_deadline=o.review_deadline, suspends_measures=o.suspends_measures,
            pauses_clock=o.pauses_clock,
        ).model_dump(mode="json")

    return await _run(request, principal, idempotency_key, body,
                      _designation_subject(designation_id), command, respond)


@router.post("/objections/{objection_id}/resolution", response_model=DesignationPublic)
async def resolve_objection(
    objection_id: UUID, body: ResolutionCreate, request: Request, principal: CurrentPrincipal,
    idempotency_key: IdempotencyKey = None,
) -> JSONResponse:
    """Answer an objection: rejected restores, upheld revokes, partially upheld amends."""
    command = ResolveObjection(department=_department(principal), at=datetime.now(UTC),
                               objection_id=objection_id, outcome=body.outcome, note=body.note,
                               amendment=_changes(body.amendment))
    target: dict[str, UUID] = {}

    async def find(conn: AsyncConnection) -> str:
        found = await repository.objection_target(conn, objection_id)
        if found is None:
            raise ProblemError(404, "objection_not_found", f"no objection {objection_id}")
        target["designation_id"] = found[0]
        return found[1]

    def respond(state: SubjectState, at: datetime) -> tuple[int, Any]:
        return _show(target["designation_id"])(state, at)

    return await _run(request, principal, idempotency_key, body, find, command, respond)


@router.post("/designations/{designation_id}/repair", response_model=DesignationPublic)
async def repair(
    designation_id: UUID, body: RepairCreate, request: Request, principal: CurrentPrincipal,
    idempotency_key: IdempotencyKey = None,
) -> JSONResponse:
    """Grant credit repair (信用修复): all measures lifted, or only the listed ones."""
    command = GrantRepair(department=_department(principal), at=datetime.now(UTC),
                          designation_id=designation_id,
                          measures=tuple(body.measures) if body.measures is not None else None,
                          note=body.note)
    return await _run(request, principal, idempotency_key, body,
                      _designation_subject(designation_id), command, _show(designation_id))


@router.post("/designations/{designation_id}/exit", response_model=DesignationPublic)
async def apply_exit(
    designation_id: UUID, body: ExitCreate, request: Request, principal: CurrentPrincipal,
    idempotency_key: IdempotencyKey = None,
) -> JSONResponse:
    """Record an exit application, for regimes whose listing ends on application."""
    command = ApplyExit(department=_department(principal), at=datetime.now(UTC),
                        designation_id=designation_id, note=body.note)
    return await _run(request, principal, idempotency_key, body,
                      _designation_subject(designation_id), command, _show(designation_id))


@router.get("/catalogue")
async def catalogue(request: Request) -> dict[str, Any]:
    """Measures, list types (regimes), departments and the catalogue version."""
    index: CatalogueIndex = request.app.state.catalogue
    return index.to_public_dict()
