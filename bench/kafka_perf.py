"""Kafka's own performance tools (`kafka-tools`, resolved by deploy/kafka/pom.xml, run
with the machine's Java): the baseline of the Kafka and pipeline benchmarks."""

from __future__ import annotations

import os
import re
import secrets
import subprocess
from pathlib import Path
from typing import Any

from shared.adapters.settings import LOCAL_DIR, PROJECT_ROOT

LIBS = Path(os.environ.get("JSB_LOCAL_DIR", LOCAL_DIR)) / "kafka" / "libs"


def tools_resolved() -> bool:
    return (LIBS / f"kafka-tools-{kafka_version()}.jar").exists()


def _java(main: str, *args: str) -> tuple[str, float]:
    """Run a Kafka tool; its output and its peak RSS (MB, from GNU time)."""
    log4j = PROJECT_ROOT / "deploy" / "kafka" / "log4j2.yaml"
    cmd = ["/usr/bin/time", "-f", "maxrss_kb=%M", "java", "-Xmx512m", "-cp", f"{LIBS}/*"]
    cmd += [f"-Dlog4j2.configurationFile={log4j}", main, *args]
    out = subprocess.run(cmd, capture_output=True, text=True, timeout=600, check=True)
    rss = re.search(r"maxrss_kb=(\d+)", out.stderr)
    return out.stdout, int(rss.group(1)) / 1024 if rss else 0.0


def producer_perf(bootstrap: str, topic: str, n: int, record_bytes: int) -> dict[str, Any]:
    out, rss = _java(
        "org.apache.kafka.tools.ProducerPerformance",
        *("--topic", topic, "--num-records", str(n), "--record-size", str(record_bytes)),
        *("--throughput", "-1", "--producer-props", f"bootstrap.servers={bootstrap}"),
        *("acks=all", "enable.idempotence=true", "linger.ms=5"),
    )
    last = [line for line in out.splitlines() if "records sent" in line][-1]
    m = re.search(r"([\d.]+) records/sec.*?([\d.]+) ms avg latency.*?([\d.]+) ms max", last)
    assert m is not None, out
    p99 = re.search(r"([\d.]+) ms 99th", last)
    return {
        "records_per_s": float(m.group(1)),
        "avg_latency_ms": float(m.group(2)),
        "p99_latency_ms": float(p99.group(1)) if p99 else None,
        "peak_rss_mb": round(rss, 1),
    }


def consumer_perf(bootstrap: str, topic: str, n: int) -> dict[str, Any]:
    out, rss = _java(
        "org.apache.kafka.tools.ConsumerPerformance",
        *("--bootstrap-server", bootstrap, "--topic", topic, "--messages", str(n)),
        *("--group", f"perf{secrets.token_hex(4)}", "--timeout", "60000"),
    )
    # start.time, end.time, MB, MB.sec, nMsg, nMsg.sec, rebalance.time.ms, fetch.time.ms,
    # fetch.MB.sec, fetch.nMsg.sec (fetch.*: without the group join, as measured below)
    rows = [
        [v.strip() for v in line.split(",")]
        for line in out.splitlines()
        if re.match(r"^\d{4}-\d\d-\d\d \S+, \d{4}-", line)
    ]
    assert rows, out
    values = rows[-1]
    return {
        "records_per_s": float(values[9]),
        "records_per_s_with_group_join": float(values[5]),
        "records": int(float(values[4])),
        "peak_rss_mb": round(rss, 1),
    }


def kafka_version() -> str:
    pom = (PROJECT_ROOT / "deploy" / "kafka" / "pom.xml").read_text()
    m = re.search(r"<kafka.version>([^<]+)</kafka.version>", pom)
    assert m is not None
    return m.group(1)
