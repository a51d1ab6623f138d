"""The ledger shows identity numbers in clear to the department that designated the
subject (it supplied them), as the initiator does, and masked to every other
department (issue 13, part 7; the rule is the domain's `identifiers.sees_in_clear`)."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator

import pytest

from shared.domain.identifiers import mask
from tests.support.infra import Infra
from tests.support.ledger_events import Script, designation_id, feedback
from tests.support.ledger_harness import Ledger, ledger
from tests.support.subjects import new_resident_id

pytestmark = pytest.mark.integration


@pytest.fixture(scope="module")
async def led(infra: Infra, tmp_path_factory: pytest.TempPathFactory) -> AsyncIterator[Ledger]:
    async with ledger(infra, tmp_path_factory.mktemp("ledger")) as it:
        yield it


async def test_the_designating_department_sees_the_numbers_it_supplied(led: Ledger) -> None:
    person = new_resident_id()
    s = Script(person)
    court = s.issue(list_type="court.dishonest-debtor", level="especially_serious", name="王五")
    tax = s.issue(list_type="tax.major-violation", level="especially_serious", name="王五")
    await led.producer.send([court, tax, *feedback(court, only=1)])
    await led.wait_caught_up()
    court_id, tax_id = str(designation_id(court)), str(designation_id(tax))

    status = await led.get(f"/v1/subjects/{person}/status", as_="court")
    assert status["subject_id"] == person
    assert [d["designation_id"] for d in status["designations"]] == [court_id]
    history = await led.get(f"/v1/subjects/{person}/history", as_="court")
    assert history["subject_id"] == person
    assert {e["event"]["data"]["designation_id"] for e in history["events"]} == {court_id}
    own = await led.get(f"/v1/designations/{court_id}", as_="court")
    assert own["subject_id"] == person

    # a department that only holds a task of the court's designation: masked everywhere
    agencies = await led.get(f"/v1/subjects/{person}/status", as_="credit_agencies")
    assert agencies["subject_id"] == mask(person)
    assert person not in json.dumps(agencies)
    theirs = await led.get(f"/v1/designations/{court_id}", as_="credit_agencies")
    assert person not in json.dumps(theirs)
    # the tax administration designated the subject too: its own designation in clear,
    # the court's (which it does not see) stays out of its answer
    by_tax = await led.get(f"/v1/designations/{tax_id}", as_="tax")
    assert by_tax["subject_id"] == person
