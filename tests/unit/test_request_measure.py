"""What every service app leaves of a request for an operator (shared/web/measure.py):
the correlation id on the response, one JSON log line with its fields (none for the
routes machines poll, none below INFO), and the HTTP metrics by route template."""

from __future__ import annotations

import json
import logging
from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager
from typing import Any

import httpx
import pytest
from fastapi import FastAPI
from prometheus_client import CollectorRegistry
from prometheus_client.parser import text_string_to_metric_families

from shared.adapters.observability import configure_logging
from shared.adapters.settings import ServiceSettings
from shared.web.service_app import create_service_app


@asynccontextmanager
async def _nothing(app: FastAPI) -> AsyncIterator[None]:
    yield


@pytest.fixture(autouse=True)
def _restore_logging() -> Iterator[None]:
    root = logging.getLogger()
    saved = (list(root.handlers), root.level)
    yield
    root.handlers[:], level = saved[0], saved[1]
    root.setLevel(level)


@pytest.fixture
def app() -> FastAPI:
    app = create_service_app(name="measured", settings=ServiceSettings(), lifespan=_nothing)

    @app.post("/v1/checks")
    async def check(body: dict[str, Any]) -> dict[str, str]:
        return {"decision": "allow"}

    @app.get("/v1/subjects/{subject_id}")
    async def subject(subject_id: str) -> dict[str, str]:
        return {"ok": "yes"}

    return app


async def _request(app: FastAPI, method: str, url: str, **kw: Any) -> httpx.Response:
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://measured") as client:
        return await client.request(method, url, **kw)


def _sample(app: FastAPI, name: str, **labels: str) -> float | None:
    registry: CollectorRegistry = app.state.metrics
    return registry.get_sample_value(name, labels)


def _lines(captured: str) -> list[dict[str, Any]]:
    return [json.loads(line) for line in captured.splitlines() if line.startswith("{")]


async def test_the_correlation_id_is_kept_or_made(app: FastAPI) -> None:
    given = await _request(app, "GET", "/healthz", headers={"x-correlation-id": "c" * 150})
    assert given.headers["x-correlation-id"] == "c" * 100
    made = await _request(app, "GET", "/healthz")
    assert len(made.headers["x-correlation-id"]) == 32
    int(made.headers["x-correlation-id"], 16)
    again = await _request(app, "GET", "/healthz")
    assert again.headers["x-correlation-id"] != made.headers["x-correlation-id"]


async def test_requests_are_counted_and_timed_by_route_template(app: FastAPI) -> None:
    for _ in range(3):
        assert (await _request(app, "POST", "/v1/checks", json={})).status_code == 200
    await _request(app, "GET", "/v1/subjects/110105194912310021")
    await _request(app, "GET", "/no/such/path")
    refused = await _request(app, "POST", "/v1/checks", content=b'{"a": 1, "a": 2}', headers=_JSON)
    assert refused.status_code == 422
    counted = {
        ("POST", "/v1/checks", "200"): 3,
        ("GET", "/v1/subjects/{subject_id}", "200"): 1,
        ("GET", "unmatched", "404"): 1,
        ("POST", "/v1/checks", "422"): 1,  # refused by the body guard
    }
    for (method, route, status), n in counted.items():
        labels = {"method": method, "route": route, "status": status}
        assert _sample(app, "http_requests_total", **labels) == n, labels
        timed = _sample(app, "http_request_seconds_count", method=method, route=route)
        assert timed is not None
        assert timed >= n
    assert _sample(app, "http_request_seconds_count", method="POST", route="/v1/checks") == 4
    assert _sample(app, "jsb_check_seconds_count") == 4


_JSON = {"content-type": "application/json"}


