"""The plumbing end to end (issue 2): the initiator publishes a designation to
Kafka, the responder consumes it and emits feedback, the ledger stores both in
Postgres and returns them over HTTP."""

from __future__ import annotations

import itertools
from dataclasses import dataclass
from typing import Any

import httpx
import pytest

from shared.domain.catalogue.index import default_index
from tests.support.feedback_items import reports
from tests.support.poll import until
from tests.support.stack import Stack
from tests.support.subjects import new_uscc

pytestmark = pytest.mark.e2e

LIST_TYPE = "tax.major-violation"


def designation_body(subject_id: str, **overrides: Any) -> dict[str, Any]:
    body: dict[str, Any] = {
        "subject": {"id": subject_id, "name": "某某贸易有限公司"},
        "list_type": LIST_TYPE,
        "level": "especially_serious",
        "reason": "虚开增值税专用发票",
        "legal_basis": [{"title": "重大税收违法失信主体信息公布管理办法", "article": "第六条"}],
        "decision_no": "税稽罚〔2026〕1号",
        "decided_at": "2026-11-20",
    }
    body.update(overrides)
    return body


@dataclass
class Flow:
    """A designation sent to the initiator, and the ledger's history of its subject
    once the responder's feedback on every task has arrived."""

    subject: str
    created: httpx.Response
    tasks: set[tuple[str, str]]
    events: list[dict[str, Any]]


def designate_and_follow(stack: Stack) -> Flow:
    catalogue = default_index()
    designator = catalogue.list_type(LIST_TYPE).designating_departments[0]
    subject = new_uscc()

    with stack.client("initiator", as_=designator) as initiator:
        created = initiator.post("/v1/designations", json=designation_body(subject))
    assert created.status_code == 201, created.text
    tasks = {(t["measure"], t["department"]) for t in created.json()["tasks"]}

    def history() -> list[dict[str, Any]]:
        with stack.client("ledger", as_="auditor") as ledger:
            r = ledger.get(f"/v1/subjects/{subject}/history")
        assert r.status_code == 200, r.text
        events: list[dict[str, Any]] = r.json()["events"]
        return events

    def reported(ev: list[dict[str, Any]]) -> int:  # single events and batch items
        return sum(1 for e in ev for _ in reports(e["type"], e["event"]["data"]))

    events = until(history, lambda ev: reported(ev) >= len(tasks), timeout_s=60)
    return Flow(subject, created, tasks, events)


def test_designation_flows_to_responder_and_ledger(stack: Stack) -> None:
    catalogue = default_index()
    flow = designate_and_follow(stack)
    subject, created, tasks, events = flow.subject, flow.created, flow.tasks, flow.events

    assert created.status_code == 201, created.text
    designation = created.json()
    assert designation["subject_id"] == subject
    assert designation["state"] == "in_force"
    bundle = catalogue.bundle(LIST_TYPE, "especially_serious")
    # Person-only measures of the bundle reach related persons, not the organisation.
    expected = {m.code for m in bundle if "organization" in m.applies_to}
    assert expected == {m for m, _ in tasks}
    assert tasks

    types = [e["type"] for e in events]
    assert types.count("jsb.designation.issued") == 1
    # One report per task, whether single or an item of a batch (measures_reported)
    executed = [
        (data["measure"], data["department"])
        for e in events
        for kind, data in reports(e["type"], e["event"]["data"])
        if kind == "executed"
    ]
    assert len(executed) == len(tasks)
    assert set(executed) == tasks
    # Positions and the per-subject hash chain are there for auditors.
    assert [e["stream_version"] for e in events] == list(range(1, len(events) + 1))
    assert all(b["prev_hash"] == a["hash"] for a, b in itertools.pairwise(events))


def test_pipeline_metrics_show_throughput(stack: Stack) -> None:
    designate_and_follow(stack)  # traffic through every service

    def value(service: str, metric: str) -> float:
        text = httpx.get(stack.url(service) + "/metrics").text
        return sum(
            float(line.rsplit(" ", 1)[1])
            for line in text.splitlines()
            if line.startswith(metric + "{") or line.startswith(metric + " ")
        )

    assert value("ledger", "jsb_consumed_records_total") > 0
    assert value("responder", "jsb_outbox_published_total") > 0
    assert value("initiator", "jsb_outbox_published_total") > 0
