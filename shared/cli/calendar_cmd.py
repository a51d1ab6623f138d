"""`jsb calendar`: mainland-China working-day arithmetic (shared.domain.calendar)."""

from __future__ import annotations

import re
from datetime import date
from typing import Annotated

import typer

from shared.domain.calendar import add_working_days, working_days_between

app = typer.Typer(no_args_is_help=True)

# "-3" must reach N as a number, not be taken for an unknown option.
_NEGATIVE_NUMBERS = {"ignore_unknown_options": True}
_ISO_DATE = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}")


def _iso_date(value: str) -> date:
    if _ISO_DATE.fullmatch(value):
        try:
            return date.fromisoformat(value)
        except ValueError:
            pass
    raise typer.BadParameter(f"{value!r} is not a date in YYYY-MM-DD form")


StartArg = Annotated[date, typer.Argument(parser=_iso_date, metavar="START", help="YYYY-MM-DD")]
EndArg = Annotated[date, typer.Argument(parser=_iso_date, metavar="END", help="YYYY-MM-DD")]


@app.command(context_settings=_NEGATIVE_NUMBERS)
def add(
    start: StartArg,
    n: Annotated[int, typer.Argument(metavar="N", help="Working days to add (negative: go back).")],
) -> None:
    """Print the N-th working day after START (N=0: START itself)."""
    try:
        result = add_working_days(start, n)
    except OverflowError as error:
        raise typer.BadParameter(str(error), param_hint="N") from error
    typer.echo(result.isoformat())


@app.command()
def between(start: StartArg, end: EndArg) -> None:
    """Print the working days in (START, END] (negative when END is before START)."""
    typer.echo(str(working_days_between(start, end)))
