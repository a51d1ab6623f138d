"""In-memory adapters of the notifier's ports (ports.py), for the service-layer unit
tests: the same contract suites as the Postgres ones (tests/contracts/notices.py,
subscription_store.py, delivery_queue.py, status_log.py, subject_views.py).

`MemoryNoticeStore`: a transaction stages what it tells and keeps it only when its
block ends cleanly. `MemoryWebhookStore` (the `WebhookStore`): one transaction at a
time (an asyncio lock, as the queue's row locks and `FOR UPDATE` serialize what
matters in Postgres); a block that raises puts every table back as it found it.
"""

from __future__ import annotations

import asyncio
from collections import Counter
from collections.abc import AsyncIterator, Collection, Mapping, Sequence
from contextlib import asynccontextmanager
from dataclasses import asdict, dataclass, field, replace
from datetime import UTC, date, datetime, timedelta
from typing import Any
from uuid import UUID

from services.notifier.changes import basis
from services.notifier.notices import Notice, WatchItem
from services.notifier.ports import (
    DELETED,
    DISABLED,
    ENABLED,
    Claimed,
    Delivery,
    DeliveryQuery,
    Latest,
    LoggedStatus,
    NewDelivery,
    NewStatus,
    NewSubscription,
    NoticeQuery,
    Subscription,
    Wanted,
    WebhookIdOf,
)


class MemoryNotices:
    channel = "stored"

    def __init__(self, store: MemoryNoticeStore) -> None:
        self._store = store
        self._new: list[dict[str, Any]] = []

    async def tell(self, notices: Sequence[Notice]) -> int:
        known = {r["dedup_key"] for r in self._store.rows + self._new}
        fresh = []
        for n in notices:
            if n.dedup_key not in known:
                known.add(n.dedup_key)
                fresh.append({**asdict(n), "details": dict(n.details), "channel": self.channel})
        self._new += fresh
        return len(fresh)

    async def find(self, query: NoticeQuery) -> list[dict[str, Any]]:
        def shown(r: dict[str, Any]) -> bool:
            return (
                r["id"] > query.after
                and all(
                    who is None or who in (r["recipient"], r["department"])
                    for who in (query.visible_to, query.department)
                )
                and query.subject_id in (None, r["subject_id"])
                and query.kind in (None, r["kind"])
            )

        return [r for r in self._store.rows if shown(r)][: query.limit]

    def _commit(self) -> None:
        for row in self._new:
            self._store.rows.append(
                {**row, "id": len(self._store.rows) + 1, "created_at": datetime.now(UTC)}
            )


class MemoryNoticeStore:
    def __init__(self) -> None:
        self.rows: list[dict[str, Any]] = []

    @asynccontextmanager
    async def begin(self) -> AsyncIterator[MemoryNotices]:
        tx = MemoryNotices(self)
        yield tx
        tx._commit()


@dataclass(frozen=True)
class _Secret:
    id: int
    subscription_id: UUID
    sealed: str
    expires_at: datetime | None = None


@dataclass(frozen=True)
class _Logged:
    position: int
    message_id: UUID
    subject_id: str
    facets: Mapping[str, Any]
    body: str
    received_at: datetime


@dataclass
class WebhookTables:
    """The rows; frozen values, so a copy of the containers is a snapshot."""

    subscriptions: dict[UUID, Subscription] = field(default_factory=dict)
    secrets: list[_Secret] = field(default_factory=list)
    deliveries: dict[int, Delivery] = field(default_factory=dict)
    log: dict[UUID, _Logged] = field(default_factory=dict)
    """By message id, in position order."""
    latest: dict[str, Latest] = field(default_factory=dict)
    watch: dict[str, WatchItem] = field(default_factory=dict)
    interceptions: Counter[tuple[str, str]] = field(default_factory=Counter)
    serial: int = 0
    """The last id or position handed out (never reused, like an identity column)."""

    def next_id(self) -> int:
        self.serial += 1
        return self.serial

    def copy(self) -> WebhookTables:
        return WebhookTables(
            dict(self.subscriptions),
            list(self.secrets),
            dict(self.deliveries),
            dict(self.log),
            dict(self.latest),
            dict(self.watch),
            Counter(self.interceptions),
            self.serial,
        )


