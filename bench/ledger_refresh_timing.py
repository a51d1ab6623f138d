"""When the ledger's projector refreshed each subject, against when its events came:

    python -m bench.ledger_refresh_timing DUMP.json [--per S ...] [--settings Q,B ...]

`bench.pipeline_cpu N --dump DUMP.json` keeps, before its stack goes, every ledger
event's (subject, recorded time) and every status message's (subject, enqueue time)
of the run. This prints, from such a file, the refreshes per subject the run made,
the projection rounds it took (the status messages of a round share their enqueue
time: the transaction's), and a replay of the projector on the same arrivals
(`simulate`): rounds of at most `batch` subjects taken as the projector takes them
(quiet for `quiet` s or first queued `bound` s ago, oldest first queued first), each
round lasting `per` s of wall time per subject it refreshes. With `per` set to what
the run's rounds took, the replay gives the run's refreshes and its tail (the last
refresh after the last event); varying `per` and the debounce (`--settings`) shows
which of the two sets the refreshes (docs/benchmarks.md, Ledger, "Eighth round").
"""

from __future__ import annotations

import argparse
import json
import statistics
from collections import Counter
from pathlib import Path
from typing import Any

import asyncpg


async def dump(pg_url: str, schema: str) -> dict[str, Any]:
    """The run's arrivals and status messages (schema: the run's ledger schema)."""
    conn = await asyncpg.connect(pg_url)
    try:  # the schema name is the bench's own, not input
        events = await conn.fetch(
            f"SELECT stream, extract(epoch FROM recorded_at) AS at, type FROM {schema}.events"  # noqa: S608
            " ORDER BY position"
        )
        statuses = await conn.fetch(
            f"SELECT key, extract(epoch FROM created_at) AS at FROM {schema}.outbox"  # noqa: S608
            " WHERE topic LIKE 'jsb.status%' ORDER BY id"
        )
    finally:
        await conn.close()
    return {
        "events": [(r["stream"], float(r["at"]), r["type"]) for r in events],
        "statuses": [(r["key"], float(r["at"])) for r in statuses],
    }


def by_subject(pairs: list[Any]) -> dict[str, list[float]]:
    found: dict[str, list[float]] = {}
    for subject, at, *_ in pairs:
        found.setdefault(subject, []).append(at)
    return found


def simulate(
    arrivals: list[tuple[float, str]],
    per: float,
    quiet: float = 0.5,
    bound: float = 4.0,
    batch: int = 200,
) -> tuple[int, float]:
    """(refreshes, the end of the last round) of the projector's rounds over
    `arrivals` ((time, subject), sorted): a round at `t` takes the queued subjects
    quiet since `t - quiet` or first queued by `t - bound`, oldest first queued first,
    at most `batch`, and lasts `per` s per subject; it projects their events up to
    `t`; with none due it waits for the next arrival or the next subject due (the
    service wakes at a batch and polls every second: close to it)."""
    queued: dict[str, tuple[float, float, int]] = {}  # first queued, last touched, order
    i = refreshes = order = 0
    t = end = 0.0
    while i < len(arrivals) or queued:
        while i < len(arrivals) and arrivals[i][0] <= t:
            at, subject = arrivals[i]
            first = queued.get(subject)
            order += 1
            queued[subject] = (at, at, order) if first is None else (first[0], at, first[2])
            i += 1
        due = sorted(
            (v[0], v[2], s) for s, v in queued.items() if v[0] <= t - bound or v[1] <= t - quiet
        )[:batch]
        if not due:  # wait for the next arrival or the next subject due, if sooner
            soon = [min(v[0] + bound, v[1] + quiet) for v in queued.values()]
            if i < len(arrivals):
                soon.append(arrivals[i][0])
            t = max(t + 1e-6, min(soon))
            continue
        for _, _, subject in due:
            del queued[subject]
        refreshes += len(due)
        t = end = t + per * len(due)
    return refreshes, end


def summary(
    data: dict[str, Any], pers: list[float], settings: list[tuple[float, float]]
) -> dict[str, Any]:
    events = by_subject(data["events"])
    t0 = min(min(a) for a in events.values())
    arrivals = sorted((at - t0, s) for s, a in events.items() for at in a)
    spans = [max(a) - min(a) for a in events.values()]
    rounds = Counter(at for _, at in data["statuses"])
    out: dict[str, Any] = {
        "subjects": len(events),
        "events": len(arrivals),
        "arrival_span_s": {
            "p50": round(statistics.median(spans), 2),
            "p90": round(sorted(spans)[int(0.9 * len(spans))], 2),
        },
        "last_event_s": round(arrivals[-1][0], 1),
        "run_refreshes_per_subject": round(len(data["statuses"]) / len(events), 2),
        "run_rounds": len(rounds),
        "run_subjects_per_round_p50": statistics.median(rounds.values()),
        "run_last_refresh_s": round(max(rounds) - t0, 1),
    }
    for per in pers:
        for quiet, bound in settings:
            refreshes, end = simulate(arrivals, per, quiet, bound)
            out[f"replay per={per} quiet={quiet} bound={bound}"] = {
                "refreshes_per_subject": round(refreshes / len(events), 2),
                "last_refresh_s": round(end, 1),
            }
    return out


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("dump", type=Path)
    parser.add_argument("--per", nargs="*", type=float, default=[0.005, 0.01, 0.03])
    parser.add_argument("--settings", nargs="*", default=["0.5,4", "2,4", "2,16"])
    args = parser.parse_args()
    settings = [(float(q), float(b)) for q, b in (s.split(",") for s in args.settings)]
    data = json.loads(args.dump.read_text())
    print(json.dumps(summary(data, args.per, settings), indent=1))


if __name__ == "__main__":
    main()
