"""`jsb demo`'s history (shared/cli/demo_history.py::plan_history): decided by the domain
in the past, every list type and every fate present even at a small size."""

from __future__ import annotations

import random
from datetime import UTC, datetime, timedelta

from shared.cli.demo_history import SCENARIO, plan_history
from shared.domain.identifiers import IdKind, parse_identifier


def test_a_small_history_has_every_list_type_and_every_fate_in_the_past() -> None:
    now = datetime(2026, 11, 27, 12, tzinfo=UTC)
    history = plan_history(24, 20, random.Random(3), now)
    counts = history.counts
    assert not [k for k in counts if k.startswith("refused")], dict(counts)
    assert {f"issued {s[0]}" for s in SCENARIO} <= counts.keys()
    for fate in ("objection filed", "objection upheld", "objection rejected", "revoked"):
        assert counts[fate] >= 1, fate
    times = [e.time for e in history.envelopes]
    assert times == sorted(times)
    assert all(now - timedelta(days=21) < t < now for t in times)
    for subject, _, command in history.issued:
        kind = parse_identifier(subject).kind
        assert kind in (IdKind.USCC, IdKind.RESIDENT_ID)
        assert command.subject.id == subject
    # the first of each list type is old enough for its feedback deadline to have passed
    for _, _, command in history.issued[: len(SCENARIO)]:
        assert command.at < now - timedelta(days=10)


def test_the_same_seed_plans_the_same_history() -> None:
    now = datetime(2026, 11, 27, 12, tzinfo=UTC)
    one = plan_history(10, 20, random.Random(7), now)
    two = plan_history(10, 20, random.Random(7), now)
    assert [(e.subject, e.type, e.time) for e in one.envelopes] == [
        (e.subject, e.type, e.time) for e in two.envelopes
    ]
