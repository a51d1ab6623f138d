"""The e2e stack: the four services as processes of this test session, on its own
topics and schemas (or, with JSB_E2E_EXTERNAL=1, the stack the environment names)."""

from __future__ import annotations

import asyncio
import os
import secrets
from collections.abc import Iterator
from pathlib import Path

import pytest

from shared.adapters import kafka_admin
from shared.adapters.migrations import upgrade_all
from shared.adapters.topics import TOPICS, TopicSpec
from shared.web.auth import AUDITOR, OPS
from tests.conftest import drop_schemas
from tests.support.infra import Infra, unique
from tests.support.stack import Stack, start_stack


def _tokens() -> dict[str, str]:
    from shared.cli.stack_cmd import department_codes

    return {name: secrets.token_urlsafe(16) for name in [*department_codes(), AUDITOR, OPS]}


@pytest.fixture(scope="session")
def stack(infra: Infra, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Stack]:
    topic_suffix = "." + unique("e2e")
    schema_suffix = "_" + unique("e2e")
    asyncio.run(
        kafka_admin.ensure_topics(
            infra.kafka, 3, tuple(TopicSpec(t.name + topic_suffix, t.configs) for t in TOPICS)
        )
    )
    upgrade_all(url=infra.admin_url, schema_suffix=schema_suffix, role=infra.service_role)
    workdir: Path = tmp_path_factory.mktemp("stack")
    running = start_stack(infra, topic_suffix, schema_suffix, _tokens(), workdir)
    try:
        yield running
    finally:
        running.stop()
        if not os.environ.get("JSB_KEEP_TEST_DATA"):
            drop_schemas(infra.admin_url, schema_suffix)
