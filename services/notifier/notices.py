"""Which notices a status change or the clock calls for. Pure: each notice carries
a `dedup_key`, so planning twice (a re-scan, a re-consumed batch) tells once."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from typing import Any

from services.notifier import notice_texts as texts
from services.notifier.changes import Change
from shared.domain.catalogue.index import CatalogueIndex
from shared.domain.catalogue.model import Span
from shared.domain.china_time import china_date, start_of_china_day
from shared.domain.periods import deadline as deadline_of

SUBJECT, DEPARTMENT, OPS = "subject", "department", "ops"


@dataclass(frozen=True)
class Notice:
    dedup_key: str
    kind: str
    audience: str
    recipient: str
    text_zh: str
    text_en: str
    subject_id: str | None = None
    designation_id: str | None = None
    department: str | None = None
    deadline: date | None = None
    details: Mapping[str, Any] = field(default_factory=dict)


def objection_deadline(catalogue: CatalogueIndex, d: Mapping[str, Any]) -> date | None:
    """By when the subject may object: the list type's objection period, in its unit,
    counted from the day of issue (China date) on the working-day calendar."""
    lt = catalogue.list_type(d["list_type"])
    if lt is None:
        return None
    rule = lt.objection
    span = Span(amount=rule.review_working_days, unit=rule.review_unit)
    return deadline_of(china_date(datetime.fromisoformat(d["issued_at"])), span)


def _to_subject(
    key: str,
    kind: str,
    subject_id: str,
    d: Mapping[str, Any],
    words: tuple[str, str],
    deadline: date | None = None,
    details: Mapping[str, Any] | None = None,
) -> Notice:
    return Notice(
        key,
        kind,
        SUBJECT,
        subject_id,
        words[0],
        words[1],
        subject_id=subject_id,
        designation_id=str(d["designation_id"]),
        department=d["designated_by"],
        deadline=deadline,
        details=details or {},
    )


_ENDINGS = ("jsb.designation.expired", "jsb.exit.approved", "jsb.designation.superseded")


def on_change(catalogue: CatalogueIndex, subject_id: str, change: Change) -> Notice | None:
    d, kind = change.designation, change.type
    did = str(d["designation_id"])
    if kind == "jsb.designation.issued":
        due = objection_deadline(catalogue, d)
        if due is None:
            return None
        words = texts.listed(catalogue, d, due)
        return _to_subject(f"listed:{did}", "listed", subject_id, d, words, deadline=due)
    if kind == "jsb.objection.resolved":
        o = change.detail["objection"]
        words = texts.objection_decided(d, o)
        return _to_subject(
            f"objection_decided:{o['objection_id']}",
            "objection_decided",
            subject_id,
            d,
            words,
            details={"outcome": o["status"]},
        )
    if kind in ("jsb.repair.granted", "jsb.repair.refused"):
        repair = change.detail["repair"]
        words = texts.repair_decided(d, repair)
        return _to_subject(
            f"repair_decided:{did}:{change.detail['n']}",
            "repair_decided",
            subject_id,
            d,
            words,
            details={"granted": repair["granted"]},
        )
    if kind == "jsb.designation.amended":
        words = texts.amended(d)
        return _to_subject(f"amended:{did}:{change.detail['n']}", "amended", subject_id, d, words)
    if kind == "jsb.designation.revoked":
        return _to_subject(f"ended:{did}", "revoked", subject_id, d, texts.ended(d, "revoked"))
    if kind in _ENDINGS:
        words = texts.ended(d, d["state"])
        return _to_subject(
            f"ended:{did}", "ended", subject_id, d, words, details={"state": d["state"]}
        )
    return None


def on_changes(catalogue: CatalogueIndex, subject_id: str, found: Iterable[Change]) -> list[Notice]:
    return [n for c in found if (n := on_change(catalogue, subject_id, c)) is not None]


@dataclass(frozen=True)
class WatchItem:
    """A running deadline: a pending task (`department` owes feedback) or an open
    objection (`department` is the initiator who must answer)."""

    key: str
    kind: str  # "task" | "objection"
    subject_id: str
    designation_id: str
    department: str
    measure: str | None
    deadline: date


def watch_items(subject_id: str, status: Mapping[str, Any]) -> list[WatchItem]:
    items = []
    for d in status.get("designations", ()):
        did = str(d["designation_id"])
        if d["state"] == "in_force":
            for t in d.get("tasks", ()):
                if t["state"] == "pending":
                    items.append(
                        WatchItem(
                            f"task:{did}:{t['measure']}:{t['department']}",
                            "task",
                            subject_id,
                            did,
                            t["department"],
                            t["measure"],
                            date.fromisoformat(t["deadline"]),
                        )
                    )
        for o in d.get("objections", ()):
            if o["status"] == "open":
                items.append(
                    WatchItem(
                        f"objection:{o['objection_id']}",
                        "objection",
                        subject_id,
                        did,
                        d["designated_by"],
                        None,
                        date.fromisoformat(o["review_deadline"]),
                    )
                )
    return items


@dataclass(frozen=True)
class ReminderRules:
    remind_after: timedelta
    escalate_after: timedelta
    objection_nearing: timedelta


def _about(
    item: WatchItem, key: str, kind: str, audience: str, recipient: str, words: tuple[str, str]
) -> Notice:
    return Notice(
        f"{key}:{item.key}",
        kind,
        audience,
        recipient,
        words[0],
        words[1],
        subject_id=item.subject_id,
        designation_id=item.designation_id,
        department=item.department,
        deadline=item.deadline,
        details={
            "designation_id": item.designation_id,
            "measure": item.measure,
            "department": item.department,
        },
    )


def on_clock(item: WatchItem, now: datetime, rules: ReminderRules) -> list[Notice]:
    """The notices `item` calls for at `now`: a deadline ends at 24:00 China time of
    its last day."""
    end = start_of_china_day(item.deadline + timedelta(days=1))
    payload = {
        "designation_id": item.designation_id,
        "measure": item.measure,
        "department": item.department,
    }
    out: list[Notice] = []
    if item.kind == "task":
        if now >= end + rules.remind_after:
            words = texts.task_overdue(payload, item.deadline)
            out.append(
                _about(item, "task_overdue", "task_overdue", DEPARTMENT, item.department, words)
            )
        if now >= end + rules.escalate_after:
            words = texts.task_escalated(payload, item.deadline)
            out.append(_about(item, "task_escalated", "task_escalated", OPS, OPS, words))
    elif item.kind == "objection":
        if now >= end:
            words = texts.objection_deadline(payload, item.deadline, passed=True)
            out.append(
                _about(
                    item,
                    "objection_deadline_passed",
                    "objection_deadline_passed",
                    DEPARTMENT,
                    item.department,
                    words,
                )
            )
        elif now >= end - rules.objection_nearing:
            words = texts.objection_deadline(payload, item.deadline, passed=False)
            out.append(
                _about(
                    item,
                    "objection_deadline_nearing",
                    "objection_deadline_nearing",
                    DEPARTMENT,
                    item.department,
                    words,
                )
            )
    return out
