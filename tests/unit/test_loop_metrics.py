"""The loop's metrics expose exactly what prometheus_client's own classes expose for the
same changes (shared/adapters/loop_metrics.py): same families, samples, labels and
values, in the text and the OpenMetrics formats; only the `_created` time stamps differ
(each object's own creation)."""

from __future__ import annotations

import math
import re

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from prometheus_client import CollectorRegistry, Counter, Histogram, generate_latest
from prometheus_client.openmetrics.exposition import generate_latest as generate_openmetrics

from shared.adapters.loop_metrics import LoopCounter, LoopHistogram

BUCKETS = (0.0005, 0.001, 0.002, 0.005, 0.01, 0.02, 0.05, 0.1, 0.25, 1.0)
_CREATED = re.compile(r"^(\S+_created(?:\{[^}]*\})?) \S+$", re.M)


def _exposed(registry: CollectorRegistry) -> tuple[str, str]:
    """Both formats, the `_created` values blanked."""
    return tuple(  # type: ignore[return-value]
        _CREATED.sub(r"\1 T", generate(registry).decode())
        for generate in (generate_latest, generate_openmetrics)
    )


amounts = st.floats(allow_nan=True, allow_infinity=True, min_value=None, max_value=None)
label = st.sampled_from(["GET", "POST", 'a"b', "é"])


@settings(max_examples=200, deadline=None)
@given(
    st.lists(st.tuples(label, st.sampled_from(["/v1/checks", "/x"]), amounts), max_size=40),
    st.sampled_from([BUCKETS, (0.005, 0.01, 0.025, 0.05, 0.1, math.inf), (0.0, 1.0)]),
)
def test_a_histogram_is_exposed_as_the_librarys(
    observed: list[tuple[str, str, float]], buckets: tuple[float, ...]
) -> None:
    ours, theirs = CollectorRegistry(), CollectorRegistry()
    mine = LoopHistogram("h_seconds", "doc", ["method", "route"], buckets=buckets, registry=ours)
    library = Histogram("h_seconds", "doc", ["method", "route"], buckets=buckets, registry=theirs)
    plain = LoopHistogram("p", "plain", buckets=buckets, registry=ours)
    plain_library = Histogram("p", "plain", buckets=buckets, registry=theirs)
    for method, route, amount in observed:
        mine.labels(method, route).observe(amount)
        library.labels(method, route).observe(amount)
        plain.observe(amount)
        plain_library.observe(amount)
    assert _exposed(ours) == _exposed(theirs)


@settings(max_examples=100, deadline=None)
@given(st.lists(st.tuples(label, st.floats(0, 1e6)), max_size=40))
def test_a_counter_is_exposed_as_the_librarys(counted: list[tuple[str, float]]) -> None:
    ours, theirs = CollectorRegistry(), CollectorRegistry()
    mine = LoopCounter("c", "doc", ["decision"], registry=ours)
    library = Counter("c", "doc", ["decision"], registry=theirs)
    plain = LoopCounter("plain_total", "plain", registry=ours)
    plain_library = Counter("plain_total", "plain", registry=theirs)
    for decision, amount in counted:
        mine.labels(decision).inc(amount)
        library.labels(decision).inc(amount)
        plain.inc()
        plain_library.inc()
    assert _exposed(ours) == _exposed(theirs)


def test_a_histogram_after_many_observations() -> None:
    ours, theirs = CollectorRegistry(), CollectorRegistry()
    mine = LoopHistogram("q", "doc", buckets=BUCKETS, registry=ours)
    library = Histogram("q", "doc", buckets=BUCKETS, registry=theirs)
    for i in range(10_000):
        mine.observe(i / 7_000)
        library.observe(i / 7_000)
    assert _exposed(ours) == _exposed(theirs)
    assert "q_count 10000.0" in generate_latest(ours).decode()


def test_misuse_is_refused_as_by_the_library() -> None:
    registry = CollectorRegistry()
    labelled = LoopHistogram("l", "doc", ["a"], registry=registry)
    with pytest.raises(ValueError, match="labels"):
        labelled.observe(1.0)
    with pytest.raises(ValueError, match="label values"):
        labelled.labels("x", "y")
    with pytest.raises(ValueError, match="sorted"):
        LoopHistogram("u", "doc", buckets=(2.0, 1.0))
    with pytest.raises(ValueError, match="two buckets"):
        LoopHistogram("u", "doc", buckets=(math.inf,))
    with pytest.raises(ValueError, match="negative"):
        LoopHistogram("u", "doc", buckets=(-1.0, 1.0))
    counter = LoopCounter("k", "doc", ["a"], registry=registry)
    with pytest.raises(ValueError, match="labels"):
        counter.inc()
    with pytest.raises(ValueError, match="non-negative"):
        counter.labels("x").inc(-1)
    with pytest.raises(ValueError, match="Duplicated"):  # the registry refuses a second one
        LoopCounter("k", "doc", ["a"], registry=registry)


def test_created_series_follow_the_librarys_switch(monkeypatch: pytest.MonkeyPatch) -> None:
    from prometheus_client import metrics

    monkeypatch.setattr(metrics, "_use_created", False)
    ours, theirs = CollectorRegistry(), CollectorRegistry()
    LoopCounter("c", "doc", registry=ours).inc()
    Counter("c", "doc", registry=theirs).inc()
    LoopHistogram("h", "doc", registry=ours).observe(0.1)
    Histogram("h", "doc", registry=theirs).observe(0.1)
    assert _exposed(ours) == _exposed(theirs)
    assert "_created" not in generate_latest(ours).decode()
