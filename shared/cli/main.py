"""`jsb`: the operator's command line. Each command group lives in its own module."""

from __future__ import annotations

import typer

from shared.cli import calendar_cmd, id_cmd, schemas_cmd

app = typer.Typer(
    name="jsb",
    help="Joint incentives and sanctions backbone: operator commands.",
    no_args_is_help=True,
)
app.add_typer(id_cmd.app, name="id", help="Check and mask subject identifiers.")
app.add_typer(calendar_cmd.app, name="calendar", help="Mainland-China working days.")
app.add_typer(schemas_cmd.app, name="schemas", help="Export event JSON Schemas and AsyncAPI.")


if __name__ == "__main__":  # pragma: no cover
    app()
