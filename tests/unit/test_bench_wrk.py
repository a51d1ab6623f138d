"""The bench's reading of wrk's report (bench/wrk.py)."""

from __future__ import annotations

import pytest

from bench.wrk import parse

REPORT = """Running 2s test @ http://127.0.0.1:50031/v1/checks
  1 threads and 32 connections
  Thread Stats   Avg      Stdev     Max   +/- Stdev
    Latency   309.65ms  218.48ms   1.21s    74.85%
    Req/Sec    88.22     40.57   165.00     72.22%
  Latency Distribution
     50%  299.23ms
     75%  402.54ms
     90%  605.67ms
     99%    1.09s \n  163 requests in 2.04s, 60.39KB read
  Socket errors: connect 0, read 0, write 0, timeout 3
  Non-2xx or 3xx responses: 2
Requests/sec:     80.08
Transfer/sec:     29.67KB
"""


def test_latencies_in_every_unit_even_with_trailing_blanks() -> None:
    # wrk pads a latency in seconds with a blank: "1.09s " (the bench once failed on it).
    result = parse(REPORT, connections=32, duration_s=2)
    assert (result.p50_ms, result.p75_ms, result.p90_ms) == (299.23, 402.54, 605.67)
    assert result.p99_ms == pytest.approx(1090.0)
    assert (result.requests, result.requests_per_s) == (163, 80.08)
    assert result.errors == 5


def test_microseconds() -> None:
    report = REPORT.replace("299.23ms", "812.00us")
    assert parse(report, connections=32, duration_s=2).p50_ms == pytest.approx(0.812)
