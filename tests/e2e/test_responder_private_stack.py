"""The responder on a stack of its own (issue 6): a private Kafka broker that the
test may stop, and the responder configured with a manual measure.

- a manual task waits in the department's inbox until an officer reports; the
  report reaches the ledger; another department's token finds no such task;
- the check keeps answering from the local store with Kafka stopped (and after a
  restart of the responder meanwhile), saying how old its data is; the
  interceptions recorded meanwhile reach the ledger when Kafka is back;
- a responder whose store never caught up with the broker answers no check (503
  `data_not_caught_up`, nothing recorded) until it has: an `allow` from it could let
  a sanctioned subject through.
"""

from __future__ import annotations

import asyncio
import json
import time
from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any

import asyncpg
import httpx
import pytest

from bench import pipeline
from tests.support.infra import Infra
from tests.support.poll import until
from tests.support.responder_flows import (
    check,
    designate,
    feedback_counts,
    history,
    new_passport,
    tasks_of,
    wait_decision,
    wait_feedback,
)
from tests.support.responder_stack import PrivateKafka, private_stack
from tests.support.stack import Stack
from tests.support.subjects import new_resident_id

pytestmark = pytest.mark.e2e

COURT = "court.dishonest-debtor"
FLIGHT = "travel.restrict_flight"


@pytest.fixture(scope="module")
def private(infra: Infra) -> Iterator[tuple[Stack, PrivateKafka]]:
    modes = json.dumps({FLIGHT: "manual"})
    with private_stack(infra, {"JSB_RESPONDER_EXECUTION_MODES": modes}) as running:
        yield running


def designate_person(stack: Stack) -> tuple[str, str, dict[str, Any]]:
    person, passport = new_resident_id(), new_passport()
    designation = designate(
        stack, person, COURT, subject={"id": person, "name": "李四", "other_ids": [passport]}
    )
    return person, passport, designation


def test_a_manual_task_waits_in_the_inbox_and_its_feedback_reaches_the_ledger(
    private: tuple[Stack, PrivateKafka],
) -> None:
    stack, _ = private
    person, passport, designation = designate_person(stack)
    did = str(designation["designation_id"])
    tasks = tasks_of(designation)
    auto = {t for t in tasks if t != (FLIGHT, "caac")}
    wait_feedback(stack, person, did, "executed", auto)

    with stack.client("responder", as_="caac") as caac:
        inbox = until(
            lambda: caac.get("/v1/tasks", params={"state": "pending"}).json()["tasks"],
            lambda ts: any(t["designation_id"] == did for t in ts),
        )
        task = next(t for t in inbox if t["designation_id"] == did)
        assert (task["measure"], task["mode"], task["state"]) == (FLIGHT, "manual", "pending")
        assert task["subject_id"] == person[:6] + "********" + person[-4:]
        # The check does not wait for the officer: the listing is in force.
        assert check(caac, passport, action="book_flight").json()["decision"] == "block"
        url = f"/v1/tasks/{task['task_id']}/feedback"
        bad = caac.post(url, json={"outcome": "done"})
        assert bad.status_code == 422
        assert [e["field"] for e in bad.json()["errors"]] == ["outcome"]
        with stack.client("responder", as_="rail") as rail:
            assert rail.post(url, json={"outcome": "executed"}).status_code == 404
        answered = caac.post(
            url,
            json={"outcome": "executed", "note": "blocked in the booking system"},
            headers={"Idempotency-Key": "officer-1"},
        )
        assert answered.status_code == 200, answered.text
        assert answered.json()["state"] == "executed"
        again = caac.post(
            url,
            json={"outcome": "executed", "note": "blocked in the booking system"},
            headers={"Idempotency-Key": "officer-1"},
        )
        assert again.status_code == 200
        assert again.json() == answered.json()
        second = caac.post(url, json={"outcome": "failed", "note": "second thoughts"})
        assert second.status_code == 409
        assert second.headers["content-type"].startswith("application/problem+json")
        pending = caac.get("/v1/tasks", params={"state": "pending"}).json()["tasks"]
        assert all(t["designation_id"] != did for t in pending)

    counts = wait_feedback(stack, person, did, "executed", tasks)
    assert all(n == 1 for key, n in counts.items() if key[3] != "intercepted"), counts
    reported = [
        e["event"]["data"]
        for e in history(stack, person)
        if e["type"] == "jsb.feedback.executed" and e["event"]["data"]["measure"] == FLIGHT
    ]
    assert [r["note"] for r in reported] == ["blocked in the booking system"]