def _now() -> datetime:
    return datetime.now(UTC)


def _text(body: str | bytes) -> str:
    return body.decode() if isinstance(body, bytes) else body


class MemorySubscriptions:
    def __init__(self, t: WebhookTables) -> None:
        self.t = t

    async def create(
        self, sid: UUID, new: NewSubscription, by: str, sealed_secret: str
    ) -> Subscription:
        sub = Subscription(
            sid,
            new.name,
            new.url,
            new.filters.model_dump(exclude_none=True),
            new.contact,
            new.rate_limit_per_s,
            ENABLED,
            None,
            None,
            None,
            _now(),
        )
        self.t.subscriptions[sid] = sub
        self.t.secrets.append(_Secret(self.t.next_id(), sid, sealed_secret))
        return sub

    async def get(self, sid: UUID, *, lock: bool = False) -> Subscription | None:
        return self.t.subscriptions.get(sid)

    async def listed(self, *, lock: bool = False) -> list[Subscription]:
        subs = [s for s in self.t.subscriptions.values() if s.state != DELETED]
        return sorted(subs, key=lambda s: s.created_at)

    async def enabled(self) -> list[Subscription]:
        return [s for s in self.t.subscriptions.values() if s.state == ENABLED]

    def _change(self, sid: UUID, **values: Any) -> None:
        if sid in self.t.subscriptions:
            self.t.subscriptions[sid] = replace(self.t.subscriptions[sid], **values)

    async def delete(self, sid: UUID) -> None:
        self._change(sid, state=DELETED)

    async def enable(self, sid: UUID) -> None:
        self._change(sid, state=ENABLED, failing_since=None, disabled_at=None, disabled_reason=None)

    async def disable(self, sid: UUID, at: datetime, reason: str) -> None:
        self._change(sid, state=DISABLED, disabled_at=at, disabled_reason=reason)

    async def set_failing_since(self, sid: UUID, since: datetime | None) -> None:
        self._change(sid, failing_since=since)

    async def rotate_secret(self, sid: UUID, sealed_secret: str, old_valid_until: datetime) -> None:
        self.t.secrets = [
            replace(s, expires_at=old_valid_until)
            if s.subscription_id == sid and (s.expires_at is None or s.expires_at > old_valid_until)
            else s
            for s in self.t.secrets
        ]
        self.t.secrets.append(_Secret(self.t.next_id(), sid, sealed_secret))

    async def secrets(self, sid: UUID, at: datetime) -> list[str]:
        return [
            s.sealed
            for s in reversed(self.t.secrets)
            if s.subscription_id == sid and (s.expires_at is None or s.expires_at > at)
        ]


