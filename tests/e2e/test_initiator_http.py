"""The initiator over HTTP against the running stack (issue 5, "Done when"): each
endpoint's success path, each refusal as an RFC 9457 problem naming its fields, the
number of events in Kafka unchanged after every refusal, and Idempotency-Key."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any
from uuid import uuid4

import httpx
import pytest

from shared.domain.identifiers import mask
from tests.support import initiator_bodies as bodies
from tests.support.initiator_kafka import messages_about, stack_published_count
from tests.support.poll import until
from tests.support.stack import Stack
from tests.support.subjects import new_resident_id, new_uscc

pytestmark = pytest.mark.e2e

WINDOW = "jsb.exit.window_opened"


@pytest.fixture(scope="module")
def published(stack: Stack) -> Callable[[], int]:
    """Events in the session's jsb.designations topic once the outbox is drained."""
    return lambda: stack_published_count(stack)


def client(stack: Stack, as_: str | None) -> httpx.Client:
    return stack.client("initiator", as_=as_)


def assert_problem(r: httpx.Response, status: int, code: str, field: str | None) -> None:
    assert r.status_code == status, r.text
    assert r.headers["content-type"].startswith("application/problem+json")
    doc = r.json()
    assert doc["type"].endswith(":" + code)
    assert doc["status"] == status
    assert doc["title"]
    assert doc["detail"]
    assert all(set(e) == {"field", "code", "message"} for e in doc["errors"])
    if code == "validation":  # the shape of the body: pydantic's codes per field
        assert field in {e["field"] for e in doc["errors"]}, doc
    elif field is not None:
        assert (field, code) in {(e["field"], e["code"]) for e in doc["errors"]}, doc


def test_issue_show_and_catalogue(stack: Stack, published: Callable[[], int]) -> None:
    before = published()
    person = new_resident_id()
    correlation = "c-" + uuid4().hex
    body = bodies.designation(
        related_persons=[{"id": person, "name": "张三", "role": "legal_representative"}]
    )
    with client(stack, "tax") as tax:
        created = tax.post("/v1/designations", json=body, headers={"X-Correlation-Id": correlation})
        assert created.status_code == 201, created.text
        d = created.json()
        assert d["subject_id"] == body["subject"]["id"]
        assert d["list_type"] == bodies.TAX
        assert d["state"] == "in_force"
        assert d["tasks"]
        assert {"measure", "department", "mandatory"} <= set(d["tasks"][0])
        assert d["catalogue_version"]
        assert d["effective_from"]
        assert d["effective_until"]
        [related] = d["related_designations"]
        # The department that supplied the number sees it in full (issue 9, item 6)...
        assert related["subject_id"] == person
        assert [r["measure"] for r in related["reached"]]  # and what reached the person, why
        shown = tax.get(f"/v1/designations/{d['designation_id']}")
        assert shown.status_code == 200
        assert shown.json()["designation_id"] == d["designation_id"]
        person_view = tax.get(f"/v1/designations/{related['designation_id']}").json()
        assert person_view["parent_designation_id"] == d["designation_id"]
        assert person_view["subject_id"] == person
        catalogue = tax.get("/v1/catalogue")
        assert catalogue.status_code == 200
        assert catalogue.json()["version"]
    with client(stack, "ops") as ops:  # ...every other caller sees it masked
        shown = ops.get(f"/v1/designations/{d['designation_id']}")
        assert shown.status_code == 200, shown.text
        assert shown.json()["related_designations"][0]["subject_id"] == mask(person) != person
        assert person not in shown.text
        person_view = ops.get(f"/v1/designations/{related['designation_id']}").json()
        assert person_view["subject_id"] == mask(person)
    with client(stack, "auditor") as auditor:
        seen = auditor.get(f"/v1/designations/{related['designation_id']}").json()
        assert seen["subject_id"] == person  # the auditor sees identity numbers
    assert published() == before + 2  # the organisation and its legal representative
    [message] = messages_about(stack.infra.kafka, stack.topic_suffix, related["designation_id"])
    assert message["correlationid"] == correlation  # the request's, to follow it downstream


