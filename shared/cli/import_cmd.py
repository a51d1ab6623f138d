"""`jsb import FILE`: bulk designations through the initiator's batch endpoint.

FILE is CSV (columns below) or JSON lines (each line the body of
`POST /v1/designations`). The file goes out in chunks (`POST /v1/designations/batch`),
each with an Idempotency-Key derived from the file's content and the chunk, so
running the same import again after a failure designates nobody twice. A progress
bar shows the chunks; a summary lists every rejected line with its field-level
errors; the exit code is 1 when any line was rejected, 2 when the initiator could
not be reached or refused the whole call.

CSV columns (a header row names them; order free; `;` separates list values):

| column | required | meaning |
|---|---|---|
| subject_id | yes | USCC, resident identity number or passport |
| subject_name | yes | the subject's name |
| subject_other_ids | no | further identifiers of the same subject, `;`-separated |
| list_type | yes | e.g. `court.dishonest-debtor` |
| level | no | minor, general, serious, especially_serious (omit on a fixed-level list type) |
| reason | yes | the conduct |
| decision_no | yes | the decision's number |
| decided_at | yes | decision date, YYYY-MM-DD |
| effective_from, effective_until | no | ISO 8601 instants with offset |
| measures | no | measure codes, `;`-separated (empty: the list type's bundle) |
| legal_basis_title, legal_basis_article, legal_basis_url | no | one legal basis |
| related_persons | no | `id|name|role` entries, `;`-separated |
| court_ground | court list | item of 法释〔2017〕7号 第一条 (1–6; 1 means no end date) |
| exit_restriction_decision_no | no | the court's separate exit-restriction decision |
| unpaid_tax_without_security | no | `true` when tax is unpaid and no security given |
| penalty_or_dismissal_on | no | date of a criminal penalty or dismissal, YYYY-MM-DD |

Identity numbers are never printed: rejections name the line and the field.
"""

from __future__ import annotations

import csv
import hashlib
import io
import json
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Annotated, Any

import httpx
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
from rich.table import Table

from shared.adapters.settings import LOCAL_DIR
from shared.web.limits import MAX_BATCH_ITEMS

REQUIRED = (
    "subject_id",
    "subject_name",
    "list_type",
    "reason",
    "decision_no",
    "decided_at",
)
MAX_CHUNK = MAX_BATCH_ITEMS


@dataclass
class Line:
    """One designation of the file: its line number and body, or why it is unreadable."""

    number: int
    body: dict[str, Any] | None = None
    errors: list[dict[str, str]] = field(default_factory=list)


def _split(value: str | None) -> list[str]:
    return [v.strip() for v in (value or "").split(";") if v.strip()]


def row_to_body(row: dict[str, str | None]) -> dict[str, Any]:
    """A CSV row as the body of `POST /v1/designations` (the server validates it)."""
    get = {k.strip(): (v or "").strip() for k, v in row.items() if k}
    body: dict[str, Any] = {
        "subject": {"id": get.get("subject_id", ""), "name": get.get("subject_name", "")},
        "list_type": get.get("list_type", ""),
        "reason": get.get("reason", ""),
        "decision_no": get.get("decision_no", ""),
        "decided_at": get.get("decided_at", ""),
    }
    if get.get("level"):
        body["level"] = get["level"]
    facts: dict[str, Any] = {}
    if get.get("court_ground"):
        ground = get["court_ground"]
        facts["court_ground"] = int(ground) if ground.isdigit() else ground
    for name in ("exit_restriction_decision_no", "penalty_or_dismissal_on"):
        if get.get(name):
            facts[name] = get[name]
    if get.get("unpaid_tax_without_security"):
        facts["unpaid_tax_without_security"] = get["unpaid_tax_without_security"].lower()
    if facts:
        body["facts"] = facts
    if other := _split(get.get("subject_other_ids")):
        body["subject"]["other_ids"] = other
    for name in ("effective_from", "effective_until"):
        if get.get(name):
            body[name] = get[name]
    if measures := _split(get.get("measures")):
        body["measures"] = measures
    if get.get("legal_basis_title"):
        basis = {"title": get["legal_basis_title"], "article": get.get("legal_basis_article", "")}
        if get.get("legal_basis_url"):
            basis["url"] = get["legal_basis_url"]
        body["legal_basis"] = [basis]
    persons = []
    for entry in _split(get.get("related_persons")):
        pid, _, rest = entry.partition("|")
        name, _, role = rest.partition("|")
        persons.append({"id": pid.strip(), "name": name.strip(), "role": role.strip()})
    if persons:
        body["related_persons"] = persons
    return body


def read_lines(path: Path, fmt: str = "auto") -> Iterator[Line]:
    """The file's designations in order; unreadable lines carry their errors."""
    kind = fmt if fmt != "auto" else ("csv" if path.suffix.lower() == ".csv" else "jsonl")
    text = path.read_text(encoding="utf-8-sig")
    if kind == "csv":
        reader = csv.DictReader(io.StringIO(text))
        missing = [c for c in REQUIRED if c not in (reader.fieldnames or [])]
        if missing:
            raise typer.BadParameter(f"CSV header lacks: {', '.join(missing)}")
        for row in reader:
            yield Line(reader.line_num, row_to_body(row))
        return
    for number, raw in enumerate(text.splitlines(), start=1):
        if not raw.strip():
            continue
        try:
            body = json.loads(raw)
        except ValueError as exc:
            yield Line(number, errors=[_error("", "json_invalid", str(exc))])
            continue
        if not isinstance(body, dict):
            yield Line(number, errors=[_error("", "not_an_object", "a line must be an object")])
            continue
        yield Line(number, body)


