"""The shipped catalogue (catalogue.yaml), its index and its public form."""

from __future__ import annotations

import json
from importlib.resources import files
from pathlib import Path

import pytest
from pydantic import BaseModel

from shared.domain.catalogue import (
    Catalogue,
    CatalogueIndex,
    Department,
    ListType,
    Measure,
    ObjectionRule,
    RepairLockout,
    RepairRule,
    default_catalogue,
    default_index,
    load_catalogue,
)
from shared.domain.vocabulary import (
    LEVELS,
    ExpiryMode,
    Level,
    PeriodFrom,
    Polarity,
    SubjectKind,
)


@pytest.fixture(scope="module")
def cat() -> Catalogue:
    return default_catalogue()


@pytest.fixture(scope="module")
def index() -> CatalogueIndex:
    return default_index()


def _list_type(cat: Catalogue, code: str) -> ListType:
    found = [lt for lt in cat.list_types if lt.code == code]
    assert len(found) == 1, code
    return found[0]


# --- the shipped data -------------------------------------------------------------------


def test_yaml_ships_inside_the_package() -> None:
    assert files("shared.domain.catalogue").joinpath("catalogue.yaml").is_file()


def test_default_is_cached_and_equals_a_fresh_load(cat: Catalogue) -> None:
    assert load_catalogue() is cat
    assert default_catalogue() is cat
    path = Path(str(files("shared.domain.catalogue").joinpath("catalogue.yaml")))
    assert load_catalogue(path) == cat


def test_version_and_levels(cat: Catalogue) -> None:
    assert cat.version == "2026.11.1"
    assert cat.levels == LEVELS


def test_sizes(cat: Catalogue) -> None:
    sanctions = [m for m in cat.measures if m.polarity is Polarity.SANCTION]
    incentives = [m for m in cat.measures if m.polarity is Polarity.INCENTIVE]
    assert len(cat.departments) >= 40
    assert len(sanctions) >= 60
    assert len(incentives) >= 20
    assert len(cat.list_types) >= 8


@pytest.mark.parametrize(
    "code",
    [
        "court",
        "tax",
        "ndrc",
        "pboc",
        "csrc",
        "cbirc",
        "samr",
        "customs",
        "rail",
        "caac",
        "mps.exit",
        "mof",
        "mnr",
        "mohurd",
        "mot",
        "mem",
        "mee",
        "mofcom",
        "moe",
        "mca",
        "sasac",
        "civilization_office",
        "public_resources_trading",
        "mohrss",
        "miit",
        "mara",
        "mct",
        "nhc",
        "cac",
        "acftu",
        "cyl",
        "acwf",
        "acfic",
        "nea",
        "nfga",
        "cnipa",
        "safe",
        "insurance_association",
        "banking_association",
        "banks",
    ],
)
def test_named_departments_exist(index: CatalogueIndex, code: str) -> None:
    dept = index.department(code)
    assert dept is not None
    assert dept.name_zh
    assert dept.name_en


def test_every_department_implements_or_designates_something(cat: Catalogue) -> None:
    used = {d for m in cat.measures for d in m.departments}
    used |= {d for lt in cat.list_types for d in lt.designating_departments}
    assert [d.code for d in cat.departments if d.code not in used] == []


def test_every_measure_is_in_some_bundle(cat: Catalogue) -> None:
    bundled = {c for lt in cat.list_types for codes in lt.bundles.values() for c in codes}
    assert [m.code for m in cat.measures if m.code not in bundled] == []


def test_incentive_measures_have_no_gravity_floor(cat: Catalogue) -> None:
    incentives = [m for m in cat.measures if m.polarity is Polarity.INCENTIVE]
    assert {m.min_level for m in incentives} == {Level.MINOR}


