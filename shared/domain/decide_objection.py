"""Deciding objections (异议): filing, resolution, reminders of the review deadline."""

from __future__ import annotations

from uuid import UUID

from shared.domain.catalogue.model import Span
from shared.domain.china_time import china_date, utc
from shared.domain.commands import FileObjection, RemindObjection, ResolveObjection
from shared.domain.decide_correct import plan_amendment, with_until
from shared.domain.decide_support import (
    CatalogueLookup,
    NewEvent,
    check_in_force,
    check_owner,
    find_designation,
    list_type_of,
    with_related,
)
from shared.domain.event_base import FieldChange, ObjectionOutcome, RaisedBy
from shared.domain.fold_state import DesignationRecord, ObjectionRecord, SubjectState
from shared.domain.lifecycle_events import (
    DesignationAmended,
    DesignationRevoked,
    ObjectionFiled,
    ObjectionReminder,
    ObjectionResolved,
)
from shared.domain.periods import deadline
from shared.domain.rejections import Problems, Rejected, RejectionCode


def decide_file_objection(
    state: SubjectState, command: FileObjection, catalogue: CatalogueLookup
) -> list[NewEvent] | Rejected:
    """Filed by the subject (recorded by the designating department) or raised by an
    implementing department that has a task on the designation."""
    problems = Problems()
    record = find_designation(state, command.designation_id, problems)
    if record is None:
        return problems.rejected()
    if command.raised_by is RaisedBy.SUBJECT:
        check_owner(record, command.department, problems)
    elif all(t.department != command.department for t in record.data.tasks):
        problems.add(
            RejectionCode.DEPARTMENT_NOT_ALLOWED,
            "department",
            f"{command.department} implements no measure of this designation",
        )
    if state.objection(command.objection_id) is not None:
        problems.add(
            RejectionCode.OBJECTION_ALREADY_OPEN,
            "objection_id",
            f"objection {command.objection_id} already exists",
        )
    elif record.open_objection is not None:
        problems.add(
            RejectionCode.OBJECTION_ALREADY_OPEN,
            "designation_id",
            f"objection {record.open_objection.objection_id} is still under review",
        )
    else:
        check_in_force(record, command.at, problems, suspended_ok=False)
    list_type = list_type_of(record, catalogue, problems)
    if list_type is None or problems:
        return problems.rejected()
    rule = list_type.objection
    event = ObjectionFiled(
        designation_id=record.designation_id,
        objection_id=command.objection_id,
        raised_by=command.raised_by,
        department=command.department if command.raised_by is RaisedBy.DEPARTMENT else None,
        grounds=command.grounds,
        review_deadline=deadline(
            china_date(command.at), Span(amount=rule.review_working_days, unit=rule.review_unit)
        ),
        suspends_measures=rule.suspends_measures,
        pauses_clock=rule.pauses_clock,
    )
    return [NewEvent(record.data.subject_id, command.at, event)]


def _open_objection(
    state: SubjectState,
    objection_id: UUID,
    department: str,
    problems: Problems,
) -> tuple[DesignationRecord, ObjectionRecord] | None:
    found = state.objection(objection_id)
    if found is None:
        problems.add(
            RejectionCode.OBJECTION_NOT_FOUND, "objection_id", f"no objection {objection_id}"
        )
        return None
    record, objection = found
    check_owner(record, department, problems)
    if not objection.is_open:
        problems.add(
            RejectionCode.OBJECTION_NOT_OPEN,
            "objection_id",
            f"objection {objection_id} was already resolved ({objection.outcome})",
        )
    return found


def decide_resolve_objection(
    state: SubjectState, command: ResolveObjection, catalogue: CatalogueLookup
) -> list[NewEvent] | Rejected:
    """Rejected: in force again (the end moves when the regime paused the clock);
    upheld: revoked; partially upheld: amended."""
    problems = Problems()
    found = _open_objection(state, command.objection_id, command.department, problems)
    if found is None:
        return problems.rejected()
    record, objection = found
    until = record.data.effective_until
    new_until = None
    if command.outcome is not ObjectionOutcome.UPHELD and objection.pauses_clock and until:
        new_until = utc(until + (command.at - objection.filed_at))
    changes: dict[str, FieldChange] = {}
    if command.outcome is ObjectionOutcome.PARTIALLY_UPHELD:
        if command.amendment is None:
            problems.add(
                RejectionCode.AMENDMENT_REQUIRED,
                "amendment",
                "a partially upheld objection needs the correction to make",
            )
        else:
            corrected = with_until(record, new_until) if new_until is not None else record
            changes = plan_amendment(
                corrected, command.amendment, command.at, catalogue, problems, "amendment"
            )
    if problems:
        return problems.rejected()
    subject = record.data.subject_id
    events = [
        NewEvent(
            subject,
            command.at,
            ObjectionResolved(
                designation_id=record.designation_id,
                objection_id=objection.objection_id,
                outcome=command.outcome,
                note=command.note,
                new_effective_until=new_until,
            ),
        )
    ]
    if command.outcome is ObjectionOutcome.UPHELD:
        events += with_related(
            record,
            command.at,
            lambda designation_id: DesignationRevoked(
                designation_id=designation_id,
                reason=command.note or "objection upheld",
                restore_reputation=True,
                objection_id=objection.objection_id,
            ),
        )
    elif command.outcome is ObjectionOutcome.PARTIALLY_UPHELD:
        amended = DesignationAmended(
            designation_id=record.designation_id,
            changes=changes,
            reason=command.note or "objection partially upheld",
            objection_id=objection.objection_id,
        )
        events.append(NewEvent(subject, command.at, amended))
    return events


def decide_remind_objection(
    state: SubjectState, command: RemindObjection, catalogue: CatalogueLookup
) -> list[NewEvent] | Rejected:
    problems = Problems()
    found = _open_objection(state, command.objection_id, command.department, problems)
    if found is None or problems:
        return problems.rejected()
    record, objection = found
    event = ObjectionReminder(
        designation_id=record.designation_id,
        objection_id=objection.objection_id,
        review_deadline=objection.review_deadline,
        stage=command.stage,
    )
    return [NewEvent(record.data.subject_id, command.at, event)]
