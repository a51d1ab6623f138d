"""A designation's HTTP bodies as the domain's values: the body of `POST /v1/designations` as
an `IssueDesignation` (the caller's department and the instant added), the changes of an
amendment or a partially upheld objection as `DesignationChanges`. The other commands
are built in their routes from a field or two."""

from __future__ import annotations

from datetime import datetime

from services.initiator.schemas import DesignationChangesIn, DesignationCreate
from shared.domain.commands import (
    DesignationChanges,
    IssueDesignation,
    RelatedPerson,
    SubjectRef,
)


def issue_command(body: DesignationCreate, *, department: str, at: datetime) -> IssueDesignation:
    return IssueDesignation(
        department=department,
        at=at,
        subject=SubjectRef(
            id=body.subject.id, name=body.subject.name, other_ids=tuple(body.subject.other_ids)
        ),
        list_type=body.list_type,
        level=body.level,
        reason=body.reason,
        legal_basis=tuple(body.legal_basis),
        decision_no=body.decision_no,
        decided_at=body.decided_at,
        effective_from=body.effective_from,
        effective_until=body.effective_until,
        indefinite=body.indefinite,
        measures=tuple(body.measures) if body.measures is not None else None,
        related_persons=tuple(
            RelatedPerson(id=p.id, name=p.name, role=p.role, facts=p.facts)
            for p in body.related_persons
        ),
        facts=body.facts,
    )


def changes_of(body: DesignationChangesIn | None) -> DesignationChanges | None:
    if body is None:
        return None
    raw = body.model_dump(exclude_none=True)
    for key in ("legal_basis", "measures"):
        if key in raw:
            raw[key] = tuple(raw[key])
    return DesignationChanges(**raw)
