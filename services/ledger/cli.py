"""`jsb ledger ...`: the ledger's operator commands (rebuild projections, verify chains).

The ledger's own module: `jsb` (shared/cli/main.py) finds it through the `jsb.cli`
entry point in pyproject.toml, so shared/ never imports the services."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from typing import Any

import typer
from rich.console import Console
from rich.progress import (
    BarColumn,
    MofNCompleteColumn,
    Progress,
    TextColumn,
    TimeElapsedColumn,
    TimeRemainingColumn,
)

from services.ledger import store, tables
from services.ledger.read_models import refresh
from services.ledger.verify import Verification, verify_chain
from shared.adapters.db import make_engine
from shared.adapters.settings import DEFAULT_DATABASE_URL
from shared.domain.identifiers import mask

app = typer.Typer(no_args_is_help=True, help="The ledger: rebuild projections, verify.")

DatabaseUrl = typer.Option(
    DEFAULT_DATABASE_URL, envvar="DATABASE_URL", help="The ledger's database (service role)."
)
Schema = typer.Option("ledger", envvar="JSB_LEDGER_DB_SCHEMA", help="The ledger's schema.")


def _progress(console: Console) -> Progress:
    return Progress(
        TextColumn("[bold]{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TextColumn("events"),
        TimeElapsedColumn(),
        TimeRemainingColumn(),
        console=console,
    )


async def _with_engine(url: str, schema: str, work: Callable[[Any], Any]) -> Any:
    engine = make_engine(url, schema=schema)
    try:
        return await work(engine)
    finally:
        await engine.dispose()


@app.command("rebuild")
def rebuild(database_url: str = DatabaseUrl, schema: str = Schema) -> None:
    """Drop every projection and rebuild it from the event store (ingest waits meanwhile)."""
    console = Console(stderr=True)

    async def work(engine: Any) -> tuple[int, int]:
        async with engine.connect() as conn:
            total = await store.count(conn, tables.events)
        with _progress(console) as progress:
            task = progress.add_task("rebuilding projections", total=total)

            def advance(events: int, subjects: int) -> None:
                progress.advance(task, events)

            async with engine.begin() as conn:
                done: tuple[int, int] = await refresh.rebuild(conn, advance)
            progress.update(task, total=done[0], completed=done[0])
        return done

    events, subjects = asyncio.run(_with_engine(database_url, schema, work))
    typer.echo(f"rebuilt the projections of {subjects} subjects from {events} events ({schema})")


@app.command("verify")
def verify(database_url: str = DatabaseUrl, schema: str = Schema) -> None:
    """Recompute every stream's hash chain; list broken ones (exit code 1 if any)."""
    console = Console(stderr=True)

    async def work(engine: Any) -> tuple[int, list[Verification]]:
        broken: list[Verification] = []
        streams = 0
        async with engine.connect() as conn:
            total = await store.count(conn, tables.events)
        with _progress(console) as progress:
            task = progress.add_task("verifying chains", total=total)
            async with engine.begin() as conn:
                async for events in store.all_streams(conn, tables.events):
                    result = verify_chain(events[0].stream, events)
                    streams += 1
                    if not result.ok:
                        broken.append(result)
                    progress.advance(task, len(events))
        return streams, broken

    streams, broken = asyncio.run(_with_engine(database_url, schema, work))
    for result in broken:
        link = result.first_broken
        assert link is not None
        typer.echo(
            f"BROKEN {mask(result.stream)}: version {link.stream_version} "
            f"(position {link.position}, event {link.event_id}): {link.reason}: {link.detail}"
        )
    typer.echo(f"verified {streams} streams: {len(broken)} broken")
    if broken:
        raise typer.Exit(1)
