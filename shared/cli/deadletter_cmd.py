"""`jsb deadletter list|replay`: what the consumers refused, and re-driving it to its
topic after a fix (docs/operations: "Dead letters"). Identity numbers are masked in
every output: the records hold subjects' data, the operator needs only their shape."""

from __future__ import annotations

import asyncio
import json
import re
from datetime import UTC, datetime
from typing import Any

import orjson
import typer

from shared.adapters import deadletter as dl
from shared.adapters.deadletter_log import DeadLetter, read_all, replay, select
from shared.adapters.settings import DEFAULT_KAFKA
from shared.domain.identifiers import mask

app = typer.Typer(no_args_is_help=True)

_PERSONAL_IN_TEXT = re.compile(
    r"(?<![0-9A-Za-z])(?:[0-9]{17}[0-9Xx]|[A-Z]{1,2}[0-9]{7,8})(?![0-9])"
)
"""A personal number's shape inside text (as shared.domain.identifiers matches whole
values; `mask` decides, so organisation codes stay in clear)."""

_PREVIEW = 300

Bootstrap = typer.Option(DEFAULT_KAFKA, envvar="KAFKA_BOOTSTRAP_SERVERS")
Suffix = typer.Option("", envvar="JSB_TOPIC_SUFFIX", help="Topic-name suffix (tests).")
Topic = typer.Option(None, help="Only records from this source topic.")
Reason = typer.Option(None, help="Only records whose reason contains this (any case).")
Since = typer.Option(None, help="Dead-lettered at or after (ISO 8601).")
Until = typer.Option(None, help="Dead-lettered before (ISO 8601).")


def masked_value(value: bytes) -> Any:
    """The record's value for display: JSON with every identity number in it masked
    (in free text too: a note may quote one), else a masked preview of its start."""
    try:
        return _masked(orjson.loads(value))
    except orjson.JSONDecodeError:
        return _masked_text(value[:_PREVIEW].decode(errors="replace"))


def _masked(value: Any) -> Any:
    if isinstance(value, str):
        return _masked_text(value)
    if isinstance(value, dict):
        return {k: _masked(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_masked(v) for v in value]
    return value


def _masked_text(text: str) -> str:
    return _PERSONAL_IN_TEXT.sub(lambda m: mask(m.group()), text)


def as_document(d: DeadLetter) -> dict[str, Any]:
    h = d.headers
    return {
        "ref": d.ref,
        "dead_lettered_at": d.at.isoformat(),
        "reason": d.reason,
        "origin": {
            "topic": d.source_topic,
            "partition": _int(h.get(dl.SOURCE_PARTITION)),
            "offset": _int(h.get(dl.SOURCE_OFFSET)),
            "consumer": h.get(dl.CONSUMER),
            "consumer_group": h.get(dl.GROUP),
        },
        "key": _masked_text(d.key),
        "size": len(d.value),
        "value": masked_value(d.value),
    }


def _int(raw: str | None) -> int | None:
    return int(raw) if raw is not None and raw.lstrip("-").isdigit() else None


def _chosen(
    bootstrap: str,
    suffix: str,
    topic: str | None,
    reason: str | None,
    since: datetime | None,
    until: datetime | None,
    refs: list[str],
) -> list[DeadLetter]:
    letters = asyncio.run(read_all(bootstrap, suffix))
    return select(
        letters, topic=topic, reason=reason, since=_aware(since), until=_aware(until), refs=refs
    )


def _aware(at: datetime | None) -> datetime | None:
    """A time given without an offset is UTC."""
    return at.replace(tzinfo=UTC) if at is not None and at.tzinfo is None else at


def _table(docs: list[dict[str, Any]]) -> str:
    rows = [("REF", "AT", "ORIGIN", "GROUP", "SIZE", "KEY", "REASON")]
    for doc in docs:
        o = doc["origin"]
        rows.append(
            (
                doc["ref"],
                doc["dead_lettered_at"][:19],
                f"{o['topic']}[{o['partition']}]@{o['offset']}",
                o["consumer_group"] or "-",
                str(doc["size"]),
                doc["key"] or "-",
                " ".join(doc["reason"].split())[:80],  # one line per dead letter
            )
        )
    widths = [max(len(r[i]) for r in rows) for i in range(len(rows[0]) - 1)]
    return "\n".join(
        "  ".join(c.ljust(w) for c, w in zip(r[:-1], widths, strict=True)) + "  " + r[-1]
        for r in rows
    )


@app.command("list")
def list_(
    bootstrap: str = Bootstrap,
    suffix: str = Suffix,
    topic: str | None = Topic,
    reason: str | None = Reason,
    since: datetime | None = Since,
    until: datetime | None = Until,
    output: str = typer.Option("table", "--format", help="table or json"),
) -> None:
    """The dead letters with their reason and origin (topic, partition, offset,
    consumer group); identity numbers masked."""
    if output not in ("table", "json"):
        raise typer.BadParameter("table or json", param_hint="--format")
    docs = [as_document(d) for d in _chosen(bootstrap, suffix, topic, reason, since, until, [])]
    if output == "json":
        typer.echo(json.dumps(docs, ensure_ascii=False, indent=2))
    else:
        typer.echo(_table(docs))
        typer.echo(f"{len(docs)} dead letter(s)")


@app.command("replay")
def replay_(
    refs: list[str] = typer.Argument(None, help="Dead letters to replay (`partition@offset`)."),
    bootstrap: str = Bootstrap,
    suffix: str = Suffix,
    topic: str | None = Topic,
    reason: str | None = Reason,
    since: datetime | None = Since,
    until: datetime | None = Until,
    rekey: bool = typer.Option(False, help="Send each under its envelope's subject."),
    dry_run: bool = typer.Option(False, help="Say what would be replayed; send nothing."),
) -> None:
    """Send the chosen dead letters back to their source topics, unchanged (the
    consumers drop an event they have applied: replaying twice applies once)."""
    refs = refs or []
    if not (refs or topic or reason or since or until):
        raise typer.BadParameter("name the dead letters (refs or a filter)")
    chosen = _chosen(bootstrap, suffix, topic, reason, since, until, refs)
    for d in chosen:
        typer.echo(f"{d.ref} -> {d.source_topic}  ({d.reason[:60]})")
    if dry_run:
        typer.echo(f"{len(chosen)} would be replayed")
        return
    sent = asyncio.run(replay(bootstrap, chosen, rekey=rekey))
    typer.echo(f"{sent} replayed")
