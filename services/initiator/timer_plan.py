"""Which timers a designation needs now (pure): read from its folded record.

After every change to a designation the initiator re-plans its timers and stores
the plan beside the events (services/initiator/timers.py). Whether a timer may
still act is decided again when it fires (`decide` refuses an expiry that is not
due, a reminder for a resolved objection, ...): the plan only says *when to ask*.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum
from uuid import UUID

from shared.domain.calendar import add_working_days
from shared.domain.china_time import china_date, start_of_china_day, utc
from shared.domain.commands import (
    AnyCommand,
    ExpireDesignation,
    OpenExitWindow,
    RemindObjection,
)
from shared.domain.decide_support import CatalogueLookup, lookup
from shared.domain.event_base import ReminderStage
from shared.domain.fold_state import DesignationRecord
from shared.domain.vocabulary import ExpiryMode


class TimerKind(StrEnum):
    EXPIRE = "expire"  # the period of an automatic regime ends
    OPEN_EXIT_WINDOW = "open_exit_window"  # an application regime's exit window opens
    OBJECTION_NEARING = "objection_nearing"  # the review deadline is near
    OBJECTION_PASSED = "objection_passed"  # the review deadline passed unanswered


@dataclass(frozen=True, slots=True)
class TimerSpec:
    kind: TimerKind
    target_id: UUID
    """The designation, or the objection for reminders."""
    designation_id: UUID
    subject_id: str
    department: str
    """The designating department: timers act in its name."""
    due_at: datetime

    @property
    def key(self) -> str:
        return f"{self.kind.value}:{self.target_id}"


def plan(
    record: DesignationRecord, catalogue: CatalogueLookup, *, remind_before_working_days: int
) -> list[TimerSpec]:
    """The timers `record` needs; none once it has ended (revoked, repaired, ...)."""
    if record.end is not None:
        return []
    data = record.data

    def spec(kind: TimerKind, due_at: datetime, target: UUID | None = None) -> TimerSpec:
        return TimerSpec(
            kind,
            target or data.designation_id,
            data.designation_id,
            data.subject_id,
            data.designated_by,
            utc(due_at),
        )

    out: list[TimerSpec] = []
    objection = record.open_objection
    clock_paused = objection is not None and objection.pauses_clock
    until = data.effective_until
    if until is not None and data.expiry is ExpiryMode.AUTOMATIC and not clock_paused:
        out.append(spec(TimerKind.EXPIRE, until))
    if until is not None and data.expiry is ExpiryMode.APPLICATION:
        list_type = lookup(catalogue.list_type, data.list_type)
        window = None if list_type is None else list_type.exit_window_working_days
        if (
            window is not None
            and record.exit.window_opens_on is None
            and not record.exit.applied_at
        ):
            opens = add_working_days(china_date(until), -window)
            out.append(spec(TimerKind.OPEN_EXIT_WINDOW, start_of_china_day(opens)))
    if objection is not None:
        nearing = add_working_days(objection.review_deadline, -remind_before_working_days)
        if nearing > china_date(objection.filed_at):
            out.append(
                spec(
                    TimerKind.OBJECTION_NEARING, start_of_china_day(nearing), objection.objection_id
                )
            )
        passed = start_of_china_day(objection.review_deadline + timedelta(days=1))
        out.append(spec(TimerKind.OBJECTION_PASSED, passed, objection.objection_id))
    return out


def command_for(kind: TimerKind, target_id: UUID, department: str, at: datetime) -> AnyCommand:
    """The domain command a due timer runs (through handlers.execute, like any other)."""
    if kind is TimerKind.EXPIRE:
        return ExpireDesignation(department=department, at=at, designation_id=target_id)
    if kind is TimerKind.OPEN_EXIT_WINDOW:
        return OpenExitWindow(department=department, at=at, designation_id=target_id)
    stage = ReminderStage.NEARING if kind is TimerKind.OBJECTION_NEARING else ReminderStage.PASSED
    return RemindObjection(department=department, at=at, objection_id=target_id, stage=stage)