@pytest.mark.parametrize(
    ("code", "action", "department"),
    [
        ("travel.restrict_flight", "book_flight", "caac"),
        ("travel.restrict_high_speed_rail", "book_high_speed_rail", "rail"),
        ("travel.restrict_exit", "leave_country", "mps.exit"),
        ("travel.block_exit_tax_arrears", "leave_country", "mps.exit"),
        ("property.restrict_real_estate_purchase", "buy_real_estate", "mohurd"),
        ("consumption.restrict_star_hotel", "stay_star_hotel", "mct"),
        ("consumption.restrict_luxury_venues", "play_golf", "mct"),
        ("procurement.restrict_public_resource_trading", "bid_public_tender", "mof"),
        ("funding.restrict_fiscal_funding", "apply_fiscal_funding", "mof"),
        ("finance.restrict_bank_credit", "apply_bank_loan", "banks"),
        ("finance.restrict_bond_issue", "issue_bonds", "ndrc"),
        ("finance.restrict_stock_listing", "list_stock", "csrc"),
        ("officer.restrict_serving", "register_company_officer", "samr"),
        ("honours.restrict", "apply_honour", "civilization_office"),
        ("internet.restrict_information_service", "provide_internet_information_service", "cac"),
        ("education.restrict_private_school", "enrol_child_private_school", "moe"),
        ("tax.restrict_invoices", "obtain_invoices", "tax"),
        ("incentive.green_channel", "apply_license", "ndrc"),
        ("incentive.credit_loan", "apply_bank_loan", "banks"),
        ("incentive.customs_priority_clearance", "clear_customs", "customs"),
    ],
)
def test_key_measures(index: CatalogueIndex, code: str, action: str, department: str) -> None:
    measure = index.measure(code)
    assert measure is not None
    assert action in measure.actions
    assert department in measure.departments
    assert measure in index.measures_for_action(action)
    assert measure in index.measures_of_department(department)


def test_statutory_durations(index: CatalogueIndex) -> None:
    ban = index.measure("safety.ban_principal")
    assert ban is not None
    assert ban.duration_days == 1826  # 安全生产法第九十一条: five years
    assert ban.applies_to == (SubjectKind.PERSON,)
    three_years = index.measure("officer.ban_serious_illegal_enterprise")
    assert three_years is not None
    assert three_years.duration_days == 1096
    flights = index.measure("travel.restrict_flight")
    assert flights is not None
    assert flights.duration_days is None


def test_mandatory_versus_recommended(index: CatalogueIndex) -> None:
    flights, green = (
        index.measure("travel.restrict_flight"),
        index.measure("incentive.green_channel"),
    )
    assert flights is not None
    assert flights.mandatory  # 法释〔2015〕17号
    assert green is not None
    assert not green.mandatory  # "可根据实际情况实施"


def test_court_dishonest_debtor(index: CatalogueIndex) -> None:
    lt = index.list_type("court.dishonest-debtor")
    assert lt is not None
    assert lt.polarity is Polarity.SANCTION
    assert lt.designating_departments == ("court",)
    assert lt.objection.review_working_days == 15
    assert not lt.objection.suspends_measures
    assert not lt.objection.pauses_clock
    assert lt.period_days == 730
    assert lt.period_from is PeriodFrom.DECISION
    assert "法释〔2017〕7号" in lt.source
    assert "15" in lt.objection.source
    flights = index.measure("travel.restrict_flight")
    assert flights in index.bundle("court.dishonest-debtor", Level.ESPECIALLY_SERIOUS)
    assert flights not in index.bundle("court.dishonest-debtor", Level.SERIOUS)
    codes = {m.code for m in index.bundle("court.dishonest-debtor", "especially_serious")}
    assert {
        "travel.restrict_high_speed_rail",
        "consumption.restrict_star_hotel",
        "education.restrict_private_school",
        "travel.restrict_exit",
    } <= codes


def test_safety_joint_sanction(index: CatalogueIndex) -> None:
    lt = index.list_type("safety.joint-sanction")
    assert lt is not None
    assert lt.expiry is ExpiryMode.APPLICATION
    assert lt.exit_window_working_days == 30
    assert lt.period_days == 365
    assert lt.period_from is PeriodFrom.PUBLICATION
    assert lt.publication_working_days == 10
    assert "安监总办〔2017〕49号" in lt.source
    bundle = index.bundle("safety.joint-sanction", Level.ESPECIALLY_SERIOUS)
    assert len(bundle) >= 29
    implementers = {d for m in bundle for d in m.departments}
    signatories = {
        "ndrc",
        "pboc",
        "mem",
        "civilization_office",
        "most",
        "mof",
        "mohrss",
        "mnr",
        "mee",
        "mohurd",
        "sasac",
        "customs",
        "tax",
        "samr",
        "cbirc",
        "csrc",
    }
    assert signatories <= implementers


