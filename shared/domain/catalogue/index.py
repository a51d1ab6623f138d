"""O(1) look-ups over one catalogue version, and its public (`GET /v1/catalogue`) form."""

from __future__ import annotations

from functools import lru_cache
from typing import Any

from shared.domain.catalogue.loader import default_catalogue, validate_catalogue
from shared.domain.catalogue.model import Catalogue, Department, ListType, Measure
from shared.domain.vocabulary import Level


class CatalogueIndex:
    """Built once from a `Catalogue` (checked again here, so every reference resolves).

    Unknown codes give None or an empty tuple, never an exception: the callers decide
    whether an unknown code is an error. A level absent from a list type's `bundles` is
    a level that list type does not designate at; its bundle is empty.
    """

    def __init__(self, catalogue: Catalogue) -> None:
        validate_catalogue(catalogue, source=f"catalogue {catalogue.version}")
        self._catalogue = catalogue
        self._departments = {d.code: d for d in catalogue.departments}
        self._measures = {m.code: m for m in catalogue.measures}
        self._list_types = {lt.code: lt for lt in catalogue.list_types}
        by_action: dict[str, list[Measure]] = {}
        by_department: dict[str, list[Measure]] = {}
        for m in catalogue.measures:
            for action in m.actions:
                by_action.setdefault(action, []).append(m)
            for dept in m.departments:
                by_department.setdefault(dept, []).append(m)
        self._by_action = {k: tuple(v) for k, v in by_action.items()}
        self._by_department = {k: tuple(v) for k, v in by_department.items()}
        self._bundles = {
            (lt.code, level): tuple(self._measures[code] for code in codes)
            for lt in catalogue.list_types
            for level, codes in lt.bundles.items()
        }
        self._departments_for = {
            m.code: tuple(self._departments[d] for d in m.departments) for m in catalogue.measures
        }

    @property
    def catalogue(self) -> Catalogue:
        return self._catalogue

    @property
    def version(self) -> str:
        return self._catalogue.version

    def department(self, code: str) -> Department | None:
        return self._departments.get(code)

    def measure(self, code: str) -> Measure | None:
        return self._measures.get(code)

    def list_type(self, code: str) -> ListType | None:
        return self._list_types.get(code)

    def measures_for_action(self, action: str) -> tuple[Measure, ...]:
        """The measures that govern a business action (`book_flight`, ...), catalogue order."""
        return self._by_action.get(action, ())

    def measures_of_department(self, department: str) -> tuple[Measure, ...]:
        """The measures a department implements, catalogue order."""
        return self._by_department.get(department, ())

    def bundle(self, list_type_code: str, level: Level | str) -> tuple[Measure, ...]:
        """The measures a designation on `list_type_code` at `level` carries.

        A `level` string that is not a level raises `ValueError`.
        """
        return self._bundles.get((list_type_code, Level(level)), ())

    def departments_for(self, measure_code: str) -> tuple[Department, ...]:
        """The departments that implement a measure, in the measure's order."""
        return self._departments_for.get(measure_code, ())

    def to_public_dict(self) -> dict[str, Any]:
        """The `GET /v1/catalogue` body: version, levels, departments, measures, list_types,
        every model field present, JSON-ready (lists, enum values as strings)."""
        return self._catalogue.model_dump(mode="json")


@lru_cache(maxsize=1)
def default_index() -> CatalogueIndex:
    """The index of the catalogue shipped in this package, built once."""
    return CatalogueIndex(default_catalogue())