def _error(field_: str, code: str, message: str) -> dict[str, str]:
    return {"field": field_, "code": code, "message": message}


@dataclass
class Summary:
    total: int = 0
    accepted: int = 0
    rejected: list[tuple[int, dict[str, Any]]] = field(default_factory=list)


def _token(token: str | None, as_: str | None, tokens_file: Path) -> str:
    if token:
        return token
    if as_:
        try:
            tokens = json.loads(tokens_file.read_text())
        except (OSError, ValueError) as exc:
            raise typer.BadParameter(f"cannot read {tokens_file}: {exc}") from exc
        if as_ in tokens:
            return str(tokens[as_])
        raise typer.BadParameter(f"no token for {as_!r} in {tokens_file}")
    raise typer.BadParameter("give --token (or JSB_TOKEN) or --as DEPARTMENT")


def send(
    lines: list[Line],
    client: httpx.Client,
    chunk_size: int,
    key_prefix: str,
    progress: Progress,
) -> Summary:
    summary = Summary(total=len(lines))
    task = progress.add_task("designations", total=len(lines))
    for start in range(0, len(lines), chunk_size):
        chunk = lines[start : start + chunk_size]
        for line in chunk:
            if line.body is None:
                summary.rejected.append((line.number, {"status": 400, "errors": line.errors}))
        readable = [line for line in chunk if line.body is not None]
        if readable:
            r = client.post(
                "/v1/designations/batch",
                json={"designations": [line.body for line in readable]},
                headers={"Idempotency-Key": f"{key_prefix}-{start // chunk_size}"},
            )
            if r.status_code != 200:
                raise CallFailed(r)
            for line, result in zip(readable, r.json()["results"], strict=True):
                if result["status"] == 201:
                    summary.accepted += 1
                else:
                    summary.rejected.append((line.number, result))
        progress.update(
            task,
            advance=len(chunk),
            description=f"accepted {summary.accepted}, rejected {len(summary.rejected)}",
        )
    return summary


class CallFailed(Exception):
    def __init__(self, response: httpx.Response) -> None:
        super().__init__(f"HTTP {response.status_code}")
        self.response = response


def print_summary(console: Console, summary: Summary, elapsed_s: float, limit: int) -> None:
    console.print(
        f"{summary.total} designation(s): {summary.accepted} accepted, "
        f"{len(summary.rejected)} rejected, in {elapsed_s:.1f} s"
    )
    if not summary.rejected:
        return
    table = Table("line", "status", "field", "code", "message", title="Rejected")
    for number, result in sorted(summary.rejected, key=lambda r: r[0])[:limit]:
        errors = result.get("errors") or [
            _error("", result.get("type", ""), result.get("detail", ""))
        ]
        for e in errors:
            table.add_row(
                str(number), str(result.get("status", "")), e["field"], e["code"], e["message"]
            )
    console.print(table)
    if len(summary.rejected) > limit:
        console.print(f"... and {len(summary.rejected) - limit} more rejected line(s)")


def import_file(
    file: Annotated[
        Path, typer.Argument(exists=True, dir_okay=False, help="CSV or JSON-lines file.")
    ],
    as_: Annotated[
        str | None, typer.Option("--as", help="Department whose token the tokens file holds.")
    ] = None,
    token: Annotated[str | None, typer.Option(envvar="JSB_TOKEN", help="Bearer token.")] = None,
    url: Annotated[str, typer.Option(envvar="INITIATOR_URL")] = "http://127.0.0.1:8001",
    tokens_file: Annotated[Path, typer.Option(envvar="JSB_TOKENS_FILE")] = LOCAL_DIR
    / "tokens.json",
    chunk_size: Annotated[int, typer.Option(min=1, max=MAX_CHUNK)] = 1000,
    fmt: Annotated[str, typer.Option("--format", help="csv, jsonl or auto")] = "auto",
    key_prefix: Annotated[
        str | None, typer.Option(help="Idempotency-Key prefix (default: from the content).")
    ] = None,
    show: Annotated[int, typer.Option(help="Rejected lines listed at most.")] = 50,
    timeout_s: Annotated[float, typer.Option("--timeout")] = 600.0,
) -> None:
    """Designate every subject of FILE (CSV or JSON lines) through the batch endpoint."""
    console = Console(stderr=False)
    bearer = _token(token, as_, tokens_file)
    lines = list(read_lines(file, fmt))
    prefix = key_prefix or "import-" + hashlib.sha256(file.read_bytes()).hexdigest()[:20] + (
        f"-c{chunk_size}"
    )
    started = time.monotonic()
    columns = (
        TextColumn("{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
        TimeRemainingColumn(),
    )
    headers = {"Authorization": f"Bearer {bearer}"}
    try:
        with (
            httpx.Client(base_url=url, headers=headers, timeout=timeout_s) as client,
            Progress(*columns, console=console, transient=False) as progress,
        ):
            summary = send(lines, client, chunk_size, prefix, progress)
    except CallFailed as failed:
        console.print(
            f"[red]the initiator refused the call: {failed}[/red] {failed.response.text[:500]}"
        )
        raise typer.Exit(2) from failed
    except httpx.HTTPError as exc:
        console.print(f"[red]cannot reach {url}: {type(exc).__name__}: {exc}[/red]")
        raise typer.Exit(2) from exc
    print_summary(console, summary, time.monotonic() - started, show)
    if summary.rejected:
        raise typer.Exit(1)
