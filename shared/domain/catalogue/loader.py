"""Load and check the measures catalogue (措施清单) and its list types.

`load_catalogue()` reads the YAML shipped in this package (cached: `default_catalogue()`);
`load_catalogue(path)` reads another file, `parse_catalogue(text)` a string. Any problem
raises `CatalogueError`, which lists every problem found, each as `location: message`
(`measures[12] (travel.restrict_flight).departments: unknown department 'caa'`), so a
catalogue edit is fixed in one round. `validate_catalogue()` runs the same cross-checks
on a `Catalogue` built in code.
"""

from __future__ import annotations

import re
from collections.abc import Hashable, Iterable, Sequence
from functools import lru_cache
from importlib.resources import files
from pathlib import Path
from typing import Any, TypeVar

import yaml
from pydantic import BaseModel, TypeAdapter, ValidationError

from shared.domain.catalogue.model import (
    Catalogue,
    Department,
    ListType,
    Measure,
    RoleScope,
    Span,
)
from shared.domain.vocabulary import (
    LEVELS,
    ExpiryMode,
    Level,
    LevelSchemeKind,
    Polarity,
    SpanUnit,
    SubjectKind,
)

CATALOGUE_FILE = "catalogue.yaml"
_PACKAGE = "shared.domain.catalogue"
_PACKAGED_SOURCE = "shared/domain/catalogue/" + CATALOGUE_FILE

VERSION_RE = re.compile(r"^\d{4}\.\d{1,2}\.\d+$")
DEPARTMENT_CODE_RE = re.compile(r"^[a-z][a-z0-9_]*(\.[a-z][a-z0-9_]*)*$")
MEASURE_CODE_RE = re.compile(r"^[a-z][a-z0-9_]*(\.[a-z][a-z0-9_]*)+$")
LIST_TYPE_CODE_RE = re.compile(r"^[a-z][a-z0-9_]*\.[a-z0-9]+(-[a-z0-9]+)*$")
ACTION_RE = re.compile(r"^[a-z][a-z0-9]*(_[a-z0-9]+)*$")

_CODE_RULES = {
    "department": (DEPARTMENT_CODE_RE, "lower-case words joined by '_', '.' for a sub-unit"),
    "measure": (MEASURE_CODE_RE, "lower-case dotted, like 'travel.restrict_flight'"),
    "list type": (LIST_TYPE_CODE_RE, "'<regime>.<name>', like 'court.dishonest-debtor'"),
}


class CatalogueError(ValueError):
    """The catalogue is invalid; `problems` holds every problem as `location: message`."""

    def __init__(self, source: str, problems: Sequence[str]) -> None:
        self.source = source
        self.problems: tuple[str, ...] = tuple(problems)
        count = len(self.problems)
        lines = "\n".join(f"  {p}" for p in self.problems)
        super().__init__(f"{source}: invalid catalogue, {count} problem(s):\n{lines}")


# --- YAML -------------------------------------------------------------------------------


class _Loader(yaml.SafeLoader):
    """A safe loader that reports duplicate mapping keys instead of keeping the last one."""

    def __init__(self, stream: str) -> None:
        super().__init__(stream)
        self.duplicates: list[str] = []


_MERGE_TAG = "tag:yaml.org,2002:merge"


def _construct_mapping(loader: _Loader, node: yaml.MappingNode) -> dict[Any, Any]:
    seen: dict[Hashable, int] = {}
    for key_node, _value in node.value:
        if key_node.tag == _MERGE_TAG:
            continue  # keys written next to a merge (<<) override it, as YAML intends
        key = loader.construct_object(key_node, deep=True)
        if not isinstance(key, Hashable):
            continue  # construct_mapping below raises a marked error for it
        line = key_node.start_mark.line + 1
        if key in seen:
            loader.duplicates.append(
                f"yaml: line {line}, column {key_node.start_mark.column + 1}: "
                f"duplicate key {key!r} (first at line {seen[key]})"
            )
        else:
            seen[key] = line
    return loader.construct_mapping(node, deep=True)


_Loader.add_constructor(yaml.resolver.BaseResolver.DEFAULT_MAPPING_TAG, _construct_mapping)


