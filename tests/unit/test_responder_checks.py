"""The responder's pure parts around the check: configuration, what a check is
about, why it blocks, what the restrictions view shows (and masks)."""

from __future__ import annotations

import time
from datetime import UTC, date, datetime, timedelta
from typing import Any
from uuid import UUID

import pytest

from services.responder import checks
from services.responder.checks import block_reasons, identifier_of, measures_asked
from services.responder.feedback import task_feedback
from services.responder.folds import SubjectFolds
from services.responder.hosting import Hosting, HostingError
from services.responder.ingest import identifiers_of
from services.responder.interceptions import interception
from services.responder.restriction_index import Found
from services.responder.schemas import CheckCreate
from services.responder.settings import ResponderSettings
from services.responder.taskbook import task_id
from services.responder.views import restrictions, shown
from shared.domain.catalogue.index import default_index
from shared.domain.commands import FileObjection, IssueDesignation, SubjectRef
from shared.domain.envelope import Envelope
from shared.domain.errors import DomainError
from shared.domain.events import RaisedBy
from shared.domain.fold import fold
from shared.domain.identifiers import org_code_of_uscc
from shared.web.auth import AUDITOR, DEPARTMENT_ROLES, Principal
from shared.web.problems import ProblemError, problem_of
from tests.support.initiator_bodies import stated_facts
from tests.unit.domain_fixtures import Subject, resident_id, uscc

CATALOGUE = default_index()
TAX = "tax.major-violation"
COURT = "court.dishonest-debtor"
PROCUREMENT = "procurement.restrict_government_procurement"
NOW = datetime.now(UTC)


def _problem(exc: BaseException) -> ProblemError:
    """The problem document a refusal is answered with (the app's one mapping)."""
    if isinstance(exc, ProblemError):
        return exc
    assert isinstance(exc, DomainError)
    return problem_of(exc)


def designate(subject: Subject, list_type: str, department: str, **fields: Any) -> None:
    other_ids = tuple(fields.pop("other_ids", ()))
    subject.run(
        IssueDesignation(
            department=department,
            at=fields.pop("at", NOW),
            subject=SubjectRef(id=subject.subject_id, name="某某", other_ids=other_ids),
            list_type=list_type,
            level="especially_serious",
            reason="r",
            decision_no="d",
            decided_at=date.today(),
            facts=stated_facts(list_type),
            **fields,
        ),
        CATALOGUE,
    )


def test_hosting_defaults_to_every_department_and_validates_its_configuration() -> None:
    every = Hosting.of(ResponderSettings(), CATALOGUE)
    assert every.departments == {d.code for d in CATALOGUE.catalogue.departments}
    assert every.mode(PROCUREMENT) == "auto"
    assert every.watch_sanctions  # someone hosted implements an incentive
    one = Hosting.of(
        ResponderSettings(
            departments=" caac , rail", execution_modes={"travel.restrict_flight": "manual"}
        ),
        CATALOGUE,
    )
    assert one.departments == {"caac", "rail"}
    assert one.mode("travel.restrict_flight") == "manual"
    with pytest.raises(HostingError, match="department"):
        Hosting.of(ResponderSettings(departments="nobody"), CATALOGUE)
    with pytest.raises(HostingError, match="measure"):
        Hosting.of(ResponderSettings(execution_modes={"no.such": "manual"}), CATALOGUE)


