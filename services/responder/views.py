"""What the responder shows: a department's restrictions on a subject, its tasks.

Personal identity numbers are masked unless the caller may see them (auditors).
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from services.responder.schemas import Restriction, RestrictionsPublic, TaskPublic
from shared.domain.catalogue.index import CatalogueIndex
from shared.domain.fold import enforced_by
from shared.domain.fold_state import DesignationRecord, DesignationState, SubjectState
from shared.domain.identifiers import display
from shared.domain.vocabulary import Polarity
from shared.web.auth import Principal


def shown(subject_id: str, principal: Principal) -> str:
    return display(subject_id, principal.sees_identity_numbers)


def _restriction(
    record: DesignationRecord,
    measure: str,
    department: str,
    until: datetime | None,
    state: str,
    catalogue: CatalogueIndex,
) -> Restriction:
    data = record.data
    known = catalogue.measure(measure)
    return Restriction(
        designation_id=record.designation_id,
        list_type=data.list_type,
        polarity=data.polarity.value,
        measure=measure,
        measure_name=known.name_zh if known else measure,
        measure_legal_basis=known.legal_basis if known else "",
        legal_basis=list(data.legal_basis),
        decision_no=data.decision_no,
        designated_by=data.designated_by,
        level=data.level.value,
        effective_from=data.effective_from,
        until=until,
        state=state,
        objection_open=record.open_objection is not None,
    )


def _until(record: DesignationRecord, measure: str, department: str) -> datetime | None:
    """While the designation is in force: its end, or the measure's own end if later."""
    own = [
        t.until
        for t in record.data.tasks
        if t.measure == measure and t.department == department and t.until is not None
    ]
    end = record.data.effective_until
    if end is None:
        return None
    return max([end, *own])


def restrictions(
    subject_id: str,
    states: Sequence[SubjectState],
    department: str,
    as_of: datetime,
    catalogue: CatalogueIndex,
    principal: Principal,
) -> RestrictionsPublic:
    enforced: list[Restriction] = []
    suspended: list[Restriction] = []
    for state in states:
        for m in enforced_by(state, department, as_of):
            record = state.designation(m.designation_id)
            assert record is not None
            until = m.until or _until(record, m.measure, department)
            enforced.append(
                _restriction(record, m.measure, department, until, "in_force", catalogue)
            )
        for record in state.designations.values():
            if record.state_at(as_of) is not DesignationState.SUSPENDED:
                continue
            suspended.extend(
                _restriction(
                    record,
                    t.measure,
                    department,
                    _until(record, t.measure, department),
                    "suspended",
                    catalogue,
                )
                for t in record.data.tasks
                if t.department == department and t.measure not in record.lifted
            )
    return RestrictionsPublic(
        subject_id=shown(subject_id, principal),
        department=department,
        as_of=as_of,
        restricted=any(r.polarity == Polarity.SANCTION.value for r in enforced),
        restrictions=enforced,
        suspended=suspended,
    )


def task_public(row: Any, principal: Principal) -> TaskPublic:
    return TaskPublic(
        task_id=row.task_id,
        department=row.department,
        designation_id=row.designation_id,
        measure=row.measure,
        subject_id=shown(row.subject_id, principal),
        subject_name=row.subject_name,
        list_type=row.list_type,
        mode=row.mode,
        state=row.state,
        mandatory=row.mandatory,
        deadline=row.deadline,
        note=row.note,
        last_event_type=row.last_event_type,
        created_at=row.created_at,
        updated_at=row.updated_at,
        answered_at=row.answered_at,
    )
