"""The in-memory adapters of the notifier's ports pass their contract suites (the
Postgres ones: tests/integration/test_notifier_store.py)."""

from __future__ import annotations

import pytest

from services.notifier.memory import MemoryNoticeStore, MemoryWebhookStore
from tests.contracts.delivery_queue import DeliveryQueueContract
from tests.contracts.notices import NoticesContract
from tests.contracts.status_log import StatusLogContract
from tests.contracts.subject_views import SubjectViewsContract
from tests.contracts.subscription_store import SubscriptionStoreContract


class TestMemoryNotices(NoticesContract):
    @pytest.fixture
    def notices(self) -> MemoryNoticeStore:
        return MemoryNoticeStore()


class TestMemorySubscriptions(SubscriptionStoreContract):
    @pytest.fixture
    def webhooks(self) -> MemoryWebhookStore:
        return MemoryWebhookStore()


class TestMemoryDeliveryQueue(DeliveryQueueContract):
    @pytest.fixture
    def webhooks(self) -> MemoryWebhookStore:
        return MemoryWebhookStore()


class TestMemoryStatusLog(StatusLogContract):
    @pytest.fixture
    def webhooks(self) -> MemoryWebhookStore:
        return MemoryWebhookStore()


class TestMemorySubjectViews(SubjectViewsContract):
    @pytest.fixture
    def webhooks(self) -> MemoryWebhookStore:
        return MemoryWebhookStore()