def test_execution_modes_come_from_the_environment_as_json(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("JSB_RESPONDER_EXECUTION_MODES", '{"travel.restrict_flight": "manual"}')
    monkeypatch.setenv("JSB_RESPONDER_DEPARTMENTS", "caac")
    settings = ResponderSettings()
    assert settings.execution_modes == {"travel.restrict_flight": "manual"}
    assert settings.department_codes() == ["caac"]


def test_a_check_is_about_one_measure_or_the_departments_measures_of_an_action() -> None:
    ask = CheckCreate(subject_id="x", action="bid_public_tender")
    assert set(measures_asked(ask, "mof", CATALOGUE)) == {
        m.code for m in CATALOGUE.measures_for_action("bid_public_tender") if "mof" in m.departments
    }
    assert measures_asked(CheckCreate(subject_id="x", measure=PROCUREMENT), "mof", CATALOGUE) == [
        PROCUREMENT
    ]
    cases = [
        (CheckCreate(subject_id="x"), {"measure", "action"}),
        (
            CheckCreate(subject_id="x", measure=PROCUREMENT, action="book_flight"),
            {"measure", "action"},
        ),
        (CheckCreate(subject_id="x", measure="no.such"), {"measure"}),
        (CheckCreate(subject_id="x", measure="travel.restrict_flight"), {"measure"}),
        (CheckCreate(subject_id="x", action="teleport"), {"action"}),
        (CheckCreate(subject_id="x", action="book_flight"), {"action"}),
    ]
    for body, fields in cases:
        with pytest.raises(DomainError) as refused:  # the service layer's own exceptions
            measures_asked(body, "mof", CATALOGUE)
        problem = _problem(refused.value)
        assert problem.status == 422
        assert {e.field for e in problem.errors} == fields


def test_any_valid_identifier_is_accepted_and_a_bad_one_refused_without_echoing_it() -> None:
    code = uscc(5)
    assert identifier_of(" " + code.lower() + " ") == code
    bad = code[:-1] + ("0" if code[-1] != "0" else "1")
    with pytest.raises(DomainError) as refused:
        identifier_of(bad)
    problem = _problem(refused.value)
    assert (problem.status, [e.field for e in problem.errors]) == (422, ["subject_id"])
    assert bad not in problem.detail


def test_identifiers_of_a_designation_include_the_embedded_organisation_code() -> None:
    subject = Subject(uscc(6))
    designate(subject, TAX, "tax")
    (record,) = subject.state.designations.values()
    assert identifiers_of(record.data) == {subject.subject_id, org_code_of_uscc(subject.subject_id)}


def test_only_sanctions_in_force_for_the_department_block() -> None:
    subject = Subject(uscc(7))
    designate(subject, TAX, "tax")
    state = subject.state
    (record,) = state.designations.values()
    reasons = block_reasons([state], "mof", [PROCUREMENT, "funding.restrict_fiscal_funding"], NOW)
    assert {r.measure for r in reasons} == {PROCUREMENT, "funding.restrict_fiscal_funding"}
    assert {r.designation_id for r in reasons} == {record.designation_id}
    assert block_reasons([state], "caac", ["travel.restrict_flight"], NOW) == []
    # Under objection on a suspending regime: not executed meanwhile, so no block.
    subject.run(
        FileObjection(
            department="tax",
            at=NOW + timedelta(seconds=1),
            designation_id=record.designation_id,
            raised_by=RaisedBy.SUBJECT,
            grounds="g",
        ),
        CATALOGUE,
    )
    later = NOW + timedelta(seconds=2)
    assert block_reasons([subject.state], "mof", [PROCUREMENT], later) == []
    view = restrictions(
        subject.subject_id,
        [subject.state],
        "mof",
        later,
        CATALOGUE,
        Principal("mof", DEPARTMENT_ROLES),
    )
    assert view.restricted is False
    assert {r.measure for r in view.suspended} == {PROCUREMENT, "funding.restrict_fiscal_funding"}


def test_restrictions_say_why_and_mask_personal_identity_numbers() -> None:
    person = Subject(resident_id(8))
    designate(person, COURT, "court", other_ids=("E12345678",))
    state = fold(person.events)
    caac = Principal("caac", DEPARTMENT_ROLES)
    view = restrictions(person.subject_id, [state], "caac", NOW, CATALOGUE, caac)
    assert view.subject_id == person.subject_id[:6] + "********" + person.subject_id[-4:]
    (only,) = view.restrictions
    assert (only.measure, only.list_type, only.state) == (
        "travel.restrict_flight",
        COURT,
        "in_force",
    )
    assert only.measure_legal_basis
    assert only.until == state.designations[only.designation_id].data.effective_until
    auditor = Principal(AUDITOR, frozenset({AUDITOR}))
    assert shown(person.subject_id, auditor) == person.subject_id
    assert shown(uscc(9), caac) == uscc(9)  # organisation codes are public


def test_subject_folds_move_forward_only_as_far_as_asked() -> None:
    subject = Subject(uscc(10))
    designate(subject, TAX, "tax")
    (record,) = subject.state.designations.values()
    subject.run(
        FileObjection(
            department="tax",
            at=NOW + timedelta(seconds=1),
            designation_id=record.designation_id,
            raised_by=RaisedBy.SUBJECT,
            grounds="g",
        ),
        CATALOGUE,
    )
    events = [r.__class__(r.envelope, r.recorded_at, i + 1) for i, r in enumerate(subject.events)]
    folds = SubjectFolds({subject.subject_id: events})
    first, at_first = folds.up_to(subject.subject_id, 1)
    assert first.designation(record.designation_id).open_objection is None  # type: ignore[union-attr]
    assert at_first == events[0].envelope.time
    second, at_second = folds.up_to(subject.subject_id, 2)
    assert second.designation(record.designation_id).open_objection is not None  # type: ignore[union-attr]
    assert at_second == events[1].envelope.time


def test_feedback_envelopes_name_the_task_and_their_cause() -> None:
    subject = Subject(uscc(11))
    designate(subject, TAX, "tax")
    cause = subject.events[0].envelope
    did = cause.data["designation_id"]
    message = task_feedback(
        "suspended",
        subject_id=subject.subject_id,
        designation_id=did,
        measure=PROCUREMENT,
        department="mof",
        note="n",
        cause=cause,
        suffix=".t",
    )
    env = Envelope.from_json_bytes(message.value)
    assert (message.topic, message.key) == ("jsb.feedback.v1.t", subject.subject_id)
    assert (env.type, env.source, env.causationid) == (
        "jsb.feedback.suspended",
        "/responder/mof",
        str(cause.id),
    )
    blocked = interception(
        subject_id=subject.subject_id,
        designation_id=did,
        measure=PROCUREMENT,
        department="mof",
        check_id=task_id(did, PROCUREMENT, "mof"),
        action="bid_public_tender",
        suffix="",
        time=datetime.now(UTC),
    )
    env = Envelope.from_json_bytes(blocked.value)
    assert env.type == "jsb.feedback.intercepted"
    assert env.data["action"] == "bid_public_tender"
    assert task_id(did, PROCUREMENT, "mof") == task_id(did, PROCUREMENT, "mof")


def test_a_checks_id_is_time_ordered() -> None:
    """The `checks` table's primary key: version 7, so that its inserts stay on the
    index's last page (shared/adapters/random_ids.py, uuid7)."""
    asked = checks.Asked(
        identifier="91110105K5LHME6479",
        measures=["travel.restrict_flight"],
        action=None,
        department="caac",
        as_of=datetime.now(UTC),
        fresh_as_of=None,
        suffix="",
    )
    first, _ = checks.outcome(Found([], []), asked)
    time.sleep(0.002)
    second, record = checks.outcome(Found([], []), asked)
    assert UUID(first["check_id"]).version == UUID(second["check_id"]).version == 7
    assert first["check_id"] < second["check_id"]
    assert record.check_id == second["check_id"]  # the row's id is the answer's, as text