def test_other_sanction_list_types(index: CatalogueIndex) -> None:
    tax = index.list_type("tax.major-violation")
    market = index.list_type("market.serious-illegal")
    watch = index.list_type("generic.key-watch")
    urban = index.list_type("urban.city-management-dishonest")
    assert tax is not None
    assert tax.designating_departments == ("tax",)
    assert market is not None
    assert market.designating_departments == ("samr",)
    assert watch is not None
    assert not watch.published
    assert Level.ESPECIALLY_SERIOUS not in watch.bundles  # escalates to the black list
    assert urban is not None
    assert urban.period_days == 1826
    assert urban.repair.lockouts == (
        RepairLockout(level=Level.SERIOUS, nth=1, days=365),
        RepairLockout(level=Level.SERIOUS, nth=2, days=1096),
        RepairLockout(
            level=Level.ESPECIALLY_SERIOUS,
            nth=1,
            days=None,
            never_basis="城市管理领域失信行为联合惩戒实施办法（试行）第十五条："
            "情节特别严重的不予修复（004 篇十三）",
        ),
    )
    nanning = index.list_type("urban.nanning-black")
    assert nanning is not None
    assert nanning.objection.review_working_days == 20
    red_tier = index.list_type("urban.nanning-red-tier")
    assert red_tier is not None
    assert red_tier.polarity is Polarity.SANCTION  # "失信红名单" is not a red list
    black = index.list_type("generic.black-list")
    assert black is not None
    assert black.objection.pauses_clock


@pytest.mark.parametrize(
    "code", ["tax.a-grade", "customs.advanced-certification", "generic.red-list"]
)
def test_incentive_list_types(index: CatalogueIndex, code: str) -> None:
    lt = index.list_type(code)
    assert lt is not None
    assert lt.polarity is Polarity.INCENTIVE
    assert not lt.repair.allowed
    assert not lt.objection.suspends_measures
    bundles = [index.bundle(code, level) for level in LEVELS]
    assert bundles[0]
    assert all(b == bundles[0] for b in bundles)
    assert all(m.polarity is Polarity.INCENTIVE for m in bundles[0])


def test_a_grade_and_customs_bundles(index: CatalogueIndex) -> None:
    a_grade = {m.code for m in index.bundle("tax.a-grade", Level.MINOR)}
    assert {"incentive.tax_a_grade_invoices", "incentive.green_channel"} <= a_grade
    aeo = {m.code for m in index.bundle("customs.advanced-certification", Level.MINOR)}
    assert "incentive.customs_lower_inspection_rate" in aeo


def test_sanction_bundles_grow_with_level(cat: Catalogue, index: CatalogueIndex) -> None:
    for lt in cat.list_types:
        if lt.polarity is Polarity.SANCTION:
            sizes = [len(lt.bundles[level]) for level in LEVELS if level in lt.bundles]
            assert sizes == sorted(sizes), lt.code
            minor = index.bundle(lt.code, Level.MINOR)
            assert all(m.min_level is Level.MINOR for m in minor), lt.code  # warnings only


def test_every_list_type_cites_its_sources(cat: Catalogue) -> None:
    for lt in cat.list_types:
        assert lt.source, lt.code
        assert lt.objection.source, lt.code
        assert lt.repair.source, lt.code


# --- the index --------------------------------------------------------------------------


def test_index_lookups(index: CatalogueIndex, cat: Catalogue) -> None:
    assert index.catalogue is cat
    assert index.version == cat.version
    assert index.measure("nope") is None
    assert index.list_type("nope") is None
    assert index.department("nope") is None
    assert index.measures_for_action("fly_to_the_moon") == ()
    assert index.measures_of_department("nope") == ()
    assert index.bundle("nope", Level.SERIOUS) == ()
    assert index.bundle("generic.key-watch", Level.ESPECIALLY_SERIOUS) == ()
    assert index.departments_for("nope") == ()
    caac = index.department("caac")
    assert caac is not None
    assert index.departments_for("travel.restrict_flight") == (caac,)
    with pytest.raises(ValueError, match="severe"):
        index.bundle("court.dishonest-debtor", "severe")