def test_the_check_keeps_answering_with_kafka_stopped(
    private: tuple[Stack, PrivateKafka],
) -> None:
    stack, kafka = private
    person, passport, designation = designate_person(stack)
    did = str(designation["designation_id"])
    wait_decision(stack, "rail", passport, "block", action="book_high_speed_rail")
    responder = stack.services["responder"]

    kafka.stop()
    stopped = datetime.now(UTC)
    blocked: list[str] = []
    try:
        with stack.client("responder", as_="rail") as rail:
            first = check(rail, passport, action="book_high_speed_rail")
            assert first.status_code == 200, first.text
            assert first.json()["decision"] == "block"
            fresh = datetime.fromisoformat(first.headers["X-Data-Fresh-As-Of"])
            assert fresh <= stopped
            blocked.append(first.json()["check_id"])
            # Restarted while Kafka is away: still answers, from Postgres alone.
            responder.kill()
            responder.start(wait=False)
            until(lambda: _healthy(responder.url), bool, timeout_s=30)
            time.sleep(2)  # the broker stays unreachable: nothing may freshen the data
            later = check(rail, person, action="book_high_speed_rail")
            assert later.status_code == 200, later.text
            assert later.json()["decision"] == "block"
            assert datetime.fromisoformat(later.headers["X-Data-Fresh-As-Of"]) <= stopped
            blocked.append(later.json()["check_id"])
            shown = rail.get(f"/v1/restrictions/{passport}")
            assert shown.status_code == 200
            assert shown.json()["restricted"] is True
            nobody = check(rail, new_resident_id(), action="book_high_speed_rail").json()
            assert (nobody["decision"], nobody["reasons"]) == ("allow", [])
            ready = httpx.get(responder.url + "/readyz", timeout=10)
            assert ready.status_code == 503
            assert ready.json()["checks"]["postgres"] == "ok"
    finally:
        kafka.start()

    # Recorded while Kafka was down, reported once it is back (the outbox).
    def intercepted() -> set[str]:
        return {
            e["event"]["data"]["check_id"]
            for e in history(stack, person)
            if e["type"] == "jsb.feedback.intercepted"
        }

    until(intercepted, lambda found: set(blocked) <= found, timeout_s=90, every_s=1.0)
    ids = [
        e["event"]["data"]["check_id"]
        for e in history(stack, person)
        if e["type"] == "jsb.feedback.intercepted"
    ]
    assert len(ids) == len(set(ids))  # each blocking check reported once
    counts = feedback_counts(history(stack, person))
    assert counts[(did, "travel.restrict_high_speed_rail", "rail", "intercepted")] == len(ids)


def test_a_responder_that_never_caught_up_answers_no_check(
    private: tuple[Stack, PrivateKafka], infra: Infra
) -> None:
    """Found by the crash test (seed 351066317): a responder started on a new store
    answered `allow`, with no freshness header, for a subject the ledger already held
    in force. A store that never caught up may lack any designation: such a responder
    refuses checks and restriction views with 503 until it has caught up once."""
    stack, kafka = private
    person, passport, _ = designate_person(stack)
    wait_decision(stack, "rail", passport, "block", action="book_high_speed_rail")
    responder = stack.services["responder"]
    schema = "responder" + stack.schema_suffix

    kafka.stop()
    try:
        responder.kill()
        # What a store created while the broker is away looks like: it was never caught up.
        asyncio.run(_sql(infra, f"DELETE FROM {schema}.ingest_progress"))
        before = asyncio.run(_sql(infra, f"SELECT count(*) FROM {schema}.checks"))
        responder.start(wait=False)
        until(lambda: _healthy(responder.url), bool, timeout_s=30)
        with stack.client("responder", as_="rail") as rail:
            refused = check(rail, passport, action="book_high_speed_rail")
            assert refused.status_code == 503, refused.text
            assert refused.headers["content-type"].startswith("application/problem+json")
            assert refused.headers["Retry-After"] == "2"
            assert "X-Data-Fresh-As-Of" not in refused.headers
            problem = refused.json()
            assert problem["type"] == "urn:jsb:problem:data_not_caught_up"
            assert [e["field"] for e in problem["errors"]] == ["kafka"]
            assert "decision" not in problem
            shown = rail.get(f"/v1/restrictions/{passport}")
            assert shown.status_code == 503, shown.text
            # A bad body is still a 422 naming its field, not a 503.
            wrong_digit = person[:-1] + ("0" if person[-1] != "0" else "1")
            bad = check(rail, wrong_digit, action="book_high_speed_rail")
            assert bad.status_code == 422, bad.text
            assert [e["field"] for e in bad.json()["errors"]] == ["subject_id"]
        ready = httpx.get(responder.url + "/readyz", timeout=10)
        assert ready.status_code == 503
        assert ready.json()["checks"]["data"].startswith("unavailable: NotCaughtUp")
        after = asyncio.run(_sql(infra, f"SELECT count(*) FROM {schema}.checks"))
        assert after == before  # nothing recorded for an unanswered check
    finally:
        kafka.start()

    responder.wait_ready(timeout_s=120)  # caught up once the broker is back
    with stack.client("responder", as_="rail") as rail:
        answered = check(rail, person, action="book_high_speed_rail")
        assert answered.status_code == 200, answered.text
        assert answered.json()["decision"] == "block"
        assert "X-Data-Fresh-As-Of" in answered.headers


async def _sql(infra: Infra, statement: str) -> object:
    conn = await asyncpg.connect(pipeline.pg_url(infra.admin_url))
    try:
        return await conn.fetchval(statement)
    finally:
        await conn.close()


def _healthy(url: str) -> bool:
    try:
        return httpx.get(url + "/healthz", timeout=2).status_code == 200
    except httpx.HTTPError:
        return False
