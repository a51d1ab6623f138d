"""How `POST /v1/designations/batch` shows its outcomes: an accepted item's result as
`batch.decide_chunk` built it, a refused item as its RFC 9457 problem (the same
document a single `POST /v1/designations` would answer with), beside its index.

Rendering lives at the edge so that `services/initiator/batch.py` (the service layer)
knows no web framework.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from fastapi.exceptions import RequestValidationError
from pydantic import ValidationError

from services.initiator.batch import Outcome, Refused, Result
from shared.web.problems import ProblemError, problem_of, validation_problem


def problem(refused: Refused) -> ProblemError:
    reason = refused.reason
    if isinstance(reason, ValidationError):
        return validation_problem(RequestValidationError(reason.errors()))
    return problem_of(reason)


def result(outcome: Outcome) -> Result:
    if isinstance(outcome, Refused):
        return {"index": outcome.index, **problem(outcome).document()}
    return outcome


def summary(outcomes: Sequence[Outcome]) -> dict[str, Any]:
    results = [result(o) for o in outcomes]
    accepted = sum(1 for r in results if r["status"] == 201)
    return {"accepted": accepted, "rejected": len(results) - accepted, "results": results}
