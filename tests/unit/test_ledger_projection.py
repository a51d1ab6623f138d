"""The projection of one subject: a pure function of its events."""

from __future__ import annotations

import json
from dataclasses import replace
from datetime import UTC, timedelta
from typing import Any
from uuid import UUID

from services.ledger.access import concerns, status_for
from services.ledger.read_models.rows import (
    _PUBLIC_FIELDS,
    identifier_keys,
    normalise_identifier,
    project,
)
from services.ledger.replay import fold_recorded, recorded_events, status_at
from services.ledger.status_stream import status_message
from shared.domain.identifiers import mask_personal_numbers, org_code_of_uscc
from shared.web.auth import AUDITOR, DEPARTMENT_ROLES, OPS, Principal
from tests.support.ledger_events import T0, Script, feedback, stored
from tests.support.subjects import new_resident_id, new_uscc

AUDIT = Principal(AUDITOR, frozenset({AUDITOR}))
OPS_DESK = Principal(OPS, frozenset({OPS}))


def dept(code: str) -> Principal:
    return Principal(code, DEPARTMENT_ROLES)


def test_any_identifier_and_the_org_code_inside_a_uscc_point_to_the_subject() -> None:
    s = Script(new_uscc())
    iss = s.issue(other_ids=["110105000123456"])  # an old registration number
    state = fold_recorded(recorded_events(stored([iss])), s.subject_id)
    keys = identifier_keys(state, s.subject_id)
    assert set(keys) == {s.subject_id, org_code_of_uscc(s.subject_id), "110105000123456"}
    person = new_resident_id()
    p = Script(person)
    iss = p.issue(
        other_ids=["E12345678"], list_type="court.dishonest-debtor", level="especially_serious"
    )
    state = fold_recorded(recorded_events(stored([iss])), person)
    assert set(identifier_keys(state, person)) == {person, "E12345678"}
    assert normalise_identifier(person.lower()) == person
    assert normalise_identifier(" not-an-id ") == "NOT-AN-ID"


def test_feedback_before_its_designation_projects_the_same() -> None:
    s = Script(new_uscc())
    iss = s.issue()
    fb = feedback(iss)
    in_order = project(s.subject_id, stored([iss, *fb], recorded_at=T0 + timedelta(hours=3)))
    overtaken = project(
        s.subject_id, stored([*fb[:5], iss, *fb[5:]], recorded_at=T0 + timedelta(hours=3))
    )
    assert in_order.status == overtaken.status
    assert in_order.designations == overtaken.designations
    assert _sorted(in_order.tasks) == _sorted(overtaken.tasks)
    assert in_order.public_entries == overtaken.public_entries
    assert {t["state"] for t in in_order.tasks} == {"executed"}


def _sorted(rows: list[dict[str, object]]) -> list[str]:
    return sorted(json.dumps(r, sort_keys=True, default=str) for r in rows)


def test_status_is_rendered_at_the_last_change() -> None:
    s = Script(new_uscc())
    iss = s.issue()
    events = stored([iss], recorded_at=T0 + timedelta(seconds=2))
    p = project(s.subject_id, events)
    assert p.as_of == T0 + timedelta(seconds=2)
    assert p.status_row["head_event_id"] == iss.id
    assert p.status_row["restricted"] is True
    # an event stamped later than it was recorded is still visible in the status it caused
    late = project(s.subject_id, stored([iss], recorded_at=T0 - timedelta(seconds=5)))
    assert late.as_of == T0
    assert late.status.designations


def test_status_message_is_keyed_by_subject_and_names_its_cause() -> None:
    s = Script(new_uscc())
    iss = s.issue()
    fb = feedback(iss, only=2)
    p = project(s.subject_id, stored([iss, *fb]))
    msg = status_message(p, ".sfx")
    assert msg.topic == "jsb.status.v1.sfx"
    assert msg.key == s.subject_id
    body = json.loads(msg.value)
    assert body["type"] == "jsb.status.changed"
    assert body["data"]["caused_by"] == str(fb[-1].id)
    assert body["causationid"] == str(fb[-1].id)
    assert body["data"]["restricted"] is True
    assert msg.headers["jsb-caused-by"] == str(fb[-1].id)
    # the same cause gives the same message id (a re-publication is a duplicate)
    assert json.loads(status_message(p).value)["id"] == body["id"]


