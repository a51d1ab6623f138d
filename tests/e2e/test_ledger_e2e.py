"""The ledger as departments, auditors and the public use it, behind the real
initiator and responder: designate over HTTP, then read status (by any identifier),
the designation with its feedback, the publicity list, the statistics, the status
stream and the chain; revoke, and watch the entry leave the public list."""

from __future__ import annotations

import asyncio
import json
from typing import Any

import httpx
import pytest

from shared.domain.identifiers import mask, org_code_of_uscc
from tests.support.ledger_harness import read_topic
from tests.support.poll import until
from tests.support.stack import Stack
from tests.support.subjects import new_resident_id, new_uscc

pytestmark = pytest.mark.e2e

LIST_TYPE = "tax.major-violation"


def _get(stack: Stack, path: str, as_: str | None = "auditor", **params: Any) -> Any:
    with stack.client("ledger", as_=as_) as c:
        r = c.get(path, params=params)
    assert r.status_code == 200, r.text
    return r.json()


def test_a_designation_seen_through_the_ledger(stack: Stack) -> None:
    org, person = new_uscc(), new_resident_id()
    body = {
        "subject": {"id": org, "name": "某某贸易有限公司"},
        "list_type": LIST_TYPE,
        "level": "especially_serious",
        "reason": "虚开增值税专用发票",
        "decision_no": "税稽罚〔2026〕9号",
        "decided_at": "2026-11-20",
        "legal_basis": [{"title": "重大税收违法失信主体信息公布管理办法", "article": "第六条"}],
        "related_persons": [{"id": person, "name": "张三", "role": "legal_representative"}],
    }
    with stack.client("initiator", as_="tax") as initiator:
        created = initiator.post("/v1/designations", json=body)
    assert created.status_code == 201, created.text
    designation = created.json()
    designation_id = designation["designation_id"]
    tasks = {(t["measure"], t["department"]) for t in designation["tasks"]}

    # the responder reports every task; the ledger folds the feedback onto the tasks
    shown = until(
        lambda: httpx.get(
            f"{stack.url('ledger')}/v1/designations/{designation_id}",
            headers={"Authorization": f"Bearer {stack.tokens['tax']}"},
        ),
        lambda r: r.status_code == 200 and {t["state"] for t in r.json()["tasks"]} == {"executed"},
        timeout_s=60,
    ).json()
    assert {(t["measure"], t["department"]) for t in shown["tasks"]} == tasks
    assert all(t["deadline"] and t["feedback"] for t in shown["tasks"])
    assert shown["state"] == "in_force"

    # any identifier finds the subject, including the organisation code inside the USCC
    status = _get(stack, f"/v1/subjects/{org_code_of_uscc(org)}/status", as_="ops")
    assert status["subject_id"] == org
    assert status["restricted"] is True
    assert {m["designation_id"] for m in status["measures_in_force"]} == {designation_id}

    # the related person: masked for everyone but the auditor
    related = designation["related_designations"][0]
    assert related["subject_id"] in (person, mask(person))
    seen = until(
        lambda: _get(stack, f"/v1/subjects/{person}/status", as_="ops"),
        lambda s: len(s["designations"]) == 1,
        timeout_s=30,
    )
    assert seen["subject_id"] == mask(person)
    assert person not in json.dumps(seen)
    assert _get(stack, f"/v1/subjects/{person}/status")["subject_id"] == person

    # the public list is a projection: it follows the events within the projection
    # delay (docs/ledger.md, "Projections: the projector")
    public = until(
        lambda: httpx.get(
            f"{stack.url('ledger')}/v1/public/lists/{LIST_TYPE}", params={"limit": 1000}
        ),
        lambda r: (
            r.status_code != 200
            or related["designation_id"] in {e["designation_id"] for e in r.json()["entries"]}
        ),
        timeout_s=30,
    )
    assert public.status_code == 200  # no token: it is public
    entries = {e["designation_id"]: e for e in public.json()["entries"]}
    assert entries[designation_id]["subject_id"] == org
    assert entries[related["designation_id"]]["subject_id"] == mask(person)
    assert person not in public.text

    stats = until(
        lambda: {r["department"]: r for r in _get(stack, "/v1/stats/departments")["departments"]},
        lambda st: all(st.get(d, {}).get("answered", 0) >= 1 for _, d in tasks),
        timeout_s=30,
    )
    for _, department in tasks:
        assert stats[department]["answered"] >= 1
    assert _get(stack, "/v1/stats/overview", as_="ops")["designations"]["in_force"] >= 1

    # revocation: the status stream says so, and the entry leaves the public list
    with stack.client("initiator", as_="tax") as initiator:
        r = initiator.post(
            f"/v1/designations/{designation_id}/revocation", json={"reason": "认定错误"}
        )
    assert r.status_code == 200, r.text
    revoked = until(
        lambda: _get(stack, f"/v1/subjects/{org}/status"),
        lambda s: s["designations"][0]["state"] == "revoked",
        timeout_s=30,
    )
    assert revoked["restricted"] is False
    public = until(
        lambda: httpx.get(
            f"{stack.url('ledger')}/v1/public/lists/{LIST_TYPE}", params={"limit": 1000}
        ),
        lambda r: designation_id not in {e["designation_id"] for e in r.json()["entries"]},
        timeout_s=30,
    )
    assert designation_id not in {e["designation_id"] for e in public.json()["entries"]}

    history = _get(stack, f"/v1/subjects/{org}/history")["events"]
    revocation = next(e for e in history if e["type"] == "jsb.designation.revoked")

    def streamed() -> list[dict[str, Any]]:
        records = asyncio.run(read_topic(stack.infra, "jsb.status.v1" + stack.topic_suffix))
        return [json.loads(r.value) for r in records if r.key == org.encode()]

    def since_revocation() -> list[dict[str, Any]]:
        """The messages caused by the revocation or a later event of the org: the
        projector publishes one status per projection, caused by the last event it
        projected, so answers that came with the revocation share its message."""
        events = [e["event_id"] for e in _get(stack, f"/v1/subjects/{org}/history")["events"]]
        later = set(events[events.index(revocation["event_id"]) :])
        return [m for m in streamed() if m["data"]["caused_by"] in later]

    messages = until(since_revocation, bool, timeout_s=30)
    last = messages[0]
    assert last["data"]["designations"][0]["state"] == "revoked"
    assert _get(stack, f"/v1/subjects/{org}/history/verify")["ok"] is True
