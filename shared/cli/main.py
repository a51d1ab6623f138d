"""`jsb`: the operator's command line. Each command group lives in its own module;
a service's own commands (`jsb ledger ...`) live in the service and are found
through the `jsb.cli` entry points (pyproject.toml), so shared/ never imports a
service."""

from __future__ import annotations

from importlib.metadata import entry_points

import typer

from shared.cli import (
    calendar_cmd,
    db_cmd,
    deadletter_cmd,
    demo_cmd,
    id_cmd,
    import_cmd,
    kafka_cmd,
    schemas_cmd,
    stack_cmd,
)

app = typer.Typer(
    name="jsb",
    help="Joint incentives and sanctions backbone: operator commands.",
    no_args_is_help=True,
)
app.add_typer(id_cmd.app, name="id", help="Check and mask subject identifiers.")
app.add_typer(calendar_cmd.app, name="calendar", help="Mainland-China working days.")
app.add_typer(db_cmd.app, name="db", help="Schema migrations.")
app.add_typer(kafka_cmd.app, name="kafka", help="Broker readiness and topics.")
app.add_typer(deadletter_cmd.app, name="deadletter", help="Inspect and replay dead letters.")
app.add_typer(stack_cmd.app, name="stack", help="Files of the local stack.")
for found in sorted(entry_points(group="jsb.cli"), key=lambda e: e.name):
    group: typer.Typer = found.load()
    app.add_typer(group, name=found.name)
app.command("import", help="Bulk designations from a CSV or JSON-lines file.")(
    import_cmd.import_file
)
app.command("demo", help="Seed a running stack with a realistic scenario.")(demo_cmd.demo)
app.add_typer(schemas_cmd.app, name="schemas", help="Export event JSON Schemas and AsyncAPI.")


if __name__ == "__main__":  # pragma: no cover
    app()
