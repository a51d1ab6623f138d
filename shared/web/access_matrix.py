"""The authorization matrix: for every route of a service, what each kind of caller
gets (issue 13, part 6). Each service states its table in its `access.py`
(`ACCESS`); `tests/reliability/test_authz_matrix.py` asserts every cell over HTTP on
real processes, and fails for a route without an entry.

A cell is the status the caller gets for a well-formed request, or `PASSES`: the
caller is let in, and the answer is about the request itself (2xx, or 404/409/422
for what it names) — never 401 or 403.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any

PASSES = 0
"""Let in: any status but 401 and 403 (and never 5xx)."""


class Caller(StrEnum):
    ANONYMOUS = "no token"
    UNKNOWN_BEARER = "bad token"
    EXPIRED_BEARER = "expired token"
    REVOKED_BEARER = "revoked token"
    OTHER_DEPARTMENT = "another department"
    RIGHT_DEPARTMENT = "the right department"
    AUDITOR = "auditor"
    OPS = "ops"


UNAUTHENTICATED = (
    Caller.ANONYMOUS,
    Caller.UNKNOWN_BEARER,
    Caller.EXPIRED_BEARER,
    Caller.REVOKED_BEARER,
)


@dataclass(frozen=True)
class Rule:
    """The expected status per caller of one route."""

    cells: Mapping[Caller, int] = field(default_factory=dict)

    def expected(self, caller: Caller) -> int:
        return self.cells[caller]


def public() -> Rule:
    """No token needed: everyone passes (a token, even a bad one, is not looked at)."""
    return Rule({c: PASSES for c in Caller})


def guarded(
    *,
    right: int = PASSES,
    other: int = PASSES,
    auditor: int = PASSES,
    ops: int = PASSES,
) -> Rule:
    """A token is needed (401 without a valid one); then the cells given."""
    cells: dict[Caller, int] = dict.fromkeys(UNAUTHENTICATED, 401)
    cells.update(
        {
            Caller.RIGHT_DEPARTMENT: right,
            Caller.OTHER_DEPARTMENT: other,
            Caller.AUDITOR: auditor,
            Caller.OPS: ops,
        }
    )
    return Rule(cells)


def departments_only(*, other: int = PASSES) -> Rule:
    """Only a department's token acts here (auditor and ops: 403)."""
    return guarded(other=other, auditor=403, ops=403)


def designator_only(*, other: int = 403) -> Rule:
    """Only the department that designated the subject acts on the designation."""
    return guarded(other=other, auditor=403, ops=403)


def ops_only() -> Rule:
    return guarded(right=403, other=403, auditor=403)


def ops_or_auditor() -> Rule:
    return guarded(right=403, other=403)


Route = tuple[str, str]
"""(method, path template)."""

SERVICE_ROUTES: Mapping[Route, Rule] = {
    ("GET", "/healthz"): public(),
    ("GET", "/readyz"): public(),
    ("GET", "/metrics"): public(),
    ("GET", "/openapi.json"): public(),
    ("GET", "/docs"): public(),
    ("GET", "/docs/oauth2-redirect"): public(),
    ("GET", "/redoc"): public(),
}
"""What every service app has (shared/web/service_app.py and FastAPI's docs)."""


def routes_of(app: Any) -> Iterator[Route]:
    """Every (method, path) an app serves, through included routers (HEAD aside)."""
    yield from _walk(app.router.routes)


def _walk(routes: Any) -> Iterator[Route]:
    for route in routes:
        candidates = getattr(route, "effective_candidates", None)
        if candidates is not None:  # FastAPI's included router
            yield from _walk(candidates())
            continue
        original = getattr(route, "original_route", route)
        methods = getattr(original, "methods", None) or ()
        path = getattr(route, "path", None)
        if path is None:
            continue
        for method in sorted(methods):
            if method != "HEAD":
                yield (method, path)