def _yaml_problem(exc: yaml.YAMLError) -> str:
    """`yaml: line L, column C: problem` for a marked error, `yaml: <error>` otherwise."""
    if isinstance(exc, yaml.MarkedYAMLError):
        mark = exc.problem_mark or exc.context_mark
        if mark is not None:
            problem = exc.problem or exc.context
            return f"yaml: line {mark.line + 1}, column {mark.column + 1}: {problem}"
    return f"yaml: {exc}"


def _load_yaml(text: str, source: str) -> tuple[object, list[str]]:
    """The parsed data and the duplicate-key problems; raise on a syntax error."""
    try:
        loader = _Loader(text)  # the reader rejects unprintable characters right here
        data = loader.get_single_data()
    except yaml.YAMLError as exc:
        raise CatalogueError(source, [_yaml_problem(exc)]) from None
    loader.dispose()
    return data, loader.duplicates


# --- structure (pydantic) ---------------------------------------------------------------


def _format_loc(prefix: str, loc: Iterable[int | str]) -> str:
    out = prefix
    for part in loc:
        if isinstance(part, int):
            out += f"[{part}]"
        elif part.startswith("["):  # pydantic's "[key]" for a bad dict key
            out += part
        else:
            out += f".{part}" if out else part
    return out


def _pydantic_problems(prefix: str, exc: ValidationError) -> list[str]:
    return [f"{_format_loc(prefix, err['loc'])}: {err['msg']}" for err in exc.errors()]


def _label(section: str, index: int, code: object) -> str:
    return f"{section}[{index}] ({code})" if isinstance(code, str) else f"{section}[{index}]"


_M = TypeVar("_M", bound=BaseModel)


def _validate_items(
    section: str, raw: list[object], model: type[_M], problems: list[str]
) -> list[tuple[int, _M]]:
    good: list[tuple[int, _M]] = []
    for index, item in enumerate(raw):
        try:
            good.append((index, model.model_validate(item)))
        except ValidationError as exc:
            code = item.get("code") if isinstance(item, dict) else None
            problems.extend(_pydantic_problems(_label(section, index, code), exc))
    return good


def _raw_codes(raw: list[object]) -> set[str]:
    """The codes as written, valid item or not: a reference to an item that failed its
    own validation is not reported a second time as unknown."""
    return {
        item["code"] for item in raw if isinstance(item, dict) and isinstance(item.get("code"), str)
    }


# --- cross-checks -----------------------------------------------------------------------


def _duplicates(where: str, values: Sequence[str], what: str) -> list[str]:
    seen: set[str] = set()
    out: list[str] = []
    for value in values:
        if value in seen:
            out.append(f"{where}: duplicate {what} '{value}'")
        seen.add(value)
    return out


def _at_least(where: str, value: int | None, minimum: int = 1) -> list[str]:
    if value is not None and value < minimum:
        return [f"{where}: must be at least {minimum}, got {value}"]
    return []


def _non_blank(where: str, fields: dict[str, str]) -> list[str]:
    return [
        f"{where}.{name}: must not be empty" for name, value in fields.items() if not value.strip()
    ]


def _check_codes(
    section: str, kind: str, items: Sequence[tuple[int, Department | Measure | ListType]]
) -> list[str]:
    pattern, rule = _CODE_RULES[kind]
    first: dict[str, int] = {}
    out: list[str] = []
    for index, item in items:
        where = _label(section, index, item.code)
        if not pattern.match(item.code):
            out.append(f"{where}.code: '{item.code}' is not a valid {kind} code ({rule})")
        if item.code in first:
            out.append(f"{where}.code: duplicate of {section}[{first[item.code]}]")
        else:
            first[item.code] = index
    return out


def _check_departments(items: Sequence[tuple[int, Department]]) -> list[str]:
    out = _check_codes("departments", "department", items)
    for index, dept in items:
        where = _label("departments", index, dept.code)
        out += _non_blank(where, {"name_zh": dept.name_zh, "name_en": dept.name_en})
    return out


def _check_references(where: str, codes: Sequence[str], known: set[str], what: str) -> list[str]:
    if not codes:
        return [f"{where}: must name at least one {what}"]
    out = [f"{where}: unknown {what} '{code}'" for code in codes if code not in known]
    return out + _duplicates(where, codes, what)


