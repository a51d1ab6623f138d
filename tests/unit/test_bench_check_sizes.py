"""The check bench's side-by-side sizes (bench/check_sizes.py) and how the summary
shows them beside the sequential ratios (bench/summary.py)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from bench import check_sizes, summary
from bench.servers import Server


def _server(name: str) -> Server:
    return Server(name, 0, {}, Path("/dev/null"))


class _Fake:
    """`_phase` and the peak RSS without processes: each size's figures by round."""

    def __init__(self, monkeypatch: pytest.MonkeyPatch) -> None:
        self.calls: list[str] = []
        self.p50 = {"small": [2.0, 1.0, 3.0, 9.0], "large": [2.2, 1.1, 3.3, 0.5]}
        monkeypatch.setattr(check_sizes, "_phase", self.phase)
        monkeypatch.setattr(
            check_sizes,
            "_idle",
            lambda servers: {n: {"responder": 1.0, "postgres": 2.0} for n in servers},
        )
        monkeypatch.setattr(Server, "peak_rss_mb", lambda s: 100.0 if s.app == "small" else 450.0)

    def phase(
        self, server: Server, bodies: Path, token: str, seconds: float, rates: tuple[str, ...]
    ) -> dict[str, dict[str, Any]]:
        round_ = sum(1 for c in self.calls if c == server.app)
        self.calls.append(server.app)
        p50 = self.p50[server.app][round_]
        figures = {key: 1.0 for key, _, _ in summary._SIDE_COLUMNS}
        return {
            rate: {
                **figures,
                "requests_per_s": 1000.0 * (2 if rate == "max" else 1),
                "p50_ms": p50,
                "errors": 0,
                "cpu_ms_per_check": 0.0,
            }
            for rate in rates
        }


def test_sizes_alternate_with_the_order_swapped_and_give_medians_and_ratios(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    fake = _Fake(monkeypatch)
    servers = {"small": (_server("small"), Path("s")), "large": (_server("large"), Path("l"))}
    out = check_sizes.side_by_side(servers, "t", 1, 4)
    assert fake.calls == ["small", "large", "large", "small"] * 2
    assert out["medians"]["small"]["half"]["p50_ms"] == 2.5  # median of 2, 1, 3, 9
    assert out["medians"]["large"]["half"]["p50_ms"] == pytest.approx(1.65)
    assert out["large_over_small"]["half"]["p50_ms"] == 0.66
    assert out["large_over_small"]["max"]["requests_per_s"] == 1.0
    assert "cpu_ms_per_check" not in out["large_over_small"]["max"]  # no ratio to a zero
    assert out["peak_rss_mb"] == {"small": 100.0, "large": 450.0}
    assert out["errors"] == 0
    assert out["large_over_small_by_round"]["half"]["p50_ms"] == [1.1, 1.1, 1.1, 0.056]
    assert out["large_over_small_by_round"]["max"]["cpu_ms_per_check"] == [None] * 4
    assert len(out["phases"]["small"]) == 4


def _size(p50: float) -> dict[str, Any]:
    run = {"requests_per_s": 4000.0, "p50_ms": p50, "p99_ms": 5.0}
    return {
        "baseline": {
            "max": run,
            "half": run,
            "server_cpu_ms_per_request": 0.09,
            "peak_rss_mb": 80.0,
        },
        "responder": {
            "max": run,
            "half": run,
            "server_cpu_ms_per_request": 0.12,
            "peak_rss_mb": 400.0,
        },
        "ratio_max_rate": 0.7,
    }


def _checks(**extra: Any) -> dict[str, Any]:
    return {
        "connections": 32,
        "sizes": {"10000": _size(1.7), "1000000": _size(2.3)},
        "sequential_large_over_small": {
            "p50_half_rate": 1.34,
            "p99_half_rate": 1.13,
            "max_rate": 1.0,
        },
        **extra,
    }


def test_the_summary_names_the_sequential_and_the_side_by_side_ratios_apart(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    _Fake(monkeypatch)
    servers = {"small": (_server("small"), Path("s")), "large": (_server("large"), Path("l"))}
    side = {
        "small": 10_000,
        "large": 1_000_000,
        "seconds_total": 150.0,
        **check_sizes.side_by_side(servers, "t", 8, 4),
    }
    text = "\n".join(summary._checks(_checks(side_by_side=side)))
    assert (
        "Sequential phases (minutes apart), largest over smallest size: p50 at half rate 1.34×"
        in text
    )
    assert "Side by side (the same minutes" in text
    assert "| **large / small** | half | 1.00× |" not in text  # the rate's ratio is bold
    assert "| **large / small** | half | **1.00×** | **0.66×** |" in text
    assert "| 1,000,000 | half | 1,000 | 1.65 |" in text
    assert "10,000 subjects 100 MB, 1,000,000 subjects 450 MB" in text
    assert "1,000,000 subjects 1.0 / 2.0." in text  # idle: responder / its Postgres
    assert "p50 at half rate 1.10 / 1.10 / 1.10 / 0.06; CPU at half rate – / – / – / –" in text


def test_a_summary_of_an_older_run_still_shows_its_sequential_ratios() -> None:
    old = _checks()
    old["latency_large_over_small"] = old.pop("sequential_large_over_small")
    text = "\n".join(summary._checks(old))
    assert "Sequential phases (minutes apart)" in text
    assert "Side by side" not in text
