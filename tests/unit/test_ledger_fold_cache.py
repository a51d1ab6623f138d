"""The fold cache and the incremental projection it feeds: a state evolved from a
cached prefix projects exactly like the whole stream folded from scratch."""

from __future__ import annotations

import gc
import tracemalloc
from dataclasses import replace
from datetime import UTC, datetime, timedelta

from services.ledger.fold_cache import FoldCache, Folded
from services.ledger.read_models.changed_rows import snapshot
from services.ledger.read_models.refresh import _START, _base, _evolve, _memo
from services.ledger.read_models.rows import project, project_state
from services.ledger.replay import fold_recorded, recorded_events
from services.ledger.settings import LedgerSettings
from shared.domain.commands import RevokeDesignation
from shared.domain.fold_state import SubjectState
from tests.support.ledger_events import T0, Script, designation_id, feedback, stored
from tests.support.subjects import new_resident_id, new_uscc


def _folded(version: int, digest: str = "h") -> Folded:
    return Folded(version, digest, SubjectState(subject_id="s"), T0)


def test_a_hit_needs_the_same_version_and_head_hash() -> None:
    cache = FoldCache(capacity=10)
    entry = _folded(3, "abc")
    cache.put("s", entry)
    assert cache.get("s", 3, "abc") is entry
    assert cache.get("s", 3, "abd") is None  # another history with as many events
    assert cache.get("s", 2, "abc") is None
    assert cache.get("t", 3, "abc") is None
    assert (cache.hits, cache.misses) == (1, 3)


def test_an_entry_older_than_its_age_bound_is_gone() -> None:
    """Under a steady load of new subjects the cache holds the last `max_age_s` of
    subjects, not `capacity` of them (the soak's RSS growth, docs/reliability.md);
    a subject put again is young again."""
    now = [0.0]
    cache = FoldCache(capacity=500, max_age_s=120.0, timer=lambda: now[0])
    cache.put("old", _folded(1))
    for n in range(300):  # a new subject a second for 300 s; "old" refreshed at 100 s
        now[0] = float(n)
        cache.put(f"s{n}", _folded(1))
        if n == 100:
            cache.put("old", _folded(2))
    assert len(cache) == 120  # s180..s299: "old" (last put at 100 s) is gone too
    assert cache.get("s179", 1, "h") is None
    assert cache.get("s180", 1, "h") is not None
    assert cache.get("old", 2, "h") is None


def test_least_recently_used_entries_go_first() -> None:
    cache = FoldCache(capacity=2)
    cache.put("a", _folded(1))
    cache.put("b", _folded(1))
    assert cache.get("a", 1, "h") is not None  # a is now the most recent
    cache.put("c", _folded(1))
    assert len(cache) == 2
    assert cache.get("b", 1, "h") is None
    assert cache.get("a", 1, "h") is not None
    assert cache.get("c", 1, "h") is not None
    off = FoldCache(capacity=0)
    off.put("a", _folded(1))
    assert len(off) == 0


def test_evolving_a_cached_prefix_projects_like_the_whole_stream() -> None:
    s = Script(new_resident_id())
    issued = s.issue(list_type="court.dishonest-debtor", level="especially_serious")
    fb = feedback(issued)
    s.run(
        RevokeDesignation(
            department="court",
            at=T0 + timedelta(days=3),
            designation_id=designation_id(issued),
            reason="已履行",
        )
    )
    events = stored([*fb[:7], issued, *fb[7:30], *s.envelopes[1:], *fb[30:]])
    # recorded later than every effective time, except the head (the max matters)
    events = [replace(e, recorded_at=T0 + timedelta(hours=2)) for e in events]
    events[-1] = replace(events[-1], recorded_at=datetime(2026, 11, 1, tzinfo=UTC))
    whole = project(s.subject_id, events)
    cache = FoldCache()
    for cut in (1, 8, 31, 40):
        prefix = _evolve(s.subject_id, _START, events[:cut])
        cache.put(s.subject_id, prefix)
        base = _base(s.subject_id, events[cut], cache)
        assert base is prefix
        rest = _evolve(s.subject_id, base, events[cut:])
        assert rest.state == fold_recorded(recorded_events(events), s.subject_id)
        assert (rest.version, rest.hash) == (events[-1].stream_version, events[-1].hash)
        again = project_state(s.subject_id, rest.state, events[-1], rest.latest_effective)
        assert again == whole


