"""The notifier's own ports (the shared ones are in shared/ports.py).

- `Notices`: the notice channel inside one transaction. What is told is kept (and
  sent) only if the transaction commits, and a notice whose `dedup_key` was told
  before is skipped, so planning twice tells once. The default adapter
  (`PostgresNotices`, notice_store.py) stores notices, served by `GET /v1/notices`;
  a mail or SMS channel would store, then send. `MemoryNotices` (memory.py) for
  tests; one contract suite for both (tests/contracts/notices.py).
- `Clock`: "now" for reminders (a test clock shifts it).
- `SubscriptionStore`, `DeliveryQueue`, `StatusLog`, `SubjectViews`: each bound to
  one transaction; `Webhooks` bundles them (and `Notices`) so a change spanning them
  (a consumed batch logs statuses, queues deliveries, tells and keeps the subjects'
  views; delete cancels pending deliveries; an outcome may disable its endpoint and
  tell ops) commits or rolls back as one, and `WebhookStore` opens such transactions.
  Every path reaches the tables through them: ingest, the dispatcher, the routes
  (notices, the live stream, the report), the reminder loop, `jsb report monthly`.
  Postgres adapters: subscription_store.py, delivery_queue.py, status_log.py,
  subject_views.py (bundled by webhook_store.py); in memory: memory.py. One contract
  suite per port (tests/contracts/subscription_store.py, delivery_queue.py,
  status_log.py, subject_views.py).
"""

from __future__ import annotations

from collections.abc import Callable, Collection, Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any, Protocol
from uuid import UUID

from services.notifier.filters import Filters
from services.notifier.notices import Notice, WatchItem
from shared.ports import Transactions


@dataclass(frozen=True)
class NoticeQuery:
    visible_to: str | None
    """A department code: only the notices addressed to it or about its own work.
    None: all (ops, auditors)."""
    department: str | None = None
    subject_id: str | None = None
    kind: str | None = None
    after: int = 0
    limit: int = 100


class Notices(Protocol):
    channel: str

    async def tell(self, notices: Sequence[Notice]) -> int:
        """Record (and send) `notices`; returns how many were new."""

    async def find(self, query: NoticeQuery) -> list[dict[str, Any]]:
        """Stored notices in the order they were told, with `id` and `created_at`."""


class Clock(Protocol):
    def now(self) -> datetime: ...


ENABLED, DISABLED, DELETED = "enabled", "disabled", "deleted"
"""A subscription's states."""


@dataclass(frozen=True)
class NewSubscription:
    name: str
    url: str
    filters: Filters
    contact: str | None
    rate_limit_per_s: float | None


@dataclass(frozen=True)
class Subscription:
    id: UUID
    name: str
    url: str
    filters: dict[str, Any]
    contact: str | None
    rate_limit_per_s: float | None
    state: str
    failing_since: datetime | None
    disabled_at: datetime | None
    disabled_reason: str | None
    created_at: datetime


class SubscriptionStore(Protocol):
    """Subscriptions and their signing secrets (sealed by the secret box: the store
    never sees one in clear) inside one transaction."""

    async def create(
        self, sid: UUID, new: NewSubscription, by: str, sealed_secret: str
    ) -> Subscription:
        """A new enabled subscription signing with `sealed_secret`."""

    async def get(self, sid: UUID, *, lock: bool = False) -> Subscription | None:
        """Deleted ones too (their state says so). `lock`: hold it until the
        transaction ends, so concurrent outcomes of one endpoint take turns."""

    async def listed(self, *, lock: bool = False) -> list[Subscription]:
        """Every subscription not deleted, oldest first. `lock`: shared until the
        transaction ends, so an `enable` or `delete` of one of them waits for this
        transaction to commit (and this one waits for theirs)."""

    async def enabled(self) -> list[Subscription]: ...

    async def delete(self, sid: UUID) -> None: ...

    async def enable(self, sid: UUID) -> None:
        """Enabled, its failing streak and the disabling forgotten."""

    async def disable(self, sid: UUID, at: datetime, reason: str) -> None: ...

    async def set_failing_since(self, sid: UUID, since: datetime | None) -> None:
        """Start (`since`) or end (None) the endpoint's failing streak."""

    async def rotate_secret(self, sid: UUID, sealed_secret: str, old_valid_until: datetime) -> None:
        """A new secret from now; every older one stops at `old_valid_until` (or
        earlier, if it was already due to stop earlier)."""

    async def secrets(self, sid: UUID, at: datetime) -> list[str]:
        """The sealed secrets in force at `at`, newest first."""


