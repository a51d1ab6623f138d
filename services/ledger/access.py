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
  by the domain's `mask`, unless the principal may see them.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from shared.domain.identifiers import mask_personal_numbers
from shared.domain.status_view import SubjectStatus
from shared.web.auth import Principal


def mask_identity_numbers(value: Any) -> Any:
    """`value` (JSON-like) with every personal identity number masked (the domain's rule)."""
    return mask_personal_numbers(value)


def shown(principal: Principal | None, value: Any) -> Any:
    """`value` as `principal` may see it (None: the public)."""
    if principal is not None and principal.sees_identity_numbers:
        return value
    return mask_identity_numbers(value)


def concerns(department: str, designated_by: str, task_departments: Iterable[str]) -> bool:
    return department == designated_by or department in set(task_departments)


def status_for(principal: Principal, status: SubjectStatus) -> dict[str, Any]:
    """The status document `principal` may see."""
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
    shown_doc: dict[str, Any] = shown(principal, doc)
    return shown_doc
