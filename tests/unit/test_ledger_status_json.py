"""The serialised answers of api_subjects (`status_json`, `shown_json` in
services/ledger/access.py) are the serialised `status_for` / `shown` for every kind of
caller: masking on the JSON (callers without a department) changes nothing else."""

from __future__ import annotations

from datetime import timedelta

import orjson

from services.ledger.access import designators_in, shown, shown_json, status_for, status_json
from services.ledger.replay import status_at
from shared.web.auth import AUDITOR, OPS, Principal
from tests.support.ledger_events import T0, Script, feedback, stored
from tests.support.subjects import new_resident_id
from tests.unit.test_ledger_projection import dept

CALLERS = [
    Principal(AUDITOR, frozenset({AUDITOR})),
    Principal(OPS, frozenset({OPS})),
    dept("court"),
    dept("credit_agencies"),
    dept("no_such_department"),
]


def test_status_and_history_json_equal_the_masked_trees() -> None:
    person = new_resident_id()
    s = Script(person)
    tax = s.issue(list_type="tax.major-violation", level="especially_serious", name="李四")
    court = s.issue(list_type="court.dishonest-debtor", level="especially_serious", name="李四")
    events = stored([tax, court, *feedback(court)])
    _, status = status_at(events, person, T0 + timedelta(days=1))
    payloads = [e.payload for e in events]
    history = {"subject_id": person, "events": payloads}
    for caller in CALLERS:
        assert status_json(caller, status) == orjson.dumps(status_for(caller, status)), caller
        designators = designators_in(payloads)
        expected = orjson.dumps(shown(caller, history, designators))
        assert shown_json(caller, history, designators) == expected, caller
    assert person.encode() not in status_json(CALLERS[1], status)
    assert person.encode() in status_json(CALLERS[0], status)
    assert shown_json(None, history) == orjson.dumps(shown(None, history))