def _check_measures(items: Sequence[tuple[int, Measure]], departments: set[str]) -> list[str]:
    out = _check_codes("measures", "measure", items)
    for index, m in items:
        where = _label("measures", index, m.code)
        names = {"name_zh": m.name_zh, "name_en": m.name_en}
        out += _non_blank(where, {**names, "legal_basis": m.legal_basis, "source": m.source})
        out += _check_references(f"{where}.departments", m.departments, departments, "department")
        if not m.applies_to:
            out.append(f"{where}.applies_to: must name at least one subject kind")
        out += _duplicates(f"{where}.applies_to", [k.value for k in m.applies_to], "subject kind")
        out += [
            f"{where}.actions: '{a}' is not a snake_case action"
            for a in m.actions
            if not ACTION_RE.match(a)
        ]
        out += _duplicates(f"{where}.actions", m.actions, "action")
        out += _at_least(f"{where}.duration_days", m.duration_days)
        out += _check_span_days(f"{where}.duration", m.duration, m.duration_days)
        if m.reaches is not None and SubjectKind.PERSON not in m.applies_to:
            out.append(f"{where}.reaches: only a measure for persons reaches related persons")
        if m.counts_from_fact and (m.requires_fact is None or m.duration is None):
            out.append(f"{where}.counts_from_fact: needs requires_fact and a duration")
    return out


def _check_span_days(where: str, span: Span | None, days: int | None) -> list[str]:
    """A span and the nominal days shown beside it must agree (both come from data)."""
    if span is None:
        return []
    out = [] if span.unit is SpanUnit.DAYS else _at_least(f"{where}.amount", span.amount)
    if days is not None and span.nominal_days() != days:
        out.append(f"{where}: {span.amount} {span.unit.value} is not {days} days")
    return out


_DEADLINE_UNITS = (SpanUnit.WORKING_DAYS, SpanUnit.CALENDAR_DAYS)


def _check_level_scheme(where: str, lt: ListType) -> list[str]:
    scheme = lt.level_scheme
    at = f"{where}.level_scheme"
    out: list[str] = []
    if not scheme.levels:
        out.append(f"{at}.levels: must name at least one level")
    if scheme.kind is LevelSchemeKind.FIXED and len(scheme.levels) != 1:
        out.append(f"{at}.levels: a fixed scheme has exactly one level")
    out += [
        f"{where}.bundles.{level.value}: the level scheme does not accept {level.value}"
        for level in lt.bundles
        if level not in scheme.levels
    ]
    out += [
        f"{where}.bundles: no measures at {level.value}, which is not a record-only tier"
        for level in scheme.levels
        if not lt.bundles.get(level) and level not in scheme.record_only
    ]
    out += [
        f"{at}.record_only: {level.value} is not one of its levels"
        for level in scheme.record_only
        if level not in scheme.levels
    ]
    if lt.polarity is Polarity.INCENTIVE and scheme.joint_sanction_from is not None:
        out.append(f"{at}.joint_sanction_from: an incentive list is never a joint sanction")
    return out


def _check_repair_lockouts(where: str, lt: ListType) -> list[str]:
    """A lock-out as long as the period leaves no repair within it (seed 000 第44条):
    only a `never` lock-out with the regime's rule cited may do that."""
    out: list[str] = []
    for j, lockout in enumerate(lt.repair.lockouts):
        at = f"{where}.repair.lockouts[{j}]"
        if lockout.days is None and not lockout.never_basis.strip():
            out.append(f"{at}.never_basis: a lock-out of `never` must cite the rule that says so")
        if (
            lockout.days is not None
            and lt.period_days is not None
            and lockout.days >= lt.period_days
        ):
            out.append(
                f"{at}.days: {lockout.days} days is not shorter than the period "
                f"({lt.period_days} days): repair would never be possible"
            )
        if lockout.level not in lt.level_scheme.levels:
            out.append(f"{at}.level: the level scheme does not accept {lockout.level.value}")
    return out


def _check_bundles(
    where: str, lt: ListType, measures: dict[str, Measure], measure_codes: set[str]
) -> list[str]:
    out: list[str] = []
    for level, codes in lt.bundles.items():
        for j, code in enumerate(codes):
            at = f"{where}.bundles.{level.value}[{j}]"
            measure = measures.get(code)
            if code not in measure_codes:
                out.append(f"{at}: unknown measure '{code}'")
            elif measure is None:
                continue  # the measure itself is invalid and already reported
            elif measure.polarity is not lt.polarity:
                out.append(
                    f"{at}: measure '{code}' is a {measure.polarity.value} measure, "
                    f"list type is {lt.polarity.value}"
                )
            elif not level.at_least(measure.min_level):
                out.append(
                    f"{at}: measure '{code}' has min_level {measure.min_level.value}, "
                    f"above {level.value}"
                )
        out += _duplicates(f"{where}.bundles.{level.value}", codes, "measure")
    return out


