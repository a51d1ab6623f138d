"""What the contract suites of the responder's store ports share: envelopes, task
rows, and reading committed state back through the ports."""

from __future__ import annotations

from datetime import UTC, date, datetime
from typing import Any
from uuid import UUID, uuid4

from services.responder.ports import ResponderStore
from services.responder.taskbook import task_id
from shared.domain.envelope import Envelope


def subject() -> str:
    return "S-" + uuid4().hex[:12]


def envelope(subject_id: str, n: int = 0) -> Envelope:
    return Envelope(
        type="jsb.test.stored",
        source="/t",
        subject=subject_id,
        time=datetime.now(UTC),
        data={"n": n},
    )


def task_row(
    department: str, designation_id: UUID, measure: str, subject_id: str, **values: Any
) -> dict[str, Any]:
    """A new task's row as planning.plan makes it."""
    return {
        "task_id": task_id(designation_id, measure, department),
        "department": department,
        "designation_id": designation_id,
        "measure": measure,
        "subject_id": subject_id,
        "subject_name": "某某公司",
        "list_type": "tax.major-violation",
        "mode": "manual",
        "mandatory": True,
        "deadline": date(2030, 1, 1),
        "state": "pending",
        "resume_to": None,
        "wake_at": None,
        "last_event_id": None,
        "last_event_type": "jsb.designation.issued",
        **values,
    }


async def append(store: ResponderStore, *envelopes: Envelope) -> list[int | None]:
    """Stores envelopes in one transaction; their positions."""
    out: list[int | None] = []
    async with store.begin() as unit:
        for n, env in enumerate(envelopes):
            out.append(await unit.events.append(env, uuid4(), 0, n))
    return out


def department() -> str:
    return "d" + uuid4().hex[:8]
