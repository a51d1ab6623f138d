"""`jsb demo`: seed a running stack with a realistic scenario, so that every tile, chart
and timeline of the dashboard shows real data (issue 12, item 2).

Two parts:

1. **History** (the last `--days` days): designations across list types (persons and
   organisations, related persons), objections (upheld, rejected, left open past their
   review deadline), revocations, repairs and listings that ran out, decided by the
   domain's own `decide` at instants in the past and published onto
   `jsb.designations.v1` exactly as the initiator's relay would (envelopes keyed by
   subject). Why not through the initiator's HTTP API: it decides at "now", so nothing
   could be overdue and every chart would be one day tall. The initiator does not know
   these designations (its own streams are not written); the responder and the ledger
   take them like any other.
2. **Today**, through the public HTTP APIs as departments would: a few designations
   at the initiator; the responder's manual inboxes answered by every department
   except the ones named by `--leave-overdue` (their backdated tasks stay overdue);
   checks that intercept designated subjects.

Manual tasks exist only for measures the responder runs in manual mode
(`JSB_RESPONDER_EXECUTION_MODES`; the local stack sets four, deploy/scripts/services.sh).
"""

from __future__ import annotations

import asyncio
import json
import os
import random
from datetime import UTC, datetime
from pathlib import Path

import typer
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table

from shared.adapters.settings import LOCAL_DIR, PROJECT_ROOT
from shared.adapters.topics import DESIGNATIONS
from shared.cli.demo_history import plan_history
from shared.cli.demo_today import (
    Stack,
    answer_inboxes,
    designate_today,
    intercept,
    publish,
    responder_consumed,
    wait_for_inboxes,
    wait_for_ledger,
)
from shared.domain.catalogue.index import default_index
from shared.domain.identifiers import (
    mask,
)

DEFAULT_LEAVE_OVERDUE = "mnr,mof"
LOCAL_MODES = PROJECT_ROOT / "deploy" / "responder-execution-modes.json"
"""The measures the local stack's responder runs by hand (deploy/scripts/services.sh)."""


def _progress(console: Console) -> Progress:
    return Progress(
        TextColumn("[bold]{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
        console=console,
    )


def _env(name: str, default: str) -> str:
    return os.environ.get(name) or default


def demo(
    size: int = typer.Option(2000, "--size", help="Designations in the history."),
    days: int = typer.Option(30, "--days", help="How far back the history goes."),
    today: int = typer.Option(0, "--today", help="Designations made today (0: size/100, ≥3)."),
    checks: int = typer.Option(0, "--checks", help="Checks to run (0: size/5, ≥10)."),
    leave_overdue: str = typer.Option(
        DEFAULT_LEAVE_OVERDUE, "--leave-overdue", help="Departments that do not report."
    ),
    seed: int = typer.Option(12, "--seed"),
    wait_s: float = typer.Option(900, "--wait", help="Seconds to wait for the ledger."),
    summary_json: Path | None = typer.Option(None, "--summary-json", help="Write the summary."),
) -> None:
    """Seed the running stack with a realistic scenario (see docs/dashboard.md)."""
    console = Console()
    rng = random.Random(seed)  # noqa: S311 - demo data, not secrets
    tokens = json.loads(Path(_env("JSB_TOKENS_FILE", str(LOCAL_DIR / "tokens.json"))).read_text())
    stack = Stack(
        initiator=_env("INITIATOR_URL", "http://127.0.0.1:8001"),
        responder=_env("RESPONDER_URL", "http://127.0.0.1:8002"),
        ledger=_env("LEDGER_URL", "http://127.0.0.1:8003"),
        tokens=tokens,
    )
    manual = set(
        json.loads(os.environ.get("JSB_RESPONDER_EXECUTION_MODES") or LOCAL_MODES.read_text())
    )
    leave = {d.strip() for d in leave_overdue.split(",") if d.strip()}
    departments = sorted(d for d in tokens if d not in ("auditor", "ops"))
    by_hand = sorted(
        {d.code for m in manual for d in default_index().departments_for(m)} & set(departments)
    )
    with stack.client(stack.ledger, "ops") as c:
        before = int(c.get("/v1/stats/overview").json()["designations"]["total"])
    consumed_before = responder_consumed(stack)
    history = plan_history(size, days, rng, datetime.now(UTC))
    issued = sum(1 for e in history.envelopes if e.type == "jsb.designation.issued")
    with _progress(console) as progress:
        asyncio.run(
            publish(
                history.envelopes,
                _env("KAFKA_BOOTSTRAP_SERVERS", "127.0.0.1:9092"),
                DESIGNATIONS + os.environ.get("JSB_TOPIC_SUFFIX", ""),
                progress,
            )
        )
        made_today = designate_today(stack, today or max(3, size // 100), rng)
        seen = wait_for_ledger(stack, before + issued + len(made_today), progress, wait_s)
        published = len(history.envelopes) + len(made_today)
        wait_for_inboxes(stack, consumed_before + published, by_hand, progress, wait_s)
        answered = answer_inboxes(stack, by_hand, leave, progress, rng)
        blocked = intercept(stack, history, checks or max(10, size // 5), manual, progress, rng)
    summary = {
        "history_events": len(history.envelopes),
        "designations_issued": issued,
        "designated_today": made_today,
        "ledger_designations": seen,
        "answered_by_department": answered,
        "left_overdue": sorted(leave),
        "interceptions": blocked,
        "counts": dict(history.counts),
        "sample_subjects": [mask(s) for s, _, _ in history.issued[:5]],
    }
    table = Table(title="jsb demo")
    table.add_column("what")
    table.add_column("how many", justify="right")
    for what, n in sorted(history.counts.items()):
        table.add_row(what, str(n))
    table.add_row("designated today (initiator API)", str(len(made_today)))
    table.add_row("manual tasks answered", str(sum(answered.values())))
    table.add_row("interceptions (blocked checks)", str(blocked))
    console.print(table)
    console.print(f"departments left overdue: {', '.join(sorted(leave)) or 'none'}")
    console.print(f"open the dashboard: {stack.ledger}/dashboard (token: .local/tokens.json, ops)")
    if summary_json is not None:
        summary_json.write_text(json.dumps(summary, ensure_ascii=False, indent=2))
