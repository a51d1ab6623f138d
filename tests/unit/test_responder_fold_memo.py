"""The departments' shared folds (services/responder/fold_memo.py): found by
(subject, position) only, least recently used evicted past the capacity; the
designations' views bounded by count (first put, first out) and by age."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from services.responder.fold_memo import FoldMemo, Recent
from shared.domain.envelope import Envelope
from shared.domain.fold_state import SubjectState
from tests.support.responder_harness import hosting, issue_command, run
from tests.support.responder_memory import MemoryResponder
from tests.support.subjects import new_resident_id
from tests.unit.domain_fixtures import Subject

COURT = "court.dishonest-debtor"

CAUSE = Envelope(type="jsb.test.cause", source="/t", subject="s", time=datetime.now(UTC))


def test_found_only_at_its_own_position_and_bounded() -> None:
    memo = FoldMemo(capacity=2)
    a, b, c = (SubjectState(subject_id=s) for s in "abc")
    memo.put("a", 1, (a, None, CAUSE))
    memo.put("b", 1, (b, None, CAUSE))
    assert memo.get("a", 1) == (a, None, CAUSE)  # a is now the most recently used
    assert memo.get("a", 2) is None  # another position is another state
    memo.put("c", 1, (c, None, CAUSE))  # evicts b, the least recently used
    assert memo.get("b", 1) is None
    assert memo.get("a", 1) == (a, None, CAUSE)
    assert memo.get("c", 1) == (c, None, CAUSE)
    assert (memo.hits, memo.misses) == (3, 2)


def test_a_state_older_than_its_age_bound_is_gone_and_its_memory_with_it() -> None:
    """Under a steady load of new subjects the memo holds only the last `max_age_s` of
    states, not `capacity` of them (the soak's RSS growth, docs/reliability.md)."""
    now = [0.0]
    memo = FoldMemo(capacity=1000, max_age_s=30.0, timer=lambda: now[0])
    for n in range(100):  # one new subject a second for 100 s
        now[0] = float(n)
        memo.put(f"s{n}", 1, (SubjectState(subject_id=f"s{n}"), None, CAUSE))
    assert len(memo) == 30  # the last 30 s: s70..s99
    assert memo.get("s69", 1) is None
    assert memo.get("s70", 1) is not None


async def test_the_departments_share_the_designations_views_through_the_memo() -> None:
    """The passes plan with the memo's views (transitions.record_at): every department
    hosting a court designation's measures plans it through one view, and the views go
    with the memo's own bound."""
    r = MemoryResponder(hosting())
    await r.ensure()
    court = [Subject(new_resident_id()) for _ in range(2)]
    await r.feed([e for s in court for e in run(s, issue_command(s.subject_id, COURT, "court"))])
    await r.drain()
    views = r.ctx.memo.views
    designations = {view.record.designation_id for view in views.values()}
    assert len(designations) == 2
    assert len(views) == 2  # one view each, for the many departments that planned it
    assert len({t.department for t in r.store.tasks()}) > 10


def test_the_views_are_bounded_by_count_first_put_first_out_and_by_age() -> None:
    now = [0.0]
    views: Recent[str, int] = Recent(3, 30.0, lambda: now[0])
    for n, key in enumerate("abc"):
        views[key] = n
    views["a"] = 10  # put again: now the last out
    views["d"] = 3  # over the count: b, the first put, goes
    assert dict(views) == {"c": 2, "a": 10, "d": 3}
    assert views.get("b") is None
    assert views.get("b", -1) == -1
    assert views["a"] == 10
    now[0] = 29.0
    views["e"] = 4  # c goes by count
    assert list(views) == ["a", "d", "e"]
    now[0] = 30.5  # a and d are 30 s old: unseen, then gone when something is put
    assert views.get("a") is None
    assert list(views) == ["e"]
    assert len(views) == 1
    with pytest.raises(KeyError):
        views["d"]
    views["f"] = 5
    assert views._items.keys() == {"e", "f"}
    del views["e"]
    assert dict(views) == {"f": 5}
