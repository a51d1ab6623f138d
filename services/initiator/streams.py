"""A subject's stream as the service layer sees it, and the events a transaction
stages on streams before writing them (pure: no I/O; the adapters that load and
write streams are in repository.py (Postgres) and memory.py)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any
from uuid import UUID

from shared.domain.decide_support import NewEvent
from shared.domain.envelope import Envelope
from shared.domain.fold_handlers import apply
from shared.domain.fold_state import SubjectState
from shared.domain.lifecycle_events import DesignationIssued, ObjectionFiled


@dataclass
class Stream:
    """One subject's stream: its last version and its folded state."""

    subject_id: str
    version: int = 0
    state: SubjectState = field(default_factory=SubjectState)

    def __post_init__(self) -> None:
        if self.state.subject_id is None:
            self.state = SubjectState(subject_id=self.subject_id)


@dataclass
class Staged:
    """Events decided in this transaction, not yet written; the streams they were
    staged on already show them (so a batch decides each item on the state left by
    the items before it)."""

    rows: list[dict[str, Any]] = field(default_factory=list)
    envelopes: list[Envelope] = field(default_factory=list)
    designations: list[dict[str, Any]] = field(default_factory=list)
    objections: list[dict[str, Any]] = field(default_factory=list)
    touched: dict[UUID, str] = field(default_factory=dict)
    """designation id → subject: whose timers to plan again."""
    issued: set[UUID] = field(default_factory=set)

    def add(
        self,
        streams: dict[str, Stream],
        events: Sequence[NewEvent],
        envelopes: Sequence[Envelope],
    ) -> None:
        for event, env in zip(events, envelopes, strict=True):
            stream = streams[env.subject]
            stream.version += 1
            # The fold's own step, without decoding the envelope again: the event
            # comes straight from `decide` (what `evolve` does after `decode`).
            stream.state = apply(event.data, stream.state, env)
            self.rows.append(
                {
                    "event_id": env.id,
                    "subject_id": env.subject,
                    "stream_version": stream.version,
                    "type": env.type,
                    "envelope": env.model_dump(mode="json", exclude_none=True),
                }
            )
            self.envelopes.append(env)
            data = event.data
            designation_id = getattr(data, "designation_id", None)
            if isinstance(designation_id, UUID):
                self.touched[designation_id] = env.subject
            if isinstance(data, DesignationIssued):
                self.issued.add(data.designation_id)
                self.designations.append(
                    {
                        "designation_id": data.designation_id,
                        "subject_id": data.subject_id,
                        "designated_by": data.designated_by,
                        "list_type": data.list_type,
                    }
                )
            elif isinstance(data, ObjectionFiled):
                self.objections.append(
                    {
                        "objection_id": data.objection_id,
                        "designation_id": data.designation_id,
                        "subject_id": env.subject,
                    }
                )
