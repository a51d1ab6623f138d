"""Bodies of the initiator's HTTP calls for tests: valid by default, each on a
fresh subject; override what a test is about."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from shared.domain.catalogue.index import default_index
from shared.domain.event_base import CaseFacts
from tests.support.subjects import new_resident_id, new_uscc

TAX = "tax.major-violation"  # designated by `tax`; repair allowed, no lock-out
COURT = "court.dishonest-debtor"  # designated by `court`; no repair, automatic expiry
MARKET = "market.serious-illegal"  # designated by `samr`; repair lock-out of a year
SAFETY = "safety.joint-sanction"  # designated by `mem`; exit by application
BLACK = "generic.black-list"  # several designators; the clock pauses during objections
RED = "tax.a-grade"  # an incentive list, designated by `tax`


def designation(
    subject_id: str | None = None, *, list_type: str = TAX, **overrides: Any
) -> dict[str, Any]:
    body: dict[str, Any] = {
        "subject": {"id": subject_id or new_uscc(), "name": "某某贸易有限公司"},
        "list_type": list_type,
        "level": "especially_serious",
        "reason": "虚开增值税专用发票",
        "legal_basis": [{"title": "重大税收违法失信主体信息公布管理办法", "article": "第六条"}],
        "decision_no": "税稽罚〔2026〕1号",
        "decided_at": "2026-01-20",
    }
    body.update(overrides)
    return body


def incentive(subject_id: str | None = None, **overrides: Any) -> dict[str, Any]:
    return designation(
        subject_id,
        list_type=RED,
        level="serious",
        reason="纳税信用A级",
        decision_no="税信〔2026〕1号",
        **overrides,
    )


def court_debtor(index: int, subject_id: str | None = None, ground: int = 1) -> dict[str, Any]:
    """A debtor listed on a ground of 法释〔2017〕7号 第一条 (item 1: no end date)."""
    return {
        "subject": {"id": subject_id or new_resident_id(), "name": f"被执行人{index}"},
        "list_type": COURT,
        "level": "especially_serious",
        "reason": "有履行能力而拒不履行生效法律文书确定义务",
        "legal_basis": [
            {"title": "最高人民法院关于公布失信被执行人名单信息的若干规定", "article": "第一条"}
        ],
        "decision_no": f"(2026)京0105执{index}号",
        "decided_at": "2026-01-05",
        "facts": {"court_ground": ground},
    }


def seconds_ahead(seconds: float) -> str:
    return (datetime.now(UTC) + timedelta(seconds=seconds)).isoformat()


def stated_facts(list_type: str) -> CaseFacts:
    """The facts a list type requires, as a test designation states them: a ground of
    the court list with a term (item 2 of 法释〔2017〕7号 第一条), nothing elsewhere."""
    spec = default_index().list_type(list_type)
    needs_ground = spec is not None and "court_ground" in spec.required_facts
    return CaseFacts(court_ground=2) if needs_ground else CaseFacts()
