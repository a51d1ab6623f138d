"""The ledger's process runs the collector's young generation at its own threshold
(ServiceRuntime.open, shared/adapters/collector.py; settings.py `gc_threshold` says why
10,000 and not 100,000)."""

from __future__ import annotations

import gc

from services.ledger.settings import LedgerSettings


def test_the_ledger_collects_its_young_objects_less_often_than_python() -> None:
    assert LedgerSettings().gc_threshold == 10_000 > gc.get_threshold()[0]
