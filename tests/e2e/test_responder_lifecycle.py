"""The responder over the running stack (issue 6): execution, interception and the
lifecycle of a designation as each department sees it — every transition reported
once, the check answering from the department's local store."""

from __future__ import annotations

import time
from datetime import UTC, datetime, timedelta

import httpx
import pytest

from shared.adapters.topics import DESIGNATIONS
from shared.domain.events import DesignationExpired, make_envelope
from shared.domain.identifiers import org_code_of_uscc
from tests.support.poll import until
from tests.support.responder_flows import (
    check,
    dead_letters,
    designate,
    feedback_counts,
    history,
    initiator_post,
    new_passport,
    produce,
    tasks_of,
    wait_applied,
    wait_decision,
    wait_feedback,
)
from tests.support.stack import Stack
from tests.support.subjects import new_resident_id, new_uscc

pytestmark = pytest.mark.e2e

TAX = "tax.major-violation"
COURT = "court.dishonest-debtor"
PROCUREMENT = "procurement.restrict_government_procurement"
FUNDING = "funding.restrict_fiscal_funding"
CREDIT = "finance.credit_reference"


def kinds(
    counts: dict[tuple[str, str, str, str], int], did: str, kind: str
) -> set[tuple[str, str]]:
    return {(m, d) for (x, m, d, k) in counts if x == did and k == kind}


def test_default_bundle_one_task_per_measure_and_department_all_executed(stack: Stack) -> None:
    subject = new_uscc()
    designation = designate(stack, subject, TAX)
    did = designation["designation_id"]
    tasks = tasks_of(designation)
    assert len(tasks) == len(designation["tasks"]) > 10  # one per (measure, department)
    counts = wait_feedback(stack, subject, did, "executed", tasks)
    assert kinds(counts, did, "executed") == tasks
    assert all(n == 1 for n in counts.values()), counts
    with stack.client("responder", as_="mof") as mof:
        r = mof.get("/v1/tasks", params={"designation_id": did})
        assert r.status_code == 200, r.text
        own = r.json()["tasks"]
    assert {(t["measure"], t["department"]) for t in own} == {
        (m, d) for m, d in tasks if d == "mof"
    }
    assert {t["state"] for t in own} == {"executed"}
    assert {t["mode"] for t in own} == {"auto"}
    metrics = httpx.get(stack.url("responder") + "/metrics").text
    assert 'responder_feedback_total{kind="executed"}' in metrics


def test_a_check_blocks_by_any_identifier_and_the_interception_reaches_the_ledger(
    stack: Stack,
) -> None:
    subject = new_uscc()
    designation = designate(stack, subject, TAX)
    did = designation["designation_id"]
    with stack.client("responder", as_="mof") as mof:
        blocked = wait_decision(stack, "mof", subject, "block", measure=PROCUREMENT)
        assert blocked["reasons"] == [
            {"designation_id": did, "list_type": TAX, "measure": PROCUREMENT}
        ]
        # The old organisation code embedded in the USCC finds the same subject; an
        # action maps to the department's measures through the catalogue.
        by_code = check(mof, org_code_of_uscc(subject), action="bid_public_tender")
        assert by_code.status_code == 200, by_code.text
        assert by_code.json()["decision"] == "block"
        assert {r["measure"] for r in by_code.json()["reasons"]} == {PROCUREMENT}
        fresh = datetime.fromisoformat(by_code.headers["X-Data-Fresh-As-Of"])
        assert datetime.now(UTC) - fresh < timedelta(seconds=30)
        # Someone on no list passes, and the check says so.
        allowed = check(mof, new_uscc(), measure=PROCUREMENT)
        assert allowed.json() == {**allowed.json(), "decision": "allow", "reasons": []}
        check_ids = {blocked["check_id"], by_code.json()["check_id"]}

        # Refusals name the field.
        bad = check(mof, subject[:-1] + ("0" if subject[-1] != "0" else "1"), measure=PROCUREMENT)
        assert bad.status_code == 422
        assert bad.headers["content-type"].startswith("application/problem+json")
        assert [e["field"] for e in bad.json()["errors"]] == ["subject_id"]
        assert subject not in bad.text
        both = mof.post(
            "/v1/checks",
            json={"subject_id": subject, "measure": PROCUREMENT, "action": "bid_public_tender"},
        )
        assert both.status_code == 422
        assert {e["field"] for e in both.json()["errors"]} == {"measure", "action"}
        for field, body in (
            ("action", {"action": "fly_to_the_moon"}),
            ("action", {"action": "book_flight"}),  # not mof's business
            ("measure", {"measure": "travel.restrict_flight"}),
            ("measure", {"measure": "no.such_measure"}),
            ("subject_id", {"measure": PROCUREMENT, "subject_id": ""}),
        ):
            r = mof.post("/v1/checks", json={"subject_id": subject, **body})
            assert r.status_code == 422, r.text
            assert [e["field"] for e in r.json()["errors"]] == [field], r.text
    with stack.client("responder", as_="auditor") as auditor:
        assert check(auditor, subject, measure=PROCUREMENT).status_code == 403

    def intercepted() -> set[str]:
        return {
            e["event"]["data"]["check_id"]
            for e in history(stack, subject)
            if e["type"] == "jsb.feedback.intercepted"
        }

    until(intercepted, lambda found: check_ids <= found, timeout_s=60, every_s=0.5)
    events = [e for e in history(stack, subject) if e["type"] == "jsb.feedback.intercepted"]
    assert {
        (
            e["event"]["data"]["designation_id"],
            e["event"]["data"]["measure"],
            e["event"]["data"]["department"],
        )
        for e in events
    } == {(did, PROCUREMENT, "mof")}