class MemoryDeliveryQueue:
    def __init__(self, t: WebhookTables) -> None:
        self.t = t

    def _add(self, d: NewDelivery) -> bool:
        if any(
            (e.subscription_id, e.position) == (d.subscription_id, d.position)
            for e in self.t.deliveries.values()
        ):
            return False
        did, now = self.t.next_id(), _now()
        self.t.deliveries[did] = Delivery(
            did, d.subscription_id, d.position, d.subject_id, d.webhook_id,
            "held" if d.held else "pending", 0, now, None, None, None, now, None,
        )  # fmt: skip
        return True

    async def enqueue(self, deliveries: Sequence[NewDelivery]) -> None:
        for d in deliveries:
            self._add(d)

    async def claim(
        self, subscription_id: UUID, n: int, busy: Sequence[str], lease_s: float
    ) -> list[Claimed]:
        now = _now()
        pending = sorted(
            (
                d
                for d in self.t.deliveries.values()
                if d.subscription_id == subscription_id and d.state == "pending"
            ),
            key=lambda d: d.position,
        )
        first: dict[str, int] = {}
        for d in pending:
            first.setdefault(d.subject_id, d.position)
        bodies = {e.position: e.body for e in self.t.log.values()}
        due = [
            d
            for d in pending
            if d.next_attempt_at <= now
            and (d.lease_until is None or d.lease_until < now)
            and d.subject_id not in busy
            and first[d.subject_id] == d.position
            and d.position in bodies
        ][: max(n, 0)]
        claimed = []
        for d in due:
            leased = replace(
                d, lease_until=now + timedelta(seconds=lease_s), attempts=d.attempts + 1
            )
            self.t.deliveries[d.id] = leased
            claimed.append(
                Claimed(
                    d.id,
                    d.subject_id,
                    d.webhook_id,
                    leased.attempts,
                    d.position,
                    bodies[d.position],
                )
            )
        return claimed

    def _change(self, delivery_id: int, **values: Any) -> Delivery | None:
        if delivery_id not in self.t.deliveries:
            return None
        changed = replace(self.t.deliveries[delivery_id], **values)
        self.t.deliveries[delivery_id] = changed
        return changed

    async def delivered(self, delivery_id: int, status: int) -> None:
        self._change(
            delivery_id,
            state="delivered",
            delivered_at=_now(),
            lease_until=None,
            last_status_code=status,
            last_error=None,
        )

    async def failed(
        self,
        delivery_id: int,
        *,
        status: int | None,
        error: str,
        retry_in_s: float | None,
        at: datetime | None = None,
    ) -> None:
        self._change(
            delivery_id,
            state="dead" if retry_in_s is None else "pending",
            next_attempt_at=(at or _now()) + timedelta(seconds=retry_in_s or 0),
            lease_until=None,
            last_status_code=status,
            last_error=error[:500],
        )

    async def retry(self, delivery_id: int) -> Delivery | None:
        return self._change(
            delivery_id, state="pending", next_attempt_at=_now(), attempts=0, lease_until=None
        )

    async def recover(
        self,
        subscription_id: UUID,
        wanted: Wanted,
        webhook_id_of: WebhookIdOf,
        *,
        since_position: int | None,
        since_time: datetime | None,
    ) -> int:
        def since(e: _Logged) -> bool:
            if since_position is not None:
                return e.position > since_position
            return since_time is not None and e.received_at >= since_time

        count = 0
        for e in sorted(filter(since, self.t.log.values()), key=lambda e: e.position):
            if not wanted(e.facets, e.subject_id):
                continue
            new = NewDelivery(
                subscription_id,
                e.position,
                e.subject_id,
                webhook_id_of(subscription_id, e.message_id),
            )
            if self._add(new):
                count += 1
                continue
            [d] = [
                d
                for d in self.t.deliveries.values()
                if (d.subscription_id, d.position) == (subscription_id, e.position)
            ]
            if d.state == "dead":
                self._change(
                    d.id, state="pending", attempts=0, next_attempt_at=_now(), lease_until=None
                )
                count += 1
        return count

    async def release(self, subscription_id: UUID, died_since: datetime | None) -> int:
        def freed(d: Delivery) -> bool:
            return d.state == "held" or (
                d.state == "dead" and died_since is not None and d.next_attempt_at >= died_since
            )

        count = 0
        for d in list(self.t.deliveries.values()):
            if d.subscription_id == subscription_id and freed(d):
                self._change(
                    d.id, state="pending", attempts=0, next_attempt_at=_now(), lease_until=None
                )
                count += 1
        return count

    async def cancel_pending(self, subscription_id: UUID) -> None:
        for d in list(self.t.deliveries.values()):
            if d.subscription_id == subscription_id and d.state in ("pending", "held"):
                self._change(d.id, state="cancelled")

    async def find(self, query: DeliveryQuery) -> list[Delivery]:
        return [
            d
            for d in sorted(self.t.deliveries.values(), key=lambda d: d.id)
            if d.id > query.after
            and query.subscription_id in (None, d.subscription_id)
            and query.state in (None, d.state)
            and query.subject_id in (None, d.subject_id)
        ][: query.limit]