def _check_list_type(where: str, lt: ListType) -> list[str]:
    out = _non_blank(where, {"name_zh": lt.name_zh, "name_en": lt.name_en, "source": lt.source})
    out += _at_least(f"{where}.period_days", lt.period_days)
    if lt.expiry is ExpiryMode.APPLICATION:
        if lt.exit_window_working_days is None:
            out.append(f"{where}.exit_window_working_days: required when expiry is application")
        if lt.period_days is None:
            out.append(f"{where}.period_days: required when expiry is application")
    elif lt.exit_window_working_days is not None:
        out.append(f"{where}.exit_window_working_days: must be null unless expiry is application")
    out += _at_least(f"{where}.exit_window_working_days", lt.exit_window_working_days)
    out += _at_least(f"{where}.objection.review_working_days", lt.objection.review_working_days)
    out += _at_least(f"{where}.repair.decision_working_days", lt.repair.decision_working_days)
    if lt.repair.lockouts and not lt.repair.allowed:
        out.append(f"{where}.repair.lockouts: must be empty when repair is not allowed")
    seen: set[tuple[Level, int]] = set()
    for j, lockout in enumerate(lt.repair.lockouts):
        at = f"{where}.repair.lockouts[{j}]"
        out += _at_least(f"{at}.nth", lockout.nth)
        out += _at_least(f"{at}.days", lockout.days)
        if (lockout.level, lockout.nth) in seen:
            out.append(
                f"{at}: duplicate lockout for level {lockout.level.value}, nth {lockout.nth}"
            )
        seen.add((lockout.level, lockout.nth))
    out += _at_least(f"{where}.publication_working_days", lt.publication_working_days)
    out += _at_least(f"{where}.feedback_working_days", lt.feedback_working_days)
    out += _check_span_days(f"{where}.period", lt.period, lt.period_days)
    if lt.objection.review_unit not in _DEADLINE_UNITS:
        out.append(f"{where}.objection.review_unit: a deadline is in working or calendar days")
    if lt.repair.decision_unit not in _DEADLINE_UNITS:
        out.append(f"{where}.repair.decision_unit: a deadline is in working or calendar days")
    out += _check_level_scheme(where, lt)
    out += _check_repair_lockouts(where, lt)
    return out


def _check_list_types(
    items: Sequence[tuple[int, ListType]],
    departments: set[str],
    measures: dict[str, Measure],
    measure_codes: set[str],
) -> list[str]:
    out = _check_codes("list_types", "list type", items)
    for index, lt in items:
        where = _label("list_types", index, lt.code)
        out += _check_references(
            f"{where}.designating_departments",
            lt.designating_departments,
            departments,
            "department",
        )
        out += _check_list_type(where, lt)
        out += _check_bundles(where, lt, measures, measure_codes)
    return out


def _check_version(version: str) -> list[str]:
    if VERSION_RE.match(version):
        return []
    return [f"version: '{version}' is not a catalogue version like '2026.11.1'"]


def _check_levels(levels: tuple[Level, ...]) -> list[str]:
    if levels == LEVELS:
        return []
    expected = ", ".join(level.value for level in LEVELS)
    return [f"levels: must be exactly [{expected}], in this order"]


def _cross_check(
    departments: Sequence[tuple[int, Department]],
    measures: Sequence[tuple[int, Measure]],
    list_types: Sequence[tuple[int, ListType]],
    department_codes: set[str],
    measure_codes: set[str],
) -> list[str]:
    by_code = {m.code: m for _, m in measures}
    return [
        *_check_departments(departments),
        *_check_measures(measures, department_codes),
        *_check_list_types(list_types, department_codes, by_code, measure_codes),
    ]


