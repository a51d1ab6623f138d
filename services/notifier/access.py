"""Who may call what: subscriptions and deliveries are the credit office's (`ops`;
auditors may read deliveries), reports are for ops and auditors, notices and the
stream for every token (departments see their own notices). Identity numbers are
shown in clear to auditors only (shared.domain.identifiers.display)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Annotated

from fastapi import Depends

from shared.domain.errors import Forbidden
from shared.web.access_matrix import (
    SERVICE_ROUTES,
    Route,
    Rule,
    guarded,
    ops_only,
    ops_or_auditor,
)
from shared.web.auth import AUDITOR, OPS, Principal
from shared.web.deps import CurrentPrincipal


def _needs(*roles: str) -> object:
    def check(principal: CurrentPrincipal) -> Principal:
        if not principal.roles & set(roles):
            needed = " or ".join(roles)
            raise Forbidden("forbidden", "Authorization", f"this needs the {needed} token")
        return principal

    return Depends(check)


OpsPrincipal = Annotated[Principal, _needs(OPS)]
OpsOrAuditor = Annotated[Principal, _needs(OPS, AUDITOR)]


ACCESS: Mapping[Route, Rule] = {
    **SERVICE_ROUTES,
    ("POST", "/v1/subscriptions"): ops_only(),
    ("GET", "/v1/subscriptions"): ops_only(),
    ("GET", "/v1/subscriptions/{subscription_id}"): ops_only(),
    ("DELETE", "/v1/subscriptions/{subscription_id}"): ops_only(),
    ("POST", "/v1/subscriptions/{subscription_id}/secret/rotate"): ops_only(),
    ("POST", "/v1/subscriptions/{subscription_id}/enable"): ops_only(),
    ("POST", "/v1/subscriptions/{subscription_id}/recover"): ops_only(),
    ("GET", "/v1/deliveries"): ops_or_auditor(),
    ("POST", "/v1/deliveries/{delivery_id}/retry"): ops_only(),
    # every token; a department sees its own notices
    ("GET", "/v1/notices"): guarded(),
    ("GET", "/v1/stream"): guarded(),
    ("GET", "/v1/reports/monthly"): ops_or_auditor(),
}
"""The notifier's authorization matrix (shared/web/access_matrix)."""
