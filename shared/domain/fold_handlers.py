"""How each event changes a subject's state: one handler per event type.

`apply(event, state, envelope)` dispatches on the event's class (singledispatch).
Lifecycle handlers change the designation record; feedback handlers change the task's
feedback, whether or not the designation is known yet (see fold_state).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace
from datetime import datetime
from functools import singledispatch
from uuid import UUID

from shared.domain.envelope import Envelope
from shared.domain.event_base import DomainEvent, FieldChange
from shared.domain.feedback_events import (
    FeedbackEvent,
    MeasureExecuted,
    MeasureFailed,
    MeasureLifted,
    MeasureNotApplicable,
    MeasureResumed,
    MeasuresReported,
    MeasureSuspended,
    SubjectIntercepted,
    item_event_id,
)
from shared.domain.fold_state import (
    Amendment,
    DesignationRecord,
    DesignationState,
    Ending,
    FeedbackEntry,
    ObjectionRecord,
    RepairDecision,
    SubjectState,
    TaskFeedback,
    TaskState,
)
from shared.domain.lifecycle_events import (
    DesignationAmended,
    DesignationExpired,
    DesignationIssued,
    DesignationRevoked,
    DesignationSuperseded,
    ExitApplied,
    ExitApproved,
    ExitWindowOpened,
    LifecycleEvent,
    ObjectionFiled,
    ObjectionResolved,
    RepairGranted,
    RepairRefused,
    amended_value,
)

Change = Callable[[DesignationRecord], DesignationRecord]

PAUSED_CLOCK_REASON = "period clock paused during the objection review"


@singledispatch
def apply(event: DomainEvent, state: SubjectState, envelope: Envelope) -> SubjectState:
    """Events with no effect on the state (objection reminders) fall through here."""
    return state


def _on(state: SubjectState, event: LifecycleEvent, change: Change) -> SubjectState:
    record = state.designation(event.designation_id)
    if record is None:  # cannot happen within one ordered topic: ignored, not guessed at
        return state
    return state.with_designation(change(record))


def _end(ending: Ending) -> Change:
    """The earliest ending stands (an approved exit may lie ahead: a repair before it
    wins), except that a revocation (it was wrong) overrides any other."""

    def change(record: DesignationRecord) -> DesignationRecord:
        current = record.end
        revoked = DesignationState.REVOKED
        if (
            current is None
            or (ending.state is revoked and current.state is not revoked)
            or (current.state is not revoked and ending.at < current.at)
        ):
            return replace(record, end=ending)
        return record

    return change


def _amend(amendment: Amendment, update: dict[str, object]) -> Change:
    def change(record: DesignationRecord) -> DesignationRecord:
        return replace(
            record,
            data=record.data.model_copy(update=update),
            amendments=(*record.amendments, amendment),
        )

    return change


# --- lifecycle --------------------------------------------------------------------


@apply.register
def _issued(event: DesignationIssued, state: SubjectState, envelope: Envelope) -> SubjectState:
    if state.designation(event.designation_id) is not None:
        return state
    return state.with_designation(DesignationRecord(data=event, issued_at=envelope.time))


@apply.register
def _amended(event: DesignationAmended, state: SubjectState, envelope: Envelope) -> SubjectState:
    update = {name: amended_value(name, c.new) for name, c in event.changes.items()}
    amendment = Amendment(envelope.time, event.reason, event.changes, event.objection_id)
    return _on(state, event, _amend(amendment, update))


@apply.register
def _revoked(event: DesignationRevoked, state: SubjectState, envelope: Envelope) -> SubjectState:
    ending = Ending(
        DesignationState.REVOKED,
        envelope.time,
        reason=event.reason,
        restore_reputation=event.restore_reputation,
    )
    return _on(state, event, _end(ending))


@apply.register
def _superseded(
    event: DesignationSuperseded, state: SubjectState, envelope: Envelope
) -> SubjectState:
    ending = Ending(
        DesignationState.SUPERSEDED,
        envelope.time,
        reason=event.reason,
        by_designation_id=event.by_designation_id,
    )
    return _on(state, event, _end(ending))


@apply.register
def _expired(event: DesignationExpired, state: SubjectState, envelope: Envelope) -> SubjectState:
    return _on(state, event, _end(Ending(DesignationState.EXPIRED, envelope.time)))


@apply.register
def _objection_filed(
    event: ObjectionFiled, state: SubjectState, envelope: Envelope
) -> SubjectState:
    objection = ObjectionRecord(
        objection_id=event.objection_id,
        raised_by=event.raised_by,
        department=event.department,
        grounds=event.grounds,
        filed_at=envelope.time,
        review_deadline=event.review_deadline,
        suspends_measures=event.suspends_measures,
        pauses_clock=event.pauses_clock,
    )
    return _on(state, event, lambda r: replace(r, objections=(*r.objections, objection)))


@apply.register
def _objection_resolved(
    event: ObjectionResolved, state: SubjectState, envelope: Envelope
) -> SubjectState:
    def resolve(record: DesignationRecord) -> DesignationRecord:
        objections = tuple(
            replace(o, outcome=event.outcome, resolved_at=envelope.time, note=event.note)
            if o.objection_id == event.objection_id
            else o
            for o in record.objections
        )
        record = replace(record, objections=objections)
        new_until = event.new_effective_until
        if new_until is None:
            return record
        # The clock was paused during the review: the end moved by the paused time.
        # Shown as an amendment so that old and new end dates are both visible.
        old_until = record.data.effective_until
        field_change = FieldChange(
            old=None if old_until is None else old_until.isoformat(), new=new_until.isoformat()
        )
        amendment = Amendment(
            envelope.time,
            PAUSED_CLOCK_REASON,
            {"effective_until": field_change},
            event.objection_id,
        )
        return _amend(amendment, {"effective_until": new_until})(record)

    return _on(state, event, resolve)


@apply.register
def _repair_granted(event: RepairGranted, state: SubjectState, envelope: Envelope) -> SubjectState:
    def repair(record: DesignationRecord) -> DesignationRecord:
        decision = RepairDecision(envelope.time, True, event.measures, event.note)
        record = replace(record, repairs=(*record.repairs, decision))
        if event.measures is not None:
            record = replace(record, lifted=record.lifted | frozenset(event.measures))
            if not {t.measure for t in record.data.tasks} <= record.lifted:
                return record  # partial repair (减轻): only the listed measures lifted
        return _end(Ending(DesignationState.REPAIRED, envelope.time, reason=event.note))(record)

    return _on(state, event, repair)


@apply.register
def _repair_refused(event: RepairRefused, state: SubjectState, envelope: Envelope) -> SubjectState:
    decision = RepairDecision(envelope.time, False, None, event.note)
    return _on(state, event, lambda r: replace(r, repairs=(*r.repairs, decision)))


@apply.register
def _exit_window_opened(
    event: ExitWindowOpened, state: SubjectState, envelope: Envelope
) -> SubjectState:
    return _on(
        state, event, lambda r: replace(r, exit=replace(r.exit, window_opens_on=event.opens_on))
    )


@apply.register
def _exit_applied(event: ExitApplied, state: SubjectState, envelope: Envelope) -> SubjectState:
    return _on(state, event, lambda r: replace(r, exit=replace(r.exit, applied_at=envelope.time)))


@apply.register
def _exit_approved(event: ExitApproved, state: SubjectState, envelope: Envelope) -> SubjectState:
    def approve(record: DesignationRecord) -> DesignationRecord:
        exit_record = replace(record.exit, approved_at=envelope.time, exited_at=event.exited_at)
        record = replace(record, exit=exit_record)
        ending = Ending(DesignationState.EXITED, event.exited_at, reason=event.note)
        return _end(ending)(record)

    return _on(state, event, approve)


# --- feedback ---------------------------------------------------------------------

_REPORTED: dict[type[FeedbackEvent], TaskState] = {
    MeasureExecuted: TaskState.EXECUTED,
    MeasureNotApplicable: TaskState.NOT_APPLICABLE,
    MeasureFailed: TaskState.FAILED,
    MeasureSuspended: TaskState.SUSPENDED,
    MeasureLifted: TaskState.LIFTED,
}


@apply.register
def _feedback(event: FeedbackEvent, state: SubjectState, envelope: Envelope) -> SubjectState:
    return _report(state, event, envelope.id, envelope.time)


@apply.register
def _measures_reported(
    event: MeasuresReported, state: SubjectState, envelope: Envelope
) -> SubjectState:
    """Item by item, exactly as the single events the items stand for."""
    for index, single in enumerate(event.singles()):
        state = _report(state, single, item_event_id(envelope.id, index), envelope.time)
    return state


def _report(
    state: SubjectState, event: FeedbackEvent, event_id: UUID, at: datetime
) -> SubjectState:
    key = (event.designation_id, event.measure, event.department)
    return state.with_feedback(key, _reported(state.task_feedback(key), event, event_id, at))


def _reported(
    current: TaskFeedback, event: FeedbackEvent, event_id: UUID, at: datetime
) -> TaskFeedback:
    if isinstance(event, SubjectIntercepted):
        last = current.last_intercepted_at
        return replace(
            current,
            interceptions=current.interceptions + 1,
            last_intercepted_at=at if last is None else max(last, at),
        )
    entry = FeedbackEntry(event_id, event.TYPE.rsplit(".", 1)[1], at, event.note)
    history = (*current.history, entry)
    if isinstance(event, MeasureResumed):  # back to what it was before the suspension
        return replace(current, state=current.before_suspension, history=history)
    new_state = _REPORTED[type(event)]
    before = current.before_suspension
    if new_state is TaskState.SUSPENDED and current.state is not TaskState.SUSPENDED:
        before = current.state
    return replace(current, state=new_state, before_suspension=before, history=history)
