"""Observability of every service (issue 12, item 3), on the e2e stack's processes:
the Prometheus series the issue names, asserted by name, and JSON log lines that
carry the correlation id of the request that caused them, with no identity number."""

from __future__ import annotations

import json
from uuid import uuid4

import httpx
import pytest

from tests.support.poll import until
from tests.support.stack import SERVICES, Stack
from tests.support.subjects import new_resident_id, new_uscc

pytestmark = pytest.mark.e2e

EVERY_SERVICE = (
    "http_request_seconds",  # HTTP latency histogram
    "jsb_consumed_records",  # ingest rate
    "jsb_consumer_lag",
    "jsb_consumer_partition_lag",  # per group and partition
    "jsb_dead_letters",
    "jsb_outbox_backlog",
    "jsb_check_seconds",  # filled by the responder
    "jsb_tasks_overdue",  # filled by the ledger
    "jsb_webhook_deliveries",  # declared for the notifier
)


def _metrics(stack: Stack, name: str) -> str:
    r = httpx.get(stack.url(name) + "/metrics", timeout=10)
    assert r.status_code == 200
    return r.text


def _sample(text: str, name: str, **labels: str) -> float | None:
    want = [f'{k}="{v}"' for k, v in labels.items()]
    for line in text.splitlines():
        if line.startswith((name + "{", name + " ")) and all(w in line for w in want):
            return float(line.rsplit(" ", 1)[1])
    return None


def _designate(stack: Stack, cid: str) -> tuple[str, dict[str, object]]:
    org = new_uscc()
    body = {
        "subject": {"id": org, "name": "某观测贸易有限公司"},
        "list_type": "tax.major-violation",
        "level": "especially_serious",
        "reason": "虚开增值税专用发票",
        "decision_no": "税稽罚〔2026〕obs号",
        "decided_at": "2026-11-20",
        "related_persons": [
            {"id": new_resident_id(), "name": "张三", "role": "legal_representative"}
        ],
    }
    with stack.client("initiator", as_="tax") as c:
        r = c.post(
            "/v1/designations",
            json=body,
            headers={"Idempotency-Key": uuid4().hex, "X-Correlation-Id": cid},
        )
    assert r.status_code == 201, r.text
    return org, r.json()


def test_every_service_exposes_the_named_series(stack: Stack) -> None:
    org, designation = _designate(stack, uuid4().hex)
    task = designation["tasks"][0]  # type: ignore[index]
    # a check that blocks: latency and the interception are counted by the responder
    until(
        lambda: httpx.post(
            stack.url("responder") + "/v1/checks",
            json={"subject_id": org, "measure": task["measure"]},
            headers={"Authorization": f"Bearer {stack.tokens[task['department']]}"},
        ).json(),
        lambda answer: answer.get("decision") == "block",
        timeout_s=60,
        every_s=0.5,
    )
    for name in SERVICES:
        text = _metrics(stack, name)
        missing = [m for m in EVERY_SERVICE if f"# TYPE {m}" not in text]
        assert not missing, (name, missing)
    responder = _metrics(stack, "responder")
    assert (_sample(responder, "jsb_check_seconds_count") or 0) >= 1
    assert (_sample(responder, "responder_checks_total", decision="block") or 0) >= 1
    ledger = until(
        lambda: _metrics(stack, "ledger"),
        lambda text: (
            _sample(
                text,
                "jsb_consumer_partition_lag",
                group=f"jsb.ledger{stack.topic_suffix}.designations",
            )
            is not None
            and (
                _sample(text, "jsb_consumed_records_total", consumer="ledger.ingest.designations")
                or 0
            )
            >= 1
            and _sample(text, "jsb_tasks_overdue") is not None
        ),
        timeout_s=60,
        every_s=1,
    )
    assert _sample(ledger, "jsb_outbox_backlog") is not None
    assert _sample(ledger, "http_request_seconds_count", method="GET") is not None


def _lines_with(stack: Stack, name: str, needle: str) -> list[dict[str, object]]:
    text = stack.services[name].log_path.read_text(errors="replace")
    return [json.loads(line) for line in text.splitlines() if needle in line]


def test_a_log_line_of_each_service_is_json_with_the_request_correlation_id(stack: Stack) -> None:
    person = new_resident_id()
    cids = {name: f"obs-{name}-{uuid4().hex}" for name in SERVICES}
    for name in SERVICES:
        # a path carrying a personal identity number: the line names the route template
        httpx.get(
            f"{stack.url(name)}/v1/subjects/{person}/status",
            headers={"X-Correlation-Id": cids[name], "Authorization": "Bearer nobody"},
        )
    for name in SERVICES:
        lines = until(lambda n=name: _lines_with(stack, n, cids[n]), bool, timeout_s=10)
        line = lines[0]
        assert line["service"] == name
        assert line["correlation_id"] == cids[name]
        assert line["level"] == "info"
        assert {"time", "message"} <= line.keys()
        log = stack.services[name].log_path.read_text(errors="replace")
        assert person not in log
    # a designation's correlation id travels in its envelope: the ledger's and the
    # responder's consumers log the batch that applied it under the same id
    cid = f"obs-flow-{uuid4().hex}"
    _designate(stack, cid)
    for name in ("initiator", "responder", "ledger"):
        lines = until(lambda n=name: _lines_with(stack, n, cid), bool, timeout_s=60, every_s=0.5)
        assert all(line["correlation_id"] == cid for line in lines), lines
        assert {line["service"] for line in lines} == {name}
