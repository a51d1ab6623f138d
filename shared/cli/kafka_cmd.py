"""`jsb kafka ...`: the broker as the operator sees it."""

from __future__ import annotations

import asyncio

import typer

from shared.adapters import kafka_admin
from shared.adapters.topics import TOPICS

app = typer.Typer(no_args_is_help=True)


@app.command("ensure-topics")
def ensure_topics(
    bootstrap: str = typer.Option("127.0.0.1:9092", envvar="KAFKA_BOOTSTRAP_SERVERS"),
    partitions: int = typer.Option(6, envvar="JSB_TOPIC_PARTITIONS", min=1),
) -> None:
    """Wait until the broker answers, then create the backbone's topics if missing."""

    async def run() -> list[str]:
        await kafka_admin.wait_until_ready(bootstrap)
        return await kafka_admin.ensure_topics(bootstrap, partitions)

    created = asyncio.run(run())
    for name in created:
        typer.echo(f"created {name} ({partitions} partitions)")
    typer.echo(f"topics ready: {', '.join(t.name for t in TOPICS)}")


@app.command("topics")
def list_topics(
    bootstrap: str = typer.Option("127.0.0.1:9092", envvar="KAFKA_BOOTSTRAP_SERVERS"),
) -> None:
    """List the topics the broker reports."""
    for name in sorted(asyncio.run(kafka_admin.cluster_topics(bootstrap))):
        typer.echo(name)
