"""`jsb id`: check and mask subject identifiers (never prints a full identity number)."""

from __future__ import annotations

from typing import Annotated

import typer

from shared.domain.identifiers import IdentifierError, IdKind, mask, parse_identifier

app = typer.Typer(no_args_is_help=True)


@app.command()
def check(
    identifiers: Annotated[list[str], typer.Argument(help="Identifiers to check.")],
    kind: Annotated[
        IdKind | None, typer.Option("--kind", "-k", help="Expected kind (default: detect).")
    ] = None,
) -> None:
    """Validate identifiers: one line each; exit 1 when any is invalid."""
    all_valid = True
    for raw in identifiers:
        try:
            identifier = parse_identifier(raw, kind)
        except IdentifierError as error:
            all_valid = False
            shown_kind = error.kind.value if error.kind else "unknown"
            typer.echo(f"{mask(raw)}  {shown_kind}  invalid ({error.code}): {error.reason}")
        else:
            typer.echo(f"{identifier.masked}  {identifier.kind.value}  valid")
    if not all_valid:
        raise typer.Exit(1)


@app.command("mask")
def mask_command(identifier: Annotated[str, typer.Argument(help="Identifier to mask.")]) -> None:
    """Print the display form (resident ids and passports masked)."""
    typer.echo(mask(identifier))
