"""One designation with every task's feedback and deadline (folded at read time)."""

from __future__ import annotations

from typing import Any
from uuid import UUID

from fastapi import APIRouter
from sqlalchemy import select

from services.ledger import store, tables
from services.ledger.access import concerns, shown
from services.ledger.api_subjects import AsOf, KnownAt
from services.ledger.replay import status_at
from shared.domain.envelope import utc_now
from shared.domain.errors import NotFound
from shared.web.deps import CurrentPrincipal, EngineDep

router = APIRouter(tags=["designations"])


def _not_found() -> NotFound:
    return NotFound(
        "designation_not_found",
        "designation_id",
        "no such designation (or it does not concern the caller)",
        reason="unknown designation",
        reason_code="not_found",
    )


@router.get("/designations/{designation_id}")
async def designation(
    designation_id: UUID,
    principal: CurrentPrincipal,
    engine: EngineDep,
    as_of: AsOf = None,
    known_at: KnownAt = None,
) -> dict[str, Any]:
    """The designation at `as_of` (known at `known_at`): state, objection, every task's
    state, deadline, overdue flag and feedback history."""
    now = utc_now()
    d = tables.designation_lookup  # written with the events: no wait for the projector
    async with engine.connect() as conn:
        subject = (
            await conn.execute(
                select(d.c.subject_id).where(d.c.designation_id == designation_id).limit(1)
            )
        ).scalar_one_or_none()
        if subject is None:
            raise _not_found()
        events = await store.stream(conn, tables.events, subject)
    _, status = status_at(events, subject, as_of or now, known_at or now)
    view = next((v for v in status.designations if v.designation_id == designation_id), None)
    department = principal.department
    if view is None or (
        department is not None
        and not concerns(department, view.designated_by, (t.department for t in view.tasks))
    ):
        raise _not_found()
    doc: dict[str, Any] = view.model_dump(mode="json")
    doc.update(
        subject_id=subject,
        subject_kind=None if status.subject_kind is None else status.subject_kind.value,
        as_of=status.as_of.isoformat(),
        known_at=None if status.known_at is None else status.known_at.isoformat(),
    )
    shown_doc: dict[str, Any] = shown(principal, doc, {str(designation_id): view.designated_by})
    return shown_doc
