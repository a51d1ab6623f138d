"""Property-based requests from every service's own OpenAPI (schemathesis), on the real
processes of a stack (issue 13, part 5): no 5xx, and no response that breaks the schema
the service publishes. Each operation is called with a token its authorization table
lets in, so the requests reach the handlers. Time-bounded for `make test`:
`JSB_SCHEMATHESIS_EXAMPLES` examples per operation (default 20; raise it for a longer
run). The live streams (server-sent events, which never end) are left to the matrix."""

from __future__ import annotations

import os
from collections.abc import Callable
from typing import Any

import pytest
import schemathesis
from hypothesis import HealthCheck, Phase, given, settings
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import response_schema_conformance

from shared.web.access_matrix import PASSES, Caller
from shared.web.auth import AUDITOR, OPS
from tests.reliability.sec_stack import World, world  # noqa: F401
from tests.reliability.test_authz_matrix import access_of
from tests.support.stack import SERVICES

pytestmark = pytest.mark.e2e

EXAMPLES = int(os.environ.get("JSB_SCHEMATHESIS_EXAMPLES", "20"))
STREAMS = frozenset({"/v1/stats/stream", "/v1/stream"})
FOUND: dict[str, dict[str, int]] = {}


def _caller(w: World, service: str, method: str, path: str) -> str | None:
    rule = access_of(service)[(method, path)]
    department = w.task_department if service == "responder" else "tax"
    for caller, name in (
        (Caller.RIGHT_DEPARTMENT, department),
        (Caller.OPS, OPS),
        (Caller.AUDITOR, AUDITOR),
    ):
        if rule.expected(caller) == PASSES:
            return name
    return None


def _run(
    operation: Any, base_url: str, headers: dict[str, str], seen: Callable[[int], None]
) -> None:
    @given(case=operation.as_strategy())
    @settings(
        max_examples=EXAMPLES,
        deadline=None,
        phases=[Phase.explicit, Phase.generate],
        suppress_health_check=list(HealthCheck),
        database=None,
    )
    def call(case: Any) -> None:
        response = case.call(base_url=base_url, headers=headers, timeout=60)
        seen(response.status_code)
        case.validate_response(response, checks=[not_a_server_error, response_schema_conformance])

    call()


@pytest.mark.parametrize("service", SERVICES)
def test_schemathesis_finds_no_5xx_and_no_schema_break(
    world: World,  # noqa: F811
    service: str,
) -> None:
    base_url = world.stack.url(service)
    schema = schemathesis.openapi.from_url(base_url + "/openapi.json")
    statuses: dict[int, int] = {}
    failures: list[str] = []
    operations = 0

    def seen(status: int) -> None:
        statuses[status] = statuses.get(status, 0) + 1

    for result in schema.get_all_operations():
        operation = result.ok()
        if operation.path in STREAMS:
            continue
        name = _caller(world, service, operation.method.upper(), operation.path)
        headers = {} if name is None else {"Authorization": f"Bearer {world.tokens[name]}"}
        operations += 1
        try:
            _run(operation, base_url, headers, seen)
        except (Exception, BaseExceptionGroup) as exc:
            failures.append(f"{operation.method.upper()} {operation.path}: {exc}"[:3000])
    total = sum(statuses.values())
    found = sorted(statuses.items())
    print(f"schemathesis {service}: {operations} operations, {total} requests, {found}")
    FOUND[service] = statuses
    assert failures == [], "\n\n".join(failures)
    assert not any(s >= 500 for s in statuses)
