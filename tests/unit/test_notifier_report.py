"""The monthly report over statuses (pure) and its CSV and Markdown forms."""

from __future__ import annotations

from typing import Any

from services.notifier.report import monthly, to_csv, to_markdown


def _d(issued: str, **over: Any) -> dict[str, Any]:
    d: dict[str, Any] = {
        "list_type": "tax.major-violation",
        "issued_at": issued,
        "tasks": [
            {
                "department": "tax",
                "deadline": "2026-11-10",
                "feedback": [{"at": "2026-11-05T01:00:00+00:00"}],
            },
            {
                "department": "pboc",
                "deadline": "2026-11-10",
                "feedback": [{"at": "2026-11-12T01:00:00+00:00"}],
            },  # late
            {"department": "pboc", "deadline": "2026-12-10", "feedback": []},  # not yet due
        ],
        "objections": [
            {
                "filed_at": "2026-11-06T01:00:00+00:00",
                "status": "rejected",
                "resolved_at": "2026-11-20T01:00:00+00:00",
                "review_deadline": "2026-11-27",
            },
            {
                "filed_at": "2026-11-07T01:00:00+00:00",
                "status": "open",
                "resolved_at": None,
                "review_deadline": "2026-11-28",
            },
        ],
        "repairs": [{"at": "2026-11-30T17:00:00+00:00", "granted": True}],  # Dec 1st in China
    }
    d.update(over)
    return d


def test_a_month_in_china_time() -> None:
    statuses = [
        {"designations": [_d("2026-11-02T01:00:00+00:00")]},
        {"designations": [_d("2026-10-31T17:00:00+00:00", list_type="court.dishonest-debtor")]},
        {"designations": [_d("2026-10-31T15:00:00+00:00")]},  # Oct 31st 23:00 China time
    ]
    r = monthly("2026-11", statuses, {"tax.restrict_invoices": 3})
    assert r["designations_by_list_type"] == {"court.dishonest-debtor": 1, "tax.major-violation": 1}
    depts = {d["department"]: d for d in r["departments"]}
    assert depts["tax"] == {
        "department": "tax",
        "assigned": 2,
        "answered": 2,
        "feedback_rate": 1.0,
        "overdue": 0,
    }
    assert depts["pboc"] == {
        "department": "pboc",
        "assigned": 4,
        "answered": 2,
        "feedback_rate": 0.5,
        "overdue": 2,
    }
    assert r["objections"] == {
        "filed": 6,
        "open": 3,
        "rejected": 3,
        "upheld": 0,
        "partially_upheld": 0,
        "answered_within_deadline": 3,
    }
    assert r["repairs"] == {"granted": 0, "refused": 0}
    assert r["interceptions_by_measure"] == {"tax.restrict_invoices": 3}
    assert monthly("2026-12", statuses, {})["repairs"] == {"granted": 3, "refused": 0}
    csv = to_csv(r).splitlines()
    assert csv[0] == "month,section,key,metric,value"
    assert "2026-11,departments,pboc,feedback_rate,0.5" in csv
    assert "| interceptions | tax.restrict_invoices | count | 3 |" in to_markdown(r)
