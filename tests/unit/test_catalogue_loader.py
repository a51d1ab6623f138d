"""Every error path of the catalogue loader, on small catalogues written to tmp_path."""

from __future__ import annotations

import copy
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
import yaml

from shared.domain.catalogue import (
    Catalogue,
    CatalogueError,
    CatalogueIndex,
    Department,
    catalogue_from_data,
    catalogue_problems,
    load_catalogue,
    parse_catalogue,
    validate_catalogue,
)
from shared.domain.catalogue.loader import _yaml_problem
from shared.domain.vocabulary import Level

Data = dict[str, Any]

FLIGHT = "measures[0] (travel.restrict_flight)"
WARNING = "measures[1] (supervision.risk_warning)"
GREEN = "measures[2] (incentive.green_channel)"
COURT = "list_types[0] (court.dishonest-debtor)"
A_GRADE = "list_types[1] (tax.a-grade)"
SAFETY = "list_types[2] (safety.joint-sanction)"


def _measure(code: str, **changes: Any) -> dict[str, Any]:
    measure = {
        "code": code,
        "name_zh": "限制乘坐飞机",
        "name_en": "No air travel",
        "polarity": "sanction",
        "kind": "market",
        "mandatory": True,
        "departments": ["caac"],
        "legal_basis": "法释〔2015〕17号第三条",
        "min_level": "especially_serious",
        "applies_to": ["person"],
        "actions": ["book_flight"],
        "source": "004 篇一",
    }
    measure.update(changes)
    return measure


def _list_type(code: str, **changes: Any) -> dict[str, Any]:
    list_type = {
        "code": code,
        "name_zh": "失信被执行人名单",
        "name_en": "Dishonest judgment debtors",
        "polarity": "sanction",
        "designating_departments": ["court"],
        "period_days": 730,
        "period_from": "decision",
        "expiry": "automatic",
        "objection": {"review_working_days": 15, "suspends_measures": False, "pauses_clock": False},
        "repair": {"allowed": False},
        "publication_working_days": 3,
        "feedback_working_days": 5,
        "bundles": {
            "minor": ["supervision.risk_warning"],
            "especially_serious": ["travel.restrict_flight", "supervision.risk_warning"],
        },
        "source": "法释〔2017〕7号",
    }
    list_type.update(changes)
    return list_type


def minimal() -> Data:
    return {
        "version": "2026.11.1",
        "levels": ["minor", "general", "serious", "especially_serious"],
        "departments": [
            {"code": "court", "name_zh": "人民法院", "name_en": "People's Courts"},
            {"code": "caac", "name_zh": "中国民用航空局", "name_en": "Civil aviation"},
            {"code": "tax", "name_zh": "税务总局", "name_en": "Tax administration"},
            {"code": "mem", "name_zh": "应急管理部", "name_en": "Emergency management"},
        ],
        "measures": [
            _measure("travel.restrict_flight"),
            _measure(
                "supervision.risk_warning",
                kind="administrative",
                mandatory=False,
                departments=["court", "tax"],
                min_level="minor",
                applies_to=["organization", "person"],
                actions=[],
            ),
            _measure(
                "incentive.green_channel",
                polarity="incentive",
                kind="administrative",
                mandatory=False,
                departments=["tax"],
                min_level="minor",
                applies_to=["organization"],
                actions=["apply_license"],
            ),
        ],
        "list_types": [
            _list_type("court.dishonest-debtor"),
            _list_type(
                "tax.a-grade",
                polarity="incentive",
                designating_departments=["tax"],
                period_days=365,
                period_from="publication",
                bundles={"minor": ["incentive.green_channel"]},
            ),
            _list_type(
                "safety.joint-sanction",
                designating_departments=["mem"],
                period_days=1826,  # longer than the lock-outs: repair stays possible
                expiry="application",
                exit_window_working_days=30,
                repair={
                    "allowed": True,
                    "decision_working_days": 15,
                    "lockouts": [
                        {"level": "serious", "nth": 1, "days": 365},
                        {"level": "serious", "nth": 2, "days": 1096},
                        {
                            "level": "especially_serious",
                            "days": None,
                            "never_basis": "a regime's rule: never repaired",
                        },
                    ],
                },
                publication_working_days=10,
                bundles={"especially_serious": ["travel.restrict_flight"]},
                level_scheme={
                    "kind": "graded",
                    "levels": ["serious", "especially_serious"],
                    "record_only": ["serious"],
                    "joint_sanction_from": "especially_serious",
                },
            ),
        ],
    }


