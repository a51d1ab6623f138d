"""Issue 9 over HTTP against the running stack: the court list at its fixed level blocks
flights and high-speed rail for the debtor's legal representative and not for a plain
director; a listing on ground 1 has no end date; an exit ban appears only with the
exit decision; a minor is refused with a problem document and nothing is published."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date
from typing import Any

import pytest

from shared.domain.identifiers import compute_resident_id_check
from tests.support import initiator_bodies as bodies
from tests.support.initiator_kafka import stack_published_count
from tests.support.responder_flows import check, tasks_of, wait_decision
from tests.support.stack import Stack
from tests.support.subjects import new_resident_id, new_uscc

pytestmark = pytest.mark.e2e


@pytest.fixture(scope="module")
def published(stack: Stack) -> Callable[[], int]:
    """Events in the session's jsb.designations topic once the outbox is drained."""
    return lambda: stack_published_count(stack)


def court_body(subject_id: str, ground: int, **overrides: Any) -> dict[str, Any]:
    body = bodies.court_debtor(1, subject_id, ground=ground)
    body.pop("level")  # the court list has no levels
    body.update(overrides)
    return body


def post(stack: Stack, body: dict[str, Any]) -> Any:
    with stack.client("initiator", as_="court") as court:
        return court.post("/v1/designations", json=body)


def assert_problem(r: Any, status: int, code: str, field: str) -> None:
    assert r.status_code == status, r.text
    assert r.headers["content-type"].startswith("application/problem+json")
    doc = r.json()
    assert (field, code) in {(e["field"], e["code"]) for e in doc["errors"]}, doc


def test_rows_1_2_court_listing_reaches_the_legal_representative_not_a_director(
    stack: Stack, published: Callable[[], int]
) -> None:
    before = published()
    refused = post(stack, court_body(new_uscc(), 2, level="serious"))
    assert_problem(refused, 422, "level_not_in_scheme", "level")
    assert "especially_serious" in refused.json()["errors"][0]["message"]
    assert published() == before  # nothing written, nothing published

    company, lr, director = new_uscc(), new_resident_id(), new_resident_id()
    created = post(
        stack,
        court_body(
            company,
            2,
            related_persons=[
                {"id": lr, "name": "法定代表人", "role": "legal_representative"},
                {"id": director, "name": "董事", "role": "director"},
            ],
        ),
    )
    assert created.status_code == 201, created.text
    d = created.json()
    assert d["level"] == "especially_serious"
    [link] = d["related_designations"]
    assert link["subject_id"] == lr  # the designating court sees what it supplied
    reached = {r["measure"] for r in link["reached"]}
    assert {"travel.restrict_flight", "travel.restrict_high_speed_rail"} <= reached
    [not_reached] = d["related_not_reached"]
    assert not_reached["subject_id"] == director
    assert not_reached["designation_id"] is None
    assert not_reached["reached"] == []
    assert published() == before + 2  # the company and its legal representative only

    wait_decision(stack, "caac", lr, "block", action="book_flight")
    wait_decision(stack, "rail", lr, "block", action="book_high_speed_rail")
    with stack.client("responder", as_="caac") as caac:
        answer = check(caac, director, action="book_flight").json()
    assert answer["decision"] == "allow"
    with stack.client("responder", as_="rail") as rail:
        answer = check(rail, director, action="book_high_speed_rail").json()
    assert answer["decision"] == "allow"


def test_rows_3_4_ground_one_has_no_end_and_exit_needs_its_decision(
    stack: Stack, published: Callable[[], int]
) -> None:
    debtor = new_resident_id()
    created = post(stack, court_body(debtor, 1))
    assert created.status_code == 201, created.text
    d = created.json()
    assert d["effective_until"] is None  # 有履行能力而拒不履行: until performance
    assert d["facts"]["court_ground"] == 1
    assert ("travel.restrict_exit", "mps.exit") not in tasks_of(d)
    wait_decision(stack, "caac", debtor, "block", action="book_flight")
    with stack.client("responder", as_="mps.exit") as exit_desk:
        assert check(exit_desk, debtor, action="leave_country").json()["decision"] == "allow"
    with stack.client("initiator", as_="court") as court:
        shown = court.get(f"/v1/designations/{d['designation_id']}").json()
    assert shown["state"] == "in_force"
    assert shown["effective_until"] is None

    decided = new_resident_id()
    with_exit = court_body(
        decided,
        1,
        facts={"court_ground": 1, "exit_restriction_decision_no": "(2026)京0105执1号之一"},
    )
    created = post(stack, with_exit)
    assert created.status_code == 201, created.text
    assert ("travel.restrict_exit", "mps.exit") in tasks_of(created.json())
    wait_decision(stack, "mps.exit", decided, "block", action="leave_country")

    before = published()
    dated = post(
        stack, court_body(new_resident_id(), 1, effective_until="2028-01-01T00:00:00+08:00")
    )
    assert_problem(dated, 422, "invalid_period", "effective_until")
    indefinite = post(stack, court_body(new_resident_id(), 2, effective_until=None))
    assert_problem(indefinite, 422, "invalid_period", "effective_until")
    missing = post(stack, court_body(new_resident_id(), 2, facts={}))
    assert_problem(missing, 422, "fact_required", "facts.court_ground")
    assert published() == before


def test_row_9_a_minor_is_refused_and_nothing_is_published(
    stack: Stack, published: Callable[[], int]
) -> None:
    first17 = f"110105{date.today().year - 6}0101123"
    child = first17 + compute_resident_id_check(first17)
    before = published()
    refused = post(stack, court_body(child, 2))
    assert_problem(refused, 422, "subject_is_minor", "subject.id")
    assert child not in refused.text  # the problem names the field, not the number
    assert published() == before
