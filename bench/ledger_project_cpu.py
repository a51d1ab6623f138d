"""The CPU of a refresh's projection (`project_state`: render, windows, rows, the
status JSON) in this process, on fixed states, without Postgres or Kafka:

    python -m bench.ledger_project_cpu [DEBTORS] [--per N] [--big EVENTS]
        [--listed EVENTS] [--rounds N]

Court debtors (tests/support/ledger_workload.court_bulk): each debtor's events folded
`--per` at a time (a refresh in the pipeline carries 6.5–10 of them,
docs/benchmarks.md "Ledger") and projected after each step, as the projector does
with a cached fold; and one subject listed again and again (bench/ledger_subject.py,
`--big` events), projected once; and such a subject of `--listed` events (within the
fold cache's bound) refreshed 50 events at a time, with the render memo the cache
carries where the checkout has one (read_models/refresh.py `_memo`). Prints one
JSON line: process CPU per court refresh (µs, the best of `--rounds` passes), of the
big subject's projection (ms) and per refresh of the listed subject (ms). The states
are folded before the clock starts.

What it is for: the same file run from a checkout of each version, alternately
(`git archive` of the other), in process CPU time, which the shared machine's load
does not inflate (the wall clock of bench/ledger_refresh_cpu.py's steps does, and its
number of refreshes follows the debounce's timing).
"""

from __future__ import annotations

import argparse
import json
import time
from datetime import datetime
from typing import TYPE_CHECKING

from bench.ledger_subject import one_subject
from services.ledger.fold_cache import FoldCache, Folded
from services.ledger.read_models import refresh
from services.ledger.read_models.rows import project_state
from services.ledger.replay import fold_recorded, recorded_events
from services.ledger.store import StoredEvent
from shared.domain.envelope import Envelope
from shared.domain.fold_state import SubjectState
from tests.support.ledger_events import stored
from tests.support.ledger_workload import court_bulk

if TYPE_CHECKING:  # not in the checkouts before the render memo
    from shared.domain.status_view import RenderMemo

Step = tuple[str, SubjectState, StoredEvent, datetime]


def court_steps(debtors: int, per: int) -> list[Step]:
    listed = court_bulk(debtors, chunk=debtors)
    streams: dict[str, list[Envelope]] = {}
    for env in listed.envelopes:
        streams.setdefault(env.subject, []).append(env)
    steps: list[Step] = []
    for envelopes in streams.values():
        events = stored(envelopes)
        state: SubjectState | None = None
        for i in range(0, len(events), per):
            part = events[i : i + per]
            state = fold_recorded(recorded_events(part), events[0].stream, state)
            latest = max(e.effective_at for e in events[: i + per])
            steps.append((events[0].stream, state, part[-1], latest))
    return steps


def big_step(events: int) -> Step:
    stream = stored(one_subject(events))
    state = fold_recorded(recorded_events(stream), stream[0].stream)
    return stream[0].stream, state, stream[-1], max(e.effective_at for e in stream)


def listed_steps(events: int, per: int = 50) -> list[Step]:
    stream = stored(one_subject(events))
    steps: list[Step] = []
    state: SubjectState | None = None
    for i in range(0, len(stream), per):
        state = fold_recorded(recorded_events(stream[i : i + per]), stream[0].stream, state)
        latest = max(e.effective_at for e in stream[: i + per])
        steps.append((stream[0].stream, state, stream[min(i + per, len(stream)) - 1], latest))
    return steps


def _cpu(steps: list[Step]) -> float:
    """Project each step as the projector does, with the memo its fold cache would
    carry from the subject's previous step (where this checkout has one)."""
    memo_of = getattr(refresh, "_memo", None)
    cache = FoldCache()
    memos: dict[str, RenderMemo | None] = {}
    started = time.process_time()
    for subject, state, head, latest in steps:
        if memo_of is None:
            project_state(subject, state, head, latest)
            continue
        folded = Folded(head.stream_version, head.hash, state, latest, memo=memos.get(subject))
        memos[subject] = memo = memo_of(folded, cache)
        project_state(subject, state, head, latest, memo)
    return time.process_time() - started


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("debtors", type=int, nargs="?", default=100)
    parser.add_argument("--per", type=int, default=8)
    parser.add_argument("--big", type=int, default=10_000)
    parser.add_argument("--listed", type=int, default=2_000)
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args()
    steps = court_steps(args.debtors, args.per)
    court = min(_cpu(steps) for _ in range(args.rounds))
    big = [big_step(args.big)] if args.big else []
    big_s = min(_cpu(big) for _ in range(args.rounds)) if big else 0.0
    listed = listed_steps(args.listed) if args.listed else []
    listed_s = min(_cpu(listed) for _ in range(args.rounds)) if listed else 0.0
    out = {
        "debtors": args.debtors,
        "refreshes": len(steps),
        "court_us_per_refresh": round(1e6 * court / len(steps), 1),
        "big_events": args.big,
        "big_ms": round(1e3 * big_s, 1),
        "listed_events": args.listed,
        "listed_ms_per_refresh": round(1e3 * listed_s / max(len(listed), 1), 2),
    }
    print(json.dumps(out))


if __name__ == "__main__":
    main()
