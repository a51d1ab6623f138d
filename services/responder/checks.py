"""Checks (应查必查, 自动拦截): may this subject receive / do this, in this department?

Answered from the local store only (Kafka and the ledger may be down): the subject's
stored designation events are folded and `enforced_by` says what this department
enforces now — the domain decides, nothing is re-implemented here. A block is
recorded, and reported as an `intercepted` feedback event per (designation, measure)
through the outbox, in the transaction that records the check.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any
from uuid import UUID, uuid4

from sqlalchemy.ext.asyncio import AsyncConnection

from services.responder import store, tables
from services.responder.feedback import interception
from services.responder.schemas import CheckCreate, CheckPublic, Reason
from shared.adapters.outbox import enqueue
from shared.domain.catalogue.index import CatalogueIndex
from shared.domain.fold import enforced_by, fold
from shared.domain.fold_state import SubjectState
from shared.domain.identifiers import IdentifierError, parse_identifier
from shared.domain.vocabulary import Polarity
from shared.web.problems import FieldError, ProblemError


def _unprocessable(field: str, code: str, message: str) -> ProblemError:
    return ProblemError(422, code, message, errors=[FieldError(field, code, message)])


def identifier_of(raw: str, field: str = "subject_id") -> str:
    """The normalised identifier, or a 422 naming the field (never quoting the value)."""
    try:
        return parse_identifier(raw).value
    except IdentifierError as error:
        raise _unprocessable(field, error.code, error.reason) from None


def measures_asked(body: CheckCreate, department: str, catalogue: CatalogueIndex) -> list[str]:
    """The department's measures the check is about (a measure, or an action's measures)."""
    if (body.measure is None) == (body.action is None):
        message = "give exactly one of `measure` and `action`"
        raise ProblemError(
            422,
            "measure_or_action",
            message,
            errors=[
                FieldError("measure", "measure_or_action", message),
                FieldError("action", "measure_or_action", message),
            ],
        )
    if body.measure is not None:
        measure = catalogue.measure(body.measure)
        if measure is None:
            raise _unprocessable(
                "measure", "unknown_measure", f"{body.measure} is not in the catalogue"
            )
        if department not in measure.departments:
            raise _unprocessable(
                "measure",
                "measure_not_implemented",
                f"{department} does not implement {body.measure}",
            )
        return [measure.code]
    assert body.action is not None
    governing = catalogue.measures_for_action(body.action)
    if not governing:
        raise _unprocessable(
            "action", "unknown_action", f"no measure of the catalogue governs {body.action}"
        )
    own = [m.code for m in governing if department in m.departments]
    if not own:
        raise _unprocessable(
            "action",
            "action_not_implemented",
            f"none of {department}'s measures governs {body.action}",
        )
    return own


async def states_of(conn: AsyncConnection, identifier: str) -> list[SubjectState]:
    """The folded state of every subject known by `identifier` (usually one)."""
    subjects = await store.subjects_of(conn, identifier)
    history = await store.subject_events(conn, subjects)
    return [fold(history[s], s) for s in subjects]


def block_reasons(
    states: Sequence[SubjectState], department: str, measures: Sequence[str], as_of: datetime
) -> list[Reason]:
    """The sanctions in force behind a block (empty: allow); incentives never block."""
    wanted = set(measures)
    reasons: dict[tuple[UUID, str], Reason] = {}
    for state in states:
        for m in enforced_by(state, department, as_of):
            if m.polarity is Polarity.SANCTION and m.measure in wanted:
                reasons[(m.designation_id, m.measure)] = Reason(
                    designation_id=m.designation_id, list_type=m.list_type, measure=m.measure
                )
    return list(reasons.values())


async def answer(
    conn: AsyncConnection,
    body: CheckCreate,
    department: str,
    catalogue: CatalogueIndex,
    *,
    as_of: datetime,
    fresh_as_of: datetime | None,
    suffix: str,
) -> CheckPublic:
    identifier = identifier_of(body.subject_id)
    measures = measures_asked(body, department, catalogue)
    states = await states_of(conn, identifier)
    reasons = block_reasons(states, department, measures, as_of)
    check = CheckPublic(decision="block" if reasons else "allow", reasons=reasons, check_id=uuid4())
    await _record(
        conn,
        check,
        identifier,
        states,
        measures,
        body.action,
        department,
        as_of,
        fresh_as_of,
        suffix,
    )
    return check


async def _record(
    conn: AsyncConnection,
    check: CheckPublic,
    identifier: str,
    states: Sequence[SubjectState],
    measures: Sequence[str],
    action: str | None,
    department: str,
    as_of: datetime,
    fresh_as_of: datetime | None,
    suffix: str,
) -> None:
    subject_of: dict[UUID, str] = {
        r.designation_id: r.data.subject_id for s in states for r in s.designations.values()
    }
    row: dict[str, Any] = {
        "check_id": check.check_id,
        "department": department,
        "identifier": identifier,
        "subject_ids": [s.subject_id for s in states if s.subject_id],
        "measures": list(measures),
        "action": action,
        "decision": check.decision,
        "reasons": [r.model_dump(mode="json") for r in check.reasons],
        "data_fresh_as_of": fresh_as_of,
        "checked_at": as_of,
    }
    await conn.execute(tables.checks.insert().values(**row))
    await enqueue(
        conn,
        tables.outbox,
        [
            interception(
                subject_id=subject_of[r.designation_id],
                designation_id=r.designation_id,
                measure=r.measure,
                department=department,
                check_id=check.check_id,
                action=action,
                suffix=suffix,
            )
            for r in check.reasons
        ],
    )
