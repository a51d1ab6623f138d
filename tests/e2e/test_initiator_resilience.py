"""The initiator under failure (issue 5 §3–§5): killed after accepting a command it
still publishes it exactly once; timers survive a restart; without the ledger an
incentive designation is refused with 503 rather than guessed."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.support import initiator_bodies as bodies
from tests.support.initiator_kafka import drained_count, messages_about, outbox_backlog
from tests.support.initiator_process import (
    client,
    fresh_initiator_schema,
    initiator_process,
    private_initiator,
    start_alive,
)
from tests.support.poll import until
from tests.support.stack import Stack, free_port
from tests.support.subjects import new_resident_id

pytestmark = pytest.mark.e2e

ISSUED = "jsb.designation.issued"
EXPIRED = "jsb.designation.expired"


def ledger_history(stack: Stack, subject_id: str) -> list[dict[str, Any]]:
    with stack.client("ledger", as_="auditor") as ledger:
        r = ledger.get(f"/v1/subjects/{subject_id}/history")
    assert r.status_code == 200, r.text
    events: list[dict[str, Any]] = r.json()["events"]
    return events


def test_sigkill_after_accept_still_publishes_exactly_once(stack: Stack) -> None:
    initiator = stack.services["initiator"]
    body = bodies.designation()
    with stack.client("initiator", as_="tax") as tax:
        created = tax.post("/v1/designations", json=body)
    initiator.kill()  # no shutdown hook, no flush: the relay may or may not have run
    assert created.status_code == 201, created.text
    did = created.json()["designation_id"]
    initiator.start()
    schema = "initiator" + stack.schema_suffix
    drained_count(stack.infra.kafka, stack.topic_suffix, stack.infra.database_url, schema)
    assert len(messages_about(stack.infra.kafka, stack.topic_suffix, did)) == 1
    events = until(
        lambda: ledger_history(stack, body["subject"]["id"]),
        lambda ev: any(e["type"] == ISSUED for e in ev),
        timeout_s=60,
    )
    assert [e["type"] for e in events].count(ISSUED) == 1


def test_accepted_while_kafka_is_away_then_killed_publishes_once(
    stack: Stack, tmp_path: Path
) -> None:
    """The deterministic case: the command is accepted (in Postgres) but cannot be
    published, the process dies, a new one on a reachable broker publishes it once."""
    with fresh_initiator_schema(stack) as schema:
        away = initiator_process(
            stack, tmp_path, schema, KAFKA_BOOTSTRAP_SERVERS=f"127.0.0.1:{free_port()}"
        )
        start_alive(away)
        try:
            with client(away, stack, "tax") as tax:
                created = tax.post("/v1/designations", json=bodies.designation())
            assert created.status_code == 201, created.text
            assert outbox_backlog(stack.infra.database_url, schema) == 1
        finally:
            away.kill()
        did = created.json()["designation_id"]
        assert messages_about(stack.infra.kafka, stack.topic_suffix, did) == []
        with private_initiator(stack, tmp_path, schema):
            drained_count(stack.infra.kafka, stack.topic_suffix, stack.infra.database_url, schema)
            assert len(messages_about(stack.infra.kafka, stack.topic_suffix, did)) == 1


def test_expiry_timer_survives_a_restart(stack: Stack, tmp_path: Path) -> None:
    """A period ending seconds ahead: the initiator is killed before the end and
    restarted; the expiry is still published, exactly once, and reaches the ledger."""
    subject = new_resident_id()
    env = {"JSB_INITIATOR_TIMER_POLL_S": "0.2"}
    with fresh_initiator_schema(stack) as schema:
        proc = initiator_process(stack, tmp_path, schema, **env)
        proc.start()
        try:
            with client(proc, stack, "court") as court:
                body = bodies.court_debtor(1, subject, ground=2)  # ground 1 has no end
                body["effective_until"] = bodies.seconds_ahead(6)
                created = court.post("/v1/designations", json=body)
            assert created.status_code == 201, created.text
            did = created.json()["designation_id"]
            proc.kill()
            assert messages_about(stack.infra.kafka, stack.topic_suffix, did, EXPIRED) == []
            proc.start()
            until(
                lambda: messages_about(stack.infra.kafka, stack.topic_suffix, did, EXPIRED),
                lambda found: len(found) >= 1,
                timeout_s=30,
            )
            with client(proc, stack, "court") as court:
                assert court.get(f"/v1/designations/{did}").json()["state"] == "expired"
        finally:
            proc.stop()
    assert len(messages_about(stack.infra.kafka, stack.topic_suffix, did, EXPIRED)) == 1
    events = until(
        lambda: ledger_history(stack, subject),
        lambda ev: any(e["type"] == EXPIRED for e in ev),
        timeout_s=60,
    )
    assert [e["type"] for e in events].count(EXPIRED) == 1


def test_incentive_refused_with_503_when_the_ledger_cannot_answer(
    stack: Stack, tmp_path: Path
) -> None:
    dead = f"http://127.0.0.1:{free_port()}"
    with (
        fresh_initiator_schema(stack) as schema,
        private_initiator(stack, tmp_path, schema, LEDGER_URL=dead) as proc,
    ):
        before = drained_count(
            stack.infra.kafka, stack.topic_suffix, stack.infra.database_url, schema
        )
        with client(proc, stack, "tax") as tax:
            r = tax.post("/v1/designations", json=bodies.incentive())
            assert r.status_code == 503, r.text
            assert r.headers["content-type"].startswith("application/problem+json")
            problem = r.json()
            assert problem["type"].endswith(":ledger_unavailable")
            assert problem["status"] == 503
            assert [(e["field"], e["code"]) for e in problem["errors"]] == [
                ("subject.id", "ledger_unavailable")
            ]
            after = drained_count(
                stack.infra.kafka, stack.topic_suffix, stack.infra.database_url, schema
            )
            assert after == before
            # A sanction needs no cross-check: the ledger being away does not stop it.
            assert tax.post("/v1/designations", json=bodies.designation()).status_code == 201


def test_incentive_refused_on_the_ledgers_answer(stack: Stack, tmp_path: Path) -> None:
    """The subject's sanction is known to the ledger only (another initiator decided
    it): the cross-check asks the ledger and refuses."""
    sanction = bodies.designation()
    subject = sanction["subject"]["id"]
    with stack.client("initiator", as_="tax") as tax:
        assert tax.post("/v1/designations", json=sanction).status_code == 201

    def restricted() -> Any:
        with stack.client("ledger", as_="ops") as ledger:
            return ledger.get(f"/v1/subjects/{subject}/status").json()

    until(restricted, lambda s: s.get("restricted") is True, timeout_s=60)
    with (
        fresh_initiator_schema(stack) as schema,
        private_initiator(stack, tmp_path, schema) as proc,
        client(proc, stack, "tax") as own,
    ):
        before = drained_count(
            stack.infra.kafka, stack.topic_suffix, stack.infra.database_url, schema
        )
        refused = own.post("/v1/designations", json=bodies.incentive(subject))
        assert refused.status_code == 409, refused.text
        assert refused.json()["type"].endswith(":incentive_while_sanctioned")
        assert [e["code"] for e in refused.json()["errors"]] == ["incentive_while_sanctioned"]
        after = drained_count(
            stack.infra.kafka, stack.topic_suffix, stack.infra.database_url, schema
        )
        assert after == before
        clean = own.post("/v1/designations", json=bodies.incentive())
        assert clean.status_code == 201, clean.text


def test_unauthenticated_catalogue_is_refused(stack: Stack) -> None:
    r = httpx.get(stack.url("initiator") + "/v1/catalogue")
    assert r.status_code == 401
