"""What every decision shares: its output, the catalogue it reads, common checks."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Protocol, TypeVar
from uuid import UUID

from shared.domain.catalogue.model import ListType, Measure
from shared.domain.envelope import Envelope
from shared.domain.event_base import DomainEvent
from shared.domain.events import make_envelope
from shared.domain.fold_state import DesignationRecord, DesignationState, SubjectState
from shared.domain.rejections import Problems, Rejected, RejectionCode


class CatalogueLookup(Protocol):
    """What `decide` reads from the catalogue (`CatalogueIndex` provides it).

    A lookup may return None or raise KeyError for an unknown code."""

    @property
    def version(self) -> str: ...

    def measure(self, code: str) -> Measure | None: ...

    def list_type(self, code: str) -> ListType | None: ...


T = TypeVar("T")


def lookup(find: Callable[[str], T | None], code: str) -> T | None:
    try:
        return find(code)
    except KeyError:
        return None


@dataclass(frozen=True, slots=True)
class NewEvent:
    """An event `decide` yields: its data and the subject it is about (the Kafka key).

    A designation with related persons yields events for several subjects; the
    initiator publishes them together (one outbox transaction)."""

    subject: str
    time: datetime
    data: DomainEvent

    def envelope(
        self,
        *,
        source: str,
        correlationid: str | None = None,
        causationid: str | None = None,
        id: UUID | None = None,
    ) -> Envelope:
        return make_envelope(
            self.data,
            subject=self.subject,
            source=source,
            time=self.time,
            correlationid=correlationid,
            causationid=causationid,
            id=id,
        )


def find_designation(
    state: SubjectState, designation_id: UUID, problems: Problems, field: str = "designation_id"
) -> DesignationRecord | None:
    record = state.designation(designation_id)
    if record is None:
        problems.add(RejectionCode.DESIGNATION_NOT_FOUND, field, f"no designation {designation_id}")
    return record


class OnDesignation(Protocol):
    """A command that acts on an existing designation, in a department's name."""

    @property
    def designation_id(self) -> UUID: ...

    @property
    def department(self) -> str: ...


def own_designation(
    state: SubjectState, command: OnDesignation
) -> tuple[DesignationRecord, Problems] | Rejected:
    """The opening of every decider that acts on a designation: find it (refused at
    once when it does not exist) and check that the acting department designated it
    (collected with whatever the decider finds next)."""
    problems = Problems()
    record = find_designation(state, command.designation_id, problems)
    if record is None:
        return problems.rejected()
    check_owner(record, command.department, problems)
    return record, problems


def check_owner(record: DesignationRecord, department: str, problems: Problems) -> None:
    if record.data.designated_by != department:
        problems.add(
            RejectionCode.NOT_OWN_DESIGNATION,
            "department",
            f"designation {record.designation_id} belongs to {record.data.designated_by}",
        )


def check_in_force(
    record: DesignationRecord, at: datetime, problems: Problems, *, suspended_ok: bool
) -> None:
    state = record.state_at(at)
    allowed = {DesignationState.IN_FORCE}
    if suspended_ok:
        allowed.add(DesignationState.SUSPENDED)
    if state not in allowed:
        problems.add(
            RejectionCode.NOT_IN_FORCE,
            "designation_id",
            f"designation {record.designation_id} is {state.value}, not in force",
        )


def with_related(
    record: DesignationRecord, at: datetime, make: Callable[[UUID], DomainEvent]
) -> list[NewEvent]:
    """The event for a designation and the same for each related-person designation
    (they follow their parent: revocation, supersession, full repair, exit)."""
    events = [NewEvent(record.data.subject_id, at, make(record.designation_id))]
    events.extend(NewEvent(r.subject_id, at, make(r.designation_id)) for r in record.data.related)
    return events


def list_type_of(
    record: DesignationRecord, catalogue: CatalogueLookup, problems: Problems
) -> ListType | None:
    list_type = lookup(catalogue.list_type, record.data.list_type)
    if list_type is None:
        problems.add(
            RejectionCode.UNKNOWN_LIST_TYPE,
            "designation_id",
            f"list type {record.data.list_type} is no longer in catalogue {catalogue.version}",
        )
    return list_type
