"""shared/adapters/collector.py: the young generation's threshold set for the block
and restored after it (tests run services inside the test process)."""

from __future__ import annotations

import gc

from services.notifier.settings import NotifierSettings
from shared.adapters.collector import young_threshold


def test_the_threshold_is_set_for_the_block_and_restored() -> None:
    before = gc.get_threshold()
    with young_threshold(12_345):
        assert gc.get_threshold() == (12_345, *before[1:])
    assert gc.get_threshold() == before


def test_zero_keeps_pythons_threshold() -> None:
    before = gc.get_threshold()
    with young_threshold(0):
        assert gc.get_threshold() == before


def test_the_notifier_raises_it_by_default() -> None:
    assert NotifierSettings().gc_threshold > gc.get_threshold()[0]
