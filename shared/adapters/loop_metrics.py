"""Counters and histograms written by the event loop's thread alone, without a lock,
exposed exactly as prometheus_client's own `Counter` and `Histogram`.

Why: prometheus_client's metrics take a lock for every change (a `threading.Lock`
around each value: a histogram's observation takes two, its sum's and its bucket's) and
check on every call that they may be observed. A check made five such changes (the
request's count and two latencies, its decision's count, its wait in the journal):
1.2-1.5 us per observation and 0.7 us per count against 0.3 / 0.1 us here (`timeit`),
~5 % of a check's event loop in the profiles (docs/benchmarks.md, "CPU per check:
session 9"). The services change these metrics from the event loop only, and serve
`/metrics` from it (an `async def` route), so no other thread writes them; a reader on
another thread would still see each series consistent, since a series' values live in
one list copied in one C call (atomic under the GIL) when collected.

The exposition is prometheus_client's: the same families, sample names, labels and
values (`_total` and `_created` for a counter; the cumulative `_bucket`s with `le`,
`_count`, `_sum` and `_created` for a histogram; tested against the library's own
classes fed the same values, tests/unit/test_loop_metrics.py).
"""

from __future__ import annotations

import math
import time
from bisect import bisect_left
from collections.abc import Callable, Iterable, Sequence
from typing import Generic, TypeVar

from prometheus_client import CollectorRegistry
from prometheus_client import metrics as library
from prometheus_client.metrics import Histogram
from prometheus_client.metrics_core import CounterMetricFamily, HistogramMetricFamily, Metric
from prometheus_client.registry import Collector
from prometheus_client.utils import floatToGoString

DEFAULT_BUCKETS: tuple[float, ...] = tuple(Histogram.DEFAULT_BUCKETS)
_Child = TypeVar("_Child")


class LoopCounterChild:
    """One series of a `LoopCounter`."""

    __slots__ = ("_created", "value")

    def __init__(self) -> None:
        self.value = 0.0
        self._created = time.time()

    def inc(self, amount: float = 1.0) -> None:
        if amount < 0:
            raise ValueError("Counters can only be incremented by non-negative amounts.")
        self.value += amount


class _Series(Collector, Generic[_Child]):
    """A family's series by label values (prometheus_client's `labels()`), made by
    `make` on first use; a family without labels has its one series from the start."""

    def __init__(
        self,
        name: str,
        documentation: str,
        labelnames: Sequence[str],
        registry: CollectorRegistry | None,
        make: Callable[[], _Child],
    ) -> None:
        self._name = name
        self._documentation = documentation
        self._labelnames = tuple(labelnames)
        self._make = make
        self._children: dict[tuple[str, ...], _Child] = {}
        if not self._labelnames:
            self._children[()] = make()
        if registry is not None:
            registry.register(self)

    def labels(self, *values: object) -> _Child:
        if len(values) != len(self._labelnames):
            raise ValueError(f"expected {len(self._labelnames)} label values, got {len(values)}")
        key = tuple(str(v) for v in values)
        child = self._children.get(key)
        if child is None:
            child = self._children[key] = self._make()
        return child

    def describe(self) -> Iterable[Metric]:
        return [self._family()]

    def _family(self) -> Metric:
        """The family, empty (its type, name, help and label names)."""
        raise NotImplementedError

    def _only(self) -> _Child:
        """The one series of a family without labels."""
        if self._labelnames:
            raise ValueError(f"{self._name}: a labelled metric is changed through labels()")
        return self._children[()]


class LoopCounter(_Series[LoopCounterChild]):
    """prometheus_client's `Counter` (`inc`, `labels`), for one writing thread."""

    def __init__(
        self,
        name: str,
        documentation: str,
        labelnames: Sequence[str] = (),
        registry: CollectorRegistry | None = None,
    ) -> None:
        super().__init__(
            name.removesuffix("_total"), documentation, labelnames, registry, LoopCounterChild
        )

    def inc(self, amount: float = 1.0) -> None:
        self._only().inc(amount)

    def _family(self) -> CounterMetricFamily:
        return CounterMetricFamily(self._name, self._documentation, labels=self._labelnames)

    def collect(self) -> Iterable[Metric]:
        family = self._family()
        for key, child in list(self._children.items()):
            created = child._created if _use_created() else None
            family.add_metric(list(key), child.value, created=created)
        return [family]


class LoopHistogramChild:
    """One series of a `LoopHistogram`: its buckets' counts (not cumulative), then
    its sum, in one list."""

    __slots__ = ("_bounds", "_created", "_values")

    def __init__(self, bounds: list[float]) -> None:
        self._bounds = bounds
        self._values = [0.0] * (len(bounds) + 1)
        self._created = time.time()

    def observe(self, amount: float) -> None:
        values = self._values
        values[-1] += amount
        if amount == amount:  # NaN: counted in the sum only, in no bucket (as the library)
            values[bisect_left(self._bounds, amount)] += 1

    def snapshot(self) -> tuple[list[float], float]:
        """Cumulative bucket counts and the sum, read together."""
        values = self._values[:]  # one C call: consistent under the GIL
        total, cumulative = 0.0, []
        for count in values[:-1]:
            total += count
            cumulative.append(total)
        return cumulative, values[-1]


class LoopHistogram(_Series[LoopHistogramChild]):
    """prometheus_client's `Histogram` (`observe`, `labels`, `buckets`), for one
    writing thread."""

    def __init__(
        self,
        name: str,
        documentation: str,
        labelnames: Sequence[str] = (),
        buckets: Sequence[float] = DEFAULT_BUCKETS,
        registry: CollectorRegistry | None = None,
    ) -> None:
        bounds = [float(b) for b in buckets]
        if bounds != sorted(bounds):
            raise ValueError("Buckets not in sorted order")
        if not bounds or bounds[-1] != math.inf:
            bounds.append(math.inf)
        if len(bounds) < 2:
            raise ValueError("Must have at least two buckets")
        if bounds[0] < 0:  # the library leaves such a histogram's sum out: not needed here
            raise ValueError("negative buckets are not supported")
        self._le = [floatToGoString(b) for b in bounds]  # type: ignore[no-untyped-call]
        super().__init__(
            name, documentation, labelnames, registry, lambda: LoopHistogramChild(bounds)
        )

    def observe(self, amount: float) -> None:
        self._only().observe(amount)

    def _family(self) -> HistogramMetricFamily:
        return HistogramMetricFamily(self._name, self._documentation, labels=self._labelnames)

    def collect(self) -> Iterable[Metric]:
        family = self._family()
        for key, child in list(self._children.items()):
            cumulative, total = child.snapshot()
            family.add_metric(list(key), list(zip(self._le, cumulative, strict=True)), total)
            if _use_created():
                labels = dict(zip(self._labelnames, key, strict=True))
                family.add_sample(self._name + "_created", labels, child._created)
        return [family]


def _use_created() -> bool:
    """Whether the library exports `_created` series (`PROMETHEUS_DISABLE_CREATED_SERIES`,
    `disable_created_metrics()`): asked as the library's own metrics ask it."""
    return bool(getattr(library, "_use_created", True))
