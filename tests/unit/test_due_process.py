"""Issue 9: no wrongful and no missed sanction, row by row, on the shipped catalogue.

Each test names the row of the issue's table it proves; each failed on the catalogue
and rules before issue 9 (levels on the court list, every role reached, 730 days,
automatic exit bans, lock-outs as long as the period, ...)."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from typing import Any

import pytest

from shared.domain.catalogue.index import default_index
from shared.domain.catalogue.model import Span
from shared.domain.china_time import CHINA_TZ, start_of_china_day
from shared.domain.commands import GrantRepair, IssueDesignation, RelatedPerson, SubjectRef
from shared.domain.decide import NewEvent, Rejected, RejectionCode, decide
from shared.domain.envelope import Envelope
from shared.domain.event_base import CaseFacts, RelatedRole
from shared.domain.events import decode
from shared.domain.fold import Recorded, evolve
from shared.domain.fold_state import DesignationState, SubjectState
from shared.domain.identifiers import compute_resident_id_check
from shared.domain.lifecycle_events import DesignationIssued
from shared.domain.periods import calendar_warning, deadline, period_end
from shared.domain.status_view import render_status
from shared.domain.vocabulary import Level, SpanUnit
from shared.web.statuses import rejected_status
from tests.unit.domain_fixtures import resident_id, uscc

pytestmark = pytest.mark.filterwarnings("ignore::shared.domain.calendar.CalendarFallbackWarning")

INDEX = default_index()
C = RejectionCode
AT = datetime(2026, 3, 2, 2, 0, tzinfo=UTC)  # Monday 10:00 in China
COURT, TAX, MARKET = "court.dishonest-debtor", "tax.major-violation", "market.serious-illegal"
KEY_WATCH, BLACK, RED = "generic.key-watch", "generic.black-list", "generic.red-list"
URBAN, ENV, SAFETY = (
    "urban.city-management-dishonest",
    "environment.dishonest",
    "safety.joint-sanction",
)
DESIGNATOR = {
    COURT: "court",
    TAX: "tax",
    MARKET: "samr",
    KEY_WATCH: "samr",
    BLACK: "samr",
    RED: "samr",
    URBAN: "mohurd.urban_management",
    ENV: "mee",
    SAFETY: "mem",
}
CONSUMPTION = {"travel.restrict_flight", "travel.restrict_high_speed_rail"}


def person_born(born: date, n: int = 1) -> str:
    first17 = f"110101{born:%Y%m%d}{n:03d}"
    return first17 + compute_resident_id_check(first17)


def issue(list_type: str, subject: str | None = None, **fields: Any) -> IssueDesignation:
    persons = fields.pop("related", ())
    return IssueDesignation(
        department=DESIGNATOR[list_type],
        at=fields.pop("at", AT),
        subject=SubjectRef(id=subject or uscc(7), name="某某"),
        list_type=list_type,
        reason="r",
        decision_no=fields.pop("decision_no", "d"),
        decided_at=fields.pop("decided_at", date(2026, 3, 1)),
        related_persons=tuple(persons),
        **fields,
    )


def court(subject: str | None = None, ground: int = 2, **fields: Any) -> IssueDesignation:
    return issue(COURT, subject or resident_id(5), facts=CaseFacts(court_ground=ground), **fields)


def ok(command: Any, state: SubjectState | None = None) -> list[NewEvent]:
    result = decide(state or SubjectState(), command, INDEX)
    assert not isinstance(result, Rejected), result
    return result


def refused(command: Any, state: SubjectState | None = None) -> Rejected:
    result = decide(state or SubjectState(), command, INDEX)
    assert isinstance(result, Rejected), result
    return result


def issued(news: list[NewEvent], index: int = 0) -> DesignationIssued:
    data = news[index].data
    assert isinstance(data, DesignationIssued)
    return data


def measures(data: DesignationIssued) -> set[str]:
    return {t.measure for t in data.tasks}


def fold_in(state: SubjectState, news: list[NewEvent], subject: str) -> SubjectState:
    for new in news:
        if new.subject == subject:
            state = evolve(state, Recorded(new.envelope(source="/t"), new.time))
    return state


# --- row 1: the court list has no levels --------------------------------------------


def test_row1_court_list_is_fixed_level_and_every_debtor_is_banned_from_flights() -> None:
    for level in (None, Level.ESPECIALLY_SERIOUS):
        data = issued(ok(court(level=level)))
        assert data.level is Level.ESPECIALLY_SERIOUS
        assert measures(data) >= CONSUMPTION
        assert data.joint_sanction
        assert not data.record_only
    for level in (Level.MINOR, Level.GENERAL, Level.SERIOUS):
        result = refused(court(level=level))
        [rejection] = result.rejections
        assert (rejection.code, rejection.field) == (C.LEVEL_NOT_IN_SCHEME, "level")
        assert "fixed level especially_serious" in rejection.message


def test_row1_no_designation_with_zero_tasks_outside_a_record_only_tier() -> None:
    result = refused(issue(KEY_WATCH, level=Level.SERIOUS, measures=()))
    assert [r.code for r in result.rejections] == [C.NO_MEASURES]
    graded = refused(issue(KEY_WATCH))  # a graded list needs its level
    assert [(r.code, r.field) for r in graded.rejections] == [(C.LEVEL_NOT_IN_SCHEME, "level")]


# --- row 2: role-scoped person measures ---------------------------------------------


def test_row2_consumption_bans_reach_the_legal_representative_not_a_plain_director() -> None:
    lr, director = resident_id(11), resident_id(12)
    news = ok(
        court(
            uscc(3),
            related=[
                RelatedPerson(id=lr, name="法人", role=RelatedRole.LEGAL_REPRESENTATIVE),
                RelatedPerson(id=director, name="董事", role=RelatedRole.DIRECTOR),
            ],
        )
    )
    parent = issued(news)
    assert [n.subject for n in news] == [uscc(3), lr]  # the director is not designated
    [link] = parent.related
    assert link.subject_id == lr
    assert {r.measure for r in link.reached} >= CONSUMPTION
    assert all("法释〔2015〕17号" in r.why for r in link.reached if r.measure in CONSUMPTION)
    assert measures(issued(news, 1)) >= CONSUMPTION
    [unreached] = parent.related_not_reached
    assert unreached.subject_id == director
    assert unreached.reached == ()
    why = {r.measure: r.why for r in unreached.not_reached}
    assert "director is not in its scope" in why["travel.restrict_flight"]


def test_row2_the_officer_ban_reaches_legal_representative_and_principal_only() -> None:
    roles = [RelatedRole.LEGAL_REPRESENTATIVE, RelatedRole.PRINCIPAL, RelatedRole.SUPERVISOR]
    persons = [
        RelatedPerson(id=resident_id(20 + i), name=f"p{i}", role=r) for i, r in enumerate(roles)
    ]
    parent = issued(ok(issue(MARKET, related=persons)))
    reached = {link.role: {r.measure for r in link.reached} for link in parent.related}
    ban = "officer.ban_serious_illegal_enterprise"
    assert ban in reached[RelatedRole.LEGAL_REPRESENTATIVE]
    assert ban in reached[RelatedRole.PRINCIPAL]
    assert ban not in reached.get(RelatedRole.SUPERVISOR, set())


def test_row2_the_work_safety_principal_ban_needs_the_penalty_and_counts_from_it() -> None:
    ban = "safety.ban_principal"
    without = RelatedPerson(id=resident_id(30), name="a", role=RelatedRole.PRINCIPAL)
    parent = issued(ok(issue(SAFETY, level=Level.ESPECIALLY_SERIOUS, related=[without])))
    assert ban not in {r.measure for link in parent.related for r in link.reached}
    penalised = date(2025, 6, 30)
    with_date = RelatedPerson(
        id=resident_id(31),
        name="b",
        role=RelatedRole.PRINCIPAL,
        facts=CaseFacts(penalty_or_dismissal_on=penalised),
    )
    director = RelatedPerson(
        id=resident_id(32),
        name="c",
        role=RelatedRole.DIRECTOR,
        facts=CaseFacts(penalty_or_dismissal_on=penalised),
    )
    news = ok(issue(SAFETY, level=Level.ESPECIALLY_SERIOUS, related=[with_date, director]))
    person = next(issued(news, i) for i in range(1, len(news)) if news[i].subject == with_date.id)
    [task] = [t for t in person.tasks if t.measure == ban][:1]
    # five years from the penalty date, to the end of the anniversary day (China time)
    assert task.until == start_of_china_day(date(2030, 7, 1)).astimezone(UTC)
    assert ban not in {t.measure for n in news if n.subject == director.id for t in n.data.tasks}  # type: ignore[attr-defined]


# --- row 3: indefinite court listings -------------------------------------------------


def test_row3_ground_one_has_no_end_and_never_expires_by_the_clock() -> None:
    debtor = resident_id(40)
    news = ok(court(debtor, ground=1))
    assert issued(news).effective_until is None
    state = fold_in(SubjectState(), news, debtor)
    record = next(iter(state.designations.values()))
    assert record.state_at(AT + timedelta(days=365 * 30)) is DesignationState.IN_FORCE
    explicit = ok(court(resident_id(44), ground=1, indefinite=True))  # `null` given: the same
    assert issued(explicit).effective_until is None


def test_row3_other_grounds_run_two_years_to_the_anniversary_and_at_most_five() -> None:
    data = issued(ok(court(ground=2)))
    # decided 2026-03-01: the last day is 2028-03-01, ending at 24:00 China time
    assert data.effective_until == datetime(2028, 3, 2, tzinfo=CHINA_TZ).astimezone(UTC)
    too_long = court(ground=3, effective_until=datetime(2031, 3, 3, tzinfo=CHINA_TZ))
    assert [r.code for r in refused(too_long).rejections] == [C.INVALID_PERIOD]
    extended = court(ground=3, effective_until=datetime(2030, 3, 1, tzinfo=CHINA_TZ))
    assert issued(ok(extended)).effective_until is not None
    assert [r.code for r in refused(court(ground=2, indefinite=True)).rejections] == [
        C.INVALID_PERIOD
    ]
    dated_first = court(ground=1, effective_until=datetime(2027, 3, 1, tzinfo=CHINA_TZ))
    assert [r.field for r in refused(dated_first).rejections] == ["effective_until"]
    missing = refused(issue(COURT, resident_id(41)))
    assert [(r.code, r.field) for r in missing.rejections] == [
        (C.FACT_REQUIRED, "facts.court_ground")
    ]


# --- row 4: exit restriction is a separate decision ----------------------------------


def test_row4_exit_ban_only_with_the_exit_decision() -> None:
    assert "travel.restrict_exit" not in measures(issued(ok(court())))
    decided = CaseFacts(court_ground=1, exit_restriction_decision_no="(2026)京0105执1号之一")
    assert "travel.restrict_exit" in measures(
        issued(ok(issue(COURT, resident_id(6), facts=decided)))
    )
    lr = RelatedPerson(id=resident_id(42), name="法人", role=RelatedRole.LEGAL_REPRESENTATIVE)
    lr_decided = lr.model_copy(
        update={"id": resident_id(43), "facts": CaseFacts(exit_restriction_decision_no="x号")}
    )
    parent = issued(ok(court(uscc(4), related=[lr, lr_decided])))
    reached = {link.subject_id: {r.measure for r in link.reached} for link in parent.related}
    assert "travel.restrict_exit" not in reached[lr.id]
    assert "travel.restrict_exit" in reached[lr_decided.id]
    explicit = refused(court(measures=("travel.restrict_exit",)))
    assert [r.code for r in explicit.rejections] == [C.FACT_REQUIRED]


# --- row 5: tax is not graded; the exit block is a fact ------------------------------


def test_row5_tax_list_is_fixed_and_the_exit_block_depends_on_unpaid_tax() -> None:
    assert [r.code for r in refused(issue(TAX, level=Level.SERIOUS)).rejections] == [
        C.LEVEL_NOT_IN_SCHEME
    ]
    data = issued(ok(issue(TAX, resident_id(50))))
    for code in (
        "land.restrict_state_land",
        "procurement.restrict_government_procurement",
        "funding.restrict_fiscal_funding",
        "finance.restrict_bond_issue",
        "trade.restrict_import_tariff_quota",
    ):
        assert code in measures(issued(ok(issue(TAX)))) or code in measures(data)
    assert "travel.block_exit_tax_arrears" not in measures(data)
    unpaid = issue(TAX, resident_id(51), facts=CaseFacts(unpaid_tax_without_security=True))
    assert "travel.block_exit_tax_arrears" in measures(issued(ok(unpaid)))


# --- row 6 and 7: repair lock-outs ----------------------------------------------------


@pytest.mark.parametrize(
    ("list_type", "level"),
    [
        (KEY_WATCH, Level.SERIOUS),
        (BLACK, None),
        (ENV, Level.SERIOUS),
        (ENV, Level.ESPECIALLY_SERIOUS),
    ],
)
def test_row6_repair_is_possible_within_the_period(list_type: str, level: Level | None) -> None:
    subject = uscc(8)
    news = ok(issue(list_type, subject, level=level))
    state = fold_in(SubjectState(), news, subject)
    repair = GrantRepair(
        designation_id=issued(news).designation_id,
        department=DESIGNATOR[list_type],
        at=AT + timedelta(days=100),
    )
    ok(repair, state)


def test_row6_never_repairable_only_where_the_regime_says_so() -> None:
    for lt in INDEX.catalogue.list_types:
        for lockout in lt.repair.lockouts:
            assert lockout.days is not None or lockout.never_basis, lt.code
            assert lockout.days is None or lt.period_days is None or lockout.days < lt.period_days
    never = [
        lt.code
        for lt in INDEX.catalogue.list_types
        if any(lo.days is None for lo in lt.repair.lockouts)
    ]
    assert never == [URBAN]
    urban = INDEX.list_type(URBAN)
    assert urban is not None
    assert "国办发〔2020〕49号" in urban.conflicts


def test_row7_the_lockout_counts_earlier_listings_at_its_own_level() -> None:
    subject = uscc(9)
    general = ok(issue(URBAN, subject, level=Level.GENERAL, decision_no="d1"))
    state = fold_in(SubjectState(), general, subject)
    serious = ok(issue(URBAN, subject, level=Level.SERIOUS, at=AT + timedelta(days=1)), state)
    state = fold_in(state, serious, subject)
    repair = GrantRepair(
        designation_id=issued(serious).designation_id,
        department=DESIGNATOR[URBAN],
        at=AT + timedelta(days=1 + 366),
    )
    ok(repair, state)  # the first *serious* listing: one year, not three


# --- row 8: the cross-check keys on joint-sanction targets ---------------------------


def test_row8_a_risk_warning_neither_blocks_nor_suppresses_incentives() -> None:
    subject = uscc(10)
    red = ok(issue(RED, subject, level=Level.MINOR))
    state = fold_in(SubjectState(), red, subject)
    warning = ok(issue(KEY_WATCH, subject, level=Level.MINOR, at=AT + timedelta(hours=1)), state)
    assert not issued(warning).joint_sanction
    state = fold_in(state, warning, subject)
    later = AT + timedelta(days=1)
    assert render_status(state, later).incentives_in_force
    ok(issue(RED, subject, level=Level.MINOR, at=later), state)  # a second incentive is fine
    serious = ok(issue(KEY_WATCH, subject, level=Level.SERIOUS, at=later), state)
    state = fold_in(state, serious, subject)
    assert render_status(state, later + timedelta(hours=1)).incentives_in_force == ()
    blocked = refused(issue(RED, subject, level=Level.MINOR, at=later + timedelta(hours=1)), state)
    assert [r.code for r in blocked.rejections] == [C.INCENTIVE_WHILE_SANCTIONED]


# --- row 9: minors -------------------------------------------------------------------


def test_row9_minors_are_not_listed() -> None:
    child = person_born(date(2020, 5, 1))
    result = refused(court(child))
    [rejection] = result.rejections
    assert (rejection.code, rejection.field) == (C.SUBJECT_IS_MINOR, "subject.id")
    assert rejected_status(result) == 422
    child_lr = RelatedPerson(
        id=person_born(date(2015, 1, 1), 2), name="x", role=RelatedRole.LEGAL_REPRESENTATIVE
    )
    assert [r.field for r in refused(court(uscc(5), related=[child_lr])).rejections] == [
        "related_persons[0].id"
    ]
    eighteen_today = person_born(date(2008, 3, 2), 3)  # China date of AT is 2026-03-02
    ok(court(eighteen_today))


# --- row 10: publication tiers --------------------------------------------------------


def test_row10_general_urban_entries_are_recorded_not_published() -> None:
    assert not issued(ok(issue(URBAN, level=Level.GENERAL))).published
    assert issued(ok(issue(URBAN, uscc(11), level=Level.SERIOUS))).published


# --- row 11: units ----------------------------------------------------------------------


def test_row11_years_end_at_the_end_of_the_anniversary_day() -> None:
    start = start_of_china_day(date(2026, 3, 1))
    end = period_end(start, Span(amount=2, unit=SpanUnit.YEARS))
    assert end == datetime(2028, 3, 2, tzinfo=CHINA_TZ)  # 2028-03-01 24:00, not 02-29 00:00
    leap = period_end(start_of_china_day(date(2028, 2, 29)), Span(amount=1, unit=SpanUnit.YEARS))
    assert leap == datetime(2029, 3, 1, tzinfo=CHINA_TZ)  # no 02-29: the month's last day
    months = period_end(start_of_china_day(date(2026, 1, 31)), Span(amount=1, unit=SpanUnit.MONTHS))
    assert months == datetime(2026, 3, 1, tzinfo=CHINA_TZ)


def test_row11_calendar_day_deadlines_are_calendar_days() -> None:
    court_list = INDEX.list_type(COURT)
    nanning = INDEX.list_type("urban.nanning-black")
    assert court_list is not None
    assert nanning is not None
    assert court_list.objection.review_unit is SpanUnit.CALENDAR_DAYS
    assert nanning.repair.decision_unit is SpanUnit.CALENDAR_DAYS
    fifteen = Span(amount=15, unit=SpanUnit.CALENDAR_DAYS)
    assert deadline(date(2026, 9, 28), fifteen) == date(2026, 10, 13)  # over the holiday
    working = Span(amount=15, unit=SpanUnit.WORKING_DAYS)
    assert deadline(date(2026, 9, 28), working) > date(2026, 10, 13)


def test_row11_a_deadline_in_an_unloaded_year_says_so() -> None:
    assert calendar_warning(date(2026, 1, 5), date(2026, 2, 1)) is None
    warning = calendar_warning(date(2099, 12, 1), date(2100, 1, 10))
    assert warning is not None
    assert "2099" in warning
    assert "2100" in warning


# --- old events fold as before ----------------------------------------------------------


def test_version_one_designations_upcast_to_a_joint_sanction_without_facts() -> None:
    news = ok(issue(KEY_WATCH, level=Level.MINOR))
    envelope = news[0].envelope(source="/t")
    payload = {
        k: v
        for k, v in envelope.data.items()
        if k not in ("facts", "joint_sanction", "record_only", "related_not_reached")
    }
    old = Envelope.model_validate(
        {**envelope.model_dump(mode="json"), "schemaversion": 1, "data": payload,
         "dataschema": "urn:jsb:schema:jsb.designation.issued:1"}
    )  # fmt: skip
    data = decode(old)
    assert isinstance(data, DesignationIssued)
    assert data.joint_sanction is True  # as every sanction listing was folded before
    assert data.facts == CaseFacts()
    assert data.record_only is False


def test_row1_a_correction_cannot_give_a_fixed_level_list_a_level() -> None:
    from shared.domain.commands import AmendDesignation, DesignationChanges

    debtor = resident_id(60)
    news = ok(court(debtor))
    state = fold_in(SubjectState(), news, debtor)
    amend = AmendDesignation(
        designation_id=issued(news).designation_id,
        changes=DesignationChanges(level=Level.SERIOUS),
        reason="r",
        department="court",
        at=AT + timedelta(hours=1),
    )
    result = refused(amend, state)
    assert [(r.code, r.field) for r in result.rejections] == [
        (C.LEVEL_NOT_IN_SCHEME, "changes.level")
    ]


def test_row11_the_response_warns_of_a_deadline_in_an_unloaded_year() -> None:
    from services.initiator.views import designation_public

    debtor = resident_id(61)
    later = datetime(2099, 12, 28, 2, tzinfo=UTC)
    news = ok(court(debtor, at=later, decided_at=date(2099, 12, 28)))
    state = fold_in(SubjectState(), news, debtor)
    record = next(iter(state.designations.values()))
    shown = designation_public(record, later)
    assert any("2100" in w for w in shown.warnings)
    assert (
        designation_public(
            next(
                iter(
                    fold_in(
                        SubjectState(), ok(court(resident_id(62))), resident_id(62)
                    ).designations.values()
                )
            ),
            AT,
        ).warnings
        == []
    )
