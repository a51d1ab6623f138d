"""The authorization matrix (issue 13, part 6): every route of every service × every
kind of caller gets the status its service's table (`services/<name>/access.py`,
`ACCESS`) states, over HTTP, on real processes reading hashed tokens. A route without
an entry, or an entry without a route, fails; so does a route without a sample request
here."""

from __future__ import annotations

import importlib
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

import httpx
import pytest

from shared.web.access_matrix import PASSES, Caller, Route, Rule, routes_of
from shared.web.auth import AUDITOR, OPS
from tests.reliability.sec_stack import EXPIRED, REVOKED, World, world  # noqa: F401
from tests.support import initiator_bodies as bodies
from tests.support.stack import SERVICES

pytestmark = pytest.mark.e2e


@dataclass(frozen=True)
class Sample:
    """A well-formed request to a route, and which departments are right and other."""

    path: str
    body: Any = None
    params: dict[str, str] = field(default_factory=dict)
    right: str = "tax"
    other: str = "court"
    stream: bool = False


def samples(w: World) -> dict[str, dict[Route, Sample]]:
    d, subject, task = w.designation_id, w.subject_id, w.task_id
    holder, bystander = w.task_department, w.bystander
    common: dict[Route, Sample] = {
        ("GET", "/healthz"): Sample("/healthz"),
        ("GET", "/readyz"): Sample("/readyz"),
        ("GET", "/metrics"): Sample("/metrics"),
        ("GET", "/openapi.json"): Sample("/openapi.json"),
        ("GET", "/docs"): Sample("/docs"),
        ("GET", "/docs/oauth2-redirect"): Sample("/docs/oauth2-redirect"),
        ("GET", "/redoc"): Sample("/redoc"),
    }
    on_d = f"/v1/designations/{d}"
    initiator = {
        ("POST", "/v1/designations"): Sample("/v1/designations", bodies.designation()),
        ("POST", "/v1/designations/batch"): Sample(
            "/v1/designations/batch", {"designations": [bodies.designation()]}
        ),
        ("GET", "/v1/designations/{designation_id}"): Sample(on_d, other=bystander),
        ("GET", "/v1/catalogue"): Sample("/v1/catalogue"),
        ("POST", "/v1/designations/{designation_id}/amendments"): Sample(
            f"{on_d}/amendments", {"changes": {"reason": "更正"}, "reason": "录入错误"}
        ),
        ("POST", "/v1/designations/{designation_id}/objections"): Sample(
            f"{on_d}/objections", {"raised_by": "department", "grounds": "已整改"}, right=holder
        ),
        ("POST", "/v1/objections/{objection_id}/resolution"): Sample(
            f"/v1/objections/{w.objection_id}/resolution", {"outcome": "upheld", "note": "维持"}
        ),
        ("POST", "/v1/designations/{designation_id}/repair"): Sample(f"{on_d}/repair", {}),
        ("POST", "/v1/designations/{designation_id}/exit"): Sample(f"{on_d}/exit", {}),
        ("POST", "/v1/designations/{designation_id}/exit/approval"): Sample(
            f"{on_d}/exit/approval", {}
        ),
        # last: it closes the designation
        ("POST", "/v1/designations/{designation_id}/revocation"): Sample(
            f"{on_d}/revocation", {"reason": "撤销"}
        ),
    }
    responder = {
        ("POST", "/v1/checks"): Sample("/v1/checks", {"subject_id": subject}, right=holder),
        ("GET", "/v1/tasks"): Sample("/v1/tasks", params={"state": "pending"}, right=holder),
        ("GET", "/v1/tasks/{task_id}"): Sample(f"/v1/tasks/{task}", right=holder, other=bystander),
        ("POST", "/v1/tasks/{task_id}/feedback"): Sample(
            f"/v1/tasks/{task}/feedback", {"outcome": "executed"}, right=holder, other=bystander
        ),
        ("GET", "/v1/restrictions/{subject_id}"): Sample(
            f"/v1/restrictions/{subject}",
            params={"department": holder},
            right=holder,
            other=bystander,
        ),
    }
    s = f"/v1/subjects/{subject}"
    ledger = {
        ("GET", "/v1/subjects/{subject_id}/status"): Sample(f"{s}/status"),
        ("GET", "/v1/subjects/{subject_id}/history"): Sample(f"{s}/history"),
        ("GET", "/v1/subjects/{subject_id}/history/verify"): Sample(f"{s}/history/verify"),
        ("GET", "/v1/subjects/{subject_id}/timeline"): Sample(f"{s}/timeline"),
        ("GET", "/v1/designations/{designation_id}"): Sample(on_d, other=bystander),
        ("GET", "/v1/changes"): Sample("/v1/changes", params={"after": "0"}),
        ("GET", "/v1/public/lists/{list_type}"): Sample(f"/v1/public/lists/{bodies.TAX}"),
        ("GET", "/v1/stats/departments"): Sample("/v1/stats/departments"),
        ("GET", "/v1/stats/overview"): Sample("/v1/stats/overview"),
        ("GET", "/v1/stats/tiles"): Sample("/v1/stats/tiles"),
        ("GET", "/v1/stats/designations/daily"): Sample("/v1/stats/designations/daily"),
        ("GET", "/v1/stats/interceptions/daily"): Sample("/v1/stats/interceptions/daily"),
        ("GET", "/v1/stats/departments/{department}/overdue"): Sample(
            f"/v1/stats/departments/{holder}/overdue", right=holder
        ),
        ("GET", "/v1/stats/stream"): Sample("/v1/stats/stream", stream=True),
        ("GET", "/dashboard"): Sample("/dashboard"),
        ("GET", "/dashboard/"): Sample("/dashboard/"),
        ("GET", "/dashboard/assets/{name}"): Sample("/dashboard/assets/app.js"),
    }
    sub = f"/v1/subscriptions/{w.subscription_id}"
    notifier = {
        ("POST", "/v1/subscriptions"): Sample(
            "/v1/subscriptions", {"name": "m2", "url": "http://127.0.0.1:9/other"}
        ),
        ("GET", "/v1/subscriptions"): Sample("/v1/subscriptions"),
        ("GET", "/v1/subscriptions/{subscription_id}"): Sample(sub),
        ("POST", "/v1/subscriptions/{subscription_id}/secret/rotate"): Sample(
            f"{sub}/secret/rotate"
        ),
        ("POST", "/v1/subscriptions/{subscription_id}/enable"): Sample(f"{sub}/enable"),
        ("POST", "/v1/subscriptions/{subscription_id}/recover"): Sample(f"{sub}/recover", {}),
        ("GET", "/v1/deliveries"): Sample("/v1/deliveries"),
        ("POST", "/v1/deliveries/{delivery_id}/retry"): Sample("/v1/deliveries/1/retry"),
        ("GET", "/v1/notices"): Sample("/v1/notices"),
        ("GET", "/v1/stream"): Sample("/v1/stream", stream=True),
        ("GET", "/v1/reports/monthly"): Sample("/v1/reports/monthly", params={"month": "2026-11"}),
        # last: it deletes the subscription
        ("DELETE", "/v1/subscriptions/{subscription_id}"): Sample(sub),
    }
    return {
        "initiator": {**common, **initiator},
        "responder": {**common, **responder},
        "ledger": {**common, **ledger},
        "notifier": {**common, **notifier},
    }