@dataclass(frozen=True)
class NewDelivery:
    subscription_id: UUID
    position: int
    subject_id: str
    webhook_id: str
    held: bool = False
    """For a disabled subscription: queued `held` (never claimed) until `release`."""


@dataclass(frozen=True)
class Delivery:
    id: int
    subscription_id: UUID
    position: int
    subject_id: str
    webhook_id: str
    state: str
    """`held` (its subscription is disabled), `pending`, `delivered`, `dead`,
    `cancelled`."""
    attempts: int
    next_attempt_at: datetime
    lease_until: datetime | None
    last_status_code: int | None
    last_error: str | None
    created_at: datetime
    delivered_at: datetime | None


@dataclass(frozen=True)
class Claimed:
    id: int
    subject_id: str
    webhook_id: str
    attempts: int
    """Counting this one."""
    position: int
    body: str
    """The status message as logged (the webhook's body)."""


@dataclass(frozen=True)
class DeliveryQuery:
    subscription_id: UUID | None = None
    state: str | None = None
    subject_id: str | None = None
    after: int = 0
    limit: int = 100


Wanted = Callable[[Mapping[str, Any], str], bool]
"""Whether a logged change (its facets, its subject) is for a subscriber."""

WebhookIdOf = Callable[[UUID, UUID], str]
"""A delivery's webhook id from (subscription id, message id)."""


class DeliveryQueue(Protocol):
    """Deliveries (one per subscription and status change) inside one transaction.

    Order per subject per subscriber: a delivery is claimable only when no delivery
    of the same subscription and subject with a lower position is still pending (in
    flight, waiting for its retry, or not yet tried); a dead or cancelled one no
    longer holds the subject back, and a `held` one is never claimed. Claiming takes a
    lease: two claimers never get the same delivery, and one whose sender died is
    claimable again when the lease ends, with the same webhook id."""

    async def enqueue(self, deliveries: Sequence[NewDelivery]) -> None:
        """Pending, due now (`held` when so marked); one already queued for
        (subscription, position) is kept."""

    async def claim(
        self, subscription_id: UUID, n: int, busy: Sequence[str], lease_s: float
    ) -> list[Claimed]:
        """Up to `n` due deliveries of subjects not in `busy`, leased for `lease_s`
        and counted as an attempt, in position order."""

    async def delivered(self, delivery_id: int, status: int) -> None: ...

    async def failed(
        self,
        delivery_id: int,
        *,
        status: int | None,
        error: str,
        retry_in_s: float | None,
        at: datetime | None = None,
    ) -> None:
        """Pending again in `retry_in_s` after `at`; None: dead (no retry, or attempts
        exhausted), and `at` is kept as its `next_attempt_at` (when it died, what
        `release` compares). `at` None: the store's clock now."""

    async def retry(self, delivery_id: int) -> Delivery | None:
        """Pending and due now, attempts from zero, whatever its state; None: no such
        delivery."""

    async def recover(
        self,
        subscription_id: UUID,
        wanted: Wanted,
        webhook_id_of: WebhookIdOf,
        *,
        since_position: int | None,
        since_time: datetime | None,
    ) -> int:
        """Queue again every logged change after `since_position` (or received at or
        after `since_time`) that is `wanted` and was never queued or is dead;
        delivered, pending and cancelled ones are left alone. How many were queued."""

    async def release(self, subscription_id: UUID, died_since: datetime | None) -> int:
        """Every `held` delivery pending and due now; with `died_since`, every dead one
        that died at or after it (`next_attempt_at`) pending again too, due now, attempts
        from zero. So the claim's rule sends each subject's changes in position order,
        the ones that died first. How many were released."""

    async def cancel_pending(self, subscription_id: UUID) -> None:
        """Every `pending` or `held` one cancelled."""

    async def find(self, query: DeliveryQuery) -> list[Delivery]:
        """In id order, ids after `query.after`."""


