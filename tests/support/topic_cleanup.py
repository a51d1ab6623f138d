"""Topics the tests made, removed when the test session ends.

Every test stack, harness and benchmark names its topics `<topic>.<unique id>`
(`tests.support.infra.unique`). Left behind, they pile up on a developer's broker: one
machine had 2,122 such stacks (8,600 partitions, 5.3 GB) after four sessions; Kafka then
took more than `make kafka`'s 60 s to load them at start, and each readiness probe
(which lists the cluster's topics) cost 80-88 ms of CPU. So the session deletes, at its
end, the topics carrying an id it issued; a topic of another test run on the same
broker (a helper's, a CI run's) carries another id and is left alone.

`python -m tests.support.topic_cleanup --sweep` deletes every test-named topic on the
broker and drops every test-named schema in the database (`<service>_<suffix>`: each
test stack's fixture drops its own when it ends, so only killed runs leave them; one
machine had 158), for a developer whose runs were killed before their end; run it
only when no other test run uses the broker or the database."""

from __future__ import annotations

import argparse
import asyncio
import os
import re
from collections.abc import Iterable

from aiokafka.admin import AIOKafkaAdminClient

from shared.adapters.kafka_admin import cluster_topics
from shared.adapters.migrations import SERVICES

TEST_TOPIC = re.compile(r"^(jsb\.[a-z]+\.v1|bench\.[a-z_]+)\.[a-z0-9_]+$")
"""A name a test or benchmark makes: a base topic, a dot and a unique id (never a
production topic, which ends in `.v1`)."""

TEST_SCHEMA = re.compile(rf"^({'|'.join(SERVICES)})_[a-z0-9_]+$")
"""A schema a test stack makes: a service's name, an underscore and a suffix (never the
service's own schema, which is its bare name)."""

BATCH = 200


def issued_by(names: Iterable[str], ids: Iterable[str]) -> list[str]:
    """The names among `names` that end in `.<id>` for one of `ids`."""
    endings = {"." + i for i in ids}
    return sorted(n for n in names if TEST_TOPIC.match(n) and n[n.rfind(".") :] in endings)


async def delete_topics(bootstrap: str, names: list[str], timeout_s: float = 60.0) -> None:
    if not names:
        return
    admin = AIOKafkaAdminClient(
        bootstrap_servers=bootstrap, request_timeout_ms=int(timeout_s * 1000)
    )
    await admin.start()
    try:
        for start in range(0, len(names), BATCH):
            await admin.delete_topics(
                names[start : start + BATCH], timeout_ms=int(timeout_s * 1000)
            )
    finally:
        await admin.close()


async def delete_issued(bootstrap: str, ids: Iterable[str]) -> list[str]:
    """Delete the topics carrying one of `ids`; returns their names."""
    doomed = issued_by(await cluster_topics(bootstrap), ids)
    await delete_topics(bootstrap, doomed)
    return doomed


async def sweep(bootstrap: str) -> list[str]:
    doomed = sorted(n for n in await cluster_topics(bootstrap, timeout_s=30) if TEST_TOPIC.match(n))
    await delete_topics(bootstrap, doomed)
    return doomed


async def sweep_schemas(database_url: str) -> list[str]:
    import asyncpg

    conn = await asyncpg.connect(database_url.replace("postgresql+asyncpg://", "postgresql://"))
    try:
        names = [r[0] for r in await conn.fetch("SELECT nspname FROM pg_namespace")]
        doomed = sorted(n for n in names if TEST_SCHEMA.match(n))
        for name in doomed:  # a name the pattern allows: letters, digits, underscores
            await conn.execute(f'DROP SCHEMA IF EXISTS "{name}" CASCADE')
    finally:
        await conn.close()
    return doomed


def main() -> None:
    from shared.adapters.settings import DEFAULT_KAFKA

    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument(
        "--bootstrap", default=os.environ.get("KAFKA_BOOTSTRAP_SERVERS", DEFAULT_KAFKA)
    )
    parser.add_argument(
        "--database-url",
        default=os.environ.get("DATABASE_ADMIN_URL", os.environ.get("DATABASE_URL")),
    )
    parser.add_argument(
        "--sweep", action="store_true", help="delete every test-named topic and schema"
    )
    args = parser.parse_args()
    if not args.sweep:
        parser.error("nothing to do without --sweep")
    print(f"deleted {len(asyncio.run(sweep(args.bootstrap)))} test topics")
    if args.database_url:
        print(f"dropped {len(asyncio.run(sweep_schemas(args.database_url)))} test schemas")


if __name__ == "__main__":
    main()
