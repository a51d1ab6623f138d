"""`jsb stack ...`: files of the local stack that `make up` writes."""

from __future__ import annotations

import json
import secrets
from pathlib import Path

import typer

from shared.adapters.settings import LOCAL_DIR
from shared.web.auth import AUDITOR, OPS

app = typer.Typer(no_args_is_help=True)


def department_codes() -> list[str]:
    from shared.domain.catalogue.loader import default_catalogue

    return [d.code for d in default_catalogue().departments]


def merge_tokens(existing: dict[str, str], names: list[str]) -> dict[str, str]:
    """Keep every token already issued; issue one for each name that has none."""
    tokens = dict(existing)
    for name in names:
        tokens.setdefault(name, secrets.token_urlsafe(24))
    return tokens


@app.command("tokens")
def tokens(out: Path = typer.Option(LOCAL_DIR / "tokens.json")) -> None:
    """Write the local bearer tokens (one per department, plus auditor and ops); idempotent."""
    existing = json.loads(out.read_text()) if out.exists() else {}
    merged = merge_tokens(existing, [*department_codes(), AUDITOR, OPS])
    out.parent.mkdir(parents=True, exist_ok=True)
    tmp = out.with_suffix(".tmp")
    tmp.write_text(json.dumps(merged, indent=2, ensure_ascii=False) + "\n")
    tmp.chmod(0o600)
    tmp.replace(out)
    typer.echo(f"{len(merged)} tokens in {out}")


@app.command("ping")
def ping() -> None:
    """Exit 0 (a second command keeps `jsb stack tokens` a sub-command)."""
