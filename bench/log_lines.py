"""What a log line costs, in process: `python -m bench.log_lines [lines] [rounds]`.

The request measure (`shared/web/measure.py`) around a bare ASGI app, driven `lines`
times at INFO (one request line each) and at WARNING (no line), and a library's stdlib
record (`logging.getLogger("aiokafka.conn").warning(...)`) `lines` times; the lines go
to a file, as a service's stderr does under the local stack. Prints the CPU per request
(`process_time`, best of `rounds`) as one JSON line: the line's own cost is INFO's figure
less WARNING's. Run it under `py-spy record -- python -m bench.log_lines` to see where a
line's time goes (docs/benchmarks.md, "CPU per check: the request log line").
"""

from __future__ import annotations

import asyncio
import json
import logging
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from prometheus_client import CollectorRegistry, Counter, Histogram
from starlette.types import Message, Receive, Scope, Send

from shared.adapters.observability import BackboneMetrics, configure_logging
from shared.web.measure import RequestMeasure

_BODY = {"type": "http.response.body", "body": b'{"decision":"allow"}'}
_START = {"type": "http.response.start", "status": 200, "headers": []}


async def _bare(scope: Scope, receive: Receive, send: Send) -> None:
    await send(_START)
    await send(_BODY)


class _Route:
    path = "/v1/checks"


def _measure() -> RequestMeasure:
    registry = CollectorRegistry()
    requests = Counter("r", "r", ["method", "route", "status"], registry=registry)
    latency = Histogram("s", "s", ["method", "route"], registry=registry)
    return RequestMeasure(_bare, requests, latency, BackboneMetrics(registry))


async def _requests(n: int) -> float:
    measure = _measure()
    headers = [(b"x-correlation-id", b"4b1f0c2e9d8a4f6b8c7d6e5f4a3b2c1d")]

    async def receive() -> Message:
        return {"type": "http.request", "body": b"", "more_body": False}

    async def send(message: Message) -> None:
        return None

    scope: dict[str, Any] = {
        "type": "http",
        "method": "POST",
        "headers": headers,
        "route": _Route(),
    }
    started = time.process_time()
    for _ in range(n):
        await measure(scope, receive, send)
    return (time.process_time() - started) / n


def _library_records(n: int) -> float:
    log = logging.getLogger("aiokafka.conn")
    started = time.process_time()
    for i in range(n):
        log.warning("Unable to connect to node %s: %s", i, "connection refused")
    return (time.process_time() - started) / n


def main(lines: int = 20_000, rounds: int = 3) -> None:
    out = Path(tempfile.mkdtemp(prefix="jsb-log-lines-")) / "service.log"
    with open(out, "w", buffering=1, encoding="utf-8") as stream:
        sys.stderr, stderr = stream, sys.stderr  # the service's stderr: a file
        try:
            best: dict[str, float] = {}
            for _ in range(rounds):
                for level in ("INFO", "WARNING"):
                    configure_logging("responder", level)
                    us = 1e6 * asyncio.run(_requests(lines))
                    best[level] = min(best.get(level, us), us)
                configure_logging("responder", "INFO")
                us = 1e6 * _library_records(lines)
                best["library"] = min(best.get("library", us), us)
        finally:
            sys.stderr = stderr
    print(
        json.dumps(
            {
                "lines": lines,
                "rounds": rounds,
                "request_us_info": round(best["INFO"], 2),
                "request_us_warning": round(best["WARNING"], 2),
                "request_line_us": round(best["INFO"] - best["WARNING"], 2),
                "library_record_us": round(best["library"], 2),
                "log_bytes": out.stat().st_size,
            }
        )
    )
    out.unlink()


if __name__ == "__main__":
    main(
        int(sys.argv[1]) if len(sys.argv) > 1 else 20_000,
        int(sys.argv[2]) if len(sys.argv) > 2 else 3,
    )