def test_amend_object_resolve_revoke(stack: Stack, published: Callable[[], int]) -> None:
    before = published()
    with client(stack, "tax") as tax:
        d = tax.post("/v1/designations", json=bodies.designation()).json()
        did = d["designation_id"]
        amended = tax.post(
            f"/v1/designations/{did}/amendments",
            json={"changes": {"reason": "更正：少缴税款"}, "reason": "录入错误"},
        )
        assert amended.status_code == 201, amended.text
        [change] = amended.json()["amendments"]
        assert change["changes"]["reason"] == {"old": "虚开增值税专用发票", "new": "更正：少缴税款"}

        objection = tax.post(
            f"/v1/designations/{did}/objections",
            json={"raised_by": "subject", "grounds": "已补缴"},
        )
        assert objection.status_code == 201, objection.text
        o = objection.json()
        assert set(o) >= {"objection_id", "review_deadline", "suspends_measures"}
        assert o["suspends_measures"] is True  # the tax regime suspends during review
        assert tax.get(f"/v1/designations/{did}").json()["state"] == "suspended"
        resolved = tax.post(
            f"/v1/objections/{o['objection_id']}/resolution",
            json={"outcome": "rejected", "note": "异议不成立"},
        )
        assert resolved.status_code == 200, resolved.text
        assert resolved.json()["state"] == "in_force"

        revoked = tax.post(
            f"/v1/designations/{did}/revocation",
            json={"reason": "认定错误", "restore_reputation": True},
        )
        assert revoked.status_code == 200, revoked.text
        assert revoked.json()["state"] == "revoked"
    # issued, amended, objection filed, objection resolved, revoked
    assert published() == before + 5


def test_repair_and_exit(stack: Stack, published: Callable[[], int]) -> None:
    before = published()
    with client(stack, "tax") as tax:
        d = tax.post("/v1/designations", json=bodies.designation()).json()
        some = d["tasks"][0]["measure"]
        partial = tax.post(
            f"/v1/designations/{d['designation_id']}/repair",
            json={"measures": [some], "note": "部分修复"},
        )
        assert partial.status_code == 200, partial.text
        assert partial.json()["lifted_measures"] == [some]
        full = tax.post(f"/v1/designations/{d['designation_id']}/repair", json={"note": "修复"})
        assert full.status_code == 200, full.text
        assert full.json()["state"] == "repaired"
    # Exit by application (work safety): the window opens 30 working days before the
    # end, so a listing ending within days may be applied for at once.
    with client(stack, "mem") as mem:
        body = bodies.designation(
            list_type=bodies.SAFETY,
            level="serious",
            decision_no="安监罚〔2026〕3号",
            effective_until=bodies.seconds_ahead(3 * 86400),
        )
        s = mem.post("/v1/designations", json=body)
        assert s.status_code == 201, s.text
        sid = s.json()["designation_id"]
        # The window is open already: the timer loop says so without being asked.
        until(
            lambda: messages_about(stack.infra.kafka, stack.topic_suffix, sid, WINDOW),
            lambda found: len(found) == 1,
        )
        applied = mem.post(f"/v1/designations/{sid}/exit", json={"note": "申请移出"})
        assert applied.status_code == 200, applied.text
        approved = mem.post(f"/v1/designations/{sid}/exit/approval", json={"note": "同意"})
        assert approved.status_code == 200, approved.text
    # tax: issued, 2 repairs; mem: issued, window opened (timer), applied, approved
    assert until(published, lambda n: n == before + 7, timeout_s=30) == before + 7


def test_retried_idempotency_key_publishes_once(stack: Stack, published: Callable[[], int]) -> None:
    body = bodies.designation()
    key = {"Idempotency-Key": "retry-" + new_uscc()}
    before = published()
    with client(stack, "tax") as tax:
        first = tax.post("/v1/designations", json=body, headers=key)
        again = tax.post("/v1/designations", json=body, headers=key)
        assert first.status_code == again.status_code == 201
        assert again.json() == first.json()
        other = tax.post("/v1/designations", json={**body, "reason": "另一"}, headers=key)
        assert_problem(other, 422, "idempotency_key_reused", "Idempotency-Key")
    assert published() == before + 1
    did = first.json()["designation_id"]
    assert len(messages_about(stack.infra.kafka, stack.topic_suffix, did)) == 1


