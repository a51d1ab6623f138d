"""Who may call what on the initiator (the authorization matrix, shared/web/access_matrix).

Initiating departments designate onto the lists the catalogue lets them; only the
designating department amends, revokes, resolves objections, repairs and approves
exits; the auditor and ops desks designate nothing (403) but read designations.
"""

from __future__ import annotations

from collections.abc import Mapping

from shared.web.access_matrix import (
    PASSES,
    SERVICE_ROUTES,
    Route,
    Rule,
    departments_only,
    designator_only,
    guarded,
)

ACCESS: Mapping[Route, Rule] = {
    **SERVICE_ROUTES,
    # another department may not designate onto a list that is not its own
    ("POST", "/v1/designations"): designator_only(),
    # each item is decided on its own: another department's items are refused one by one
    ("POST", "/v1/designations/batch"): departments_only(other=PASSES),
    # another department may not read a designation it did not make (the ledger shows
    # it the designations whose measures it executes)
    ("GET", "/v1/designations/{designation_id}"): guarded(other=403),
    ("GET", "/v1/catalogue"): guarded(),
    ("POST", "/v1/designations/{designation_id}/amendments"): designator_only(),
    ("POST", "/v1/designations/{designation_id}/revocation"): designator_only(),
    # a department holding a task of it, or the subject through the designating one
    ("POST", "/v1/designations/{designation_id}/objections"): designator_only(),
    ("POST", "/v1/objections/{objection_id}/resolution"): designator_only(),
    ("POST", "/v1/designations/{designation_id}/repair"): designator_only(),
    ("POST", "/v1/designations/{designation_id}/exit"): designator_only(),
    ("POST", "/v1/designations/{designation_id}/exit/approval"): designator_only(),
}
