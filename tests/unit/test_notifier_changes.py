"""What changed between two statuses, named as event types; filters over them."""

from __future__ import annotations

import copy
from typing import Any

from services.notifier.changes import changes, facets
from services.notifier.filters import Filters, passes


def _designation(**over: Any) -> dict[str, Any]:
    d: dict[str, Any] = {
        "designation_id": "d1",
        "list_type": "tax.major-violation",
        "polarity": "sanction",
        "state": "in_force",
        "designated_by": "tax",
        "issued_at": "2026-11-27T02:00:00+00:00",
        "objections": [],
        "amendments": [],
        "repairs": [],
        "tasks": [
            {
                "measure": "m1",
                "department": "tax",
                "state": "pending",
                "deadline": "2026-12-04",
                "feedback": [],
                "interceptions": 0,
            },
        ],
    }
    d.update(over)
    return d


def _status(*designations: dict[str, Any]) -> dict[str, Any]:
    return {"subject_id": "S", "subject_kind": "organization", "designations": list(designations)}


def test_a_first_status_is_an_issue() -> None:
    found = changes(None, _status(_designation()))
    assert [c.type for c in found] == ["jsb.designation.issued"]


def test_feedback_objections_repairs_and_endings_are_named() -> None:
    before = _status(_designation())
    after = copy.deepcopy(before)
    d = after["designations"][0]
    d["tasks"][0]["feedback"] = [{"kind": "executed", "at": "2026-11-27T03:00:00+00:00"}]
    d["tasks"][0]["interceptions"] = 2
    d["objections"] = [{"objection_id": "o1", "status": "rejected"}]
    d["repairs"] = [{"granted": True, "at": "2026-11-27T04:00:00+00:00"}]
    d["amendments"] = [{"at": "x"}]
    d["state"] = "revoked"
    types = [c.type for c in changes(before, after)]
    assert types == [
        "jsb.designation.amended",
        "jsb.objection.filed",
        "jsb.objection.resolved",
        "jsb.repair.granted",
        "jsb.designation.revoked",
        "jsb.feedback.executed",
        "jsb.feedback.intercepted",
    ]
    assert changes(after, after) == []


def test_facets_and_filters() -> None:
    status = _status(_designation())
    f = facets(status, changes(None, status))
    assert f == {
        "list_types": ["tax.major-violation"],
        "polarities": ["sanction"],
        "departments": ["tax"],
        "subject_kind": "organization",
        "event_types": ["jsb.designation.issued"],
    }
    assert passes(Filters(), f, "S")
    assert passes(Filters(list_types=["tax.major-violation", "x"], polarity="sanction"), f, "S")
    assert not passes(Filters(polarity="incentive"), f, "S")
    assert not passes(Filters(event_types=["jsb.designation.revoked"]), f, "S")
    assert not passes(Filters(departments=["court"]), f, "S")
    assert not passes(Filters(subject_kind="person"), f, "S")
    assert not passes(Filters(subject_id="T"), f, "S")