def test_the_first_event_of_a_stream_needs_no_cache_and_an_unknown_base_is_read() -> None:
    s = Script(new_uscc())
    first = s.issue()
    second = s.issue(
        list_type="market.serious-illegal", level="especially_serious", at=T0 + timedelta(1)
    )
    events = stored([first, second])
    assert _base(s.subject_id, events[0], None) is _START
    assert _base(s.subject_id, events[1], None) is None
    assert _base(s.subject_id, events[1], FoldCache()) is None


def test_the_events_held_are_bounded_least_recently_used_out() -> None:
    """A bound in events is a bound in bytes (an entry grows with the events folded
    into it): long histories cannot fill memory within the count bound."""
    cache = FoldCache(capacity=500, max_events=100)
    cache.put("a", _folded(40))
    cache.put("b", _folded(40))
    assert cache.get("a", 40, "h") is not None  # b is now the least recently used
    cache.put("c", _folded(40))
    assert cache.events == 80
    assert cache.get("b", 40, "h") is None
    assert cache.get("a", 40, "h") is not None
    assert cache.get("c", 40, "h") is not None


def test_a_state_over_the_bound_is_not_kept_nor_its_older_one() -> None:
    cache = FoldCache(capacity=500, max_events=100)
    cache.put("long", _folded(90))
    cache.put("long", _folded(101))
    assert len(cache) == 0
    assert cache.get("long", 90, "h") is None
    assert cache.get("long", 101, "h") is None


def _court_debtor_entry() -> tuple[Folded, int]:
    """A court debtor's entry as ingest puts it: its state after the designation and
    an answer per task, with the snapshot of the rows written for it."""
    s = Script(new_resident_id())
    issued = s.issue(list_type="court.dishonest-debtor", level="especially_serious")
    events = stored([issued, *feedback(issued)])
    folded = _evolve(s.subject_id, _START, events)
    projection = project_state(s.subject_id, folded.state, events[-1], folded.latest_effective)
    return replace(folded, written=snapshot(projection)), len(events)


def test_the_default_bound_keeps_the_cache_within_the_soaks_tolerance() -> None:
    """The cache's most, at the default bound in events, measured in the bytes its
    entries keep: at most 10 MiB, under the 10 % of the ledger's ~120 MB resident that
    the soak tolerates after its warm-up (the cache fills at the pace of the load's
    feedback, so it may fill after the warm-up: docs/reliability.md, "The ledger's RSS:
    what grows"). With the earlier bound (25,000 events) it held ~55 MiB."""
    _court_debtor_entry()  # the imports' and the catalogue's one-off allocations
    gc.collect()
    tracemalloc.start()
    try:
        before = tracemalloc.get_traced_memory()[0]
        entries = [_court_debtor_entry() for _ in range(10)]
        gc.collect()
        held = tracemalloc.get_traced_memory()[0] - before
    finally:
        tracemalloc.stop()
    per_event = held / sum(n for _, n in entries)
    assert 1_000 < per_event < 5_000, per_event  # what the docs say (~2.3 KB)
    most = per_event * LedgerSettings().fold_cache_events
    assert most <= 10 * 2**20, f"{most / 2**20:.1f} MiB"


def test_a_subject_listed_several_times_renders_again_only_what_its_events_touched() -> None:
    """The render memo carried by the cache (read_models/refresh.py `_memo`): each
    refresh's projection equals the whole stream's from scratch, and the designations
    the refresh's events did not touch are kept, not rendered again."""
    s = Script(new_uscc())
    envelopes = []
    for n in range(4):
        issued = s.issue(at=T0 + timedelta(days=n), decision_no=f"测〔2026〕{n}号")
        envelopes += [issued, *feedback(issued, at=T0 + timedelta(days=n, hours=1))]
    events = stored(envelopes)
    cache = FoldCache()
    folded = _START
    cuts = [1, 5, len(events) // 2, len(events) - 3, len(events)]
    done = 0
    for cut in cuts:
        folded = _evolve(s.subject_id, folded, events[done:cut])
        memo = _memo(folded, cache)
        got = project_state(
            s.subject_id, folded.state, events[cut - 1], folded.latest_effective, memo
        )
        assert got == project(s.subject_id, events[:cut])
        assert got.status_json == project(s.subject_id, events[:cut]).status_json
        folded = replace(folded, memo=memo)
        done = cut
    assert folded.memo is not None
    assert folded.memo.reused >= 3
    one = _evolve(s.subject_id, _START, events[:3])
    assert len(one.state.designations) == 1
    assert _memo(one, cache) is None
