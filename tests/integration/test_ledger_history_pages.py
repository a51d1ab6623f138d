"""`GET /subjects/{id}/history` in pages (`after_version`, `limit`, `next_after_version`,
`links.next`): the pages put together are the whole history, for every caller as it
may see it; without paging parameters the answer is the whole history, as before."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from typing import Any

import pytest

from tests.support.infra import Infra
from tests.support.ledger_events import Script, feedback
from tests.support.ledger_harness import Ledger, ledger
from tests.support.subjects import new_resident_id

pytestmark = pytest.mark.integration


@pytest.fixture(scope="module")
async def led(infra: Infra, tmp_path_factory: pytest.TempPathFactory) -> AsyncIterator[Ledger]:
    async with ledger(infra, tmp_path_factory.mktemp("ledger")) as it:
        yield it


async def _pages(led: Ledger, path: str, as_: str, limit: int) -> list[dict[str, Any]]:
    pages = [await led.get(path, as_=as_, limit=limit)]
    while pages[-1]["next_after_version"] is not None:
        nxt = pages[-1]["links"]["next"]
        assert nxt == f"?after_version={pages[-1]['next_after_version']}&limit={limit}"
        pages.append(
            await led.get(path, as_=as_, after_version=pages[-1]["next_after_version"], limit=limit)
        )
    return pages


async def test_pages_together_are_the_whole_history_for_each_caller(led: Ledger) -> None:
    person = new_resident_id()
    s = Script(person)
    court = s.issue(list_type="court.dishonest-debtor", level="especially_serious", name="王五")
    tax = s.issue(list_type="tax.major-violation", level="especially_serious", name="王五")
    await led.producer.send([court, tax, *feedback(court), *feedback(tax)])
    await led.wait_caught_up()
    path = f"/v1/subjects/{person}/history"
    for caller in ("auditor", "ops", "credit_agencies", "court"):
        whole = await led.get(path, as_=caller)
        assert whole["next_after_version"] is None
        assert whole["links"] == {"next": None}
        pages = await _pages(led, path, caller, limit=7)
        assert len(pages) > 2, caller
        assert all(len(p["events"]) <= 7 for p in pages)
        assert [e for p in pages for e in p["events"]] == whole["events"], caller
        if caller in ("ops", "credit_agencies"):  # the court designated: it sees its own
            assert person not in json.dumps(pages), caller
    court_events = (await led.get(path, as_="court"))["events"]
    assert 0 < len(court_events) < len((await led.get(path, as_="auditor"))["events"])


async def test_a_bad_page_is_refused_naming_its_field(led: Ledger) -> None:
    path = f"/v1/subjects/{new_resident_id()}/history"
    for params, field in (
        ({"limit": 0}, "limit"),
        ({"limit": 5001}, "limit"),
        ({"after_version": -1}, "after_version"),
    ):
        async with led.client("auditor") as c:
            r = await c.get(path, params=params)
        assert r.status_code == 422, r.text
        assert r.headers["content-type"].startswith("application/problem+json")
        assert field in r.text
