"""Feedback as the tests count it: one report per task transition, whether it came as
a single event or as an item of `jsb.feedback.measures_reported` (which stands for the
single events of its items, one to one)."""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterator
from typing import Any

BATCH = "jsb.feedback.measures_reported"


def reports(event_type: str, data: dict[str, Any]) -> Iterator[tuple[str, dict[str, Any]]]:
    """(kind, the single event's data) for each report the event carries."""
    if event_type == BATCH:
        for item in data["items"]:
            single = {
                "designation_id": data["designation_id"],
                "department": data["department"],
                "measure": item["measure"],
                "note": item.get("note", ""),
            }
            yield item["outcome"], single
    elif event_type.startswith("jsb.feedback."):
        yield event_type.rsplit(".", 1)[1], data


def executed(history: list[dict[str, Any]]) -> Counter[tuple[str, str]]:
    """How often each (measure, department) was reported executed in a subject's ledger
    history (`GET /v1/subjects/{id}/history` entries), single events and batch items
    alike."""
    found: Counter[tuple[str, str]] = Counter()
    for entry in history:
        for kind, data in reports(str(entry["type"]), entry["event"]["data"]):
            if kind == "executed":
                found[(data["measure"], data["department"])] += 1
    return found