async def test_the_metrics_page_after_n_requests(app: FastAPI) -> None:
    """`GET /metrics` as Prometheus reads it, after N checks: every series of the
    request measure (the loop's own metrics, shared/adapters/loop_metrics.py) with the
    counts and cumulative buckets the library's classes would show."""
    n = 57
    for _ in range(n):
        assert (await _request(app, "POST", "/v1/checks", json={})).status_code == 200
    page = await _request(app, "GET", "/metrics")
    assert page.headers["content-type"].startswith("text/plain")
    families = {f.name: f for f in text_string_to_metric_families(page.text)}
    assert families["http_requests"].type == "counter"
    counted = {
        (s.name, s.labels.get("route"), s.labels.get("status")): s.value
        for s in families["http_requests"].samples
    }
    assert counted[("http_requests_total", "/v1/checks", "200")] == n
    assert [s.value > 0 for s in families["http_requests_created"].samples] == [True]
    for name, labels in (
        ("http_request_seconds", {"method": "POST", "route": "/v1/checks"}),
        ("jsb_check_seconds", {}),
    ):
        family = families[name]
        assert family.type == "histogram"
        mine = [s for s in family.samples if {k: s.labels[k] for k in labels} == labels]
        buckets = [s.value for s in mine if s.name == name + "_bucket"]
        assert buckets == sorted(buckets)  # cumulative
        assert buckets[-1] == n
        assert [s.labels["le"] for s in mine if s.name == name + "_bucket"][-1] == "+Inf"
        value = {s.name: s.value for s in mine if not s.name.endswith("_bucket")}
        assert value[name + "_count"] == n
        assert 0 < value[name + "_sum"] < n  # seconds, each well under one
        assert all(s.value > 0 for s in families[name + "_created"].samples)


async def test_one_log_line_per_request_with_its_fields(
    app: FastAPI, capsys: pytest.CaptureFixture[str]
) -> None:
    configure_logging("measured", "INFO")
    headers = {"x-correlation-id": "corr-1", "x-causation-id": "cause-1"}
    await _request(app, "POST", "/v1/checks", json={}, headers=headers)
    await _request(app, "GET", "/v1/subjects/110105194912310021")
    await _request(app, "GET", "/healthz")  # polled: no line
    await _request(app, "GET", "/metrics")
    lines = [line for line in _lines(capsys.readouterr().err) if line.get("logger") == "jsb.http"]
    assert len(lines) == 2, lines
    first, second = lines
    assert set(first) == {
        "method",
        "route",
        "status",
        "ms",
        "level",
        "time",
        "service",
        "correlation_id",
        "causation_id",
        "logger",
        "message",
    }
    assert (first["method"], first["route"], first["status"], first["message"]) == (
        "POST",
        "/v1/checks",
        200,
        "request",
    )
    assert (first["correlation_id"], first["causation_id"]) == ("corr-1", "cause-1")
    assert (first["level"], first["service"]) == ("info", "measured")
    assert isinstance(first["ms"], float)
    assert first["ms"] >= 0
    # the route's template: the identity number in the path is in no line
    assert second["route"] == "/v1/subjects/{subject_id}"
    assert "110105194912310021" not in json.dumps(lines)


async def test_a_correlation_id_holding_an_identity_number_is_masked_in_the_line(
    app: FastAPI, capsys: pytest.CaptureFixture[str]
) -> None:
    configure_logging("measured", "INFO")
    await _request(app, "GET", "/v1/subjects/x", headers={"x-correlation-id": "110105194912310021"})
    [line] = [x for x in _lines(capsys.readouterr().err) if x.get("logger") == "jsb.http"]
    assert "110105194912310021" not in line["correlation_id"]


async def test_no_request_line_below_info(app: FastAPI, capsys: pytest.CaptureFixture[str]) -> None:
    configure_logging("measured", "WARNING")
    await _request(app, "POST", "/v1/checks", json={})
    assert [x for x in _lines(capsys.readouterr().err) if x.get("logger") == "jsb.http"] == []
    assert _sample(app, "http_requests_total", method="POST", route="/v1/checks", status="200")