# --- refusals ------------------------------------------------------------------------


@dataclass(frozen=True)
class Setup:
    tax_designation: str
    tax_subject: str
    market_designation: str


@pytest.fixture(scope="module")
def setup(stack: Stack) -> Setup:
    with client(stack, "tax") as tax, client(stack, "samr") as samr:
        t = tax.post("/v1/designations", json=bodies.designation()).json()
        m = samr.post(
            "/v1/designations",
            json=bodies.designation(list_type=bodies.MARKET, decision_no="市监罚〔2026〕7号"),
        ).json()
    return Setup(t["designation_id"], t["subject_id"], m["designation_id"])


def _bad_checksum() -> str:
    good = new_uscc()
    return good[:-1] + ("0" if good[-1] != "0" else "1")


Refusal = tuple[str | None, str, Callable[[Setup], dict[str, Any]], int, str, str | None]

REFUSALS: dict[str, Refusal] = {
    # name: (as, method path, body, status, code, field)
    "wrong checksum": (
        "tax", "/v1/designations", lambda s: bodies.designation(_bad_checksum()),
        422, "invalid_identifier", "subject.id",
    ),
    "unknown list type": (
        "tax", "/v1/designations", lambda s: bodies.designation(list_type="tax.nope"),
        422, "unknown_list_type", "list_type",
    ),
    "measure outside the catalogue": (
        "tax", "/v1/designations", lambda s: bodies.designation(measures=["travel.teleport"]),
        422, "measure_not_in_catalogue", "measures[0]",
    ),
    "measure above the level": (
        "tax", "/v1/designations",
        lambda s: bodies.designation(
            list_type="generic.key-watch", level="general", measures=["admin.restrict_license"]
        ),
        422, "measure_above_level", "measures[0]",
    ),
    "department not allowed": (
        "court", "/v1/designations", lambda s: bodies.designation(), 403, "department_not_allowed",
        "department",
    ),
    "another department's designation": (
        "court", "/v1/designations/{tax}/revocation", lambda s: {"reason": "不是我的"},
        403, "not_own_designation", "department",
    ),
    "incentive for a sanctioned subject": (
        "tax", "/v1/designations", lambda s: bodies.incentive(s.tax_subject),
        409, "incentive_while_sanctioned", "list_type",
    ),
    "repair in lock-out": (
        "samr", "/v1/designations/{market}/repair", lambda s: {"note": "申请修复"},
        409, "repair_in_lockout", "designation_id",
    ),
    "resolution of an unknown objection": (
        "tax", "/v1/objections/5b7f0c9e-0000-4000-8000-000000000000/resolution",
        lambda s: {"outcome": "rejected", "note": ""}, 404, "objection_not_found", "objection_id",
    ),
    "unknown designation": (
        "tax", "/v1/designations/5b7f0c9e-0000-4000-8000-000000000001/repair",
        lambda s: {"note": ""}, 404, "designation_not_found", "designation_id",
    ),
    "no token": (
        None, "/v1/designations", lambda s: bodies.designation(), 401, "unauthorized", None,
    ),
    "auditor designates": (
        "auditor", "/v1/designations", lambda s: bodies.designation(), 403,
        "department_not_allowed", "Authorization",
    ),
    "malformed body": (
        "tax", "/v1/designations", lambda s: {**bodies.designation(), "level": "extreme"},
        422, "validation", "level",
    ),
}  # fmt: skip


@pytest.mark.parametrize("name", list(REFUSALS))
def test_refusal_is_a_problem_and_publishes_nothing(
    name: str, stack: Stack, setup: Setup, published: Callable[[], int]
) -> None:
    as_, path, make_body, status, code, field = REFUSALS[name]
    path = path.format(tax=setup.tax_designation, market=setup.market_designation)
    before = published()
    with client(stack, as_) as c:
        r = c.post(path, json=make_body(setup), headers={"Idempotency-Key": "refused-" + name})
    assert_problem(r, status, code, field)
    assert published() == before
