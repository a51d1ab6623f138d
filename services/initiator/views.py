"""How the initiator shows a designation (the state comes from the domain fold)."""

from __future__ import annotations

from datetime import datetime

from services.initiator.schemas import (
    AmendmentOut,
    DesignationPublic,
    ObjectionOut,
    RelatedOut,
    TaskOut,
)
from shared.domain.china_time import china_date
from shared.domain.event_base import RelatedDesignation
from shared.domain.fold_state import DesignationRecord, ObjectionRecord
from shared.domain.identifiers import display
from shared.domain.periods import calendar_warning

shown_id = display
"""A subject id as the caller may see it (the domain's rule)."""


def objection_out(o: ObjectionRecord) -> ObjectionOut:
    return ObjectionOut(
        objection_id=o.objection_id,
        raised_by=o.raised_by.value,
        department=o.department,
        grounds=o.grounds,
        filed_at=o.filed_at,
        review_deadline=o.review_deadline,
        suspends_measures=o.suspends_measures,
        pauses_clock=o.pauses_clock,
        outcome=o.outcome.value if o.outcome else None,
        resolved_at=o.resolved_at,
        note=o.note,
    )


def sees_in_full(record: DesignationRecord, department: str | None, privileged: bool) -> bool:
    """Masking protects third parties (issue 9, item 6): the department that designated
    the subject (and supplied the numbers), and callers with the right to see identity
    numbers (auditors), see them in full; every other caller sees the masked form."""
    return privileged or (department is not None and department == record.data.designated_by)


def _related_out(link: RelatedDesignation, in_clear: bool, designated: bool) -> RelatedOut:
    return RelatedOut(
        designation_id=link.designation_id if designated else None,
        subject_id=shown_id(link.subject_id, in_clear),
        role=link.role.value,
        reached=list(link.reached),
        not_reached=list(link.not_reached),
    )


def _warnings(record: DesignationRecord) -> list[str]:
    """Working-day deadlines that reach a year without a loaded holiday arrangement."""
    data = record.data
    start = china_date(record.issued_at)
    deadlines = [t.deadline for t in data.tasks] + [o.review_deadline for o in record.objections]
    warning = calendar_warning(start, max(deadlines)) if deadlines else None
    return [] if warning is None else [warning]


def designation_public(
    record: DesignationRecord, as_of: datetime, *, sees_identity_numbers: bool = False
) -> DesignationPublic:
    data = record.data
    return DesignationPublic(
        designation_id=data.designation_id,
        subject_id=shown_id(data.subject_id, sees_identity_numbers),
        list_type=data.list_type,
        level=data.level,
        state=record.state_at(as_of).value,
        effective_from=data.effective_from,
        effective_until=data.effective_until,
        tasks=[
            TaskOut(
                measure=t.measure,
                department=t.department,
                mandatory=t.mandatory,
                deadline=t.deadline,
            )
            for t in data.tasks
        ],
        related_designations=[
            _related_out(r, sees_identity_numbers, designated=True) for r in data.related
        ],
        related_not_reached=[
            _related_out(r, sees_identity_numbers, designated=False)
            for r in data.related_not_reached
        ],
        facts=data.facts,
        joint_sanction=data.joint_sanction,
        record_only=data.record_only,
        warnings=_warnings(record),
        catalogue_version=data.catalogue_version,
        designated_by=data.designated_by,
        parent_designation_id=data.parent_designation_id,
        objection=objection_out(record.open_objection) if record.open_objection else None,
        objections=[objection_out(o) for o in record.objections],
        amendments=[
            AmendmentOut(
                at=a.at,
                reason=a.reason,
                objection_id=a.objection_id,
                changes={k: v.model_dump(mode="json") for k, v in a.changes.items()},
            )
            for a in record.amendments
        ],
        lifted_measures=sorted(record.lifted),
    )
