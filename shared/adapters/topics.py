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


@dataclass(frozen=True)
class TopicSpec:
    name: str
    configs: dict[str, str] = field(default_factory=dict)


# Events are kept forever (the ledger rebuilds from Postgres, but departments
# joining late replay the topics); status is a compacted "latest per subject" log.
_FOREVER = {"retention.ms": "-1", "cleanup.policy": "delete"}

TOPICS: tuple[TopicSpec, ...] = (
    TopicSpec(DESIGNATIONS, dict(_FOREVER)),
    TopicSpec(FEEDBACK, dict(_FOREVER)),
    TopicSpec(STATUS, {"cleanup.policy": "compact"}),
    TopicSpec(DEADLETTER, dict(_FOREVER)),
)
