"""The monthly report the documents require (by the 3rd locally, the 10th
provincially), as a pure function of subjects' statuses (the notifier keeps each
subject's latest, from jsb.status.v1) and the month's interception counts.

Definitions (a month is a calendar month in China time):
- designations by list type: issued in the month;
- per implementing department, over the tasks of designations issued in the month:
  `assigned`; `answered` (a first feedback by the end of the month); `feedback_rate`
  = answered / assigned; `overdue`: no feedback by the end of its deadline day, for
  deadlines within the month;
- objections filed in the month, by outcome, and how many of the decided ones were
  decided by their review deadline;
- repairs decided in the month, granted and refused;
- interceptions in the month per measure (growth of the counts between statuses).
"""

from __future__ import annotations

import csv
import io
from collections import Counter, defaultdict
from collections.abc import Iterable, Mapping
from datetime import date, datetime
from typing import Any

from shared.domain.china_time import china_date


def _month(value: str | None) -> str | None:
    if value is None:
        return None
    return china_date(datetime.fromisoformat(value)).strftime("%Y-%m")


def _month_end(month: str) -> date:
    year, m = (int(p) for p in month.split("-"))
    nxt = date(year + m // 12, m % 12 + 1, 1)
    return date.fromordinal(nxt.toordinal() - 1)


def monthly(
    month: str, statuses: Iterable[Mapping[str, Any]], interceptions: Mapping[str, int]
) -> dict[str, Any]:
    end = _month_end(month)
    by_list: Counter[str] = Counter()
    depts: dict[str, Counter[str]] = defaultdict(Counter)
    objections: Counter[str] = Counter()
    repairs: Counter[str] = Counter()
    for status in statuses:
        for d in status.get("designations", ()):
            if _month(d["issued_at"]) == month:
                by_list[d["list_type"]] += 1
                for t in d.get("tasks", ()):
                    _task(depts[t["department"]], t, month, end)
            for o in d.get("objections", ()):
                if _month(o["filed_at"]) == month:
                    _objection(objections, o)
            for r in d.get("repairs", ()):
                if _month(r["at"]) == month:
                    repairs["granted" if r["granted"] else "refused"] += 1
    return {
        "month": month,
        "designations_by_list_type": dict(sorted(by_list.items())),
        "departments": [
            {
                "department": dept,
                "assigned": c["assigned"],
                "answered": c["answered"],
                "feedback_rate": round(c["answered"] / c["assigned"], 4) if c["assigned"] else None,
                "overdue": c["overdue"],
            }
            for dept, c in sorted(depts.items())
        ],
        "objections": {
            "filed": objections["filed"],
            "open": objections["open"],
            "rejected": objections["rejected"],
            "upheld": objections["upheld"],
            "partially_upheld": objections["partially_upheld"],
            "answered_within_deadline": objections["within"],
        },
        "repairs": {"granted": repairs["granted"], "refused": repairs["refused"]},
        "interceptions_by_measure": dict(sorted(interceptions.items())),
    }


def _task(c: Counter[str], t: Mapping[str, Any], month: str, end: date) -> None:
    c["assigned"] += 1
    first = min((f["at"] for f in t.get("feedback", ())), default=None)
    first_day = china_date(datetime.fromisoformat(first)) if first else None
    if first_day is not None and first_day <= end:
        c["answered"] += 1
    deadline = date.fromisoformat(t["deadline"])
    if deadline <= end and (first_day is None or first_day > deadline):
        c["overdue"] += 1


def _objection(c: Counter[str], o: Mapping[str, Any]) -> None:
    c["filed"] += 1
    c[o["status"]] += 1
    if o["status"] != "open" and o.get("resolved_at"):
        decided = china_date(datetime.fromisoformat(o["resolved_at"]))
        if decided <= date.fromisoformat(o["review_deadline"]):
            c["within"] += 1


def rows(report: Mapping[str, Any]) -> list[tuple[str, str, str, Any]]:
    """The report flattened: (section, key, metric, value)."""
    out: list[tuple[str, str, str, Any]] = []
    for lt, n in report["designations_by_list_type"].items():
        out.append(("designations", lt, "issued", n))
    for d in report["departments"]:
        for metric in ("assigned", "answered", "feedback_rate", "overdue"):
            out.append(("departments", d["department"], metric, d[metric]))
    for metric, n in report["objections"].items():
        out.append(("objections", "all", metric, n))
    for metric, n in report["repairs"].items():
        out.append(("repairs", "all", metric, n))
    for measure, n in report["interceptions_by_measure"].items():
        out.append(("interceptions", measure, "count", n))
    return out


def to_csv(report: Mapping[str, Any]) -> str:
    buf = io.StringIO()
    writer = csv.writer(buf, lineterminator="\n")
    writer.writerow(["month", "section", "key", "metric", "value"])
    for row in rows(report):
        writer.writerow([report["month"], *row])
    return buf.getvalue()


def to_markdown(report: Mapping[str, Any]) -> str:
    lines = [
        f"# Monthly report {report['month']}",
        "",
        "| section | key | metric | value |",
        "|---|---|---|---|",
    ]
    lines += [f"| {s} | {k} | {m} | {'' if v is None else v} |" for s, k, m, v in rows(report)]
    return "\n".join(lines) + "\n"
