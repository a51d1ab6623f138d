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
import time
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from uuid import UUID, uuid4

import httpx
import typer
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table

from shared.adapters.kafka_clients import make_producer
from shared.adapters.settings import LOCAL_DIR, PROJECT_ROOT
from shared.adapters.topics import DESIGNATIONS
from shared.domain.catalogue.index import default_index
from shared.domain.commands import (
    AnyCommand,
    FileObjection,
    GrantRepair,
    IssueDesignation,
    RelatedPerson,
    ResolveObjection,
    RevokeDesignation,
    SubjectRef,
)
from shared.domain.decide import decide
from shared.domain.envelope import Envelope
from shared.domain.event_base import ObjectionOutcome, RaisedBy, RelatedRole
from shared.domain.fold import Recorded, evolve
from shared.domain.fold_state import SubjectState
from shared.domain.identifiers import (
    USCC_ALPHABET,
    compute_org_code_check,
    compute_resident_id_check,
    compute_uscc_check,
    mask,
)
from shared.domain.rejections import Rejected

# (list type, designating department, level, subject is a person, facts, weight)
SCENARIO: tuple[tuple[str, str, str | None, bool, dict[str, Any], int], ...] = (
    ("tax.major-violation", "tax", "especially_serious", False, {}, 30),
    ("court.dishonest-debtor", "court", None, True, {"court_ground": 1}, 30),
    ("market.serious-illegal", "samr", None, False, {}, 12),
    ("safety.joint-sanction", "mem", "serious", False, {}, 10),
    ("generic.key-watch", "ndrc", "serious", False, {}, 8),
    ("market.abnormal-operation", "samr", "serious", False, {}, 5),
    ("tax.a-grade", "tax", "serious", False, {}, 5),
)
DEFAULT_LEAVE_OVERDUE = "mnr,mof"
LOCAL_MODES = PROJECT_ROOT / "deploy" / "responder-execution-modes.json"
"""The measures the local stack's responder runs by hand (deploy/scripts/services.sh)."""
ORG_NAMES = ("贸易", "建设工程", "科技", "物流", "餐饮管理", "投资咨询", "医药", "化工")
SURNAMES = "王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗"


def new_uscc(rng: random.Random) -> str:
    body8 = "".join(rng.choice("0123456789ABCDEFGHJKLMNPQRTUWXY") for _ in range(8))
    body8 = "".join(c if c in USCC_ALPHABET else "0" for c in body8)
    first17 = "91" + rng.choice(("110105", "310115", "440305", "350100")) + body8
    first17 += compute_org_code_check(body8)
    return first17 + compute_uscc_check(first17)


def new_resident_id(rng: random.Random) -> str:
    birth = f"{rng.randint(1955, 2000)}{rng.randint(1, 12):02d}{rng.randint(1, 28):02d}"
    first17 = rng.choice(("110105", "310115", "440305")) + birth + f"{rng.randint(0, 999):03d}"
    return first17 + compute_resident_id_check(first17)


@dataclass
class History:
    """The scenario's past, decided by the domain: envelopes in time order."""

    envelopes: list[Envelope] = field(default_factory=list)
    states: dict[str, SubjectState] = field(default_factory=dict)
    issued: list[tuple[str, UUID, IssueDesignation]] = field(default_factory=list)
    counts: dict[str, int] = field(default_factory=lambda: defaultdict(int))

    def run(self, subject_id: str, command: AnyCommand, what: str) -> bool:
        state = self.states.get(subject_id) or SubjectState(subject_id=subject_id)
        outcome = decide(state, command, default_index())
        if isinstance(outcome, Rejected):
            self.counts[f"refused: {what}"] += 1
            return False
        first: Envelope | None = None
        for event in outcome:
            env = event.envelope(
                source=f"/initiator/{command.department}",
                correlationid=str(first.id) if first else f"demo-{uuid4().hex[:12]}",
                causationid=str(first.id) if first else None,
            )
            first = first or env
            self.envelopes.append(env)
            self.states[env.subject] = evolve(
                self.states.get(env.subject) or SubjectState(subject_id=env.subject),
                Recorded(env, command.at),
            )
        self.counts[what] += 1
        return True


