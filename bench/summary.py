"""Collects the results of one `make bench` run (.local/bench/*.json written since it
started) into bench/results/<date>.json and a Markdown summary beside it.

    python -m bench.summary --since <unix time>
"""

from __future__ import annotations

import argparse
import json
from datetime import UTC, datetime
from typing import Any

from bench.machine import describe
from shared.adapters.settings import LOCAL_DIR, PROJECT_ROOT

RESULTS = PROJECT_ROOT / "bench" / "results"


def collect(since: float) -> dict[str, Any]:
    found: dict[str, Any] = {}
    for path in sorted((LOCAL_DIR / "bench").glob("*.json")):
        if path.stat().st_mtime >= since:
            found[path.stem] = json.loads(path.read_text())
    return found


def _fmt(x: float) -> str:
    return f"{x:,.0f}" if x >= 100 else f"{x:,.2f}"


def _checks(r: dict[str, Any]) -> list[str]:
    out = [
        "## Check API (`POST /v1/checks`)",
        "",
        f"wrk, {r['connections']} connections, half blocks / half allows; baseline: bare "
        "FastAPI endpoint returning a constant, same uvicorn settings, measured just before.",
        "",
        "| subjects | baseline req/s | responder req/s | **ratio** | p50 / p99 at max (ms) "
        "| p50 / p99 at half rate (ms) | baseline p99 at half (ms) | CPU ms/check "
        "| responder peak RSS (MB) | baseline RSS (MB) | group commit ms (checks/group) "
        "| index load (s) | at half rate, mean ms: served / journal queue / statement |",
        "|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for size, s in r["sizes"].items():
        b, o = s["baseline"], s["responder"]
        out.append(
            f"| {int(size):,} | {_fmt(b['max']['requests_per_s'])} "
            f"| {_fmt(o['max']['requests_per_s'])} | **{s['ratio_max_rate']:.2f}×** "
            f"| {o['max']['p50_ms']:.1f} / {o['max']['p99_ms']:.1f} "
            f"| {o['half']['p50_ms']:.1f} / {o['half']['p99_ms']:.1f} "
            f"({_fmt(o['half']['requests_per_s'])} req/s) "
            f"| {b['half']['p99_ms']:.1f} | {o['server_cpu_ms_per_request']:.3f} "
            f"(baseline {b['server_cpu_ms_per_request']:.3f}) "
            f"| {o['peak_rss_mb']:.0f} | {b['peak_rss_mb']:.0f} | {_group(o)} "
            f"| {s.get('index_load_seconds', '–')} | {_waits(o['half'])} |"
        )
    # runs before session 10 named the sequential ratios `latency_large_over_small`
    growth = r.get("sequential_large_over_small") or r.get("latency_large_over_small")
    if growth:
        out += [
            "",
            "Sequential phases (minutes apart), largest over smallest size: p50 at half "
            f"rate {growth['p50_half_rate']}×, p99 at half rate {growth['p99_half_rate']}×, "
            f"max rate {growth['max_rate']}×.",
        ]
    if "side_by_side" in r:
        out += ["", *_side_by_side(r["side_by_side"])]
    return out


_SIDE_COLUMNS = (
    ("requests_per_s", "req/s", "{:,.0f}"),
    ("p50_ms", "p50 (ms)", "{:.2f}"),
    ("p99_ms", "p99 (ms)", "{:.2f}"),
    ("cpu_ms_per_check", "CPU ms/check", "{:.3f}"),
    ("postgres_ms_per_check", "its Postgres ms/check", "{:.3f}"),
    ("served_ms", "served (ms)", "{:.2f}"),
    ("queued_ms", "journal queue (ms)", "{:.2f}"),
    ("group_ms", "group statement (ms)", "{:.2f}"),
)


def _side_by_side(s: dict[str, Any]) -> list[str]:
    """The sizes served side by side in the same minutes (bench.check_sizes): medians
    per size and rate, and large over small (the figure for the 1.2× target)."""
    med, ratio, rss = s["medians"], s["large_over_small"], s["peak_rss_mb"]
    out = [
        f"Side by side (the same minutes; the target's figure): {s['small']:,} and "
        f"{s['large']:,} subjects, each in its own responder with its index loaded, wrk "
        f"alternated between them, {s['rounds']} rounds of {s['seconds']:g} s per rate, "
        "the order swapped each round; medians. Half rate: half of each phase's own maximum.",
        "",
        "| subjects | rate | " + " | ".join(title for _, title, _ in _SIDE_COLUMNS) + " |",
        "|---:|---|" + "---:|" * len(_SIDE_COLUMNS),
    ]
    for name in ("small", "large"):
        for rate in med[name]:
            row = med[name][rate]  # a column a run did not measure yet: –
            cells = " | ".join(f.format(row[k]) if k in row else "–" for k, _, f in _SIDE_COLUMNS)
            out.append(f"| {s[name]:,} | {rate} | {cells} |")
    for rate in ratio:
        cells = " | ".join(
            f"**{ratio[rate][k]:.2f}×**" if k in ratio[rate] else "–" for k, _, _ in _SIDE_COLUMNS
        )
        out.append(f"| **large / small** | {rate} | {cells} |")
    by_round = s.get("large_over_small_by_round")
    if by_round:
        out += [
            "",
            "Large over small round by round (each round's two phases, minutes apart from "
            "the next round's; their spread is what the minute does to the ratio): "
            + "; ".join(
                f"{what} at {rate} rate "
                + " / ".join("–" if x is None else f"{x:.2f}" for x in by_round[rate][k])
                for rate in by_round
                for k, what in (("p50_ms", "p50"), ("cpu_ms_per_check", "CPU"))
                if k in by_round[rate]
            )
            + ".",
        ]
    idle = s.get("idle_cpu_ms_per_s")
    if idle:
        out += [
            "",
            "Idle (no check coming), CPU ms per second, responder / its Postgres backends: "
            + ", ".join(
                f"{s[n]:,} subjects {idle[n]['responder']:.1f} / {idle[n]['postgres']:.1f}"
                for n in ("small", "large")
            )
            + ".",
        ]
    out += [
        "",
        f"Peak RSS: {s['small']:,} subjects {rss['small']:.0f} MB, "
        f"{s['large']:,} subjects {rss['large']:.0f} MB; "
        f"this part took {s.get('seconds_total', '–')} s.",
    ]
    return out


def _waits(phase: dict[str, Any]) -> str:
    """Where a check waited (bench/check_waits.py): as served, before its group was
    taken, its group's statement."""
    w = phase.get("waits") or {}
    names = ("jsb_check_seconds", "responder_check_queued_seconds", "responder_check_group_seconds")
    if not all(n in w for n in names):
        return "–"
    return " / ".join(f"{w[n]['mean']:.1f}" for n in names)


def _group(o: dict[str, Any]) -> str:
    g = o.get("group_commit")
    return "–" if g is None else f"{g['mean_ms']:.2f} ({g['mean_checks']:.1f})"


def _kafka(r: dict[str, Any]) -> list[str]:
    out = [
        "## Kafka clients against Kafka's own tools",
        "",
        f"{r['record_bytes']}-byte records, acks=all, idempotent, fresh 3-partition topics; "
        "baseline: ProducerPerformance / ConsumerPerformance (kafka-tools) in the same run.",
        "",
        "| records | ProducerPerformance rec/s | aiokafka producer rec/s | **ratio** "
        "| ConsumerPerformance rec/s | aiokafka consumer rec/s | **ratio** "
        "| JVM peak RSS prod / cons (MB) | Python peak RSS (MB) |",
        "|---:|---:|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for n, s in r["sizes"].items():
        p, c = s["producer_perf"], s["consumer_perf"]
        out.append(
            f"| {int(n):,} | {_fmt(p['records_per_s'])} | {_fmt(s['aiokafka_producer_per_s'])} "
            f"| **{s['ratio_producer']:.2f}×** | {_fmt(c['records_per_s'])} "
            f"| {_fmt(s['aiokafka_consumer_per_s'])} | **{s['ratio_consumer']:.2f}×** "
            f"| {p['peak_rss_mb']:.0f} / {c['peak_rss_mb']:.0f} | {s['python_peak_rss_mb']:.0f} |"
        )
    return out


def _ledger(r: dict[str, Any]) -> list[str]:
    out = [
        "## Ledger (`test_ledger_scale_bench.py`)",
        "",
        "A bulk court list through the ledger's `Ingest` handler (one transaction per "
        "batch with its offsets); baselines on the same rows in the same run: raw `COPY` "
        "into a plain table, and eventsourcing's `PostgresApplicationRecorder` (the peer).",
        "",
        "| events | subjects | raw COPY ev/s | peer ev/s | ingest ev/s | **ingest / COPY** "
        "| **ingest / peer** | rebuild ev/s | peak RSS MB: ingest / rebuild / COPY / peer |",
        "|---:|---:|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for size in r["sizes"].values():
        c, p, i, b = size["raw_copy"], size["peer_eventsourcing"], size["ingest"], size["rebuild"]
        out.append(
            f"| {size['events']:,} | {size['subjects']:,} | {_fmt(c['events_per_s'])} "
            f"| {_fmt(p['events_per_s'])} | {_fmt(i['events_per_s'])} "
            f"| **{size['ingest_over_raw_copy']:.3f}×** | **{size['ingest_over_peer']:.2f}×** "
            f"| {_fmt(b['events_per_s'])} | {i['peak_rss_mb']:.0f} / {b['peak_rss_mb']:.0f} "
            f"/ {c['peak_rss_mb']:.0f} / {p['peak_rss_mb']:.0f} |"
        )
    out += [
        "",
        "One subject: history plus status as of the middle of its history (route functions).",
        "",
        "| events | first read (ms) | best of 5 (ms) | peak RSS (MB) |",
        "|---:|---:|---:|---:|",
    ]
    for events, s in r["subject"].items():
        out.append(
            f"| {int(events):,} | {s['first_ms']:.0f} | {s['best_ms']:.0f} "
            f"| {s['peak_rss_mb']:.0f} |"
        )
    return out


def markdown(results: dict[str, Any]) -> str:
    m = results["machine"]
    lines = [
        f"# Benchmarks — {results['date']}",
        "",
        f"Machine: {m['cpu']}, {m['cores']} cores, {m['memory_gb']} GB, Python {m['python']}, "
        f"load average at the end {m['load_average']} (shared with other work: every figure "
        "is compared with a baseline measured in the same run).",
        "",
    ]
    runs = results["runs"]
    if "checks" in runs:
        lines += [*_checks(runs["checks"]), ""]
    if "kafka" in runs:
        lines += [*_kafka(runs["kafka"]), ""]
    if "ledger-scale" in runs:
        lines += [*_ledger(runs["ledger-scale"]), ""]
    for name, r in runs.items():
        if name in ("checks", "kafka", "ledger-scale"):
            continue
        lines += [f"## {name}", "", "```json", json.dumps(r, indent=2)[:4000], "```", ""]
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--since", type=float, required=True)
    parser.add_argument(
        "--merge",
        action="store_true",
        help="keep the runs already in today's file (one benchmark run alone)",
    )
    args = parser.parse_args()
    date = datetime.now(UTC).strftime("%Y-%m-%d")
    runs = collect(args.since)
    machine = describe()
    today = RESULTS / f"{date}.json"
    if args.merge and today.exists():
        # The day's machine block describes the day's full run; a merged run keeps
        # its own (the load differs from one run to the next).
        before = json.loads(today.read_text())
        runs = {**before["runs"], **{k: {"machine": machine, **r} for k, r in runs.items()}}
        machine = before["machine"]
    results = {"date": date, "machine": machine, "runs": runs}
    RESULTS.mkdir(parents=True, exist_ok=True)
    (RESULTS / f"{date}.json").write_text(json.dumps(results, indent=2) + "\n")
    (RESULTS / f"{date}.md").write_text(markdown(results))
    print(f"bench: wrote bench/results/{date}.json and {date}.md")


if __name__ == "__main__":
    main()
