"""The runtime runs a service's collector at the service's young-generation threshold
(`ServiceSettings.gc_threshold`, shared/adapters/collector.py says why) while it runs,
and gives Python's back when it stops (tests run services inside the test process)."""

from __future__ import annotations

import gc
from types import SimpleNamespace

import pytest
from prometheus_client import CollectorRegistry

from shared.adapters.runtime import ServiceRuntime
from shared.adapters.settings import ServiceSettings
from tests.support.infra import Infra

pytestmark = pytest.mark.integration


async def test_the_runtime_sets_the_young_threshold_while_it_runs(
    infra: Infra, schema_suffix: str
) -> None:
    before = gc.get_threshold()
    settings = ServiceSettings(
        kafka_bootstrap_servers=infra.kafka,
        database_url=infra.database_url,
        db_schema="responder" + schema_suffix,
        gc_threshold=12_345,
    )
    host = SimpleNamespace(state=SimpleNamespace(metrics=CollectorRegistry(), readiness={}))
    async with ServiceRuntime.open(host, settings, client_id="jsb-test-gc"):
        assert gc.get_threshold() == (12_345, *before[1:])
    assert gc.get_threshold() == before


async def test_a_threshold_of_zero_keeps_pythons(infra: Infra, schema_suffix: str) -> None:
    before = gc.get_threshold()
    settings = ServiceSettings(
        kafka_bootstrap_servers=infra.kafka,
        database_url=infra.database_url,
        db_schema="responder" + schema_suffix,
    )
    host = SimpleNamespace(state=SimpleNamespace(metrics=CollectorRegistry(), readiness={}))
    async with ServiceRuntime.open(host, settings, client_id="jsb-test-gc"):
        assert gc.get_threshold() == before