def plan_history(size: int, days: int, rng: random.Random, now: datetime) -> History:
    """`size` designations issued over the last `days` days, and what happened to them."""
    history = History()
    weights = [s[5] for s in SCENARIO]
    for i in range(size):
        # the first of each list type well in the past and left alone: whatever the
        # size, every list type shows, and its manual tasks are overdue by now
        first = i < len(SCENARIO)
        pick = SCENARIO[i] if first else rng.choices(SCENARIO, weights)[0]
        list_type, dept, level, person, facts, _ = pick
        oldest = days / 2 if first else 1.5
        at = now - timedelta(days=rng.uniform(oldest, days), minutes=rng.randint(0, 600))
        subject = new_resident_id(rng) if person else new_uscc(rng)
        name = (
            rng.choice(SURNAMES) + rng.choice("伟芳娜敏静强磊军洋勇")
            if person
            else f"某{rng.choice(ORG_NAMES)}有限公司{i}"
        )
        related: tuple[RelatedPerson, ...] = ()
        if not person and list_type == "tax.major-violation" and rng.random() < 0.25:
            related = (
                RelatedPerson(
                    id=new_resident_id(rng),
                    name=rng.choice(SURNAMES) + "某",
                    role=RelatedRole.LEGAL_REPRESENTATIVE,
                ),
            )
        ends = not first and not person and list_type != "tax.a-grade" and rng.random() < 0.06
        command = IssueDesignation(
            department=dept,
            at=at,
            subject=SubjectRef(id=subject, name=name),
            list_type=list_type,
            level=level,
            reason="演示数据：" + list_type,
            decision_no=f"演〔2026〕{i + 1}号",
            decided_at=(at - timedelta(days=2)).date(),
            effective_until=at + timedelta(days=5) if ends else None,
            facts=facts,
            related_persons=related,
        )
        if not history.run(subject, command, f"issued {list_type}"):
            continue
        designation_id = command.designation_id
        history.issued.append((subject, designation_id, command))
        fate = (i + 6) % 12  # a fixed mix, so that even a small demo shows every case
        later = at + timedelta(days=rng.uniform(0.5, 1.0))
        if fate in (0, 1, 2) and list_type != "tax.a-grade":
            objection = FileObjection(
                department=dept,
                at=later,
                designation_id=designation_id,
                raised_by=RaisedBy.SUBJECT,
                grounds="主体提出异议：信息有误",
            )
            if history.run(subject, objection, "objection filed") and fate != 0:
                outcome = ObjectionOutcome.UPHELD if fate == 1 else ObjectionOutcome.REJECTED
                history.run(
                    subject,
                    ResolveObjection(
                        department=dept,
                        at=later + timedelta(days=1),
                        objection_id=objection.objection_id,
                        outcome=outcome,
                        note="核查完毕",
                    ),
                    f"objection {outcome.value}",
                )
        elif fate == 3:
            history.run(
                subject,
                RevokeDesignation(
                    department=dept, at=later, designation_id=designation_id, reason="认定错误"
                ),
                "revoked",
            )
        elif fate in (4, 5) and list_type == "tax.major-violation":
            history.run(
                subject,
                GrantRepair(
                    department=dept,
                    at=later + timedelta(days=1),
                    designation_id=designation_id,
                    note="已补缴税款并缴纳滞纳金",
                ),
                "repaired",
            )
        if ends:
            history.counts["ran out (expired)"] += 1
    history.envelopes.sort(key=lambda e: e.time)
    return history


