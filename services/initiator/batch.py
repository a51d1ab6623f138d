"""Bulk designations (`POST /v1/designations/batch`, court lists of up to 10,000).

Each item is decided on its own and gets its own result: valid items are accepted
even when others are refused. The work is done in chunks (one transaction each):
lock the chunk's subjects in the global order (services/initiator/locks.py), load
their streams with one query, decide every item in memory on the state left by the
items before it, then write events, indexes, outbox rows and timers with a few bulk
statements. Chunks bound the advisory locks one transaction holds (Postgres keeps
them in a shared table of limited size).

Retries: with an Idempotency-Key the designation ids are derived from (caller, key,
index), so a retry after a crash between chunks finds the items already accepted
and reports them as such instead of designating anyone twice.
"""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any
from uuid import NAMESPACE_URL, UUID, uuid4, uuid5

from pydantic import ValidationError

from services.initiator import handlers
from services.initiator.designation_bodies import issue_command
from services.initiator.ledger_client import LedgerUnavailable, sanctioned_refusal, unavailable
from services.initiator.ports import LedgerStatus, SubjectStreams
from services.initiator.schemas import DesignationCreate
from services.initiator.streams import Staged
from services.initiator.subjects import subject_key
from services.initiator.views import sees_in_full, shown_id
from shared.domain.catalogue.index import CatalogueIndex
from shared.domain.commands import IssueDesignation
from shared.domain.decide import decide
from shared.domain.decide_support import lookup
from shared.domain.errors import CommandRefused, DomainError
from shared.domain.fold_state import DesignationRecord
from shared.domain.rejections import Rejected
from shared.domain.vocabulary import Polarity

Result = dict[str, Any]
"""An accepted item's result, as the response shows it."""


@dataclass(frozen=True)
class Refused:
    """A refused item: the edge renders `reason` as the item's RFC 9457 problem."""

    index: int
    reason: DomainError | ValidationError


Outcome = Result | Refused


@dataclass
class Item:
    index: int
    command: IssueDesignation | None = None
    subject_id: str = ""
    related: list[str] = field(default_factory=list)
    incentive: bool = False
    refusal: DomainError | ValidationError | None = None
    """Why the item is refused, if it is."""


def designation_id_for(principal: str, key: str | None, index: int) -> UUID:
    if key is None:
        return uuid4()
    return uuid5(NAMESPACE_URL, f"urn:jsb:batch:{principal}:{key}:{index}")


def parse(
    raw_items: Sequence[Any],
    department: str,
    at: datetime,
    catalogue: CatalogueIndex,
    *,
    principal: str,
    key: str | None,
) -> list[Item]:
    """Validate each item's shape on its own (a bad item does not sink the batch)."""
    items: list[Item] = []
    for index, raw in enumerate(raw_items):
        item = Item(index)
        items.append(item)
        try:
            body = DesignationCreate.model_validate(raw)
        except ValidationError as exc:
            item.refusal = exc
            continue
        command = issue_command(body, department=department, at=at)
        item.command = command.model_copy(
            update={"designation_id": designation_id_for(principal, key, index)}
        )
        item.subject_id = subject_key([body.subject.id, *body.subject.other_ids])
        item.related = [subject_key([p.id]) for p in body.related_persons]
        list_type = lookup(catalogue.list_type, body.list_type)
        item.incentive = list_type is not None and list_type.polarity is Polarity.INCENTIVE
    return items


async def cross_check(
    items: Sequence[Item], ledger: LedgerStatus, concurrency: int
) -> dict[str, bool | None]:
    """The ledger's verdict per subject of an incentive item: sanctioned, or None when
    the ledger cannot answer. Asked before any transaction opens (no lock held)."""
    subjects = sorted({i.subject_id for i in items if i.incentive and i.refusal is None})
    gate = asyncio.Semaphore(concurrency)

    async def ask(subject_id: str) -> bool | None:
        async with gate:
            try:
                return await ledger.sanctioned(subject_id)
            except LedgerUnavailable:
                return None

    verdicts = await asyncio.gather(*(ask(s) for s in subjects))
    return dict(zip(subjects, verdicts, strict=True))


async def decide_chunk(
    tx: SubjectStreams,
    items: Sequence[Item],
    ctx: handlers.CommandContext,
    verdicts: dict[str, bool | None],
    *,
    sees_identity_numbers: bool,
) -> list[Outcome]:
    """Decide and write one chunk in the caller's transaction; one outcome per item."""
    subjects = [s for i in items if i.command for s in (i.subject_id, *i.related)]
    await tx.lock(subjects)
    streams = await tx.load(subjects)
    staged = Staged()
    results: list[Outcome] = []
    for item in items:
        if item.refusal is not None or item.command is None:
            results.append(_refused(item))
            continue
        command = item.command
        state = streams[item.subject_id].state
        existing = state.designation(command.designation_id)
        if existing is not None:  # accepted by an earlier attempt of this batch
            results.append(
                _accepted(
                    item,
                    existing,
                    command.at,
                    sees_in_full(existing, command.department, sees_identity_numbers),
                )
            )
            continue
        outcome = decide(state, command, ctx.catalogue)
        if isinstance(outcome, Rejected):
            results.append(_refused(item, CommandRefused(outcome)))
            continue
        if item.incentive and item.subject_id in verdicts:
            verdict = verdicts[item.subject_id]
            if verdict is None or verdict:
                refusal = unavailable() if verdict is None else sanctioned_refusal()
                results.append(_refused(item, refusal))
                continue
        envelopes = handlers.envelopes_of(outcome, command.department, None)
        missing = {e.subject for e in envelopes} - streams.keys()
        if missing:  # a safety net: `parse` derives the same subject keys as `decide`
            # (locking late could break the global lock order; a deadlock would then
            # abort this chunk, and the keyed retry would finish it)
            await tx.lock(missing)
            streams.update(await tx.load(missing))
        staged.add(streams, outcome, envelopes)
        record = streams[item.subject_id].state.designation(command.designation_id)
        assert record is not None
        in_clear = sees_in_full(record, command.department, sees_identity_numbers)
        results.append(_accepted(item, record, command.at, in_clear))
    await handlers.commit(tx, streams, staged, ctx)
    return results


def _accepted(item: Item, record: DesignationRecord, at: datetime, sees: bool) -> Result:
    data = record.data
    return {
        "index": item.index,
        "status": 201,
        "designation_id": str(data.designation_id),
        "subject_id": shown_id(data.subject_id, sees),
        "list_type": data.list_type,
        "state": record.state_at(at).value,
        "related_designations": [
            {"designation_id": str(r.designation_id), "subject_id": shown_id(r.subject_id, sees)}
            for r in data.related
        ],
    }


def _refused(item: Item, refusal: DomainError | None = None) -> Refused:
    reason = refusal if refusal is not None else item.refusal
    assert reason is not None
    return Refused(item.index, reason)
