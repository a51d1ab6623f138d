"""`jsb report monthly --month YYYY-MM [--format csv|md]`: the monthly report from
the notifier's tables. Found by `jsb` through the `jsb.cli` entry point
(pyproject.toml), like the ledger's commands."""

from __future__ import annotations

import asyncio
import json
from typing import Any

import typer

from services.notifier import report, report_store
from services.notifier.webhook_store import PostgresWebhooks
from shared.adapters.db import PostgresTransactions, make_engine
from shared.adapters.settings import DEFAULT_DATABASE_URL
from shared.domain.errors import InvalidRequest

app = typer.Typer(no_args_is_help=True, help="Reports: the monthly statistics.")

DatabaseUrl = typer.Option(
    DEFAULT_DATABASE_URL, envvar="DATABASE_URL", help="The notifier's database (service role)."
)
Schema = typer.Option("notifier", envvar="JSB_NOTIFIER_DB_SCHEMA", help="The notifier's schema.")


async def _monthly(url: str, schema: str, month: str) -> dict[str, Any]:
    engine = make_engine(url, schema=schema)
    try:
        async with PostgresTransactions(engine, PostgresWebhooks.on).begin() as tx:
            return await report_store.monthly(tx.views, month)
    finally:
        await engine.dispose()


@app.command("monthly")
def monthly(
    month: str = typer.Option(..., "--month", help="YYYY-MM (China time)"),
    fmt: str = typer.Option("md", "--format", help="csv, md or json"),
    database_url: str = DatabaseUrl,
    schema: str = Schema,
) -> None:
    """Designations, feedback, overdue, objections, repairs, interceptions of a month."""
    if fmt not in ("csv", "md", "json"):
        raise typer.BadParameter("csv, md or json", param_hint="--format")
    try:
        report_store.check_month(month)
    except InvalidRequest as exc:
        raise typer.BadParameter(exc.message, param_hint="--month") from exc
    answer = asyncio.run(_monthly(database_url, schema, month))
    if fmt == "csv":
        typer.echo(report.to_csv(answer), nl=False)
    elif fmt == "md":
        typer.echo(report.to_markdown(answer), nl=False)
    else:
        typer.echo(json.dumps(answer, ensure_ascii=False, indent=2))
