"""`jsb db ...`: schema migrations."""

from __future__ import annotations

import typer

from shared.adapters import migrations

app = typer.Typer(no_args_is_help=True)


@app.command("migrate")
def migrate(
    url: str = typer.Option(
        migrations.DEFAULT_ADMIN_URL,
        envvar="DATABASE_ADMIN_URL",
        help="A URL of a role that may create schemas.",
    ),
    role: str = typer.Option("jsb", envvar="JSB_SERVICE_ROLE", help="The services' role to grant."),
    schema_suffix: str = typer.Option("", help="Migrate `<service><suffix>` schemas instead."),
) -> None:
    """Bring every service's schema to the newest revision (idempotent)."""
    migrations.upgrade_all(url=url, schema_suffix=schema_suffix, role=role)
    typer.echo("schemas at head: " + ", ".join(s + schema_suffix for s in migrations.SERVICES))


@app.command("current")
def current(
    url: str = typer.Option(migrations.DEFAULT_ADMIN_URL, envvar="DATABASE_ADMIN_URL"),
) -> None:
    """Show each service schema's revision."""
    from alembic import command

    for service in migrations.SERVICES:
        typer.echo(f"{service}:")
        command.current(migrations.config(service, url, service, None))


@app.command("revision")
def revision(
    service: str = typer.Argument(..., help="initiator, responder, ledger or notifier"),
    message: str = typer.Argument(..., help="what the revision does"),
    url: str = typer.Option(migrations.DEFAULT_ADMIN_URL, envvar="DATABASE_ADMIN_URL"),
) -> None:
    """Autogenerate the next revision of a service from its tables (review it before committing)."""
    path = migrations.autogenerate(service, message, url=url)
    typer.echo(f"wrote {path}")
