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


def _task_key(task: Json) -> str:
    return f"{task['measure']}|{task['department']}"


def basis(status: Json) -> dict[str, Any]:
    """What `changes` reads of a previous status, by designation id: its state, how
    many amendments and repairs, each objection's status, each task's count of
    feedback and interceptions. JSON, a few hundred bytes a designation: the Postgres
    adapter builds the same from the stored status (subject_views.py `_BASES`), so
    ingest reads this, not the whole ~25 kB status, for each subject of a batch."""
    return {
        str(d["designation_id"]): {
            "state": d["state"],
            "amendments": len(d.get("amendments", ())),
            "repairs": len(d.get("repairs", ())),
            "objections": {str(o["objection_id"]): o["status"] for o in d.get("objections", ())},
            "tasks": {
                _task_key(t): [len(t.get("feedback", ())), int(t.get("interceptions", 0))]
                for t in d.get("tasks", ())
            },
        }
        for d in status.get("designations", ())
    }


_NEW: Json = {"state": "pending", "amendments": 0, "repairs": 0, "objections": {}, "tasks": {}}


def changes(previous: Json | None, current: Json) -> list[Change]:
    """The changes from `previous` (None: the first status seen) to `current`."""
    return changes_since(basis(previous) if previous is not None else None, current)


def changes_since(previous: Json | None, current: Json) -> list[Change]:
    """The changes to `current` from a previous status's `basis` (None: the first)."""
    before = previous or {}
    out: list[Change] = []
    for d in current.get("designations", ()):
        out.extend(_designation_changes(before.get(str(d["designation_id"])), d))
    return out


def _designation_changes(old: Json | None, new: Json) -> list[Change]:
    found = [Change("jsb.designation.issued", new)] if old is None else []
    old = old if old is not None else _NEW
    if len(new.get("amendments", ())) > old["amendments"]:
        found.append(Change("jsb.designation.amended", new, {"n": len(new["amendments"])}))
    found.extend(_objection_changes(old, new))
    for n in range(old["repairs"], len(new.get("repairs", ()))):
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
    before = old["objections"]
    for o in new.get("objections", ()):
        prior = before.get(str(o["objection_id"]))
        if prior is None:
            found.append(Change("jsb.objection.filed", new, {"objection": o}))
        if o["status"] != "open" and (prior is None or prior == "open"):
            found.append(Change("jsb.objection.resolved", new, {"objection": o}))
    return found


def _task_changes(old: Json, new: Json) -> list[Change]:
    found = []
    before = old["tasks"]
    for t in new.get("tasks", ()):
        feedback, interceptions = before.get(_task_key(t), (0, 0))
        for f in t.get("feedback", ())[feedback:]:
            found.append(Change(f"jsb.feedback.{f['kind']}", new, {"task": t, "feedback": f}))
        grown = int(t.get("interceptions", 0)) - int(interceptions)
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
