"""`as_of` answers "what was in force at T" (effective time); `known_at` answers
"what did the ledger know at T" (recorded time). Both default to now."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import datetime, timedelta
from typing import Any

import pytest

from shared.domain.commands import RevokeDesignation
from tests.support.infra import Infra
from tests.support.ledger_events import T0, Script, designation_id, feedback
from tests.support.ledger_harness import Ledger, ledger
from tests.support.subjects import new_uscc

pytestmark = pytest.mark.integration


@pytest.fixture(scope="module")
async def led(infra: Infra, tmp_path_factory: pytest.TempPathFactory) -> AsyncIterator[Ledger]:
    async with ledger(infra, tmp_path_factory.mktemp("ledger")) as it:
        yield it


def _at(value: str) -> datetime:
    return datetime.fromisoformat(value)


def _day(n: float) -> str:
    return (T0 + timedelta(days=n)).isoformat()


async def test_as_of_and_known_at_give_the_documented_answers(led: Ledger) -> None:
    s = Script(new_uscc())
    issued = s.issue(effective_until=T0 + timedelta(days=30))
    await led.producer.send([issued, *feedback(issued)])
    await led.wait_caught_up()
    history = (await led.get(f"/v1/subjects/{s.subject_id}/history"))["events"]
    known_before_revocation = max(datetime.fromisoformat(e["recorded_at"]) for e in history)
    revoked = s.run(
        RevokeDesignation(
            department="tax",
            at=T0 + timedelta(days=10),
            designation_id=designation_id(issued),
            reason="认定错误",
        )
    )
    await led.producer.send(revoked)
    await led.wait_caught_up()
    k = (known_before_revocation + timedelta(microseconds=1)).isoformat()

    async def state(**params: Any) -> str | None:
        doc = await led.get(f"/v1/subjects/{s.subject_id}/status", **params)
        if params.get("as_of"):
            assert _at(doc["as_of"]) == _at(params["as_of"])
        if not doc["designations"]:
            return None
        [d] = doc["designations"]
        return str(d["state"])

    # as_of: effective time
    assert await state(as_of=_day(-1)) is None  # not yet issued
    assert await state(as_of=_day(5)) == "in_force"  # revocation (day 10) not yet effective
    assert await state(as_of=_day(15)) == "revoked"
    assert await state() == "revoked"  # now: the revocation overrides the expiry
    # known_at: what the ledger had recorded by then (the revocation was recorded later)
    assert await state(as_of=_day(15), known_at=k) == "in_force"
    assert await state(as_of=_day(40), known_at=k) == "expired"  # the clock, not an event
    assert await state(as_of=_day(5), known_at=_day(-400)) is None  # known nothing yet

    doc = await led.get(f"/v1/subjects/{s.subject_id}/status", as_of=_day(5), known_at=k)
    assert doc["restricted"] is True
    assert _at(doc["known_at"]) == _at(k)
    assert {m["designation_id"] for m in doc["measures_in_force"]} == {str(designation_id(issued))}
    by_designation = await led.get(
        f"/v1/designations/{designation_id(issued)}", as_of=_day(15), known_at=k
    )
    assert by_designation["state"] == "in_force"
    assert by_designation["subject_id"] == s.subject_id
    assert {t["state"] for t in by_designation["tasks"]} == {"executed"}
    assert all(t["deadline"] for t in by_designation["tasks"])
    now = await led.get(f"/v1/designations/{designation_id(issued)}")
    assert now["state"] == "revoked"


async def test_instants_must_carry_an_offset(led: Ledger) -> None:
    async with led.client("auditor") as c:
        r = await c.get(f"/v1/subjects/{new_uscc()}/status", params={"as_of": "2026-01-01T00:00"})
    assert r.status_code == 422
    assert r.headers["content-type"].startswith("application/problem+json")
    assert [e["field"] for e in r.json()["errors"]] == ["as_of"]