def write(tmp_path: Path, data: object) -> Path:
    path = tmp_path / "catalogue.yaml"
    path.write_text(yaml.safe_dump(data, allow_unicode=True, sort_keys=False), encoding="utf-8")
    return path


def problems_of(tmp_path: Path, data: object) -> tuple[str, ...]:
    path = write(tmp_path, data)
    with pytest.raises(CatalogueError) as caught:
        load_catalogue(path)
    assert caught.value.source == str(path)
    return caught.value.problems


def problems_of_text(text: str) -> tuple[str, ...]:
    with pytest.raises(CatalogueError) as caught:
        parse_catalogue(text, source="test.yaml")
    return caught.value.problems


# --- the happy path ---------------------------------------------------------------------


def test_minimal_catalogue_loads(tmp_path: Path) -> None:
    cat = load_catalogue(write(tmp_path, minimal()))
    assert cat.version == "2026.11.1"
    assert [m.code for m in cat.measures] == [
        "travel.restrict_flight",
        "supervision.risk_warning",
        "incentive.green_channel",
    ]
    safety = cat.list_types[2]
    assert safety.repair.lockouts[2].nth == 1
    assert safety.repair.lockouts[2].days is None


def test_parse_catalogue_and_catalogue_from_data_agree(tmp_path: Path) -> None:
    text = yaml.safe_dump(minimal(), allow_unicode=True)
    assert parse_catalogue(text) == catalogue_from_data(minimal())
    assert parse_catalogue(text) == load_catalogue(write(tmp_path, minimal()))


def test_yaml_anchors_and_merge_keys_are_fine() -> None:
    text = yaml.safe_dump(minimal(), allow_unicode=True, sort_keys=False)
    text = text.replace(
        "- code: tax\n",
        "- &dept\n  code: tax\n",
    )
    cat = parse_catalogue(text)
    assert cat.departments[2].code == "tax"
    merged = parse_catalogue(
        text.replace(
            "- code: mem\n  name_zh: 应急管理部\n  name_en: Emergency management\n",
            "- <<: *dept\n  code: mem\n",
        )
    )
    assert merged.departments[3].code == "mem"
    assert merged.departments[3].name_zh == "税务总局"


def test_missing_file_raises_oserror(tmp_path: Path) -> None:
    with pytest.raises(FileNotFoundError):
        load_catalogue(tmp_path / "absent.yaml")


# --- YAML -------------------------------------------------------------------------------


def test_yaml_syntax_error_has_line_and_column() -> None:
    assert problems_of_text("version: '2026.11.1'\nlevels: [minor\n") == (
        "yaml: line 3, column 1: expected ',' or ']', but got '<stream end>'",
    )


def test_yaml_mapping_value_error() -> None:
    assert problems_of_text("version: a: b\n") == (
        "yaml: line 1, column 11: mapping values are not allowed here",
    )


def test_yaml_unacceptable_character() -> None:
    (problem,) = problems_of_text("version: \x00\n")
    assert problem.startswith("yaml: unacceptable character #x0000")


def test_yaml_unhashable_key() -> None:
    assert problems_of_text("? [a, b]\n: 1\n") == ("yaml: line 1, column 3: found unhashable key",)


def test_yaml_error_without_a_mark() -> None:
    assert _yaml_problem(yaml.MarkedYAMLError(problem="boom")) == "yaml: boom"
    mark = yaml.Mark("x", 0, 4, 2, None, 0)
    context_only = yaml.MarkedYAMLError(context="while parsing", context_mark=mark)
    assert _yaml_problem(context_only) == "yaml: line 5, column 3: while parsing"
    assert _yaml_problem(yaml.YAMLError("plain")) == "yaml: plain"


