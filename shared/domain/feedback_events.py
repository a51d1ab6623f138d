"""Feedback events (执行反馈, topic jsb.feedback.v1, written by the responders).

Each names one task: (designation, measure, department). A feedback event can reach
the ledger before its designation (the topics are not ordered with each other); the
fold holds it until the designation arrives.

`MeasuresReported` carries several such reports of one department for one designation
in one event (one item per measure, in order): each item is still one task's one
transition, with its own derived event id (`item_event_id`), and the fold applies the
items exactly as it applies the single events (惩戒事项逐一对应 stays one to one).
"""

from __future__ import annotations

from typing import ClassVar, Literal
from uuid import UUID, uuid5

from pydantic import BaseModel, ConfigDict, Field

from shared.domain.event_base import DomainEvent, Family


class FeedbackEvent(DomainEvent):
    FAMILY: ClassVar[Family] = Family.FEEDBACK

    measure: str
    department: str
    note: str = ""


class MeasureExecuted(FeedbackEvent):
    TYPE: ClassVar[str] = "jsb.feedback.executed"


class MeasureNotApplicable(FeedbackEvent):
    """The department has nothing to apply it to (no licence, no account, ...)."""

    TYPE: ClassVar[str] = "jsb.feedback.not_applicable"


class MeasureFailed(FeedbackEvent):
    TYPE: ClassVar[str] = "jsb.feedback.failed"


class MeasureSuspended(FeedbackEvent):
    """Not executed while an objection is verified (暂不执行)."""

    TYPE: ClassVar[str] = "jsb.feedback.suspended"


class MeasureResumed(FeedbackEvent):
    """Back to what it was before the suspension."""

    TYPE: ClassVar[str] = "jsb.feedback.resumed"


class MeasureLifted(FeedbackEvent):
    """No longer applied (revoked, repaired, expired, exited)."""

    TYPE: ClassVar[str] = "jsb.feedback.lifted"


class SubjectIntercepted(FeedbackEvent):
    """自动拦截: a check blocked the subject in the department's own business."""

    TYPE: ClassVar[str] = "jsb.feedback.intercepted"

    check_id: UUID
    action: str | None = None


Outcome = Literal["executed", "not_applicable", "failed", "suspended", "resumed", "lifted"]

OUTCOMES: dict[str, type[FeedbackEvent]] = {
    "executed": MeasureExecuted,
    "not_applicable": MeasureNotApplicable,
    "failed": MeasureFailed,
    "suspended": MeasureSuspended,
    "resumed": MeasureResumed,
    "lifted": MeasureLifted,
}
"""A reported outcome → the single event that reports it (its type's last part)."""


class ReportedMeasure(BaseModel):
    """One item of `MeasuresReported`: one task's one transition."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    measure: str = Field(min_length=1)
    outcome: Outcome
    note: str = ""


class MeasuresReported(DomainEvent):
    """Several transitions of one department's tasks of one designation, caused by the
    same lifecycle event (or the same clock re-evaluation), in one event. The items
    keep their order; item i stands for the single event `OUTCOMES[outcome]` with the
    id `item_event_id(envelope id, i)` and the envelope's time and causation."""

    FAMILY: ClassVar[Family] = Family.FEEDBACK
    TYPE: ClassVar[str] = "jsb.feedback.measures_reported"

    department: str
    items: tuple[ReportedMeasure, ...] = Field(min_length=1)

    def singles(self) -> list[FeedbackEvent]:
        """The single feedback events the items stand for, in order."""
        return [
            OUTCOMES[item.outcome](
                designation_id=self.designation_id,
                measure=item.measure,
                department=self.department,
                note=item.note,
            )
            for item in self.items
        ]


def item_event_id(batch_event_id: UUID, index: int) -> UUID:
    """The id of item `index` of a `MeasuresReported` event: derived, so that every
    reader (and a replay) names each item's transition the same way."""
    return uuid5(batch_event_id, f"item:{index}")


FEEDBACK_EVENTS: tuple[type[FeedbackEvent], ...] = (
    MeasureExecuted,
    MeasureNotApplicable,
    MeasureFailed,
    MeasureSuspended,
    MeasureResumed,
    MeasureLifted,
    SubjectIntercepted,
)
"""The single feedback events: each reports one task."""

BATCHED_FEEDBACK_EVENTS: tuple[type[DomainEvent], ...] = (MeasuresReported,)
"""Feedback events that carry several single reports (items)."""
