"""The ledger's HTTP reads: who sees what, masking, lookups by any identifier, the
publicity list, dashboard numbers, and a change feed with no ceiling."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from services.ledger import store, tables
from shared.domain.commands import RevokeDesignation
from shared.domain.envelope import Envelope
from shared.domain.identifiers import mask, org_code_of_uscc
from tests.support.infra import Infra
from tests.support.ledger_events import T0, Script, designation_id, feedback
from tests.support.ledger_harness import Ledger, ledger
from tests.support.subjects import new_resident_id, new_uscc

pytestmark = pytest.mark.integration


@pytest.fixture(scope="module")
async def led(infra: Infra, tmp_path_factory: pytest.TempPathFactory) -> AsyncIterator[Ledger]:
    async with ledger(infra, tmp_path_factory.mktemp("ledger")) as it:
        yield it


async def _call(led: Ledger, path: str, as_: str | None, **params: Any) -> Any:
    async with led.client(as_) as c:
        return await c.get(path, params=params)


async def test_departments_see_what_concerns_them_identity_numbers_masked(led: Ledger) -> None:
    person = new_resident_id()
    s = Script(person)
    court = s.issue(list_type="court.dishonest-debtor", level="especially_serious", name="王五")
    tax = s.issue(list_type="tax.major-violation", level="especially_serious", name="王五")
    own = feedback(court, only=1)
    await led.producer.send([court, tax, *own])
    await led.wait_caught_up()
    court_id, tax_id = str(designation_id(court)), str(designation_id(tax))

    full = await led.get(f"/v1/subjects/{person}/status", as_="auditor")
    assert full["subject_id"] == person
    assert {d["designation_id"] for d in full["designations"]} == {court_id, tax_id}

    ops = await led.get(f"/v1/subjects/{person}/status", as_="ops")
    assert len(ops["designations"]) == 2
    assert ops["subject_id"] == mask(person)
    assert person not in json.dumps(ops)

    # credit_agencies holds a task of the court's designation only; ndrc of the tax one only
    agencies = await led.get(f"/v1/subjects/{person}/status", as_="credit_agencies")
    assert [d["designation_id"] for d in agencies["designations"]] == [court_id]
    assert {m["designation_id"] for m in agencies["measures_in_force"]} == {court_id}
    assert agencies["restricted"] is True
    assert person not in json.dumps(agencies)
    by_court = await led.get(f"/v1/subjects/{person}/status", as_="court")
    assert [d["designation_id"] for d in by_court["designations"]] == [court_id]

    history = await led.get(f"/v1/subjects/{person}/history", as_="credit_agencies")
    assert {e["event"]["data"]["designation_id"] for e in history["events"]} == {court_id}
    assert person not in json.dumps(history)
    assert len((await led.get(f"/v1/subjects/{person}/history", as_="auditor"))["events"]) == 3

    r = await _call(led, f"/v1/designations/{tax_id}", "credit_agencies")
    assert r.status_code == 404
    assert r.headers["content-type"].startswith("application/problem+json")
    assert r.json()["errors"][0]["field"] == "designation_id"
    ours = await led.get(f"/v1/designations/{court_id}", as_="credit_agencies")
    assert ours["subject_id"] == mask(person)
    assert ours["designation_id"] == court_id

    feed = await led.get("/v1/changes", as_="credit_agencies", after=0, limit=5000)
    assert {e["event"]["data"]["designation_id"] for e in feed["events"]} == {court_id}


async def test_a_subject_is_found_by_any_of_its_identifiers(led: Ledger) -> None:
    org = new_uscc()
    s = Script(org)
    issued = s.issue(other_ids=["110105000654321"])
    person = new_resident_id()
    p = Script(person)
    p.issue(list_type="court.dishonest-debtor", level="especially_serious", other_ids=["G12345678"])
    await led.producer.send([issued, *p.envelopes])
    await led.wait_caught_up()
    for alias in (org, org.lower(), org_code_of_uscc(org), "110105000654321"):
        doc = await led.get(f"/v1/subjects/{alias}/status")
        assert doc["subject_id"] == org, alias
        assert len(doc["designations"]) == 1
    assert (await led.get("/v1/subjects/G12345678/status"))["subject_id"] == person
    history = await led.get(f"/v1/subjects/{org_code_of_uscc(org)}/history")
    assert history["subject_id"] == org


async def test_unknown_and_invalid_subjects(led: Ledger) -> None:
    nobody = new_uscc()
    doc = await led.get(f"/v1/subjects/{nobody}/status")
    assert doc["designations"] == []
    assert doc["restricted"] is False
    bad = nobody[:-1] + ("0" if nobody[-1] != "0" else "1")
    r = await _call(led, f"/v1/subjects/{bad}/status", "auditor")
    assert r.status_code == 422
    problem = r.json()
    assert problem["type"].endswith("invalid_identifier")
    assert problem["errors"][0]["field"] == "subject_id"
    assert problem["errors"][0]["code"] == "bad_check_character"
    assert (await _call(led, f"/v1/subjects/{nobody}/status", None)).status_code == 401
    assert (await _call(led, "/v1/stats/overview", None)).status_code == 401


async def test_the_public_list_shows_entries_in_force_persons_masked(led: Ledger) -> None:
    person, org, gone = new_resident_id(), new_uscc(), new_uscc()
    p = Script(person)
    p.issue(list_type="court.dishonest-debtor", level="especially_serious", name="赵六")
    o = Script(org)
    o.issue(list_type="court.dishonest-debtor", level="especially_serious", name="某某公司")
    later = o.issue(
        list_type="court.dishonest-debtor",
        level="especially_serious",
        effective_from=datetime.now(UTC) + timedelta(days=30),
    )
    expired = Script(new_uscc())
    expired.issue(
        list_type="court.dishonest-debtor",
        level="especially_serious",
        effective_until=T0 + timedelta(days=1),
    )
    g = Script(gone)
    issued = g.issue(list_type="court.dishonest-debtor", level="especially_serious")
    g.run(
        RevokeDesignation(
            department="court",
            at=T0 + timedelta(hours=5),
            designation_id=designation_id(issued),
            reason="错误",
        )
    )
    await led.producer.send([*p.envelopes, *o.envelopes, *expired.envelopes, *g.envelopes])
    await led.wait_caught_up()

    r = await _call(led, "/v1/public/lists/court.dishonest-debtor", None, limit=1000)
    assert r.status_code == 200, r.text
    doc = r.json()
    entries = {e["designation_id"]: e for e in doc["entries"]}
    assert doc["total"] == len(doc["entries"])
    assert str(designation_id(p.envelopes[0])) in entries
    assert str(designation_id(o.envelopes[0])) in entries
    assert str(designation_id(later)) not in entries  # not yet in force
    assert str(designation_id(expired.envelopes[0])) not in entries
    assert str(designation_id(issued)) not in entries  # revoked
    shown = entries[str(designation_id(p.envelopes[0]))]
    assert shown["subject_id"] == mask(person)
    assert shown["subject_name"] == "赵六"
    assert person not in json.dumps(doc)
    assert entries[str(designation_id(o.envelopes[0]))]["subject_id"] == org

    for list_type, code in (
        ("no.such-list", "unknown_list_type"),
        ("generic.key-watch", "list_not_published"),
    ):
        r = await _call(led, f"/v1/public/lists/{list_type}", None)
        assert r.status_code == 404
        assert r.json()["type"].endswith(code)
        assert r.json()["errors"][0]["field"] == "list_type"


async def test_department_statistics_count_assigned_answered_overdue(led: Ledger) -> None:
    async def numbers(as_: str) -> dict[str, dict[str, Any]]:
        rows = (await led.get("/v1/stats/departments", as_=as_))["departments"]
        return {r["department"]: r for r in rows}

    before = await numbers("auditor")
    s = Script(new_uscc())
    issued = s.issue()  # issued in March: every deadline has passed, still in force
    answered = feedback(issued, only=5, at=T0 + timedelta(hours=2))
    await led.producer.send([issued, *answered])
    await led.wait_caught_up()
    after = await numbers("auditor")
    tasks = issued.data["tasks"]
    departments = {t["department"] for t in tasks}
    answered_keys = {(e.data["measure"], e.data["department"]) for e in answered}
    for dept in departments:
        mine = [t for t in tasks if t["department"] == dept]
        done = [t for t in mine if (t["measure"], t["department"]) in answered_keys]
        old = before.get(dept, {"assigned": 0, "answered": 0, "overdue": 0})
        assert after[dept]["assigned"] - old["assigned"] == len(mine)
        assert after[dept]["answered"] - old["answered"] == len(done)
        assert after[dept]["overdue"] - old["overdue"] == len(mine) - len(done)
    first = answered[0].data["department"]
    assert after[first]["median_feedback_seconds"] is not None

    own = await numbers("tax")  # tax made the designation: it sees every department's row of it
    assert departments <= set(own)
    assert "tax" in own
    other = await numbers("court")  # the court made no designation with a task for tax
    assert "tax" not in other
    assert "tax" in after
    overview = await led.get("/v1/stats/overview", as_="ops")
    assert overview["designations"]["in_force"] >= 1
    assert overview["tasks"]["overdue"] >= len(tasks) - len(answered)
    assert overview["events"] >= 1 + len(answered)
    scoped = await led.get("/v1/stats/overview", as_="tax")
    assert scoped["scope"] == "tax"
    assert "events" not in scoped


async def test_the_change_feed_pages_past_ten_thousand(led: Ledger) -> None:
    now = datetime.now(UTC)
    batch = [
        (Envelope(type="jsb.test.bulk", source="/t", subject=f"BULK{i % 50}", time=now), None)
        for i in range(10_050)
    ]
    async with led.engine.begin() as conn:
        await store.append(conn, tables.events, batch)
    total = await led.count()
    seen: list[int] = []
    after = 0
    while True:
        page = await led.get("/v1/changes", after=after, limit=5000)
        seen.extend(e["position"] for e in page["events"])
        if page["next_after"] == after:
            break
        after = page["next_after"]
    assert len(seen) == total > 10_000
    assert seen == sorted(set(seen))
    r = await _call(led, "/v1/changes", "auditor", limit=5001)
    assert r.status_code == 422


async def test_subjects_under_sanction_count_joint_sanctions_only(led: Ledger) -> None:
    """The tile and the overview count subjects with a joint sanction in force, not
    every subject on a list of sanction polarity: a listing below the list type's
    `joint_sanction_from` (market.abnormal-operation at `minor`: a record, the
    cross-check leaves incentives alone) is no sanction target (review issue 7)."""

    async def counts() -> tuple[int, int]:
        tiles = await led.get("/v1/stats/tiles", as_="ops")
        overview = await led.get("/v1/stats/overview", as_="ops")
        return tiles["subjects_under_sanction"], overview["subjects"]["under_sanction_in_force"]

    at = datetime.now(UTC) - timedelta(days=1)
    before = await counts()
    minor = Script(new_uscc()).issue(list_type="market.abnormal-operation", level="minor", at=at)
    assert minor.data["joint_sanction"] is False
    await led.producer.send([minor])
    await led.wait_caught_up()
    assert await counts() == before
    serious = Script(new_uscc()).issue(
        list_type="market.abnormal-operation", level="serious", at=at
    )
    await led.producer.send([serious])
    await led.wait_caught_up()
    assert await counts() == (before[0] + 1, before[1] + 1)
