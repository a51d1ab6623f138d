"""An endpoint that stays down is disabled even when no attempt comes after the
disable window (services/notifier/disable_sweep.py): the notifier as a real process
on its own schema and topics, a status message published on the real Kafka, a real
loopback receiver answering 503. The one delivery's attempts all die before the
window ends; the sweep then disables the subscription, as a failed attempt would."""

from __future__ import annotations

import asyncio
import json
import os
import time
from collections.abc import Iterator
from datetime import datetime
from pathlib import Path
from typing import Any

import pytest

from shared.adapters import kafka_admin, topics
from shared.adapters.kafka_clients import make_producer
from shared.adapters.migrations import upgrade_all
from shared.adapters.topics import TOPICS, TopicSpec
from tests.conftest import drop_schemas
from tests.e2e.conftest import _tokens
from tests.support.infra import Infra, unique
from tests.support.notifier_receiver import Receiver, receiving
from tests.support.notifier_stack import NOTIFIER_ENV, deliveries, subscribe
from tests.support.notifier_statuses import changed
from tests.support.poll import until
from tests.support.stack import ServiceProcess, Stack, free_port
from tests.support.subjects import new_uscc

pytestmark = pytest.mark.e2e

WINDOW_S = 6.0
ENV = {
    **NOTIFIER_ENV,
    "JSB_NOTIFIER_MAX_ATTEMPTS": "3",  # 3 attempts within ~1 s: all dead long before 6 s
    "JSB_NOTIFIER_BACKOFF_BASE_S": "0.2",
    "JSB_NOTIFIER_BACKOFF_MAX_S": "0.5",
    "JSB_NOTIFIER_DISABLE_AFTER_S": str(WINDOW_S),
    "JSB_NOTIFIER_DISABLE_SWEEP_S": "0.5",
}


@pytest.fixture(scope="module")
def notifier(infra: Infra, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Stack]:
    """The notifier alone, on topics and a schema of its own."""
    topic_suffix, schema_suffix = "." + unique("nsw"), "_" + unique("nsw")
    asyncio.run(
        kafka_admin.ensure_topics(
            infra.kafka, 3, tuple(TopicSpec(t.name + topic_suffix, t.configs) for t in TOPICS)
        )
    )
    upgrade_all(url=infra.admin_url, schema_suffix=schema_suffix, role=infra.service_role)
    workdir: Path = tmp_path_factory.mktemp("nsweep")
    tokens = _tokens()
    (workdir / "tokens.json").write_text(json.dumps(tokens))
    env = {
        **os.environ,
        **ENV,
        "KAFKA_BOOTSTRAP_SERVERS": infra.kafka,
        "DATABASE_URL": infra.database_url,
        "JSB_TOKENS_FILE": str(workdir / "tokens.json"),
        "JSB_TOPIC_SUFFIX": topic_suffix,
        "JSB_NOTIFIER_DB_SCHEMA": "notifier" + schema_suffix,
        "JSB_NOTIFIER_GROUP_ID": "jsb.notifier" + topic_suffix,
    }
    proc = ServiceProcess("notifier", free_port(), env, workdir / "notifier.log")
    proc.start(wait=False)
    try:
        proc.wait_ready(180)
        yield Stack({"notifier": proc}, tokens, topic_suffix, schema_suffix, infra)
    finally:
        proc.stop()
        if not os.environ.get("JSB_KEEP_TEST_DATA"):
            drop_schemas(infra.admin_url, schema_suffix)


async def _publish(stack: Stack, subject: str) -> None:
    producer = make_producer(stack.infra.kafka, "test-disable-sweep")
    await producer.start()
    try:
        value = changed(subject).to_json_bytes()
        await producer.send_and_wait(
            topics.STATUS + stack.topic_suffix, value, key=subject.encode()
        )
    finally:
        await producer.stop()


def _at(value: Any) -> datetime:
    return datetime.fromisoformat(str(value))


def test_an_endpoint_down_with_little_traffic_is_disabled_by_the_sweep(notifier: Stack) -> None:
    with receiving(Receiver(behaviour=lambda _id, _n: 503)) as down:
        sub = subscribe(notifier, down.url, contact="court")
        down.secrets.append(sub["secret"])
        subject = new_uscc()
        asyncio.run(_publish(notifier, subject))
        # the single delivery: every attempt fails, and it dies
        [dead] = until(
            lambda: deliveries(notifier, subscription=sub["id"]),
            lambda ds: len(ds) == 1 and ds[0]["state"] == "dead",
            60,
        )
        assert dead["attempts"] == 3
        assert len(down.received) == 3
        with notifier.client("notifier", as_="ops") as c:
            now = c.get(f"/v1/subscriptions/{sub['id']}").json()
        assert now["state"] == "enabled"  # nothing has disabled it yet ...
        assert now["failing_since"] is not None
        window_ends = _at(now["failing_since"]).timestamp() + WINDOW_S
        # ... and no attempt is left to come after the window: it died before the end
        assert _at(dead["next_attempt_at"]).timestamp() < window_ends
        assert time.time() < window_ends, "the delivery died too late to test the sweep"
        with notifier.client("notifier", as_="ops") as c:
            disabled = until(
                lambda: c.get(f"/v1/subscriptions/{sub['id']}").json(),
                lambda s: s["state"] == "disabled",
                30,
            )
            ops = c.get("/v1/notices", params={"kind": "endpoint_disabled"}).json()
            metrics = c.get("/metrics").text
        assert _at(disabled["disabled_at"]).timestamp() >= window_ends
        since, _ = disabled["disabled_reason"].removeprefix("failing since ").split(": ", 1)
        assert _at(since) == _at(now["failing_since"])  # the attempt-driven reason's form
        told = [n["recipient"] for n in ops if n["details"]["subscription_id"] == sub["id"]]
        assert sorted(told) == ["court", "ops"]  # ops see every notice; court its own
        with notifier.client("notifier", as_="court") as c:
            mine = c.get("/v1/notices", params={"kind": "endpoint_disabled"}).json()
        assert [n["details"]["subscription_id"] for n in mine] == [sub["id"]]
        assert 'notifier_endpoints_disabled_total{by="sweep"} 1.0' in metrics
        assert len(down.received) == 3  # disabled without another attempt