def test_objection_on_a_suspending_regime_suspends_and_rejection_resumes(stack: Stack) -> None:
    subject = new_uscc()
    designation = designate(stack, subject, TAX)
    did, tasks = designation["designation_id"], tasks_of(designation)
    wait_feedback(stack, subject, did, "executed", tasks)
    wait_decision(stack, "mof", subject, "block", measure=PROCUREMENT)

    objection = initiator_post(
        stack,
        "tax",
        f"/v1/designations/{did}/objections",
        {"raised_by": "subject", "grounds": "the tax was paid"},
    )
    assert objection["suspends_measures"] is True
    counts = wait_feedback(stack, subject, did, "suspended", tasks)
    assert kinds(counts, did, "suspended") == tasks
    wait_decision(stack, "mof", subject, "allow", measure=PROCUREMENT)
    with stack.client("responder", as_="mof") as mof:
        shown = mof.get(f"/v1/restrictions/{subject}").json()
    assert shown["restricted"] is False
    assert {r["measure"] for r in shown["suspended"]} >= {PROCUREMENT}
    assert all(r["objection_open"] for r in shown["suspended"])

    initiator_post(
        stack,
        "tax",
        f"/v1/objections/{objection['objection_id']}/resolution",
        {"outcome": "rejected", "note": "not paid"},
    )
    counts = wait_feedback(stack, subject, did, "resumed", tasks)
    assert kinds(counts, did, "resumed") == tasks
    wait_decision(stack, "mof", subject, "block", measure=PROCUREMENT)
    assert all(n == 1 for key, n in counts.items() if key[3] != "intercepted"), counts


def test_objection_on_the_court_list_keeps_blocking(stack: Stack) -> None:
    person, passport = new_resident_id(), new_passport()
    designation = designate(
        stack, person, COURT, subject={"id": person, "name": "张三", "other_ids": [passport]}
    )
    did = designation["designation_id"]
    assert ("travel.restrict_flight", "caac") in tasks_of(designation)
    blocked = wait_decision(stack, "caac", passport, "block", action="book_flight")
    assert blocked["reasons"][0]["list_type"] == COURT

    objection = initiator_post(
        stack,
        "court",
        f"/v1/designations/{did}/objections",
        {"raised_by": "subject", "grounds": "wrong person"},
    )
    assert objection["suspends_measures"] is False
    tasks = wait_applied(stack, "caac", did, "jsb.objection.filed")
    assert {t["state"] for t in tasks} == {"executed"}
    assert tasks[0]["subject_id"] != person  # a personal identity number is masked
    with stack.client("responder", as_="caac") as caac:
        r = check(caac, passport, action="book_flight")
        assert r.json()["decision"] == "block"
        shown = caac.get(f"/v1/restrictions/{passport}").json()
    assert shown["restricted"] is True
    assert shown["subject_id"] == person[:6] + "********" + person[-4:]
    assert [r["objection_open"] for r in shown["restrictions"]] == [True]
    with stack.client("responder", as_="auditor") as auditor:
        audit = auditor.get(f"/v1/restrictions/{passport}", params={"department": "caac"})
        assert audit.status_code == 200, audit.text
        assert audit.json()["subject_id"] == person  # auditors see identity numbers
        assert "X-Data-Fresh-As-Of" in audit.headers
        missing = auditor.get(f"/v1/restrictions/{passport}")
        assert missing.status_code == 422
        assert [e["field"] for e in missing.json()["errors"]] == ["department"]
    assert not kinds(feedback_counts(history(stack, person)), did, "suspended")


