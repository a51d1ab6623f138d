"""The Kafka topics of the backbone: names and configurations (ARCHITECTURE.md §2–§3).

The names are a contract with other departments' systems: never rename one.
Every message is keyed by the subject id, so events about one subject stay in order
within a topic.
"""

from __future__ import annotations

from dataclasses import dataclass, field

DESIGNATIONS = "jsb.designations.v1"
FEEDBACK = "jsb.feedback.v1"
STATUS = "jsb.status.v1"
DEADLETTER = "jsb.deadletter.v1"

MAX_EVENT_BYTES = 1024 * 1024
"""The largest record a consumer applies (an event is a few kilobytes; 1 MiB is
Kafka's own default). A larger one is dead-lettered ("record too large")."""

MAX_RECORD_BYTES = 8 * 1024 * 1024
"""The largest record the topics take (`max.message.bytes`) and the backbone's
producers send and consumers fetch: room for an oversized record to reach a
consumer, be refused there and dead-lettered whole (so that it can be inspected and
replayed); anything larger is refused by the broker to its producer."""


@dataclass(frozen=True)
class TopicSpec:
    name: str
    configs: dict[str, str] = field(default_factory=dict)


# Events are kept forever (the ledger rebuilds from Postgres, but departments
# joining late replay the topics); status is a compacted "latest per subject" log.
_SIZE = {"max.message.bytes": str(MAX_RECORD_BYTES)}
_FOREVER = {"retention.ms": "-1", "cleanup.policy": "delete", **_SIZE}

TOPICS: tuple[TopicSpec, ...] = (
    TopicSpec(DESIGNATIONS, dict(_FOREVER)),
    TopicSpec(FEEDBACK, dict(_FOREVER)),
    TopicSpec(STATUS, {"cleanup.policy": "compact", **_SIZE}),
    TopicSpec(DEADLETTER, dict(_FOREVER)),
)
