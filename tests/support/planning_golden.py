"""What the departments write and report for one fixed stream of designation events
(tests/integration/test_responder_planning_golden.py compares it with what the code
of an earlier commit wrote for the same stream, kept in `EXPECTED`).

    python -m tests.support.planning_golden input      # write INPUT anew (new events)
    python -m tests.support.planning_golden expected   # write EXPECTED from this code

Run `expected` from the checkout whose behaviour is the reference (e.g. `git archive`
of main, with this file's directory on the path); `input` only when the stream itself
should change. The stream: three court debtors and a tax designation (procurement
manual) in one batch; an objection to the tax designation; its rejection and the
revocation of a court designation in one batch; a second designation of a debtor.
Every batch is followed by every department's passes."""

from __future__ import annotations

import asyncio
import json
import sys
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any
from uuid import UUID

from sqlalchemy import select

from services.responder import tables
from shared.adapters.migrations import DEFAULT_ADMIN_URL
from shared.adapters.settings import DEFAULT_DATABASE_URL
from shared.adapters.topics import FEEDBACK
from shared.domain.commands import RevokeDesignation
from tests.support.responder_bench import fresh_harness
from tests.support.responder_harness import (
    hosting,
    issue_command,
    objection,
    rejection,
    run,
)
from tests.support.subjects import new_resident_id, new_uscc
from tests.unit.domain_fixtures import Subject

HERE = Path(__file__).parent / "planning_golden"
INPUT = HERE / "input.json"
EXPECTED = HERE / "expected.json"
PROCUREMENT = "procurement.restrict_government_procurement"
SETTINGS: dict[str, Any] = {"execution_modes": {PROCUREMENT: "manual"}}
"""The hosting of every run: every department, procurement manual."""


def stream() -> list[list[str]]:
    """New events: batches of envelopes as JSON text."""
    court = [Subject(new_resident_id()) for _ in range(3)]
    tax = Subject(new_uscc())
    first = [
        e
        for s in court
        for e in run(s, issue_command(s.subject_id, "court.dishonest-debtor", "court"))
    ]
    issued = run(tax, issue_command(tax.subject_id, "tax.major-violation", "tax"))
    filed = objection(issued[0].data["designation_id"])
    objected = run(tax, filed)
    revoke = RevokeDesignation(
        department="court",
        at=datetime.now(UTC),
        designation_id=first[0].data["designation_id"],
        reason="paid in full",
    )
    closing = run(tax, rejection(filed)) + run(court[0], revoke)
    again = run(court[1], issue_command(court[1].subject_id, "court.dishonest-debtor", "court"))
    batches = [first + issued, objected, closing, again]
    return [[e.to_json_bytes().decode() for e in batch] for batch in batches]


def _plain(value: Any) -> Any:
    if isinstance(value, UUID | datetime | date):
        return str(value) if isinstance(value, UUID) else value.isoformat()
    return value


async def outcome(
    batches: list[list[str]],
    database_url: str = DEFAULT_DATABASE_URL,
    admin_url: str = DEFAULT_ADMIN_URL,
    role: str | None = "jsb",
) -> dict[str, Any]:
    """Feed the batches through a fresh responder (real Postgres, a scratch schema),
    every department's passes after each; its task rows and feedback, without what
    differs from run to run (the rows' own timestamps, the feedback's ids and times)."""
    async with fresh_harness(hosting(**SETTINGS), database_url, admin_url, role) as h:
        for batch in batches:
            await h.feed([e.encode() for e in batch])
            await h.drain()
        async with h.engine.connect() as conn:
            rows = (await conn.execute(select(tables.tasks))).mappings().all()
            outbox = (await conn.execute(select(tables.outbox))).all()
    tasks = [
        {k: _plain(v) for k, v in r.items() if k not in ("created_at", "updated_at")} for r in rows
    ]
    tasks.sort(key=lambda r: (r["department"], r["designation_id"], r["measure"]))
    feedback = []
    for row in outbox:
        assert row.topic == FEEDBACK + h.suffix, row.topic  # no dead letter
        envelope = json.loads(row.value)
        for varying in ("id", "time"):
            envelope.pop(varying)
        feedback.append({"key": row.key, "headers": row.headers, "envelope": envelope})
    feedback.sort(key=lambda f: json.dumps(f, sort_keys=True, ensure_ascii=False))
    return {"tasks": tasks, "feedback": feedback}


def lines(made: dict[str, list[Any]]) -> str:
    """`made` as JSON, one task row or feedback event a line."""
    parts = []
    for name in sorted(made):
        items = ",\n".join(json.dumps(i, ensure_ascii=False, sort_keys=True) for i in made[name])
        parts.append(f"{json.dumps(name)}: [\n{items}\n]")
    return "{\n" + ",\n".join(parts) + "\n}\n"


def main(what: str) -> None:
    HERE.mkdir(exist_ok=True)
    if what == "input":
        INPUT.write_text(json.dumps(stream(), ensure_ascii=False, indent=1) + "\n")
    elif what == "expected":
        batches = json.loads(INPUT.read_text())
        EXPECTED.write_text(lines(asyncio.run(outcome(batches))))
    else:
        raise SystemExit(__doc__)


if __name__ == "__main__":
    main(sys.argv[1] if len(sys.argv) > 1 else "")
