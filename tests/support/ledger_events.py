"""Events for the ledger's tests, made by the domain itself: commands through
`decide` against the real catalogue, feedback with `make_envelope`. A `Script` keeps
one subject's folded state so that follow-up commands (revoke, object, repair) decide
on what came before, exactly as the initiator would."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime, timedelta
from typing import Any
from uuid import UUID

from services.ledger.store import GENESIS, SourceRef, StoredEvent, chain_hash
from shared.domain.catalogue.index import CatalogueIndex, default_index
from shared.domain.china_time import china_date
from shared.domain.commands import IssueDesignation, RelatedPerson, SubjectRef
from shared.domain.decide import Rejected, decide
from shared.domain.envelope import Envelope
from shared.domain.events import FeedbackEvent, MeasureExecuted, make_envelope
from shared.domain.fold import Recorded, evolve
from shared.domain.fold_state import SubjectState
from shared.domain.lifecycle_events import DesignationIssued
from tests.support.initiator_bodies import stated_facts

CATALOGUE: CatalogueIndex = default_index()
SOURCE = "/jsb/initiator/test"
T0 = datetime(2026, 3, 2, 2, 0, tzinfo=UTC)  # a Monday, 10:00 in China


def designating_department(list_type: str) -> str:
    return CATALOGUE.list_type(list_type).designating_departments[0]  # type: ignore[union-attr]


class Script:
    """One subject's lifecycle, decided command by command."""

    def __init__(self, subject_id: str) -> None:
        self.subject_id = subject_id
        self.state = SubjectState(subject_id=subject_id)
        self.envelopes: list[Envelope] = []
        self.others: list[Envelope] = []

    def run(self, command: Any) -> list[Envelope]:
        decision = decide(self.state, command, CATALOGUE)
        assert not isinstance(decision, Rejected), decision
        out = [new.envelope(source=SOURCE) for new in decision]
        for env in out:
            if env.subject == self.subject_id:
                self.state = evolve(self.state, Recorded(env, env.time))
                self.envelopes.append(env)
            else:
                self.others.append(env)
        return out

    def issue(
        self,
        *,
        list_type: str = "tax.major-violation",
        level: str = "especially_serious",
        at: datetime = T0,
        name: str = "某某贸易有限公司",
        other_ids: Sequence[str] = (),
        related: Sequence[tuple[str, str]] = (),
        **fields: Any,
    ) -> Envelope:
        fields.setdefault("facts", stated_facts(list_type))
        command = IssueDesignation(
            department=fields.pop("department", designating_department(list_type)),
            at=at,
            subject=SubjectRef(id=self.subject_id, name=name, other_ids=tuple(other_ids)),
            list_type=list_type,
            level=level,
            reason=fields.pop("reason", "测试"),
            decision_no=fields.pop("decision_no", "测〔2026〕1号"),
            decided_at=fields.pop("decided_at", china_date(at)),
            related_persons=tuple(
                RelatedPerson(id=pid, name=f"人{i}", role=role)
                for i, (pid, role) in enumerate(related)
            ),
            **fields,
        )
        return self.run(command)[0]

    def designation(self, envelope: Envelope) -> DesignationIssued:
        data = DesignationIssued.model_validate(envelope.data)
        return data


def feedback(
    issued: Envelope,
    *,
    kind: type[FeedbackEvent] = MeasureExecuted,
    at: datetime | None = None,
    only: int | None = None,
) -> list[Envelope]:
    """One feedback event per task of the issued designation (or the first `only`)."""
    data = DesignationIssued.model_validate(issued.data)
    tasks = data.tasks if only is None else data.tasks[:only]
    when = at or issued.time + timedelta(hours=1)
    return [
        make_envelope(
            kind(designation_id=data.designation_id, measure=t.measure, department=t.department),
            subject=issued.subject,
            source=f"/jsb/responder/{t.department}",
            time=when,
        )
        for t in tasks
    ]


def stored(
    envelopes: Sequence[Envelope],
    *,
    recorded_at: datetime | None = None,
    start_position: int = 1,
) -> list[StoredEvent]:
    """Envelopes of ONE subject as the store would keep them (chained), without a
    database: for pure tests of projections and verification."""
    out: list[StoredEvent] = []
    prev = GENESIS
    for i, env in enumerate(envelopes, start=1):
        payload = env.model_dump(mode="json", exclude_none=True)
        digest = chain_hash(prev, env.subject, i, payload)
        out.append(
            StoredEvent(
                position=start_position + i - 1,
                event_id=env.id,
                stream=env.subject,
                stream_version=i,
                type=env.type,
                schema_version=env.schemaversion,
                effective_at=env.time,
                recorded_at=recorded_at or env.time,
                payload=payload,
                prev_hash=prev,
                hash=digest,
                source=SourceRef("t", 0, i),
            )
        )
        prev = digest
    return out


def designation_id(envelope: Envelope) -> UUID:
    return UUID(envelope.data["designation_id"])
