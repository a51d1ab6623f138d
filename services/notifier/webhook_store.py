"""The `Webhooks` port (ports.py) on one Postgres connection: the subscription store,
the delivery queue, the status log, the stored notices and the subjects' views of one
transaction.
`PostgresTransactions(engine, PostgresWebhooks)` is the `WebhookStore`."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy.ext.asyncio import AsyncConnection

from services.notifier.delivery_queue import PostgresDeliveryQueue
from services.notifier.notice_store import PostgresNotices
from services.notifier.status_log import PostgresStatusLog
from services.notifier.subject_views import PostgresSubjectViews
from services.notifier.subscription_store import PostgresSubscriptions


@dataclass(frozen=True)
class PostgresWebhooks:
    subscriptions: PostgresSubscriptions
    queue: PostgresDeliveryQueue
    status_log: PostgresStatusLog
    notices: PostgresNotices
    views: PostgresSubjectViews

    @classmethod
    def on(cls, conn: AsyncConnection) -> PostgresWebhooks:
        return cls(
            PostgresSubscriptions(conn),
            PostgresDeliveryQueue(conn),
            PostgresStatusLog(conn),
            PostgresNotices(conn),
            PostgresSubjectViews(conn),
        )
