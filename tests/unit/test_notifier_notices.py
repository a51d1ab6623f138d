"""Which notices a change and the clock call for (pure planning)."""

from __future__ import annotations

from datetime import date, timedelta

from services.notifier.changes import Change
from services.notifier.notices import (
    ReminderRules,
    WatchItem,
    objection_deadline,
    on_change,
    on_clock,
    watch_items,
)
from shared.domain.catalogue.index import default_index
from shared.domain.catalogue.model import Span
from shared.domain.china_time import start_of_china_day
from shared.domain.periods import deadline

CAT = default_index()
D = {
    "designation_id": "d1",
    "list_type": "tax.major-violation",
    "designated_by": "tax",
    "subject_name": "某某贸易有限公司",
    "reason": "虚开增值税专用发票",
    "decision_no": "税稽罚〔2026〕1号",
    "issued_at": "2026-09-29T03:00:00+00:00",  # before the National Day holiday
    "state": "in_force",
    "tasks": [
        {
            "measure": "tax.restrict_invoices",
            "department": "tax",
            "state": "pending",
            "deadline": "2026-10-09",
        }
    ],
    "objections": [{"objection_id": "o1", "status": "open", "review_deadline": "2026-10-20"}],
}


def test_the_listing_deadline_counts_working_days_on_the_calendar() -> None:
    rule = CAT.list_type("tax.major-violation").objection  # type: ignore[union-attr]
    due = objection_deadline(CAT, D)
    assert due == deadline(
        date(2026, 9, 29), Span(amount=rule.review_working_days, unit=rule.review_unit)
    )
    assert due is not None
    assert (due - date(2026, 9, 29)).days > rule.review_working_days + 4  # the holiday week
    notice = on_change(CAT, "S", Change("jsb.designation.issued", D))
    assert notice is not None
    assert notice.deadline == due
    assert due.isoformat() in notice.text_zh
    assert due.isoformat() in notice.text_en
    assert "S" not in notice.text_en.split()  # never the identity number in the text
    assert notice.dedup_key == "listed:d1"


def test_outcomes_are_told_to_the_subject() -> None:
    kinds = {
        "jsb.objection.resolved": {"objection": {"objection_id": "o1", "status": "rejected"}},
        "jsb.repair.refused": {"n": 1, "repair": {"granted": False}},
        "jsb.designation.amended": {"n": 1},
        "jsb.designation.revoked": {},
        "jsb.designation.expired": {},
    }
    told = [on_change(CAT, "S", Change(k, {**D, "state": "expired"}, v)) for k, v in kinds.items()]
    assert [n.kind for n in told if n] == [
        "objection_decided",
        "repair_decided",
        "amended",
        "revoked",
        "ended",
    ]
    assert all(n and n.audience == "subject" and n.recipient == "S" for n in told)
    assert on_change(CAT, "S", Change("jsb.feedback.executed", D)) is None


def test_watch_items_are_pending_tasks_and_open_objections() -> None:
    items = watch_items("S", {"designations": [D]})
    assert [(i.kind, i.department, i.deadline) for i in items] == [
        ("task", "tax", date(2026, 10, 9)),
        ("objection", "tax", date(2026, 10, 20)),
    ]
    assert watch_items("S", {"designations": [{**D, "state": "revoked", "objections": []}]}) == []


RULES = ReminderRules(timedelta(0), timedelta(days=3), timedelta(days=2))


def _task(due: date) -> WatchItem:
    return WatchItem("task:d1:m:mnr", "task", "S", "d1", "mnr", "m", due)


def test_an_overdue_task_is_reminded_then_escalated() -> None:
    due = date(2026, 10, 9)
    end = start_of_china_day(due + timedelta(days=1))  # 24:00 China time on the last day
    assert on_clock(_task(due), end - timedelta(seconds=1), RULES) == []
    [reminder] = on_clock(_task(due), end, RULES)
    assert (reminder.kind, reminder.recipient) == ("task_overdue", "mnr")
    later = on_clock(_task(due), end + timedelta(days=3), RULES)
    assert [(n.kind, n.recipient) for n in later] == [
        ("task_overdue", "mnr"),
        ("task_escalated", "ops"),
    ]
    assert "mnr" in later[1].text_en
    assert "d1" in later[1].text_zh


def test_an_objection_deadline_nears_then_passes() -> None:
    due = date(2026, 10, 20)
    item = WatchItem("objection:o1", "objection", "S", "d1", "tax", None, due)
    end = start_of_china_day(due + timedelta(days=1))
    assert on_clock(item, end - timedelta(days=3), RULES) == []
    [near] = on_clock(item, end - timedelta(days=1), RULES)
    assert (near.kind, near.recipient) == ("objection_deadline_nearing", "tax")
    [passed] = on_clock(item, end, RULES)
    assert passed.kind == "objection_deadline_passed"
