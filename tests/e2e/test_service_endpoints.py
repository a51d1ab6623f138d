"""Every service: health, readiness, metrics and its OpenAPI document."""

from __future__ import annotations

import httpx
import pytest

from tests.support.stack import SERVICES, Stack

pytestmark = pytest.mark.e2e


@pytest.mark.parametrize("name", SERVICES)
def test_health_readiness_metrics_openapi(stack: Stack, name: str) -> None:
    base = stack.url(name)
    assert httpx.get(f"{base}/healthz").json() == {"status": "ok", "service": name}
    ready = httpx.get(f"{base}/readyz")
    assert ready.status_code == 200, ready.text
    own = {"data": "ok"} if name == "responder" else {}  # caught up with the broker once
    assert ready.json()["checks"] == {"postgres": "ok", "kafka": "ok", **own}
    metrics = httpx.get(f"{base}/metrics")
    assert metrics.status_code == 200
    assert "http_requests_total" in metrics.text
    openapi = httpx.get(f"{base}/openapi.json").json()
    assert openapi["info"]["title"] == f"jsb {name}"


def test_unauthenticated_calls_get_a_problem_document(stack: Stack) -> None:
    r = httpx.get(stack.url("ledger") + "/v1/subjects/91350100M000100Y43/history")
    assert r.status_code == 401
    assert r.headers["content-type"].startswith("application/problem+json")
    body = r.json()
    assert body["status"] == 401
    assert body["type"].endswith("unauthorized")


def test_readiness_names_what_is_unreachable(stack: Stack, tmp_path) -> None:  # type: ignore[no-untyped-def]
    import time

    from tests.support.stack import ServiceProcess, free_port

    ledger = stack.services["ledger"]
    env = {**ledger.env, "KAFKA_BOOTSTRAP_SERVERS": f"127.0.0.1:{free_port()}"}
    lonely = ServiceProcess("ledger", free_port(), env, tmp_path / "ledger.log")
    lonely.start(wait=False)
    try:
        deadline = time.monotonic() + 30
        while True:
            try:
                r = httpx.get(lonely.url + "/readyz", timeout=10)
                break
            except httpx.HTTPError:
                assert time.monotonic() < deadline, lonely.tail()
                time.sleep(0.2)
        assert r.status_code == 503
        checks = r.json()["checks"]
        assert checks["postgres"] == "ok"
        assert checks["kafka"].startswith("unavailable")
        assert httpx.get(lonely.url + "/healthz").status_code == 200
    finally:
        lonely.stop()


def test_correlation_id_is_echoed_or_made(stack: Stack) -> None:
    given = httpx.get(stack.url("ledger") + "/healthz", headers={"X-Correlation-Id": "abc-123"})
    assert given.headers["x-correlation-id"] == "abc-123"
    made = httpx.get(stack.url("ledger") + "/healthz")
    assert len(made.headers["x-correlation-id"]) == 32