def test_duplicate_keys_are_reported_with_lines() -> None:
    text = yaml.safe_dump(minimal(), allow_unicode=True, sort_keys=False)
    text = text.replace("version: 2026.11.1\n", "version: 2026.11.1\nversion: 2026.11.2\n")
    assert problems_of_text(text) == (
        "yaml: line 2, column 1: duplicate key 'version' (first at line 1)",
    )


def test_duplicate_keys_and_other_problems_are_all_listed() -> None:
    data = minimal()
    data["measures"][0]["departments"] = ["caa"]
    text = yaml.safe_dump(data, allow_unicode=True, sort_keys=False)
    text = text.replace("version: 2026.11.1\n", "version: 2026.11.1\nversion: 2026.11.2\n")
    assert problems_of_text(text) == (
        "yaml: line 2, column 1: duplicate key 'version' (first at line 1)",
        f"{FLIGHT}.departments: unknown department 'caa'",
    )


def test_root_must_be_a_mapping(tmp_path: Path) -> None:
    assert problems_of(tmp_path, ["a"]) == ("(root): expected a mapping, got list",)
    assert problems_of_text("") == ("(root): expected a mapping, got NoneType",)


# --- structure (pydantic, reported with locations) --------------------------------------


def _set(path: str, value: Any) -> Callable[[Data], None]:
    """A change at a dotted path (`measures.0.polarity`); `...=DELETE` removes the key."""

    def change(data: Data) -> None:
        *parents, last = path.split(".")
        node: Any = data
        for part in parents:
            node = node[int(part)] if isinstance(node, list) else node[part]
        key: Any = int(last) if isinstance(node, list) else last
        if value is DELETE:
            del node[key]
        else:
            node[key] = value

    return change


DELETE = object()

