"""A consumed batch of status messages applied through the `Webhooks` port (ports.py):
the status log, deliveries for every matching subscription, notices, and the
subjects' views (latest statuses, watched deadlines, interception counts). The
service layer of ingest (ingest.py hands it the decoded messages in the consumer's
transaction); on the in-memory adapters in the unit tests.

What a status changed is read against the subject's previous status, the batch's
own earlier one when it has one; a message logged before (the ledger re-publishes
after a crash with the same message id) or twice in the batch changes nothing, so no
delivery is queued twice. The batch is planned in memory and written with one call
per port: one append of every new status, one enqueue, one tell, one keep.
"""

from __future__ import annotations

import logging
from collections import Counter
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any
from uuid import UUID, uuid5

from services.notifier.changes import Change, basis, changes_since, facets
from services.notifier.filters import Filters, passes
from services.notifier.notices import on_changes, watch_items
from services.notifier.ports import DISABLED, Latest, NewDelivery, NewStatus, Webhooks
from shared.domain.catalogue.index import CatalogueIndex
from shared.domain.china_time import china_date
from shared.domain.envelope import Envelope

log = logging.getLogger(__name__)

_WEBHOOK_IDS = UUID("8f0e5b1c-6a2d-4e37-9c41-77656268686f")


def webhook_id(subscription_id: UUID, message_id: UUID) -> str:
    """Stable for one message to one subscriber: every retry and re-send carries it."""
    return "msg_" + uuid5(_WEBHOOK_IDS, f"{subscription_id}:{message_id}").hex


@dataclass(frozen=True)
class Received:
    """A decoded status message and its raw body (what the webhook sends)."""

    envelope: Envelope
    body: str | bytes
    """As consumed (bytes), or text."""


@dataclass(frozen=True)
class _Sub:
    id: UUID
    filters: Filters
    held: bool


@dataclass(frozen=True)
class _Planned:
    envelope: Envelope
    body: str | bytes
    found: list[Change]
    facets: Mapping[str, Any]


async def apply(catalogue: CatalogueIndex, tx: Webhooks, received: Sequence[Received]) -> None:
    # Locked (shared): an `enable` or `delete` waits for this batch, so a delivery
    # queued `held` for a disabled subscription is released (or cancelled) by it.
    subs = [
        _Sub(s.id, Filters.model_validate(s.filters), s.state == DISABLED)
        for s in await tx.subscriptions.listed(lock=True)
    ]
    seen = await tx.status_log.logged({r.envelope.id for r in received})
    # what a status is compared with: the kept one's basis, or the batch's own earlier
    # status (its basis taken only then: most subjects have one status in a batch)
    kept: dict[str, Mapping[str, Any]] = await tx.views.bases(
        {r.envelope.subject for r in received}
    )
    latest: dict[str, Mapping[str, Any]] = {}
    planned: list[_Planned] = []
    for r in received:
        envelope = r.envelope
        if envelope.id in seen:
            log.info("status message %s seen before: dropped", envelope.id)
            continue
        seen.add(envelope.id)
        earlier = latest.get(envelope.subject)
        before = basis(earlier) if earlier is not None else kept.get(envelope.subject)
        found = changes_since(before, envelope.data)
        planned.append(_Planned(envelope, r.body, found, facets(envelope.data, found)))
        latest[envelope.subject] = envelope.data
    positions = await tx.status_log.append_many(
        [NewStatus(p.envelope.id, p.envelope.subject, p.facets, p.body) for p in planned]
    )
    touched: dict[str, int] = {}
    deliveries: list[NewDelivery] = []
    notices = []
    interceptions: Counter[tuple[str, str]] = Counter()
    for p, position in zip(planned, positions, strict=True):
        if position is None:
            # Batches take turns (ingest.py), so nothing logs between `logged` and
            # here; if it did, what was planned after it is wrong: apply none of it.
            raise RuntimeError("the status log changed during the batch")
        subject = p.envelope.subject
        touched[subject] = position
        deliveries += [
            NewDelivery(s.id, position, subject, webhook_id(s.id, p.envelope.id), s.held)
            for s in subs
            if passes(s.filters, p.facets, subject)
        ]
        notices += on_changes(catalogue, subject, p.found)
        month = china_date(p.envelope.time).strftime("%Y-%m")
        for c in p.found:
            if c.type == "jsb.feedback.intercepted":
                interceptions[(month, c.detail["task"]["measure"])] += c.detail["count"]
    await tx.queue.enqueue(deliveries)
    await tx.notices.tell(notices)
    if touched:
        # what only the batch's last status of each subject decides, written once
        await tx.views.keep(
            {s: Latest(p, latest[s], logged=True) for s, p in touched.items()},
            [i for s in touched for i in watch_items(s, latest[s])],
        )
        await tx.views.count_interceptions(interceptions)
