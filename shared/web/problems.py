"""RFC 9457 problem documents for every refusal.

A problem names each bad field: `errors: [{"field", "code", "message"}]`. Field
paths are dotted (`subject.id`, `measures.2`), the codes stable (integrators branch
on them), the messages for people.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass, field
from http import HTTPStatus
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException as StarletteHTTPException

from shared.adapters.db import database_unreachable
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
    Refused,
)
from shared.web.statuses import rejected_status

log = logging.getLogger(__name__)

PROBLEM_JSON = "application/problem+json"
TYPE_BASE = "urn:jsb:problem:"


@dataclass(frozen=True)
class FieldError:
    field: str
    code: str
    message: str


@dataclass
class ProblemError(Exception):
    status: int
    code: str
    detail: str
    errors: Sequence[FieldError] = field(default_factory=tuple)
    title: str | None = None
    headers: dict[str, str] | None = None

    def document(self, instance: str | None = None) -> dict[str, Any]:
        doc: dict[str, Any] = {
            "type": TYPE_BASE + self.code,
            "title": self.title or HTTPStatus(self.status).phrase,
            "status": self.status,
            "detail": self.detail,
            "errors": [e.__dict__ for e in self.errors],
        }
        if instance:
            doc["instance"] = instance
        return doc


def problem_response(problem: ProblemError, instance: str | None = None) -> JSONResponse:
    return JSONResponse(
        problem.document(instance),
        status_code=problem.status,
        media_type=PROBLEM_JSON,
        headers=problem.headers,
    )


def _field_path(loc: Sequence[Any]) -> str:
    parts = [str(p) for p in loc]
    if parts and parts[0] in {"body", "query", "path", "header"}:
        parts = parts[1:] or parts
    return ".".join(parts)


def validation_problem(exc: RequestValidationError) -> ProblemError:
    errors = [
        FieldError(
            field=_field_path(e.get("loc", ())),
            code=str(e.get("type", "invalid")),
            message=str(e.get("msg", "invalid")),
        )
        for e in exc.errors()
    ]
    return ProblemError(
        status=422,
        code="validation",
        detail=f"{len(errors)} field(s) are invalid",
        errors=errors,
    )


_REFUSED_STATUS: dict[type[Refused], int] = {
    NotFound: 404,
    Forbidden: 403,
    Conflict: 409,
    InvalidRequest: 422,
}


def problem_of(exc: DomainError) -> ProblemError:
    """The RFC 9457 problem a domain or service-layer refusal is answered with."""
    match exc:
        case CommandRefused(rejected=rejected):
            return ProblemError(
                status=rejected_status(rejected),
                code=exc.code.value,
                detail="; ".join(r.message for r in rejected.rejections),
                errors=[FieldError(r.field, r.code.value, r.message) for r in rejected.rejections],
            )
        case Refused():
            return ProblemError(
                next(status for kind, status in _REFUSED_STATUS.items() if isinstance(exc, kind)),
                exc.code,
                exc.message,
                [FieldError(field, exc.reason_code, exc.reason) for field in exc.fields],
            )
        case DependencyUnavailable():
            after = exc.retry_after_s
            return ProblemError(
                503,
                exc.code,
                exc.message,
                [FieldError(exc.field, exc.code, exc.message)],
                headers={"Retry-After": str(after)} if after is not None else None,
            )
        case ConcurrentChange():
            return ProblemError(
                409,
                "concurrent_change",
                "another command changed the subject at the same time; send it again",
                errors=[
                    FieldError("subject", "concurrent_change", "the subject changed meanwhile")
                ],
            )
        case IdempotencyKeyReused():
            return ProblemError(
                status=422,
                code="idempotency_key_reused",
                detail="this Idempotency-Key was used for a different request",
                errors=[
                    FieldError(
                        "Idempotency-Key",
                        "idempotency_key_reused",
                        "send a new key for a new request",
                    )
                ],
            )
    raise TypeError(f"no problem document for {type(exc).__name__}")  # pragma: no cover


def install_problem_handlers(app: FastAPI) -> None:
    """The app's one mapping from exceptions to problem documents."""

    async def on_domain(request: Request, exc: Exception) -> JSONResponse:
        assert isinstance(exc, DomainError)
        return problem_response(problem_of(exc), request.url.path)

    async def on_problem(request: Request, exc: Exception) -> JSONResponse:
        assert isinstance(exc, ProblemError)
        return problem_response(exc, request.url.path)

    async def on_validation(request: Request, exc: Exception) -> JSONResponse:
        assert isinstance(exc, RequestValidationError)
        return problem_response(validation_problem(exc), request.url.path)

    async def on_http(request: Request, exc: Exception) -> JSONResponse:
        assert isinstance(exc, StarletteHTTPException)
        carried = getattr(exc, "problem", None)
        if isinstance(carried, ProblemError):  # body_guard.BodyRefused
            return problem_response(carried, request.url.path)
        problem = ProblemError(
            status=exc.status_code,
            code=HTTPStatus(exc.status_code).phrase.lower().replace(" ", "_"),
            detail=str(exc.detail),
            headers=dict(exc.headers) if exc.headers else None,
        )
        return problem_response(problem, request.url.path)

    async def on_unexpected(request: Request, exc: Exception) -> JSONResponse:
        # The details stay in the log (they may hold personal data); the caller gets
        # a problem document it can parse, and nothing was committed.
        log.exception("unhandled error on %s %s", request.method, request.url.path)
        if database_unreachable(exc):  # not the request's fault: worth retrying
            unavailable = ProblemError(
                status=503,
                code="database_unavailable",
                detail="the database cannot be reached; nothing was changed, retry later",
                headers={"Retry-After": "5"},
            )
            return problem_response(unavailable, request.url.path)
        problem = ProblemError(
            status=500, code="internal", detail="internal error; nothing was changed"
        )
        return problem_response(problem, request.url.path)

    app.add_exception_handler(DomainError, on_domain)
    app.add_exception_handler(ProblemError, on_problem)
    app.add_exception_handler(Exception, on_unexpected)
    app.add_exception_handler(RequestValidationError, on_validation)
    app.add_exception_handler(StarletteHTTPException, on_http)
