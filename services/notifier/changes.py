"""What changed between two statuses of a subject, in the event types' words.

The status stream carries the subject's whole status after a change and the id of the
event that caused it, not its type. Comparing the new status with the previous one
names each change as the event type that makes it (`jsb.designation.issued`,
`jsb.objection.resolved`, `jsb.feedback.executed`, ...): subscribers filter on those
(`event_types`), notices are planned from them. Pure: dicts in, changes out.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

Json = Mapping[str, Any]

ENDED = {
    "expired": "jsb.designation.expired",
    "exited": "jsb.exit.approved",
    "superseded": "jsb.designation.superseded",
}


@dataclass(frozen=True)
class Change:
    type: str
    designation: Json
    detail: Mapping[str, Any] = field(default_factory=dict)


def _by_id(items: Any, key: str) -> dict[str, Json]:
    return {str(i[key]): i for i in items or ()}


def _task_key(task: Json) -> str:
    return f"{task['measure']}|{task['department']}"


def changes(previous: Json | None, current: Json) -> list[Change]:
    """The changes from `previous` (None: the first status seen) to `current`."""
    before = _by_id((previous or {}).get("designations"), "designation_id")
    out: list[Change] = []
    for d in current.get("designations", ()):
        out.extend(_designation_changes(before.get(str(d["designation_id"])), d))
    return out


def _designation_changes(old: Json | None, new: Json) -> list[Change]:
    if old is None:
        found = [Change("jsb.designation.issued", new)]
        old = {"state": "pending", "objections": [], "amendments": [], "repairs": [], "tasks": []}
    else:
        found = []
    if len(new.get("amendments", ())) > len(old.get("amendments", ())):
        found.append(Change("jsb.designation.amended", new, {"n": len(new["amendments"])}))
    found.extend(_objection_changes(old, new))
    for n in range(len(old.get("repairs", ())), len(new.get("repairs", ()))):
        repair = new["repairs"][n]
        kind = "jsb.repair.granted" if repair["granted"] else "jsb.repair.refused"
        found.append(Change(kind, new, {"n": n + 1, "repair": repair}))
    if new["state"] != old["state"]:
        if new["state"] == "revoked":
            found.append(Change("jsb.designation.revoked", new))
        elif new["state"] in ENDED:
            found.append(Change(ENDED[new["state"]], new))
    found.extend(_task_changes(old, new))
    return found


def _objection_changes(old: Json, new: Json) -> list[Change]:
    found = []
    before = _by_id(old.get("objections"), "objection_id")
    for o in new.get("objections", ()):
        prior = before.get(str(o["objection_id"]))
        if prior is None:
            found.append(Change("jsb.objection.filed", new, {"objection": o}))
        if o["status"] != "open" and (prior is None or prior["status"] == "open"):
            found.append(Change("jsb.objection.resolved", new, {"objection": o}))
    return found


def _task_changes(old: Json, new: Json) -> list[Change]:
    found = []
    before = {_task_key(t): t for t in old.get("tasks", ())}
    for t in new.get("tasks", ()):
        prior = before.get(_task_key(t), {"feedback": [], "interceptions": 0})
        for f in t.get("feedback", ())[len(prior.get("feedback", ())) :]:
            found.append(Change(f"jsb.feedback.{f['kind']}", new, {"task": t, "feedback": f}))
        grown = int(t.get("interceptions", 0)) - int(prior.get("interceptions", 0))
        if grown > 0:
            found.append(Change("jsb.feedback.intercepted", new, {"task": t, "count": grown}))
    return found


def facets(status: Json, found: list[Change]) -> dict[str, Any]:
    """What subscription filters look at, for one status change."""
    designations = status.get("designations", ())
    departments = {t["department"] for d in designations for t in d.get("tasks", ())}
    departments |= {d["designated_by"] for d in designations if d.get("designated_by")}
    return {
        "list_types": sorted({d["list_type"] for d in designations}),
        "polarities": sorted({d["polarity"] for d in designations}),
        "departments": sorted(departments),
        "subject_kind": status.get("subject_kind"),
        "event_types": sorted({c.type for c in found}),
    }
