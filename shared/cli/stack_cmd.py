"""`jsb stack ...`: files of the local stack that `make up` writes."""

from __future__ import annotations

import json
import secrets
from pathlib import Path

import typer

from shared.adapters.settings import LOCAL_DIR
from shared.web.auth import AUDITOR, OPS
from shared.web.tokens import entries_of, hashed_file, revoked

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
def tokens(
    out: Path = typer.Option(LOCAL_DIR / "tokens.json"),
    hashes_out: Path | None = typer.Option(
        None, help="Also write the services' file: SHA-256 hashes, expiry, revocation."
    ),
) -> None:
    """Write the local bearer tokens (one per department, plus auditor and ops); idempotent."""
    existing = json.loads(out.read_text()) if out.exists() else {}
    merged = merge_tokens(existing, [*department_codes(), AUDITOR, OPS])
    _write_private(out, merged)
    typer.echo(f"{len(merged)} tokens in {out}")
    if hashes_out is not None:
        known = entries_of(json.loads(hashes_out.read_text())) if hashes_out.exists() else []
        _write_private(hashes_out, hashed_file(merged, known))
        typer.echo(f"their hashes in {hashes_out}")


@app.command("revoke")
def revoke(
    name: str,
    hashes: Path = typer.Option(LOCAL_DIR / "token-hashes.json", envvar="JSB_TOKEN_HASHES_FILE"),
) -> None:
    """Revoke the tokens of NAME (a department, `auditor` or `ops`) in the services' hashed
    file; the services notice within a second. `jsb stack tokens` issues no new one
    until NAME's plaintext token is removed from tokens.json."""
    entries = entries_of(json.loads(hashes.read_text()))
    if not any(e.name == name for e in entries):
        raise typer.BadParameter(f"no token of {name!r} in {hashes}")
    _write_private(hashes, {"tokens": [e.document() for e in revoked(entries, name)]})
    typer.echo(f"revoked the tokens of {name} in {hashes}")


def _write_private(path: Path, doc: object) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(".tmp")
    tmp.write_text(json.dumps(doc, indent=2, ensure_ascii=False) + "\n")
    tmp.chmod(0o600)
    tmp.replace(path)


@app.command("ping")
def ping() -> None:
    """Exit 0 (a second command keeps `jsb stack tokens` a sub-command)."""