def test_time_travel_folds_only_what_was_effective_and_known() -> None:
    s = Script(new_uscc())
    iss = s.issue()
    fb = feedback(iss, at=T0 + timedelta(days=1))
    events = stored([iss, *fb])
    events = [
        replace(e, recorded_at=T0 + timedelta(days=2)) if e.stream_version > 1 else e
        for e in events
    ]
    _, before = status_at(events, s.subject_id, T0 - timedelta(seconds=1))
    assert before.designations == ()
    _, issued_only = status_at(events, s.subject_id, T0 + timedelta(days=3), T0 + timedelta(days=1))
    assert {t.state.value for t in issued_only.designations[0].tasks} == {"pending"}
    _, everything = status_at(events, s.subject_id, T0 + timedelta(days=3))
    assert {t.state.value for t in everything.designations[0].tasks} == {"executed"}


def test_departments_see_what_concerns_them_and_masked_persons() -> None:
    person = new_resident_id()
    s = Script(person)
    tax = s.issue(list_type="tax.major-violation", level="especially_serious", name="李四")
    court = s.issue(list_type="court.dishonest-debtor", level="especially_serious", name="李四")
    _, status = status_at(stored([tax, court]), person, T0 + timedelta(days=1))
    as_auditor = status_for(AUDIT, status)
    assert as_auditor["subject_id"] == person
    assert len(as_auditor["designations"]) == 2
    as_ops = status_for(OPS_DESK, status)
    assert len(as_ops["designations"]) == 2
    assert person not in json.dumps(as_ops)
    as_court = status_for(dept("court"), status)
    assert [d["list_type"] for d in as_court["designations"]] == ["court.dishonest-debtor"]
    assert {m["designation_id"] for m in as_court["measures_in_force"]} == {
        court.data["designation_id"]
    }
    assert as_court["restricted"] is True
    # the court designated the subject (it supplied the number): in clear for it
    # (issue 13, part 7: the domain's sees_in_clear, as in the initiator)
    assert as_court["subject_id"] == person
    # a department that only executes the court's measures: masked
    agencies = status_for(dept("credit_agencies"), status)
    assert [d["list_type"] for d in agencies["designations"]] == ["court.dishonest-debtor"]
    assert person not in json.dumps(agencies)
    assert agencies["subject_id"].startswith(person[:6])
    nobody = status_for(dept("no_such_department"), status)
    assert nobody["designations"] == []
    assert nobody["measures_in_force"] == []
    assert nobody["restricted"] is True  # the flag everyone may ask about (应查必查)


def test_masking_leaves_organisations_and_hashes_alone() -> None:
    uscc = new_uscc()
    person = new_resident_id()
    doc: dict[str, Any] = {"a": [uscc, person, "E12345678", "0" * 64, str(UUID(int=5))], "n": 3}
    masked = mask_personal_numbers(doc)
    assert masked["a"][0] == uscc
    assert masked["a"][1] != person
    assert masked["a"][1].endswith(person[-4:])
    assert masked["a"][2] != "E12345678"
    assert masked["a"][3:] == doc["a"][3:]
    assert concerns("tax", "tax", [])
    assert concerns("caac", "court", ["caac"])
    assert not concerns("pbc", "court", ["caac"])


def test_rows_do_not_depend_on_the_offset_an_instant_was_read_with() -> None:
    from shared.domain.china_time import CHINA_TZ

    s = Script(new_uscc())
    issued = s.issue(at=(T0 + timedelta(hours=1)).astimezone(CHINA_TZ))
    as_sent = stored([issued], recorded_at=T0)
    as_read = [replace(e, effective_at=e.effective_at.astimezone(UTC)) for e in as_sent]
    assert as_sent[0].effective_at.utcoffset() == timedelta(hours=8)
    assert project(s.subject_id, as_sent).status_row == project(s.subject_id, as_read).status_row


def test_rows_reuse_the_status_document_without_changing_a_value() -> None:
    s = Script(new_resident_id())
    iss = s.issue(list_type="court.dishonest-debtor", level="especially_serious", name="张三")
    p = project(s.subject_id, stored([iss, *feedback(iss, only=2)]))
    [view] = p.status.designations
    assert p.designations[0]["view"] == view.model_dump(mode="json")
    assert p.designations[0]["view"] == p.status_row["status"]["designations"][0]
    [row] = p.public_entries
    # the public fields of the entry are what a dump restricted to them gives, in order
    expected = mask_personal_numbers(view.model_dump(mode="json", include=set(_PUBLIC_FIELDS)))
    entry = row["entry"]
    assert list(entry)[: len(expected)] == list(expected)
    assert {k: entry[k] for k in expected} == expected
    assert s.subject_id not in str(entry)
