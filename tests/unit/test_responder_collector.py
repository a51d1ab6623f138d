"""The responder's process runs the collector's young generation at its own threshold
(ServiceRuntime.open, shared/adapters/collector.py), above Python's."""

from __future__ import annotations

import gc

from services.responder.settings import ResponderSettings


def test_the_responder_collects_its_young_objects_less_often_than_python() -> None:
    assert ResponderSettings().gc_threshold == 10_000 > gc.get_threshold()[0]
