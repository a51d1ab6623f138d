"""Planning a department that has none of a designation's tasks yet (planning's
`_plan_new`, the path of every department at a designation's issue) gives what the
general path (`_plan_each`, the code that planned every department before) gives with
no existing task: the same rows in the same column order, the same known states, the
same reports and the same feedback (but its random event id) — for every lifecycle
scenario of the restriction index's tests, every designation, every department of
its tasks and one without, at every instant where something changes and either side
of it, caused by the designation's last event or by the clock, with every measure
automatic or every measure manual."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import orjson
import pytest

from services.responder import planning
from services.responder.fold_memo import FoldMemo
from services.responder.hosting import Hosting
from services.responder.planning import Plan
from services.responder.settings import ResponderSettings
from services.responder.transitions import DepartmentAt
from shared.domain.catalogue.index import default_index
from shared.domain.envelope import Envelope
from shared.domain.fold_state import DesignationRecord
from tests.unit.domain_fixtures import Subject, resident_id
from tests.unit.test_responder_department_at import CASES, _instants

CATALOGUE = default_index()
NOW = datetime(2026, 11, 28, 8, 0, tzinfo=UTC)
HOSTINGS = {
    "auto": Hosting.of(ResponderSettings(), CATALOGUE),
    "manual": Hosting.of(ResponderSettings(default_mode="manual"), CATALOGUE),
}


def _general(
    record: DesignationRecord,
    department: str,
    hosting: Hosting,
    as_of: datetime,
    cause: Envelope | None,
) -> Plan:
    out = Plan(record.data.subject_id, record.designation_id, department, cause, time=NOW)
    at = DepartmentAt(record, department, as_of)
    planning._plan_each(out, at, record, {}, hosting, as_of=as_of, cause=cause, now=NOW)
    return out


def _feedback(todo: Plan) -> list[tuple[tuple[str, ...], str, str | None, dict[str, Any]]]:
    out = []
    for emitted in todo.feedback(".t"):
        envelope = orjson.loads(emitted.message.value)
        assert isinstance(envelope.pop("id"), str)
        out.append((emitted.kinds, emitted.message.topic, emitted.message.key, envelope))
    return out


@pytest.mark.parametrize("mode", sorted(HOSTINGS))
@pytest.mark.parametrize("name", CASES)
def test_the_same_plan_as_the_general_path(name: str, mode: str) -> None:
    hosting = HOSTINGS[mode]
    subject = Subject(resident_id() if "court" in name else None)
    CASES[name](subject)
    last = subject.events[-1].envelope
    memo = FoldMemo()
    compared = 0
    for record in subject.refold().designations.values():
        departments = sorted({x.department for x in record.data.tasks} | {"nobody"})
        for t in _instants(record):
            for cause in (last, None):
                for department in departments:
                    fast = planning.plan(
                        record,
                        department,
                        {},
                        hosting,
                        as_of=t,
                        cause=cause,
                        now=NOW,
                        views=memo.views,
                    )
                    general = _general(record, department, hosting, t, cause)
                    where = (name, department, t, cause is None)
                    assert fast.inserts == general.inserts, where
                    assert [list(r) for r in fast.inserts] == [list(r) for r in general.inserts]
                    assert fast.known == general.known, where
                    assert fast.reports == general.reports, where
                    assert fast.updates == general.updates == []
                    assert _feedback(fast) == _feedback(general), where
                    compared += len(general.inserts)
    assert compared > 10
