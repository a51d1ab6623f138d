"""Topics created before a limit was added to their spec (`max.message.bytes`) are
brought to it by `ensure_topics` (run by `jsb kafka ensure-topics`, so by `make up`
and `make test`); their other settings stay as specified."""

from __future__ import annotations

import pytest

from shared.adapters import kafka_admin
from shared.adapters.topics import MAX_RECORD_BYTES, TOPICS, TopicSpec
from tests.support.infra import Infra, unique

pytestmark = pytest.mark.integration


async def test_existing_topics_get_the_size_limit_of_their_spec(infra: Infra) -> None:
    suffix = "." + unique("cfg")
    specs = tuple(TopicSpec(t.name + suffix, t.configs) for t in TOPICS)
    before = tuple(
        TopicSpec(s.name, {k: v for k, v in s.configs.items() if k != "max.message.bytes"})
        for s in specs
    )
    assert await kafka_admin.ensure_topics(infra.kafka, 1, before) == [s.name for s in specs]
    old = await kafka_admin.topic_configs(infra.kafka, [s.name for s in specs])
    assert {c["max.message.bytes"] for c in old.values()} != {str(MAX_RECORD_BYTES)}

    assert await kafka_admin.ensure_topics(infra.kafka, 1, specs) == []

    now = await kafka_admin.topic_configs(infra.kafka, [s.name for s in specs])
    for s in specs:
        assert {k: now[s.name][k] for k in s.configs} == s.configs