def test_index_bundle_keeps_the_data_order(index: CatalogueIndex) -> None:
    lt = index.list_type("tax.major-violation")
    assert lt is not None
    codes = lt.bundles[Level.ESPECIALLY_SERIOUS]
    assert tuple(m.code for m in index.bundle(lt.code, Level.ESPECIALLY_SERIOUS)) == codes


def test_measures_for_action_lists_every_governing_measure(index: CatalogueIndex) -> None:
    codes = {m.code for m in index.measures_for_action("leave_country")}
    assert codes == {"travel.restrict_exit", "travel.block_exit_tax_arrears"}


def test_default_index_is_cached() -> None:
    assert default_index() is default_index()


# --- the public form (GET /v1/catalogue) -----------------------------------------------


def _fields(model: type[BaseModel]) -> set[str]:
    return set(model.model_fields)


def test_public_dict_shape(index: CatalogueIndex) -> None:
    body = index.to_public_dict()
    assert list(body) == [
        "version",
        "levels",
        "departments",
        "measures",
        "list_types",
        "role_scopes",
    ]
    assert body["version"] == "2026.11.1"
    assert body["levels"] == ["minor", "general", "serious", "especially_serious"]
    assert all(set(d) == _fields(Department) for d in body["departments"])
    assert all(set(m) == _fields(Measure) for m in body["measures"])
    assert all(set(lt) == _fields(ListType) for lt in body["list_types"])
    assert all(set(lt["objection"]) == _fields(ObjectionRule) for lt in body["list_types"])
    assert all(set(lt["repair"]) == _fields(RepairRule) for lt in body["list_types"])
    lockouts = [lo for lt in body["list_types"] for lo in lt["repair"]["lockouts"]]
    assert lockouts
    assert all(set(lo) == _fields(RepairLockout) for lo in lockouts)


def test_public_dict_field_names_are_the_contract(index: CatalogueIndex) -> None:
    body = index.to_public_dict()
    assert set(body["measures"][0]) == {
        "code",
        "name_zh",
        "name_en",
        "polarity",
        "kind",
        "mandatory",
        "departments",
        "legal_basis",
        "min_level",
        "applies_to",
        "duration_days",
        "actions",
        "source",
        # issue 9: added, never renamed
        "duration",
        "reaches",
        "requires_fact",
        "counts_from_fact",
    }
    assert set(body["list_types"][0]) == {
        "code",
        "name_zh",
        "name_en",
        "polarity",
        "designating_departments",
        "period_days",
        "period_from",
        "expiry",
        "exit_window_working_days",
        "objection",
        "repair",
        "publication_working_days",
        "feedback_working_days",
        "published",
        "bundles",
        "source",
        # issue 9: added, never renamed
        "period",
        "max_period",
        "indefinite_allowed",
        "no_period_court_grounds",
        "required_facts",
        "minimum_age",
        "level_scheme",
        "conflicts",
    }


def test_public_dict_is_json_ready(index: CatalogueIndex) -> None:
    body = index.to_public_dict()
    assert json.loads(json.dumps(body, ensure_ascii=False)) == body
    flight = next(m for m in body["measures"] if m["code"] == "travel.restrict_flight")
    assert flight["polarity"] == "sanction"
    assert type(flight["polarity"]) is str
    assert flight["departments"] == ["caac"]
    assert flight["applies_to"] == ["person"]
    assert flight["duration_days"] is None
    court = next(lt for lt in body["list_types"] if lt["code"] == "court.dishonest-debtor")
    assert court["expiry"] == "automatic"
    assert type(court["expiry"]) is str
    assert isinstance(court["bundles"]["especially_serious"], list)
    assert court["objection"]["suspends_measures"] is False


def test_public_dict_is_a_fresh_copy(index: CatalogueIndex) -> None:
    body = index.to_public_dict()
    body["measures"].clear()
    assert index.to_public_dict()["measures"]
