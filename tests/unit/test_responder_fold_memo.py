"""The departments' shared folds (services/responder/fold_memo.py): found by
(subject, position) only, least recently used evicted past the capacity."""

from __future__ import annotations

from services.responder.fold_memo import FoldMemo
from shared.domain.fold_state import SubjectState


def test_found_only_at_its_own_position_and_bounded() -> None:
    memo = FoldMemo(capacity=2)
    a, b, c = (SubjectState(subject_id=s) for s in "abc")
    memo.put("a", 1, (a, None))
    memo.put("b", 1, (b, None))
    assert memo.get("a", 1) == (a, None)  # a is now the most recently used
    assert memo.get("a", 2) is None  # another position is another state
    memo.put("c", 1, (c, None))  # evicts b, the least recently used
    assert memo.get("b", 1) is None
    assert memo.get("a", 1) == (a, None)
    assert memo.get("c", 1) == (c, None)
    assert (memo.hits, memo.misses) == (3, 2)
