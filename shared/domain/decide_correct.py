"""Deciding corrections and endings by the designating department: amend (更正),
revoke (撤销), supersede, and the expiry timer."""

from __future__ import annotations

from dataclasses import replace
from datetime import datetime
from typing import Any

from shared.domain.china_time import china_date, utc
from shared.domain.commands import (
    AmendDesignation,
    DesignationChanges,
    ExpireDesignation,
    RevokeDesignation,
    SupersedeDesignation,
)
from shared.domain.decide_measures import check_level, plan_measures, tasks_for
from shared.domain.decide_support import (
    CatalogueLookup,
    NewEvent,
    check_in_force,
    check_owner,
    find_designation,
    list_type_of,
    own_designation,
    with_related,
)
from shared.domain.event_base import FieldChange
from shared.domain.fold_state import DesignationRecord, DesignationState, SubjectState
from shared.domain.lifecycle_events import (
    DesignationAmended,
    DesignationExpired,
    DesignationRevoked,
    DesignationSuperseded,
    amended_json,
)
from shared.domain.rejections import Problems, Rejected, RejectionCode
from shared.domain.vocabulary import ExpiryMode

_CLOSED = frozenset({DesignationState.REVOKED, DesignationState.SUPERSEDED})
_PLAIN_FIELDS = (
    "subject_name",
    "level",
    "reason",
    "legal_basis",
    "decision_no",
    "effective_from",
    "effective_until",
)


def plan_amendment(
    record: DesignationRecord,
    changes: DesignationChanges,
    at: datetime,
    catalogue: CatalogueLookup,
    problems: Problems,
    field: str,
) -> dict[str, FieldChange]:
    """The field changes a correction makes, checked like a new designation's fields.

    Measures kept keep their tasks (deadline included); added ones get new tasks."""
    data = record.data
    given = {name: getattr(changes, name) for name in _PLAIN_FIELDS}
    new: dict[str, Any] = {
        name: utc(value) if isinstance(value, datetime) else value
        for name, value in given.items()
        if value is not None and value != getattr(data, name)
    }
    level = new.get("level", data.level)
    effective_from = new.get("effective_from", data.effective_from)
    if changes.measures is not None or "level" in new:
        list_type = list_type_of(record, catalogue, problems)
        if list_type is not None and "level" in new:
            level = check_level(list_type, level, problems, f"{field}.level") or data.level
        if list_type is not None:
            codes = changes.measures
            if codes is None:  # the level changed: the measures kept must still fit it
                codes = tuple(dict.fromkeys(t.measure for t in data.tasks))
            plan = plan_measures(
                codes,
                list_type,
                level,
                data.subject_kind,
                catalogue,
                problems,
                field=f"{field}.measures" if changes.measures is not None else f"{field}.level",
                indexed=changes.measures is not None,
                facts=data.facts,
            )
            kept = {t.measure: t for t in data.tasks}
            added = tuple(m for m in plan.subject if m.code not in kept)
            fresh = tasks_for(added, list_type, china_date(at), effective_from, data.facts)
            chosen = {m.code for m in plan.subject}
            tasks = tuple(t for t in data.tasks if t.measure in chosen) + fresh
            if tasks != data.tasks:
                new["tasks"] = tasks
    effective_until = new.get("effective_until", data.effective_until)
    if effective_until is not None and effective_until <= effective_from:
        problems.add(
            RejectionCode.INVALID_PERIOD,
            f"{field}.effective_until",
            "the period ends before it takes effect",
        )
    if not new:
        problems.add(RejectionCode.NOTHING_TO_AMEND, field, "the correction changes nothing")
    return {
        name: FieldChange(old=amended_json(name, getattr(data, name)), new=amended_json(name, v))
        for name, v in new.items()
    }


def _check_open(record: DesignationRecord, at: datetime, problems: Problems) -> None:
    state = record.state_at(at)
    if state in _CLOSED:
        problems.add(
            RejectionCode.DESIGNATION_CLOSED,
            "designation_id",
            f"designation {record.designation_id} is {state.value}",
        )


def decide_amend(
    state: SubjectState, command: AmendDesignation, catalogue: CatalogueLookup
) -> list[NewEvent] | Rejected:
    found = own_designation(state, command)
    if isinstance(found, Rejected):
        return found
    record, problems = found
    _check_open(record, command.at, problems)
    changes = plan_amendment(record, command.changes, command.at, catalogue, problems, "changes")
    if problems:
        return problems.rejected()
    event = DesignationAmended(
        designation_id=record.designation_id, changes=changes, reason=command.reason
    )
    return [NewEvent(record.data.subject_id, command.at, event)]


def decide_revoke(
    state: SubjectState, command: RevokeDesignation, catalogue: CatalogueLookup
) -> list[NewEvent] | Rejected:
    found = own_designation(state, command)
    if isinstance(found, Rejected):
        return found
    record, problems = found
    if record.end is not None and record.end.state is DesignationState.REVOKED:
        problems.add(RejectionCode.DESIGNATION_CLOSED, "designation_id", "already revoked")
    if problems:
        return problems.rejected()
    return with_related(
        record,
        command.at,
        lambda designation_id: DesignationRevoked(
            designation_id=designation_id,
            reason=command.reason,
            restore_reputation=command.restore_reputation,
        ),
    )


def decide_supersede(
    state: SubjectState, command: SupersedeDesignation, catalogue: CatalogueLookup
) -> list[NewEvent] | Rejected:
    problems = Problems()
    record = find_designation(state, command.designation_id, problems)
    find_designation(state, command.by_designation_id, problems, "by_designation_id")
    if record is None:
        return problems.rejected()
    check_owner(record, command.department, problems)
    check_in_force(record, command.at, problems, suspended_ok=True)
    if problems:
        return problems.rejected()
    return with_related(
        record,
        command.at,
        lambda designation_id: DesignationSuperseded(
            designation_id=designation_id,
            by_designation_id=command.by_designation_id,
            reason=command.reason,
        ),
    )


def decide_expire(
    state: SubjectState, command: ExpireDesignation, catalogue: CatalogueLookup
) -> list[NewEvent] | Rejected:
    found = own_designation(state, command)
    if isinstance(found, Rejected):
        return found
    record, problems = found
    if record.data.expiry is not ExpiryMode.AUTOMATIC:
        problems.add(
            RejectionCode.EXPIRY_NOT_AUTOMATIC,
            "designation_id",
            f"{record.data.list_type} ends by an exit application, not by itself",
        )
    elif record.end is not None and record.end.at <= command.at:
        problems.add(
            RejectionCode.DESIGNATION_CLOSED,
            "designation_id",
            f"designation {record.designation_id} is already {record.end.state.value}",
        )
    elif record.state_at(command.at) is not DesignationState.EXPIRED:
        problems.add(
            RejectionCode.NOT_YET_EXPIRED,
            "designation_id",
            "the period is not over (or its clock is paused by an objection)",
        )
    if problems:
        return problems.rejected()
    event = DesignationExpired(designation_id=record.designation_id)
    return [NewEvent(record.data.subject_id, command.at, event)]


def with_until(record: DesignationRecord, until: datetime | None) -> DesignationRecord:
    """The record as if its end were `until` (to correct after a clock pause)."""
    return replace(record, data=record.data.model_copy(update={"effective_until": until}))
