"""The edge's one mapping: every domain refusal becomes an RFC 9457 problem with the
status of shared/web/statuses.py — the domain itself knows no HTTP."""

from __future__ import annotations

import httpx
import pytest
from fastapi import FastAPI

from shared.domain.errors import (
    CommandRefused,
    ConcurrentChange,
    Conflict,
    DependencyUnavailable,
    DomainError,
    Forbidden,
    IdempotencyKeyReused,
    InvalidRequest,
    NotFound,
)
from shared.domain.rejections import Rejected, Rejection, RejectionCode
from shared.web.problems import PROBLEM_JSON, install_problem_handlers, problem_of

C = RejectionCode


def test_command_refusals_take_the_status_of_their_most_telling_code() -> None:
    mixed = CommandRefused(
        Rejected(
            rejections=(
                Rejection(code=C.INVALID_PERIOD, field="effective_until", message="before"),
                Rejection(code=C.NOT_OWN_DESIGNATION, field="department", message="not yours"),
            )
        )
    )
    problem = problem_of(mixed)
    assert (problem.status, problem.code) == (403, "invalid_period")
    assert [(e.field, e.code) for e in problem.errors] == [
        ("effective_until", "invalid_period"),
        ("department", "not_own_designation"),
    ]
    assert problem.detail == "before; not yours"


@pytest.mark.parametrize(
    ("refusal", "status", "code"),
    [
        (CommandRefused.because(C.DESIGNATION_NOT_FOUND, "designation_id", "no"), 404, None),
        (NotFound("designation_not_found", "designation_id", "no"), 404, None),
        (Conflict("ambiguous_identifier", "subject_id", "several"), 409, None),
        (Forbidden("department_required", "Authorization", "a department's token"), 403, None),
        (InvalidRequest("invalid_identifier", "subject_id", "bad", reason_code="check"), 422, None),
        (ConcurrentChange("moved"), 409, "concurrent_change"),
        (
            DependencyUnavailable("ledger_unavailable", "subject.id", "away", retry_after_s=5),
            503,
            None,
        ),
        (IdempotencyKeyReused("k"), 422, "idempotency_key_reused"),
    ],
)
async def test_one_handler_answers_every_refusal_as_a_problem(
    refusal: DomainError, status: int, code: str | None
) -> None:
    app = FastAPI()
    install_problem_handlers(app)

    @app.get("/refuse")
    async def refuse() -> None:
        raise refusal

    async with httpx.AsyncClient(
        transport=httpx.ASGITransport(app=app), base_url="http://t"
    ) as client:
        answer = await client.get("/refuse")
    assert answer.status_code == status
    assert answer.headers["content-type"] == PROBLEM_JSON
    doc = answer.json()
    expected = code or getattr(refusal, "code", None)
    assert doc["type"] == f"urn:jsb:problem:{expected}"
    assert doc["status"] == status
    assert doc["instance"] == "/refuse"
    assert doc["errors"]
    if isinstance(refusal, DependencyUnavailable):
        assert answer.headers["retry-after"] == "5"
    if isinstance(refusal, InvalidRequest):
        assert doc["errors"][0]["code"] == "check"


def test_a_refusal_may_name_several_fields_each_in_the_problem() -> None:
    both = InvalidRequest("measure_or_action", "measure", "give one", also=("action",))
    problem = problem_of(both)
    assert (problem.status, problem.code) == (422, "measure_or_action")
    assert [(e.field, e.code) for e in problem.errors] == [
        ("measure", "measure_or_action"),
        ("action", "measure_or_action"),
    ]