CASES: list[tuple[str, Callable[[Data], None], list[str]]] = [
    # top level
    ("unknown top-level", _set("extras", 1), ["extras: unknown top-level field"]),
    ("missing version", _set("version", DELETE), ["version: Field required"]),
    ("float version", _set("version", 2026.11), ["version: Input should be a valid string"]),
    (
        "version format",
        _set("version", "v1"),
        ["version: 'v1' is not a catalogue version like '2026.11.1'"],
    ),
    (
        "bad level",
        _set("levels", ["minor", "severe"]),
        [
            "levels[1]: Input should be 'minor', 'general', 'serious' or 'especially_serious'",
        ],
    ),
    (
        "levels order",
        _set("levels", ["general", "minor", "serious", "especially_serious"]),
        ["levels: must be exactly [minor, general, serious, especially_serious], in this order"],
    ),
    (
        "section not a list",
        _set("list_types", {"a": 1}),
        ["list_types: Input should be a valid list"],
    ),
    # items, pydantic
    (
        "item not a mapping",
        _set("departments.3", "mem"),
        [
            "departments[3]: Input should be a valid dictionary or instance of Department",
            f"{SAFETY}.designating_departments: unknown department 'mem'",
        ],
    ),
    (
        "bad polarity",
        _set("measures.2.polarity", "reward"),
        [
            f"{GREEN}.polarity: Input should be 'sanction' or 'incentive'",
        ],
    ),
    (
        "extra field",
        _set("measures.0.colour", "red"),
        [f"{FLIGHT}.colour: Extra inputs are not permitted"],
    ),
    (
        "code not a string",
        _set("measures.0.code", 7),
        [
            "measures[0].code: Input should be a valid string",
            f"{COURT}.bundles.especially_serious[0]: unknown measure 'travel.restrict_flight'",
            f"{SAFETY}.bundles.especially_serious[0]: unknown measure 'travel.restrict_flight'",
        ],
    ),
    (
        "bad bundle level",
        _set("list_types.0.bundles.severe", []),
        [
            f"{COURT}.bundles.severe[key]: Input should be 'minor', 'general', 'serious' or "
            "'especially_serious'"
        ],
    ),
    (
        "nested objection",
        _set("list_types.1.objection.review_working_days", "soon"),
        [
            f"{A_GRADE}.objection.review_working_days: Input should be a valid integer, "
            "unable to parse string as an integer"
        ],
    ),
    (
        "bad lockout level",
        _set("list_types.2.repair.lockouts.0.level", "grave"),
        [
            f"{SAFETY}.repair.lockouts[0].level: Input should be 'minor', 'general', "
            "'serious' or 'especially_serious'"
        ],
    ),
    # codes
    (
        "department code",
        _set("departments.0.code", "Court"),
        [
            "departments[0] (Court).code: 'Court' is not a valid department code "
            "(lower-case words joined by '_', '.' for a sub-unit)",
            f"{WARNING}.departments: unknown department 'court'",
            f"{COURT}.designating_departments: unknown department 'court'",
        ],
    ),
    (
        "measure code",
        _set("measures.1.code", "warning"),
        [
            "measures[1] (warning).code: 'warning' is not a valid measure code "
            "(lower-case dotted, like 'travel.restrict_flight')",
            f"{COURT}.bundles.minor[0]: unknown measure 'supervision.risk_warning'",
            f"{COURT}.bundles.especially_serious[1]: unknown measure 'supervision.risk_warning'",
        ],
    ),
    (
        "list type code",
        _set("list_types.1.code", "tax_a_grade"),
        [
            "list_types[1] (tax_a_grade).code: 'tax_a_grade' is not a valid list type code "
            "('<regime>.<name>', like 'court.dishonest-debtor')",
        ],
    ),
    (
        "duplicate department",
        _set("departments.3.code", "tax"),
        [
            "departments[3] (tax).code: duplicate of departments[2]",
            f"{SAFETY}.designating_departments: unknown department 'mem'",
        ],
    ),
    (
        "duplicate measure",
        _set("measures.2", _measure("travel.restrict_flight")),
        [
            "measures[2] (travel.restrict_flight).code: duplicate of measures[0]",
            f"{A_GRADE}.bundles.minor[0]: unknown measure 'incentive.green_channel'",
        ],
    ),
    (
        "duplicate list type",
        _set("list_types.1", _list_type("court.dishonest-debtor")),
        ["list_types[1] (court.dishonest-debtor).code: duplicate of list_types[0]"],
    ),
    # blanks
    (
        "blank department name",
        _set("departments.1.name_en", " "),
        ["departments[1] (caac).name_en: must not be empty"],
    ),
    (
        "blank measure fields",
        _set("measures.0.legal_basis", ""),
        [f"{FLIGHT}.legal_basis: must not be empty"],
    ),
    (
        "blank measure source",
        _set("measures.0.source", ""),
        [f"{FLIGHT}.source: must not be empty"],
    ),
    ("blank list source", _set("list_types.0.source", ""), [f"{COURT}.source: must not be empty"]),
    # measures
    (
        "unknown department",
        _set("measures.0.departments", ["caa"]),
        [f"{FLIGHT}.departments: unknown department 'caa'"],
    ),
    (
        "no department",
        _set("measures.0.departments", []),
        [f"{FLIGHT}.departments: must name at least one department"],
    ),
    (
        "department twice",
        _set("measures.0.departments", ["caac", "caac"]),
        [f"{FLIGHT}.departments: duplicate department 'caac'"],
    ),
    (
        "applies to nobody",
        _set("measures.0.applies_to", []),
        [f"{FLIGHT}.applies_to: must name at least one subject kind"],
    ),
    (
        "applies twice",
        _set("measures.0.applies_to", ["person", "person"]),
        [f"{FLIGHT}.applies_to: duplicate subject kind 'person'"],
    ),
    (
        "action style",
        _set("measures.0.actions", ["Book-Flight", "book_flight", "book_flight"]),
        [
            f"{FLIGHT}.actions: 'Book-Flight' is not a snake_case action",
            f"{FLIGHT}.actions: duplicate action 'book_flight'",
        ],
    ),
    (
        "duration",
        _set("measures.0.duration_days", 0),
        [f"{FLIGHT}.duration_days: must be at least 1, got 0"],
    ),
    # list types
    (
        "designating unknown",
        _set("list_types.0.designating_departments", ["courts"]),
        [f"{COURT}.designating_departments: unknown department 'courts'"],
    ),
    (
        "designating nobody",
        _set("list_types.0.designating_departments", []),
        [f"{COURT}.designating_departments: must name at least one department"],
    ),
    (
        "period",
        _set("list_types.0.period_days", 0),
        [f"{COURT}.period_days: must be at least 1, got 0"],
    ),
    (
        "exit window missing",
        _set("list_types.2.exit_window_working_days", None),
        [f"{SAFETY}.exit_window_working_days: required when expiry is application"],
    ),
    (
        "application without period",
        _set("list_types.2.period_days", None),
        [f"{SAFETY}.period_days: required when expiry is application"],
    ),
    (
        "exit window without application",
        _set("list_types.0.exit_window_working_days", 30),
        [f"{COURT}.exit_window_working_days: must be null unless expiry is application"],
    ),
    (
        "exit window zero",
        _set("list_types.2.exit_window_working_days", 0),
        [f"{SAFETY}.exit_window_working_days: must be at least 1, got 0"],
    ),
    (
        "objection days",
        _set("list_types.0.objection.review_working_days", 0),
        [f"{COURT}.objection.review_working_days: must be at least 1, got 0"],
    ),
    (
        "repair days",
        _set("list_types.2.repair.decision_working_days", -1),
        [f"{SAFETY}.repair.decision_working_days: must be at least 1, got -1"],
    ),
    (
        "lockouts without repair",
        _set("list_types.2.repair.allowed", False),
        [f"{SAFETY}.repair.lockouts: must be empty when repair is not allowed"],
    ),
    (
        "lockout nth and days",
        _set("list_types.2.repair.lockouts.0", {"level": "serious", "nth": 0, "days": 0}),
        [
            f"{SAFETY}.repair.lockouts[0].nth: must be at least 1, got 0",
            f"{SAFETY}.repair.lockouts[0].days: must be at least 1, got 0",
        ],
    ),
    (
        "lockout twice",
        _set("list_types.2.repair.lockouts.1", {"level": "serious", "nth": 1, "days": 30}),
        [f"{SAFETY}.repair.lockouts[1]: duplicate lockout for level serious, nth 1"],
    ),
    (
        "publication",
        _set("list_types.0.publication_working_days", 0),
        [f"{COURT}.publication_working_days: must be at least 1, got 0"],
    ),
    (
        "feedback",
        _set("list_types.0.feedback_working_days", 0),
        [f"{COURT}.feedback_working_days: must be at least 1, got 0"],
    ),
    # bundles
    (
        "unknown bundle measure",
        _set("list_types.0.bundles.serious", ["x"]),
        [f"{COURT}.bundles.serious[0]: unknown measure 'x'"],
    ),
    (
        "above the level",
        _set(
            "list_types.0.bundles.serious", ["supervision.risk_warning", "travel.restrict_flight"]
        ),
        [
            f"{COURT}.bundles.serious[1]: measure 'travel.restrict_flight' has min_level "
            "especially_serious, above serious"
        ],
    ),
    (
        "polarity mismatch",
        _set("list_types.1.bundles.minor", ["incentive.green_channel", "supervision.risk_warning"]),
        [
            f"{A_GRADE}.bundles.minor[1]: measure 'supervision.risk_warning' is a sanction "
            "measure, list type is incentive"
        ],
    ),
    (
        "bundle twice",
        _set("list_types.0.bundles.minor", ["supervision.risk_warning"] * 2),
        [f"{COURT}.bundles.minor: duplicate measure 'supervision.risk_warning'"],
    ),
    (
        "bundle of an invalid measure",
        _set("measures.0.polarity", "reward"),
        [f"{FLIGHT}.polarity: Input should be 'sanction' or 'incentive'"],
    ),
    (
        "department that is itself invalid",
        _set("departments.1.name_en", None),
        ["departments[1] (caac).name_en: Input should be a valid string"],
    ),
]


