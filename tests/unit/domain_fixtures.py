"""A small catalogue built in code, valid ids, and helpers to run commands through
`decide` and the fold — so the domain's tests own their data (not catalogue.yaml)."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import UTC, date, datetime, timedelta
from typing import Any
from uuid import UUID, uuid4

from shared.domain.catalogue.index import CatalogueIndex
from shared.domain.catalogue.model import (
    Catalogue,
    Department,
    LevelScheme,
    ListType,
    Measure,
    ObjectionRule,
    RepairLockout,
    RepairRule,
    RoleScope,
)
from shared.domain.commands import IssueDesignation, RelatedPerson, SubjectRef
from shared.domain.decide import NewEvent, Rejected, decide
from shared.domain.envelope import Envelope
from shared.domain.event_base import CaseFacts
from shared.domain.events import RelatedRole
from shared.domain.fold import Recorded, evolve, fold
from shared.domain.fold_state import SubjectState
from shared.domain.identifiers import (
    compute_org_code_check,
    compute_resident_id_check,
    compute_uscc_check,
)
from shared.domain.vocabulary import (
    LEVELS,
    ExpiryMode,
    Level,
    LevelSchemeKind,
    MeasureKind,
    PeriodFrom,
    Polarity,
    SubjectKind,
)

VERSION = "2025.1.0"
T0 = datetime(2025, 3, 3, 2, 0, tzinfo=UTC)  # Monday 10:00 in China
ORG, PERSON = SubjectKind.ORGANIZATION, SubjectKind.PERSON
SERIOUS, GENERAL, MINOR = Level.SERIOUS, Level.GENERAL, Level.MINOR
ESPECIALLY = Level.ESPECIALLY_SERIOUS

# --- identifiers --------------------------------------------------------------------


def uscc(n: int = 1) -> str:
    """A valid unified social credit code (both check characters right)."""
    body = f"{n:08d}"
    first17 = "91350100" + body + compute_org_code_check(body)
    return first17 + compute_uscc_check(first17)


def resident_id(n: int = 1) -> str:
    first17 = f"11010119800101{n:03d}"
    return first17 + compute_resident_id_check(first17)


def bad_check(identifier: str) -> str:
    """The same identifier with a wrong final check character."""
    last = identifier[-1]
    return identifier[:-1] + ("1" if last != "1" else "2")


# --- catalogue ----------------------------------------------------------------------


def _dept(code: str) -> Department:
    return Department(code=code, name_zh=code, name_en=code.upper())


def _measure(
    code: str,
    departments: tuple[str, ...],
    min_level: Level,
    applies_to: tuple[SubjectKind, ...],
    *,
    polarity: Polarity = Polarity.SANCTION,
    mandatory: bool = True,
    duration_days: int | None = None,
    actions: tuple[str, ...] = (),
    reaches: tuple[RelatedRole, ...] | None = tuple(RelatedRole),
) -> Measure:
    return Measure(
        code=code,
        name_zh=code,
        name_en=code,
        polarity=polarity,
        kind=MeasureKind.ADMINISTRATIVE,
        mandatory=mandatory,
        departments=departments,
        legal_basis="test basis",
        min_level=min_level,
        applies_to=applies_to,
        duration_days=duration_days,
        actions=actions,
        reaches=None
        if reaches is None or SubjectKind.PERSON not in applies_to
        else RoleScope(roles=reaches, source="tests: every related role"),
        source="tests",
    )


FLIGHT = "travel.flight"
RAIL = "travel.rail"
TENDER = "procurement.tender"
FUNDING = "finance.funding"
OFFICER = "officer.ban"
LICENCE = "licence.ban"
WARN = "notice.warning"
GREEN = "incentive.green_channel"
INSPECT = "incentive.fewer_inspections"

MEASURES = (
    _measure(FLIGHT, ("caac",), SERIOUS, (PERSON,), actions=("book_flight",)),
    _measure(RAIL, ("rail",), SERIOUS, (PERSON,)),
    _measure(TENDER, ("ggzy",), GENERAL, (ORG,)),
    _measure(FUNDING, ("finance", "pbc"), SERIOUS, (ORG, PERSON), mandatory=False),
    _measure(OFFICER, ("samr",), ESPECIALLY, (PERSON,), duration_days=1095),
    _measure(LICENCE, ("samr",), SERIOUS, (ORG,), duration_days=1825),
    _measure(WARN, ("samr",), MINOR, (ORG, PERSON)),
    _measure(GREEN, ("samr", "tax"), MINOR, (ORG, PERSON), polarity=Polarity.INCENTIVE),
    _measure(INSPECT, ("customs",), MINOR, (ORG,), polarity=Polarity.INCENTIVE),
)


def _list_type(
    code: str,
    polarity: Polarity,
    designating: tuple[str, ...],
    bundles: dict[Level, tuple[str, ...]],
    *,
    period_days: int | None = 365,
    period_from: PeriodFrom = PeriodFrom.PUBLICATION,
    expiry: ExpiryMode = ExpiryMode.AUTOMATIC,
    exit_window: int | None = None,
    objection: ObjectionRule | None = None,
    repair: RepairRule | None = None,
    scheme: LevelScheme | None = None,
) -> ListType:
    return ListType(
        code=code,
        name_zh=code,
        name_en=code,
        polarity=polarity,
        designating_departments=designating,
        period_days=period_days,
        period_from=period_from,
        expiry=expiry,
        exit_window_working_days=exit_window,
        objection=objection
        or ObjectionRule(review_working_days=15, suspends_measures=True, pauses_clock=False),
        repair=repair or RepairRule(allowed=True),
        publication_working_days=7,
        feedback_working_days=5,
        bundles=bundles,
        source="tests",
        **({} if scheme is None else {"level_scheme": scheme}),
    )


COURT = "court.dishonest-debtor"
MARKET = "market.serious-illegal"
SAFETY = "safety.joint-sanction"
KEY_WATCH = "generic.key-watch"
A_GRADE = "tax.a-grade"

LIST_TYPES = (
    _list_type(
        COURT,
        Polarity.SANCTION,
        ("court",),
        {
            SERIOUS: (FLIGHT, RAIL, TENDER),
            ESPECIALLY: (FLIGHT, RAIL, TENDER, OFFICER),
        },
        period_days=None,
        objection=ObjectionRule(
            review_working_days=15, suspends_measures=False, pauses_clock=False
        ),
        repair=RepairRule(allowed=False),
    ),
    _list_type(
        MARKET,
        Polarity.SANCTION,
        ("samr",),
        {
            GENERAL: (TENDER,),
            SERIOUS: (TENDER, FUNDING, LICENCE),
            ESPECIALLY: (TENDER, FUNDING, LICENCE, OFFICER),
        },
        period_days=730,
        period_from=PeriodFrom.DECISION,
        objection=ObjectionRule(review_working_days=15, suspends_measures=True, pauses_clock=True),
        repair=RepairRule(
            allowed=True,
            decision_working_days=15,
            lockouts=(
                RepairLockout(level=SERIOUS, nth=1, days=365),
                RepairLockout(level=SERIOUS, nth=2, days=700),  # shorter than the period
                RepairLockout(
                    level=ESPECIALLY, nth=1, days=None, never_basis="tests: a regime's rule"
                ),
            ),
        ),
    ),
    _list_type(
        SAFETY,
        Polarity.SANCTION,
        ("mem",),
        {SERIOUS: (TENDER, FUNDING, FLIGHT)},
        expiry=ExpiryMode.APPLICATION,
        exit_window=30,
        objection=ObjectionRule(review_working_days=20, suspends_measures=True, pauses_clock=False),
    ),
    _list_type(
        KEY_WATCH,
        Polarity.SANCTION,
        ("samr",),
        {MINOR: (WARN,), GENERAL: (WARN, TENDER)},
        scheme=LevelScheme(
            kind=LevelSchemeKind.GRADED,
            levels=(MINOR, GENERAL),
            record_only=(MINOR,),  # a warning tier: it may carry no measure
            joint_sanction_from=GENERAL,
            source="tests",
        ),
    ),
    _list_type(
        A_GRADE,
        Polarity.INCENTIVE,
        ("tax",),
        {MINOR: (GREEN, INSPECT)},
        repair=RepairRule(allowed=False),
    ),
)

DEPARTMENTS = tuple(
    _dept(c)
    for c in ("court", "samr", "mem", "tax", "caac", "rail", "ggzy", "finance", "pbc", "customs")
)


def catalogue(**changes: Any) -> Catalogue:
    fields: dict[str, Any] = {
        "version": VERSION,
        "levels": LEVELS,
        "departments": DEPARTMENTS,
        "measures": MEASURES,
        "list_types": LIST_TYPES,
    }
    fields.update(changes)
    return Catalogue(**fields)


INDEX = CatalogueIndex(catalogue())


class RawLookup:
    """A catalogue lookup without the index's validation (to test decide's own guards),
    raising KeyError for unknown codes as a dict would."""

    def __init__(self, measures: Iterable[Measure], list_types: Iterable[ListType]) -> None:
        self.version = "raw"
        self._measures = {m.code: m for m in measures}
        self._list_types = {lt.code: lt for lt in list_types}

    def measure(self, code: str) -> Measure | None:
        return self._measures[code]

    def list_type(self, code: str) -> ListType | None:
        return self._list_types[code]


# --- commands and events ------------------------------------------------------------


def issue(
    subject_id: str | None = None,
    *,
    list_type: str = MARKET,
    level: Level | None = SERIOUS,
    department: str | None = None,
    at: datetime = T0,
    related: Sequence[tuple[str, RelatedRole]] = (),
    related_facts: Sequence[CaseFacts] = (),
    **fields: Any,
) -> IssueDesignation:
    departments = {COURT: "court", MARKET: "samr", SAFETY: "mem", KEY_WATCH: "samr"}
    return IssueDesignation(
        designation_id=fields.pop("designation_id", uuid4()),
        department=department or departments.get(list_type, "tax"),
        at=at,
        subject=SubjectRef(id=subject_id or uscc(), name=fields.pop("name", "Acme Ltd")),
        list_type=list_type,
        level=level,
        reason=fields.pop("reason", "serious breach"),
        decision_no=fields.pop("decision_no", "D-1"),
        decided_at=fields.pop("decided_at", date(2025, 3, 3)),
        related_persons=tuple(
            RelatedPerson(
                id=pid,
                name=f"P{i}",
                role=role,
                facts=related_facts[i] if i < len(related_facts) else CaseFacts(),
            )
            for i, (pid, role) in enumerate(related)
        ),
        **fields,
    )


def envelope_of(new: NewEvent, **fields: Any) -> Envelope:
    return new.envelope(source="/jsb/initiator/test", **fields)


def recorded(
    new: NewEvent | Envelope, recorded_at: datetime | None = None, **fields: Any
) -> Recorded:
    env = new if isinstance(new, Envelope) else envelope_of(new, **fields)
    return Recorded(envelope=env, recorded_at=recorded_at or env.time)


def accepted(state: SubjectState, command: Any, lookup: Any = INDEX) -> list[NewEvent]:
    decision = decide(state, command, lookup)
    assert not isinstance(decision, Rejected), decision
    return decision


def rejected(state: SubjectState, command: Any, lookup: Any = INDEX) -> Rejected:
    decision = decide(state, command, lookup)
    assert isinstance(decision, Rejected), decision
    return decision


class Subject:
    """One subject's history, built by running commands through decide + evolve."""

    def __init__(self, subject_id: str | None = None) -> None:
        self.subject_id = subject_id or uscc()
        self.events: list[Recorded] = []
        self.state = SubjectState(subject_id=self.subject_id)
        self.others: list[Recorded] = []  # events about other subjects (related persons)

    def run(self, command: Any, lookup: Any = INDEX) -> list[NewEvent]:
        news = accepted(self.state, command, lookup)
        for new in news:
            self.add(recorded(new))
        return news

    def add(self, item: Recorded) -> None:
        if item.envelope.subject != self.subject_id:
            self.others.append(item)
            return
        self.events.append(item)
        self.state = evolve(self.state, item)

    def issue(self, **fields: Any) -> UUID:
        news = self.run(issue(self.subject_id, **fields))
        return news[0].data.designation_id

    def refold(self) -> SubjectState:
        return fold(self.events)


def at(days: float = 0, hours: float = 0) -> datetime:
    return T0 + timedelta(days=days, hours=hours)


def feedback(
    model: type[Any],
    subject_id: str,
    designation_id: UUID,
    measure: str,
    department: str,
    when: datetime,
    recorded_at: datetime | None = None,
    **fields: Any,
) -> Recorded:
    from shared.domain.events import make_envelope

    data = model(designation_id=designation_id, measure=measure, department=department, **fields)
    env = make_envelope(data, subject=subject_id, source=f"/jsb/responder/{department}", time=when)
    return Recorded(envelope=env, recorded_at=recorded_at or when)
