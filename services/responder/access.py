"""Who may call what on the responder (the authorization matrix,
shared/web/access_matrix): every route acts for the caller's own department (its
checks, its inbox, its restrictions); another department's task does not exist for
it (404); the auditor and ops desks execute nothing (403) but may read what a
department enforces."""

from __future__ import annotations

from collections.abc import Mapping

from shared.web.access_matrix import SERVICE_ROUTES, Route, Rule, departments_only, guarded

ACCESS: Mapping[Route, Rule] = {
    **SERVICE_ROUTES,
    ("POST", "/v1/checks"): departments_only(),
    ("GET", "/v1/tasks"): departments_only(),
    ("GET", "/v1/tasks/{task_id}"): departments_only(other=404),
    ("POST", "/v1/tasks/{task_id}/feedback"): departments_only(other=404),
    # auditor and ops name the department (`?department=`); a department sees its own only
    ("GET", "/v1/restrictions/{subject_id}"): guarded(other=403),
}
