"""`jsb demo`'s history: the last days of a realistic scenario, decided by the domain's
own `decide` at instants in the past (designations across list types, related persons,
objections open, upheld and rejected, revocations, repairs, listings that ran out).
Pure: no I/O; shared/cli/demo_today.py publishes it and acts today; see
shared/cli/demo_cmd.py for why the past is decided here and not at the initiator."""

from __future__ import annotations

import random
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any
from uuid import UUID, uuid4

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
