"""Issuing refuses what its list type does not allow: a level outside a graded list's
tiers (DOMAIN.md §3: levels belong to the regime), and a case fact on a related person
that belongs to the designation (法释〔2017〕7号 第一条: the court's ground)."""

from __future__ import annotations

from shared.domain.commands import AmendDesignation, DesignationChanges
from shared.domain.decide import Rejected, RejectionCode
from shared.domain.event_base import CaseFacts, RelatedRole
from shared.domain.fold_state import SubjectState
from shared.domain.lifecycle_events import DesignationIssued
from shared.domain.vocabulary import Level
from tests.unit.domain_fixtures import (
    KEY_WATCH,
    MARKET,
    Subject,
    accepted,
    at,
    issue,
    rejected,
    resident_id,
    uscc,
)

C = RejectionCode


def _rejections(result: Rejected) -> list[tuple[RejectionCode, str, str]]:
    return [(r.code, r.field, r.message) for r in result.rejections]


def test_a_graded_list_designates_only_at_its_own_levels() -> None:
    # The key-watch list grades minor and general tiers; graver conduct goes to the
    # black list, so "key-watch at serious" is refused, not recorded at some level.
    for level in (Level.MINOR, Level.GENERAL):
        [new] = accepted(SubjectState(), issue(list_type=KEY_WATCH, level=level))
        assert isinstance(new.data, DesignationIssued)
        assert new.data.level is level
    for level in (Level.SERIOUS, Level.ESPECIALLY_SERIOUS):
        refused = rejected(SubjectState(), issue(list_type=KEY_WATCH, level=level))
        assert _rejections(refused) == [
            (
                C.LEVEL_NOT_IN_SCHEME,
                "level",
                f"{KEY_WATCH} does not designate at {level.value}: its levels are minor, general",
            )
        ]


def test_an_amendment_cannot_move_a_graded_listing_outside_its_levels() -> None:
    subject = Subject()
    designation = subject.issue(list_type=KEY_WATCH, level=Level.GENERAL)
    amend = AmendDesignation(
        designation_id=designation,
        changes=DesignationChanges(level=Level.SERIOUS),
        reason="graver than found",
        department="samr",
        at=at(1),
    )
    refused = rejected(subject.state, amend)
    assert [(code, field) for code, field, _ in _rejections(refused)] == [
        (C.LEVEL_NOT_IN_SCHEME, "changes.level")
    ]


def test_the_court_ground_is_a_fact_of_the_designation_not_of_a_related_person() -> None:
    related = [(resident_id(1), RelatedRole.LEGAL_REPRESENTATIVE)]
    plain = issue(uscc(2), list_type=MARKET, related=related)
    assert len(accepted(SubjectState(), plain)) == 2  # the organisation and its representative
    grounded = issue(
        uscc(2), list_type=MARKET, related=related, related_facts=[CaseFacts(court_ground=2)]
    )
    assert _rejections(rejected(SubjectState(), grounded)) == [
        (
            C.FACT_REQUIRED,
            "related_persons[0].facts.court_ground",
            "the court ground is a fact of the designation, not of a related person",
        )
    ]
