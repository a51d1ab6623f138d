"""Which departments this process hosts and how each measure is executed.

Resolved once at start-up against the catalogue: an unknown department or measure
in the configuration stops the service instead of silently doing nothing.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass

from services.responder.settings import ExecutionMode, ResponderSettings
from shared.domain.catalogue.index import CatalogueIndex
from shared.domain.event_base import TaskSpec
from shared.domain.vocabulary import Polarity


class HostingError(ValueError):
    """The configuration names a department or measure the catalogue does not know."""


@dataclass(frozen=True)
class Hosting:
    departments: frozenset[str]
    default_mode: ExecutionMode
    modes: Mapping[str, ExecutionMode]
    watch_sanctions: bool
    """A hosted department implements an incentive measure, so sanctions that concern
    no hosted department are kept too: a sanction in force suppresses incentives
    (交叉比对), and the fold must see it to say so."""

    @classmethod
    def of(cls, settings: ResponderSettings, catalogue: CatalogueIndex) -> Hosting:
        codes = settings.department_codes() or [d.code for d in catalogue.catalogue.departments]
        unknown = [c for c in codes if catalogue.department(c) is None]
        if unknown:
            raise HostingError(f"unknown department(s) in JSB_RESPONDER_DEPARTMENTS: {unknown}")
        bad = [m for m in settings.execution_modes if catalogue.measure(m) is None]
        if bad:
            raise HostingError(f"unknown measure(s) in JSB_RESPONDER_EXECUTION_MODES: {bad}")
        incentives = any(
            m.polarity is Polarity.INCENTIVE
            for code in codes
            for m in catalogue.measures_of_department(code)
        )
        return cls(
            departments=frozenset(codes),
            default_mode=settings.default_mode,
            modes=dict(settings.execution_modes),
            watch_sanctions=incentives,
        )

    def mode(self, measure: str) -> ExecutionMode:
        return self.modes.get(measure, self.default_mode)

    def concerned(self, tasks: Iterable[TaskSpec]) -> set[str]:
        """The hosted departments that have a task among `tasks`."""
        return {t.department for t in tasks if t.department in self.departments}