@dataclass(frozen=True)
class NewStatus:
    """A status message to log: its id, its subject, what filters look at (`facets`)
    and the message as received (the webhook's body)."""

    message_id: UUID
    subject_id: str
    facets: Mapping[str, Any]
    body: str | bytes
    """As text, or as consumed (UTF-8 bytes: an adapter that stores text may let its
    database check and convert them rather than decode and encode them again)."""


@dataclass(frozen=True)
class LoggedStatus:
    position: int
    subject_id: str
    facets: Mapping[str, Any]
    body: str


class StatusLog(Protocol):
    """Every status change consumed, once, numbered in consumption order."""

    async def append(
        self, message_id: UUID, subject_id: str, facets: Mapping[str, Any], body: str
    ) -> int | None:
        """Its position (greater than every earlier one); None when `message_id` was
        logged before (nothing changes)."""

    async def append_many(self, statuses: Sequence[NewStatus]) -> list[int | None]:
        """`append` of each, in their order, in one go: positions increase along
        `statuses`; None for one logged before (or earlier in `statuses`)."""

    async def logged(self, message_ids: Collection[UUID]) -> set[UUID]:
        """Which of `message_ids` were logged."""

    async def head(self) -> int:
        """The last position handed out to a logged status; 0 when none is."""

    async def after(self, position: int, limit: int) -> list[LoggedStatus]:
        """Up to `limit` logged statuses after `position`, in position order."""


@dataclass(frozen=True)
class Latest:
    position: int
    status: Mapping[str, Any]
    """The subject's whole status (the message's `data`)."""
    logged: bool = False
    """True: `status` is the `data` of the message logged at `position` in the
    `StatusLog` of the same transaction; an adapter that keeps the status as JSON may
    take it from there rather than serialise and send it again."""


class SubjectViews(Protocol):
    """What ingest keeps of each subject from its latest status: the status itself
    (to see what the next one changed, for the monthly report), the deadlines still
    running (for the reminders) and the interceptions counted per month and measure."""

    async def latest(self, subjects: Collection[str]) -> dict[str, Mapping[str, Any]]:
        """The latest status kept of each of `subjects` that has one."""

    async def bases(self, subjects: Collection[str]) -> dict[str, Mapping[str, Any]]:
        """`changes.basis` of the latest status kept of each of `subjects` that has
        one: what ingest compares the next status with."""

    async def keep(self, latest: Mapping[str, Latest], watched: Sequence[WatchItem]) -> None:
        """The subjects' latest statuses, and their running deadlines: `watched`
        replaces every deadline kept of these subjects (an item whose key is already
        kept is kept once)."""

    async def count_interceptions(self, counts: Mapping[tuple[str, str], int]) -> None:
        """Add `counts` by (month, measure)."""

    async def watched(self, until: date) -> list[WatchItem]:
        """The running deadlines that end on or before `until`."""

    async def statuses(self) -> list[Mapping[str, Any]]:
        """The latest status of every subject seen."""

    async def interceptions(self, month: str) -> dict[str, int]:
        """The month's interceptions by measure."""


class Webhooks(Protocol):
    """One transaction over the webhook side: what one block changes through these
    is kept together or not at all."""

    @property
    def subscriptions(self) -> SubscriptionStore: ...

    @property
    def queue(self) -> DeliveryQueue: ...

    @property
    def status_log(self) -> StatusLog: ...

    @property
    def notices(self) -> Notices: ...

    @property
    def views(self) -> SubjectViews: ...


WebhookStore = Transactions[Webhooks]
