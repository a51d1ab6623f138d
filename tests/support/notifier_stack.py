"""The four services for the notifier's e2e tests, with the notifier configured for
them: loopback receivers allowed, short backoffs, a short disable period and secret
overlap, a fast reminder scan. Helpers to subscribe and designate."""

from __future__ import annotations

import asyncio
import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from shared.adapters import kafka_admin
from shared.adapters.migrations import upgrade_all
from shared.adapters.topics import TOPICS, TopicSpec
from tests.conftest import drop_schemas
from tests.e2e.conftest import _tokens
from tests.support.infra import Infra, unique
from tests.support.stack import Stack, start_stack

MANUAL_MEASURE = "land.restrict_state_land"
MANUAL_DEPARTMENT = "mnr"
"""Executed by hand in this stack (the responder leaves its task pending): overdue."""

NOTIFIER_ENV = {
    "JSB_NOTIFIER_ALLOW_LOOPBACK": "true",
    "JSB_NOTIFIER_BACKOFF_BASE_S": "0.3",
    "JSB_NOTIFIER_BACKOFF_MAX_S": "2",
    "JSB_NOTIFIER_MAX_ATTEMPTS": "6",
    "JSB_NOTIFIER_REQUEST_TIMEOUT_S": "3",
    "JSB_NOTIFIER_DISABLE_AFTER_S": "4",
    "JSB_NOTIFIER_SECRET_OVERLAP_S": "6",
    "JSB_NOTIFIER_DISPATCH_POLL_S": "0.1",
    "JSB_NOTIFIER_STREAM_HEARTBEAT_S": "1",
    "JSB_NOTIFIER_REMINDER_SCAN_S": "1",
    "JSB_NOTIFIER_SECRET_KEY": "6fJvQ0w8gQ7mJ2b6dQpJt9yR3xM1nL5kH8cV4zA2sE0=",
}


def subscribe(stack: Stack, url: str, **body: Any) -> dict[str, Any]:
    with stack.client("notifier", as_="ops") as c:
        r = c.post("/v1/subscriptions", json={"name": "test", "url": url, **body})
    assert r.status_code == 201, r.text
    created: dict[str, Any] = r.json()
    return created


def designate(stack: Stack, body: dict[str, Any], as_: str = "tax") -> dict[str, Any]:
    with stack.client("initiator", as_=as_) as c:
        r = c.post("/v1/designations", json=body)
    assert r.status_code == 201, r.text
    created: dict[str, Any] = r.json()
    return created


def deliveries(stack: Stack, **params: Any) -> list[dict[str, Any]]:
    with stack.client("notifier", as_="auditor") as c:
        r = c.get("/v1/deliveries", params={"limit": 1000, **params})
    assert r.status_code == 200, r.text
    found: list[dict[str, Any]] = r.json()
    return found


def notifier_stack(infra: Infra, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Stack]:
    """The four services on topics and schemas of their own, configured as above."""
    topic_suffix = "." + unique("ntf")
    schema_suffix = "_" + unique("ntf")
    asyncio.run(
        kafka_admin.ensure_topics(
            infra.kafka, 3, tuple(TopicSpec(t.name + topic_suffix, t.configs) for t in TOPICS)
        )
    )
    upgrade_all(url=infra.admin_url, schema_suffix=schema_suffix, role=infra.service_role)
    workdir: Path = tmp_path_factory.mktemp("nstack")
    env = {**NOTIFIER_ENV, "JSB_RESPONDER_EXECUTION_MODES": f'{{"{MANUAL_MEASURE}": "manual"}}'}
    # up to 3 minutes for readiness: on the shared 2-core machine under a load of 20 a
    # service can take more than a minute
    running = start_stack(
        infra, topic_suffix, schema_suffix, _tokens(), workdir, env, ready_timeout_s=180
    )
    try:
        yield running
    finally:
        running.stop()
        if not os.environ.get("JSB_KEEP_TEST_DATA"):
            drop_schemas(infra.admin_url, schema_suffix)