def catalogue_problems(catalogue: Catalogue) -> list[str]:
    """Every cross-reference and consistency problem of a catalogue built in code."""
    departments = list(enumerate(catalogue.departments))
    measures = list(enumerate(catalogue.measures))
    header = _check_version(catalogue.version) + _check_levels(catalogue.levels)
    return header + _cross_check(
        departments,
        measures,
        list(enumerate(catalogue.list_types)),
        {d.code for _, d in departments},
        {m.code for _, m in measures},
    )


def validate_catalogue(catalogue: Catalogue, source: str = "<catalogue>") -> Catalogue:
    """Return `catalogue` unchanged, or raise `CatalogueError` with every problem."""
    problems = catalogue_problems(catalogue)
    if problems:
        raise CatalogueError(source, problems)
    return catalogue


# --- entry points -----------------------------------------------------------------------


_T = TypeVar("_T")
_VERSION: TypeAdapter[str] = TypeAdapter(str)
_LEVELS: TypeAdapter[tuple[Level, ...]] = TypeAdapter(tuple[Level, ...])
_SECTION: TypeAdapter[list[object]] = TypeAdapter(list[object])
_ROLE_SCOPES: TypeAdapter[dict[str, RoleScope]] = TypeAdapter(dict[str, RoleScope])
_TOP_LEVEL = ("version", "levels", "departments", "measures", "list_types")
_OPTIONAL_TOP_LEVEL = ("role_scopes",)


def _field(
    data: dict[Any, Any], name: str, adapter: TypeAdapter[_T], problems: list[str]
) -> _T | None:
    if name not in data:
        problems.append(f"{name}: Field required")
        return None
    try:
        return adapter.validate_python(data[name])
    except ValidationError as exc:
        problems.extend(_pydantic_problems(name, exc))
        return None


def catalogue_from_data(data: object, source: str = "<data>") -> Catalogue:
    """Build a checked `Catalogue` from parsed YAML/JSON data."""
    if not isinstance(data, dict):
        raise CatalogueError(source, [f"(root): expected a mapping, got {type(data).__name__}"])
    problems = [
        f"{key}: unknown top-level field"
        for key in data
        if key not in _TOP_LEVEL and key not in _OPTIONAL_TOP_LEVEL
    ]
    role_scopes = (
        _field(data, "role_scopes", _ROLE_SCOPES, problems) if "role_scopes" in data else {}
    )
    version = _field(data, "version", _VERSION, problems)
    levels = _field(data, "levels", _LEVELS, problems)
    raw = {name: _field(data, name, _SECTION, problems) or [] for name in _TOP_LEVEL[2:]}
    departments = _validate_items("departments", raw["departments"], Department, problems)
    measures = _validate_items("measures", raw["measures"], Measure, problems)
    list_types = _validate_items("list_types", raw["list_types"], ListType, problems)
    problems += _check_version(version) if version is not None else []
    problems += _check_levels(levels) if levels is not None else []
    problems += _cross_check(
        departments,
        measures,
        list_types,
        _raw_codes(raw["departments"]),
        _raw_codes(raw["measures"]),
    )
    if problems or version is None or levels is None:
        raise CatalogueError(source, problems)
    return Catalogue(
        version=version,
        levels=levels,
        role_scopes=role_scopes or {},
        departments=tuple(d for _, d in departments),
        measures=tuple(m for _, m in measures),
        list_types=tuple(lt for _, lt in list_types),
    )


def parse_catalogue(text: str, source: str = "<string>") -> Catalogue:
    """Parse catalogue YAML text; `source` names it in error messages."""
    data, problems = _load_yaml(text, source)
    try:
        catalogue = catalogue_from_data(data, source)
    except CatalogueError as exc:
        raise CatalogueError(source, [*problems, *exc.problems]) from None
    if problems:
        raise CatalogueError(source, problems)
    return catalogue


def load_catalogue(path: Path | None = None) -> Catalogue:
    """The catalogue in `path`, or the one shipped in this package (cached) when None.

    A file that cannot be read raises `OSError`; an invalid one `CatalogueError`.
    """
    if path is None:
        return default_catalogue()
    return parse_catalogue(path.read_text(encoding="utf-8"), source=str(path))


@lru_cache(maxsize=1)
def default_catalogue() -> Catalogue:
    """The catalogue shipped in this package, loaded and checked once."""
    text = files(_PACKAGE).joinpath(CATALOGUE_FILE).read_text(encoding="utf-8")
    return parse_catalogue(text, source=_PACKAGED_SOURCE)