def _progress(console: Console) -> Progress:
    return Progress(
        TextColumn("[bold]{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
        console=console,
    )


async def publish(
    envelopes: list[Envelope], bootstrap: str, topic: str, progress: Progress
) -> None:
    task = progress.add_task("history → Kafka", total=len(envelopes))
    producer = make_producer(bootstrap, "jsb-demo")
    await producer.start()
    try:
        for chunk in range(0, len(envelopes), 500):
            batch = envelopes[chunk : chunk + 500]
            sent = [
                await producer.send(topic, value=e.to_json_bytes(), key=e.subject.encode())
                for e in batch
            ]
            await asyncio.gather(*sent)
            progress.advance(task, len(batch))
    finally:
        await producer.stop()


@dataclass
class Stack:
    initiator: str
    responder: str
    ledger: str
    tokens: dict[str, str]

    def client(self, base: str, as_: str) -> httpx.Client:
        return httpx.Client(
            base_url=base, headers={"Authorization": f"Bearer {self.tokens[as_]}"}, timeout=60
        )


def designate_today(stack: Stack, n: int, rng: random.Random) -> list[str]:
    """`n` designations through the initiator's API, as the tax administration."""
    ids = []
    with stack.client(stack.initiator, "tax") as c:
        for i in range(n):
            body = {
                "subject": {"id": new_uscc(rng), "name": f"某今日贸易有限公司{i}"},
                "list_type": "tax.major-violation",
                "level": "especially_serious",
                "reason": "虚开增值税专用发票",
                "decision_no": f"税稽罚〔2026〕演{i + 1}号",
                "decided_at": (datetime.now(UTC) - timedelta(days=1)).date().isoformat(),
                "legal_basis": [
                    {"title": "重大税收违法失信主体信息公布管理办法", "article": "第六条"}
                ],
            }
            r = c.post("/v1/designations", json=body, headers={"Idempotency-Key": uuid4().hex})
            r.raise_for_status()
            ids.append(r.json()["designation_id"])
    return ids


def wait_for_ledger(stack: Stack, expected: int, progress: Progress, timeout_s: float) -> int:
    """Until the ledger holds `expected` designations (or the time is up)."""
    task = progress.add_task("ledger ingest (designations)", total=expected)
    deadline = time.monotonic() + timeout_s
    seen = 0
    with stack.client(stack.ledger, "ops") as c:
        while time.monotonic() < deadline:
            seen = c.get("/v1/stats/overview").json()["designations"]["total"]
            progress.update(task, completed=min(seen, expected))
            if seen >= expected:
                break
            time.sleep(1)
    return int(seen)


def _responder_consumed(stack: Stack) -> float:
    """Records the responder's ingest has applied (`jsb_consumed_records_total`)."""
    text = httpx.get(stack.responder + "/metrics", timeout=10).text
    for line in text.splitlines():
        if line.startswith('jsb_consumed_records_total{consumer="responder.ingest"}'):
            return float(line.rsplit(" ", 1)[1])
    return 0.0


def wait_for_inboxes(
    stack: Stack,
    consumed: float,
    departments: list[str],
    progress: Progress,
    timeout_s: float,
) -> None:
    """Until the responder's ingest has applied `consumed` records and its lanes have
    filled the manual inboxes (they hold tasks and stop growing)."""
    task = progress.add_task("responder ingest", total=consumed)
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        done = _responder_consumed(stack)
        progress.update(task, completed=min(done, consumed))
        if done >= consumed:
            break
        time.sleep(1)
    last, steady = -1, 0
    while time.monotonic() < deadline and steady < 2:
        total = 0
        for dept in departments:
            with stack.client(stack.responder, dept) as c:
                r = c.get("/v1/tasks", params={"state": "pending", "limit": 1000})
                total += len(r.json()["tasks"]) if r.status_code == 200 else 0
        steady = steady + 1 if total == last and (total or not departments) else 0
        last = total
        time.sleep(1)


def answer_inboxes(
    stack: Stack, departments: list[str], leave: set[str], progress: Progress, rng: random.Random
) -> dict[str, int]:
    """Every department but `leave` answers its manual inbox (a few: not applicable)."""
    answered: dict[str, int] = {}
    task = progress.add_task("manual inboxes answered", total=None)
    for dept in departments:
        if dept in leave:
            continue
        with stack.client(stack.responder, dept) as c:
            while True:
                r = c.get("/v1/tasks", params={"state": "pending", "limit": 500})
                if r.status_code != 200 or not r.json()["tasks"]:
                    break
                for t in r.json()["tasks"]:
                    outcome = "not_applicable" if rng.random() < 0.1 else "executed"
                    c.post(
                        f"/v1/tasks/{t['task_id']}/feedback",
                        json={"outcome": outcome, "note": "演示：已处理"},
                        headers={"Idempotency-Key": uuid4().hex},
                    )
                    answered[dept] = answered.get(dept, 0) + 1
                    progress.advance(task)
    progress.update(task, total=sum(answered.values()))
    return answered


def intercept(
    stack: Stack,
    history: History,
    n: int,
    manual: set[str],
    progress: Progress,
    rng: random.Random,
    timeout_s: float = 60,
) -> int:
    """Checks by implementing departments on subjects in force: the blocks are
    interceptions, reported to the ledger as feedback."""
    now = datetime.now(UTC)
    candidates = []
    for subject, designation_id, _ in history.issued:
        record = history.states[subject].designation(designation_id)
        if record is None or record.data.list_type == "tax.a-grade":
            continue
        tasks = [t for t in record.data.tasks if t.measure not in manual]
        if tasks and history.states[subject].joint_sanctions_in_force(now):
            candidates.append((subject, tasks))
    rng.shuffle(candidates)
    blocked = 0
    task = progress.add_task("checks (interceptions)", total=min(n, len(candidates)))
    deadline = time.monotonic() + timeout_s
    remaining = [(subject, rng.choice(tasks)) for subject, tasks in candidates[:n]]
    while remaining:
        allowed, before = [], blocked
        for subject, pick in remaining:
            with stack.client(stack.responder, pick.department) as c:
                r = c.post(
                    "/v1/checks",
                    json={"subject_id": subject, "measure": pick.measure},
                    headers={"Idempotency-Key": uuid4().hex},
                )
            if r.status_code in (200, 201) and r.json().get("decision") == "block":
                blocked += 1
                progress.advance(task)
            else:
                allowed.append((subject, pick))
        # the departments' lanes may not have applied every measure yet: ask again
        # while that still turns allows into blocks; then an allow is an allow
        if (blocked and blocked == before) or time.monotonic() > deadline:
            break
        remaining = allowed
        time.sleep(1)
    progress.update(task, completed=min(n, len(candidates)))
    return blocked


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
    consumed_before = _responder_consumed(stack)
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