def access_of(service: str) -> Mapping[Route, Rule]:
    table: Mapping[Route, Rule] = importlib.import_module(f"services.{service}.access").ACCESS
    return table


def routes(service: str) -> set[Route]:
    return set(routes_of(importlib.import_module(f"services.{service}.app").app))


@pytest.mark.parametrize("service", SERVICES)
def test_every_route_has_an_entry_and_every_entry_a_route(service: str) -> None:
    table = set(access_of(service))
    served = routes(service)
    assert served - table == set(), f"routes of {service} without an authorization entry"
    assert table - served == set(), f"entries of {service} without a route"
    for rule in access_of(service).values():
        assert set(rule.cells) == set(Caller), rule


def _token(w: World, caller: Caller, sample: Sample) -> str | None:
    match caller:
        case Caller.ANONYMOUS:
            return None
        case Caller.UNKNOWN_BEARER:
            return "not-a-token-" + w.tokens["tax"][:8]
        case Caller.EXPIRED_BEARER:
            return w.tokens[EXPIRED]
        case Caller.REVOKED_BEARER:
            return w.tokens[REVOKED]
        case Caller.OTHER_DEPARTMENT:
            return w.tokens[sample.other]
        case Caller.RIGHT_DEPARTMENT:
            return w.tokens[sample.right]
        case Caller.AUDITOR:
            return w.tokens[AUDITOR]
        case Caller.OPS:
            return w.tokens[OPS]
    raise AssertionError(caller)  # pragma: no cover


def _call(client: httpx.Client, method: str, sample: Sample, token: str | None) -> int:
    headers = {} if token is None else {"Authorization": f"Bearer {token}"}
    kwargs: dict[str, Any] = {"headers": headers, "params": sample.params}
    if sample.body is not None:
        kwargs["json"] = sample.body
    if sample.stream:
        with client.stream(method, sample.path, **kwargs) as r:
            return r.status_code
    return client.request(method, sample.path, **kwargs).status_code


# the right department last: its calls change the designation the others act on
ORDER = [c for c in Caller if c is not Caller.RIGHT_DEPARTMENT] + [Caller.RIGHT_DEPARTMENT]


def _matches(expected: int, got: int) -> bool:
    if expected == PASSES:
        return got not in (401, 403) and got < 500
    return got == expected


@pytest.mark.parametrize("service", SERVICES)
def test_the_matrix_over_http(world: World, service: str) -> None:  # noqa: F811
    table = access_of(service)
    requests = samples(world)[service]
    assert set(requests) == routes(service), "a route without a sample request"
    wrong: list[str] = []
    cells = 0
    with httpx.Client(base_url=world.stack.url(service), timeout=60) as client:
        for caller in ORDER:
            for route, sample in requests.items():
                expected = table[route].expected(caller)
                got = _call(client, route[0], sample, _token(world, caller, sample))
                cells += 1
                if not _matches(expected, got):
                    shown = "passes" if expected == PASSES else expected
                    wrong.append(f"{route[0]} {route[1]} as {caller}: {got}, expected {shown}")
    assert wrong == [], "\n".join(wrong)
    assert cells == len(requests) * len(Caller)
