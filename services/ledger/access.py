"""Who sees what in the ledger's answers.

- Auditor and ops tokens see everything; only principals with
  `sees_identity_numbers` (the auditor) see personal identity numbers in clear.
- A department sees what *concerns* it: a designation concerns a department when the
  department made it (`designated_by`) or holds one of its tasks (the measures it must
  apply, after any amendment). Events concern it when they belong to such a
  designation, or are its own feedback. A subject's `restricted` flag is shown to
  every caller as it is (应查必查: every department must be able to ask whether a
  subject is restricted, and public lists show it anyway); the designations and
  measures behind it only when they concern the caller.
- Personal identity numbers (resident ids, passports) are masked wherever they appear
  in an answer — the subject id, identifier lists, related persons, event payloads —
  by the domain's `mask`, unless the principal may see them: the domain's
  `sees_in_clear` (auditors; and the department that designated the subject, for its
  own designations: it supplied the numbers). Within an answer, a part that carries a
  `designation_id` is shown as that designation's designator may see it; the rest of
  the answer in clear when the caller designated any designation the answer shows.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

import orjson
from pydantic import TypeAdapter

from shared.domain.identifiers import (
    mask_personal_numbers,
    mask_personal_numbers_json,
    sees_in_clear,
)
from shared.domain.status_view import SubjectStatus
from shared.web.access_matrix import SERVICE_ROUTES, Route, Rule, guarded, public
from shared.web.auth import Principal

Designators = Mapping[str, str]
"""Designation id → the department that designated it."""


def shown(principal: Principal | None, value: Any, designators: Designators | None = None) -> Any:
    """`value` as `principal` may see it (None: the public); `designators` names who
    designated the designations the answer shows."""
    if principal is not None and principal.sees_identity_numbers:
        return value
    department = None if principal is None else principal.department
    known = designators or {}
    own = any(_clear(department, by) for by in known.values())
    return _shown(value, own, department, known)


def shown_json(
    principal: Principal | None, value: Any, designators: Designators | None = None
) -> bytes:
    """`shown(principal, value, designators)` serialised (orjson). Why: for a caller
    without a department nothing is in clear but what it may see anyway, so the
    masking is one pass over the serialised answer
    (`mask_personal_numbers_json`) instead of a walk of a tree that for a long
    history is megabytes (the largest cost of such a read, docs/benchmarks.md)."""
    if principal is not None and principal.sees_identity_numbers:
        return orjson.dumps(value)
    if principal is None or principal.department is None:
        return mask_personal_numbers_json(orjson.dumps(value))
    return orjson.dumps(shown(principal, value, designators))


def _clear(department: str | None, designated_by: str) -> bool:
    return sees_in_clear(privileged=False, department=department, designated_by=designated_by)


def _shown(value: Any, clear: bool, department: str | None, designators: Designators) -> Any:
    if isinstance(value, dict):
        designation = value.get("designation_id")
        if isinstance(designation, str) and designation in designators:
            clear = _clear(department, designators[designation])
        return {k: _shown(v, clear, department, designators) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_shown(v, clear, department, designators) for v in value]
    return value if clear else mask_personal_numbers(value)


def designators_in(payloads: Iterable[Mapping[str, Any]]) -> dict[str, str]:
    """Who designated what, from event payloads (the issuing events name `designated_by`)."""
    found: dict[str, str] = {}
    for payload in payloads:
        data = payload.get("data") or {}
        if isinstance(data.get("designated_by"), str) and data.get("designation_id"):
            found[str(data["designation_id"])] = data["designated_by"]
    return found


def concerns(department: str, designated_by: str, task_departments: Iterable[str]) -> bool:
    return department == designated_by or department in set(task_departments)


def status_for(principal: Principal, status: SubjectStatus) -> dict[str, Any]:
    """The status document `principal` may see."""
    doc, designators = _status_doc(principal, status)
    shown_doc: dict[str, Any] = shown(principal, doc, designators)
    return shown_doc


_STATUS_JSON = TypeAdapter(SubjectStatus)


def status_json(principal: Principal, status: SubjectStatus) -> bytes:
    """`status_for` serialised (`shown_json` says why). A caller without a department
    sees every designation: the status is serialised by pydantic-core straight to
    JSON, the same bytes as `orjson.dumps(status.model_dump(mode="json"))` (tested)
    without building the dict first — for a subject with a long history that dict
    cost more than the JSON (a 2.6 MB status: 17 ms model_dump + 3 ms orjson against
    10 ms; docs/benchmarks.md, Ledger)."""
    if principal.department is None:
        raw = _STATUS_JSON.dump_json(status)
        return raw if principal.sees_identity_numbers else mask_personal_numbers_json(raw)
    return shown_json(principal, *_status_doc(principal, status))


def _status_doc(principal: Principal, status: SubjectStatus) -> tuple[dict[str, Any], Designators]:
    doc: dict[str, Any] = status.model_dump(mode="json")
    department = principal.department
    if department is not None:
        visible = {
            str(d.designation_id)
            for d in status.designations
            if concerns(department, d.designated_by, (t.department for t in d.tasks))
        }
        doc["designations"] = [d for d in doc["designations"] if d["designation_id"] in visible]
        for key in ("measures_in_force", "incentives_in_force"):
            doc[key] = [m for m in doc[key] if m["designation_id"] in visible]
    designators = {str(d.designation_id): d.designated_by for d in status.designations}
    return doc, designators


ACCESS: Mapping[Route, Rule] = {
    **SERVICE_ROUTES,
    # every token reads; a department sees what concerns it (the restricted flag always)
    ("GET", "/v1/subjects/{subject_id}/status"): guarded(),
    ("GET", "/v1/subjects/{subject_id}/history"): guarded(),
    ("GET", "/v1/subjects/{subject_id}/history/verify"): guarded(),
    ("GET", "/v1/subjects/{subject_id}/timeline"): guarded(),
    # a designation that does not concern the department does not exist for it
    ("GET", "/v1/designations/{designation_id}"): guarded(other=404),
    ("GET", "/v1/changes"): guarded(),
    ("GET", "/v1/public/lists/{list_type}"): public(),
    ("GET", "/v1/stats/departments"): guarded(),
    ("GET", "/v1/stats/overview"): guarded(),
    ("GET", "/v1/stats/tiles"): guarded(),
    ("GET", "/v1/stats/designations/daily"): guarded(),
    ("GET", "/v1/stats/interceptions/daily"): guarded(),
    ("GET", "/v1/stats/departments/{department}/overdue"): guarded(),
    ("GET", "/v1/stats/stream"): guarded(),
    # the dashboard's page and assets hold no data: its calls carry the token
    ("GET", "/dashboard"): public(),
    ("GET", "/dashboard/"): public(),
    ("GET", "/dashboard/assets/{name}"): public(),
}
"""The ledger's authorization matrix (shared/web/access_matrix)."""