def test_partial_repair_lifts_only_the_listed_measures(stack: Stack) -> None:
    subject = new_uscc()
    designation = designate(stack, subject, TAX)
    did, tasks = designation["designation_id"], tasks_of(designation)
    wait_feedback(stack, subject, did, "executed", tasks)

    initiator_post(
        stack,
        "tax",
        f"/v1/designations/{did}/repair",
        {"measures": [PROCUREMENT], "note": "rectified"},
    )
    repaired = {(m, d) for m, d in tasks if m == PROCUREMENT}
    wait_feedback(stack, subject, did, "lifted", repaired)
    wait_decision(stack, "mof", subject, "allow", measure=PROCUREMENT)
    with stack.client("responder", as_="mof") as mof:
        assert check(mof, subject, measure=FUNDING).json()["decision"] == "block"
    # Every department has applied the repair by now; only the listed measure was lifted.
    for department in sorted({d for _, d in tasks}):
        wait_applied(stack, department, did, "jsb.repair.granted")
    assert kinds(feedback_counts(history(stack, subject)), did, "lifted") == repaired


def test_expiry_lifts_by_the_clock_and_the_expired_event_changes_nothing_more(
    stack: Stack,
) -> None:
    subject = new_uscc()
    ends = datetime.now(UTC) + timedelta(seconds=8)
    designation = designate(
        stack, subject, TAX, measures=[PROCUREMENT, CREDIT], effective_until=ends.isoformat()
    )
    did, tasks = designation["designation_id"], tasks_of(designation)
    wait_feedback(stack, subject, did, "executed", tasks)
    with stack.client("responder", as_="mof") as mof:
        assert check(mof, subject, measure=PROCUREMENT).json()["decision"] == "block"
    # No event: the check answers from the clock, and the lanes lift at the end.
    wait_decision(stack, "mof", subject, "allow", measure=PROCUREMENT)
    assert datetime.now(UTC) >= ends
    counts = wait_feedback(stack, subject, did, "lifted", tasks)
    assert kinds(counts, did, "lifted") == tasks

    # The initiator's timer reports the expiry (or we do, as it would).
    def expired_seen() -> bool:
        return any(e["type"] == "jsb.designation.expired" for e in history(stack, subject))

    deadline = time.monotonic() + 3
    while not expired_seen() and time.monotonic() < deadline:
        time.sleep(0.5)
    if not expired_seen():
        envelope = make_envelope(
            DesignationExpired(designation_id=did),
            subject=subject,
            source="/initiator/tax",
            time=datetime.now(UTC),
        )
        produce(stack, DESIGNATIONS, subject, envelope.to_json_bytes())
    for department in sorted({d for _, d in tasks}):
        wait_applied(stack, department, did, "jsb.designation.expired")
    counts = feedback_counts(history(stack, subject))
    assert kinds(counts, did, "lifted") == tasks
    # Each transition once (checks polled above were intercepted as often as they blocked).
    assert all(n == 1 for key, n in counts.items() if key[3] != "intercepted"), counts


def test_poison_goes_to_the_dead_letter_topic_and_the_departments_go_on(stack: Stack) -> None:
    marker = f"poison-{new_uscc()}".encode()
    produce(stack, DESIGNATIONS, "poison", b"{" + marker)
    subject = new_uscc()
    designation = designate(stack, subject, TAX, measures=[PROCUREMENT])
    wait_feedback(stack, subject, designation["designation_id"], "executed", tasks_of(designation))
    found = until(
        lambda: [h for v, h in dead_letters(stack, "responder.ingest", 5) if marker in v],
        bool,
        timeout_s=60,
    )
    assert len(found) == 1
    assert found[0]["jsb-reason"].startswith("not a valid event envelope")
    assert found[0]["jsb-source-topic"] == DESIGNATIONS + stack.topic_suffix
