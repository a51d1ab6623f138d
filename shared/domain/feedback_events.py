"""Feedback events (执行反馈, topic jsb.feedback.v1, written by the responders).

Each names one task: (designation, measure, department). A feedback event can reach
the ledger before its designation (the topics are not ordered with each other); the
fold holds it until the designation arrives.
"""

from __future__ import annotations

from typing import ClassVar
from uuid import UUID

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


FEEDBACK_EVENTS: tuple[type[FeedbackEvent], ...] = (
    MeasureExecuted,
    MeasureNotApplicable,
    MeasureFailed,
    MeasureSuspended,
    MeasureResumed,
    MeasureLifted,
    SubjectIntercepted,
)
