"""Who may call what: subscriptions and deliveries are the credit office's (`ops`;
auditors may read deliveries), reports are for ops and auditors, notices and the
stream for every token (departments see their own notices). Identity numbers are
shown in clear to auditors only (shared.domain.identifiers.display)."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends

from shared.web.auth import AUDITOR, OPS, Principal
from shared.web.deps import CurrentPrincipal
from shared.web.problems import ProblemError


def _needs(*roles: str) -> object:
    def check(principal: CurrentPrincipal) -> Principal:
        if not principal.roles & set(roles):
            raise ProblemError(403, "forbidden", f"this needs the {' or '.join(roles)} token")
        return principal

    return Depends(check)


OpsPrincipal = Annotated[Principal, _needs(OPS)]
OpsOrAuditor = Annotated[Principal, _needs(OPS, AUDITOR)]