class MemoryStatusLog:
    def __init__(self, t: WebhookTables) -> None:
        self.t = t

    async def append(
        self, message_id: UUID, subject_id: str, facets: Mapping[str, Any], body: str
    ) -> int | None:
        [position] = await self.append_many([NewStatus(message_id, subject_id, facets, body)])
        return position

    async def append_many(self, statuses: Sequence[NewStatus]) -> list[int | None]:
        positions: list[int | None] = []
        for s in statuses:
            if s.message_id in self.t.log:
                positions.append(None)
                continue
            position = self.t.next_id()
            self.t.log[s.message_id] = _Logged(
                position, s.message_id, s.subject_id, dict(s.facets), _text(s.body), _now()
            )
            positions.append(position)
        return positions

    async def logged(self, message_ids: Collection[UUID]) -> set[UUID]:
        return {m for m in message_ids if m in self.t.log}

    async def head(self) -> int:
        return max((e.position for e in self.t.log.values()), default=0)

    async def after(self, position: int, limit: int) -> list[LoggedStatus]:
        later = sorted(
            (e for e in self.t.log.values() if e.position > position), key=lambda e: e.position
        )
        return [LoggedStatus(e.position, e.subject_id, e.facets, e.body) for e in later[:limit]]


class MemorySubjectViews:
    def __init__(self, t: WebhookTables) -> None:
        self.t = t

    async def latest(self, subjects: Collection[str]) -> dict[str, Mapping[str, Any]]:
        return {s: self.t.latest[s].status for s in subjects if s in self.t.latest}

    async def bases(self, subjects: Collection[str]) -> dict[str, Mapping[str, Any]]:
        return {s: basis(status) for s, status in (await self.latest(subjects)).items()}

    async def keep(self, latest: Mapping[str, Latest], watched: Sequence[WatchItem]) -> None:
        self.t.latest.update(latest)
        self.t.watch = {k: i for k, i in self.t.watch.items() if i.subject_id not in latest}
        for item in watched:
            self.t.watch.setdefault(item.key, item)

    async def count_interceptions(self, counts: Mapping[tuple[str, str], int]) -> None:
        self.t.interceptions.update(counts)

    async def watched(self, until: date) -> list[WatchItem]:
        return [i for i in self.t.watch.values() if i.deadline <= until]

    async def statuses(self) -> list[Mapping[str, Any]]:
        return [k.status for k in self.t.latest.values()]

    async def interceptions(self, month: str) -> dict[str, int]:
        return {s: n for (m, s), n in self.t.interceptions.items() if m == month}


@dataclass(frozen=True)
class MemoryWebhooks:
    """One transaction of a `MemoryWebhookStore`."""

    subscriptions: MemorySubscriptions
    queue: MemoryDeliveryQueue
    status_log: MemoryStatusLog
    notices: MemoryNotices
    views: MemorySubjectViews


class MemoryWebhookStore:
    def __init__(self) -> None:
        self.tables = WebhookTables()
        self.notice_store = MemoryNoticeStore()
        self._turn = asyncio.Lock()

    @asynccontextmanager
    async def begin(self) -> AsyncIterator[MemoryWebhooks]:
        async with self._turn:
            before = self.tables.copy()
            t = self.tables
            tx = MemoryWebhooks(
                MemorySubscriptions(t),
                MemoryDeliveryQueue(t),
                MemoryStatusLog(t),
                MemoryNotices(self.notice_store),
                MemorySubjectViews(t),
            )
            try:
                yield tx
            except BaseException:
                serial = t.serial  # ids and positions are never handed out twice
                t.__dict__.update(before.__dict__, serial=serial)
                raise
            tx.notices._commit()