@pytest.mark.parametrize(("change", "expected"), [c[1:] for c in CASES], ids=[c[0] for c in CASES])
def test_error_paths(tmp_path: Path, change: Callable[[Data], None], expected: list[str]) -> None:
    data = minimal()
    change(data)
    assert list(problems_of(tmp_path, data)) == expected


def test_every_problem_is_listed_at_once(tmp_path: Path) -> None:
    data = minimal()
    data["version"] = "latest"
    data["measures"][0]["departments"] = ["caa"]
    data["measures"][1]["applies_to"] = []
    data["list_types"][1]["bundles"]["minor"] = ["supervision.risk_warning"]
    data["list_types"][2]["exit_window_working_days"] = None
    data["list_types"][0]["designating_departments"] = ["supreme"]
    assert list(problems_of(tmp_path, data)) == [
        "version: 'latest' is not a catalogue version like '2026.11.1'",
        f"{FLIGHT}.departments: unknown department 'caa'",
        f"{WARNING}.applies_to: must name at least one subject kind",
        f"{COURT}.designating_departments: unknown department 'supreme'",
        f"{A_GRADE}.bundles.minor[0]: measure 'supervision.risk_warning' is a sanction measure, "
        "list type is incentive",
        f"{SAFETY}.exit_window_working_days: required when expiry is application",
    ]


