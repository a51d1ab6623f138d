"""One subject's projection rows: a pure function of the subject's stored events.

Because the rows depend on nothing but the events (no clock, no arrival order across
subjects), the incrementally maintained projections and a rebuild from scratch are
equal row for row — `jsb ledger rebuild` relies on it and a test checks it.

- The stored status is rendered *as of the last change*: the latest of the head's
  recorded time and every event's effective time (so the event that caused the change
  is always visible in the status it caused). Reads "now" or at any other instant fold
  the events at read time instead; this row is what the status stream publishes.
- Designations and tasks carry their windows (services/ledger/timeline.py), so that
  lists and counts "now" need no fold.
- Identifiers: every identifier an issued designation names, plus the organisation
  code inside each USCC (GB 11714), point to the subject.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

import pydantic_core

from services.ledger.replay import fold_recorded, recorded_events
from services.ledger.store import StoredEvent
from services.ledger.timeline import Timeline, Window, timeline
from shared.domain.china_time import utc
from shared.domain.fold_state import DesignationRecord, SubjectState, TaskState
from shared.domain.identifiers import (
    IdentifierError,
    IdKind,
    mask_personal_numbers,
    org_code_of_uscc,
    parse_identifier,
)
from shared.domain.status_view import (
    DesignationStatus,
    RenderMemo,
    SubjectStatus,
    render_status,
)

Row = dict[str, Any]


@dataclass(frozen=True)
class SubjectProjection:
    subject_id: str
    as_of: datetime
    head: StoredEvent
    status: SubjectStatus
    status_row: Row
    identifiers: list[Row]
    designations: list[Row]
    tasks: list[Row]
    public_entries: list[Row]
    status_json: bytes = field(compare=False, repr=False)
    """The status document serialised once (pydantic-core), for its row and its
    message alike (`status_row["status"]` is that document)."""


def normalise_identifier(raw: str) -> str:
    """The form identifiers are stored and looked up in (validated when possible)."""
    try:
        return parse_identifier(raw).value
    except IdentifierError:
        return raw.strip().upper()


def identifier_keys(state: SubjectState, subject_id: str) -> list[str]:
    raws = {subject_id}
    for record in state.designations.values():
        raws.add(record.data.subject_id)
        raws.update(record.data.identifiers)
    return keys_of(raws)


def keys_of(raws: Iterable[str]) -> list[str]:
    """The lookup keys of these raw identifiers (normalised, plus each USCC's
    organisation code)."""
    keys = set()
    for raw in raws:
        keys.add(normalise_identifier(raw))
        try:
            if parse_identifier(raw).kind is IdKind.USCC:
                keys.add(org_code_of_uscc(raw))
        except IdentifierError:
            pass
    return sorted(keys)


def change_instant(head: StoredEvent, latest_effective: datetime) -> datetime:
    """The instant the subject's latest change is rendered at: the latest of the head's
    recorded time and every event's effective time (`latest_effective`), in UTC
    whatever offset the events carried (the rendered status must not depend on how a
    row was read)."""
    return utc(max(head.recorded_at, latest_effective))


def project(subject_id: str, events: Sequence[StoredEvent]) -> SubjectProjection:
    """The rows of a subject with at least one event (`events` in stream order)."""
    state = fold_recorded(recorded_events(events), subject_id)
    return project_state(subject_id, state, events[-1], max(e.effective_at for e in events))


def project_state(
    subject_id: str,
    state: SubjectState,
    head: StoredEvent,
    effective: datetime,
    memo: RenderMemo | None = None,
) -> SubjectProjection:
    """The rows of a subject whose events fold to `state`: `head` is its last stored
    event, `effective` the latest effective time among all of them. The same rows as
    `project(subject_id, events)` (that is how it computes them); ingest calls it with
    a state evolved from a cached one (services/ledger/fold_cache.py), and the render
    memo of the subject's last projection (`memo`: the same status, rendering again
    only what changed)."""
    as_of = change_instant(head, effective)
    status = render_status(state, as_of, memo=memo)
    windows = timeline(state, as_of)
    kind = status.subject_kind
    doc: Row = status.model_dump(mode="json")
    # Each designation's view is the status document's own entry (the same JSON that
    # view.model_dump would give): the status is dumped once, not once per table, and
    # the writer lets the server take the views from the stored status (bulk_sql.Part).
    views: list[Row] = doc["designations"]
    designations: list[Row] = []
    tasks: list[Row] = []
    public: list[Row] = []
    for view, view_doc in zip(status.designations, views, strict=True):
        record = state.designations[view.designation_id]
        designations.append(_designation_row(subject_id, record, view, view_doc, windows))
        tasks.extend(_task_rows(subject_id, record, view, windows))
        public.extend(_public_rows(subject_id, record, view, view_doc, windows))
    return SubjectProjection(
        subject_id=subject_id,
        as_of=as_of,
        head=head,
        status=status,
        status_row={
            "subject_id": subject_id,
            "subject_kind": None if kind is None else kind.value,
            "as_of": as_of,
            "head_position": head.position,
            "head_event_id": head.event_id,
            "stream_version": head.stream_version,
            "restricted": status.restricted,
            "status": doc,
        },
        identifiers=[
            {"identifier": key, "subject_id": subject_id}
            for key in identifier_keys(state, subject_id)
        ],
        designations=designations,
        tasks=tasks,
        public_entries=public,
        status_json=pydantic_core.to_json(doc),
    )


def _first(windows: list[Window] | None) -> Window | tuple[None, None]:
    # In force and overdue are one run each: with no new event a designation only moves
    # forward (pending → in force or suspended → ended), so they cannot come back.
    return windows[0] if windows else (None, None)


def _designation_row(
    subject_id: str,
    record: DesignationRecord,
    view: DesignationStatus,
    view_doc: Row,
    windows: Timeline,
) -> Row:
    data = record.data
    in_force_from, in_force_until = _first(windows.in_force.get(view.designation_id))
    return {
        "subject_id": subject_id,
        "designation_id": view.designation_id,
        "subject_kind": data.subject_kind.value,
        "list_type": data.list_type,
        "polarity": data.polarity.value,
        "level": data.level.value,
        "designated_by": data.designated_by,
        "departments": sorted({t.department for t in data.tasks}),
        "published": data.published,
        "issued_at": record.issued_at,
        "state": view.state.value,
        "in_force_from": in_force_from,
        "in_force_until": in_force_until,
        "view": view_doc,
    }


def _task_rows(
    subject_id: str, record: DesignationRecord, view: DesignationStatus, windows: Timeline
) -> list[Row]:
    rows: dict[tuple[str, str], Row] = {}
    designation_id = view.designation_id
    designated_by = record.data.designated_by
    issued_at = record.issued_at
    overdue = windows.overdue
    for task in view.tasks:
        at = (task.measure, task.department)
        if at in rows:
            continue
        windows_of = overdue.get((designation_id, *at))
        overdue_from, overdue_until = windows_of[0] if windows_of else (None, None)
        feedback = task.feedback
        rows[at] = {
            "subject_id": subject_id,
            "designation_id": designation_id,
            "measure": task.measure,
            "department": task.department,
            "designated_by": designated_by,
            "deadline": task.deadline,
            "mandatory": task.mandatory,
            "state": _TASK_STATES[task.state],
            "issued_at": issued_at,
            "answered_at": min([f.at for f in feedback]) if feedback else None,
            "overdue_from": overdue_from,
            "overdue_until": overdue_until,
        }
    return list(rows.values())


_TASK_STATES = {state: state.value for state in TaskState}
"""A task state's stored text without the enum's `value` property (a Python-level
descriptor in 3.11: ~49 lookups per court refresh, docs/benchmarks.md, Ledger,
"Eighth round")."""


def _public_rows(
    subject_id: str,
    record: DesignationRecord,
    view: DesignationStatus,
    view_doc: Row,
    windows: Timeline,
) -> list[Row]:
    if not windows.public.get(view.designation_id):
        return []
    entry = public_entry(subject_id, record, view, view_doc)
    return [
        {
            "subject_id": subject_id,
            "designation_id": view.designation_id,
            "visible_from": start,
            "visible_until": until,
            "list_type": record.data.list_type,
            "issued_at": record.issued_at,
            "entry": entry,
        }
        for start, until in windows.public.get(view.designation_id, [])
    ]


_PUBLIC_FIELDS = frozenset(
    {
        "designation_id",
        "subject_name",
        "list_type",
        "polarity",
        "level",
        "reason",
        "legal_basis",
        "decision_no",
        "decided_at",
        "designated_by",
        "effective_from",
        "effective_until",
        "amendments",
    }
)


def public_entry(
    subject_id: str, record: DesignationRecord, view: DesignationStatus, view_doc: Row | None = None
) -> Row:
    """An entry of the publicity list (公示): what the public may read, persons masked.
    Corrections show old and new values together (`amendments`). `view_doc`: the
    view's JSON when already dumped (the same keys, in the same order, as a dump
    restricted to the public fields)."""
    if view_doc is None:
        view_doc = view.model_dump(mode="json")
    entry: Row = {k: v for k, v in view_doc.items() if k in _PUBLIC_FIELDS}
    entry["subject_id"] = subject_id
    entry["subject_kind"] = record.data.subject_kind.value
    entry["under_objection"] = view.objection is not None and view.objection.status == "open"
    masked: Row = mask_personal_numbers(entry)  # type: ignore[assignment]
    return masked