def test_error_message_names_the_file_and_each_problem(tmp_path: Path) -> None:
    data = minimal()
    data["measures"][0]["departments"] = ["caa"]
    path = write(tmp_path, data)
    with pytest.raises(CatalogueError) as caught:
        load_catalogue(path)
    assert isinstance(caught.value, ValueError)
    assert str(caught.value) == (
        f"{path}: invalid catalogue, 1 problem(s):\n"
        f"  {FLIGHT}.departments: unknown department 'caa'"
    )


# --- catalogues built in code -----------------------------------------------------------


def test_validate_catalogue_in_code() -> None:
    good = catalogue_from_data(minimal())
    assert validate_catalogue(good) is good
    assert catalogue_problems(good) == []
    bad = good.model_copy(
        update={
            "version": "x",
            "levels": (Level.MINOR,),
            "departments": (
                *good.departments,
                Department(code="caac", name_zh="民航", name_en="x"),
            ),
        }
    )
    with pytest.raises(CatalogueError) as caught:
        validate_catalogue(bad, source="built")
    assert caught.value.source == "built"
    assert caught.value.problems == (
        "version: 'x' is not a catalogue version like '2026.11.1'",
        "levels: must be exactly [minor, general, serious, especially_serious], in this order",
        "departments[4] (caac).code: duplicate of departments[1]",
    )


def test_index_refuses_an_inconsistent_catalogue() -> None:
    good = catalogue_from_data(minimal())
    bad = good.model_copy(update={"departments": good.departments[1:]})
    with pytest.raises(CatalogueError) as caught:
        CatalogueIndex(bad)
    assert caught.value.source == "catalogue 2026.11.1"
    assert caught.value.problems == (
        f"{WARNING}.departments: unknown department 'court'",
        f"{COURT}.designating_departments: unknown department 'court'",
    )


def test_index_over_a_small_catalogue() -> None:
    index = CatalogueIndex(catalogue_from_data(minimal()))
    assert [m.code for m in index.bundle("court.dishonest-debtor", "especially_serious")] == [
        "travel.restrict_flight",
        "supervision.risk_warning",
    ]
    assert [m.code for m in index.measures_of_department("tax")] == [
        "supervision.risk_warning",
        "incentive.green_channel",
    ]
    assert [d.code for d in index.departments_for("supervision.risk_warning")] == ["court", "tax"]
    assert index.measures_for_action("book_flight")[0].code == "travel.restrict_flight"


def test_data_is_not_mutated(tmp_path: Path) -> None:
    data = minimal()
    before = copy.deepcopy(data)
    catalogue_from_data(data)
    assert data == before
    assert isinstance(catalogue_from_data(data), Catalogue)
