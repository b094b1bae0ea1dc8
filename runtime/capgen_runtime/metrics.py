"""The service's Prometheus metrics, kept by prometheus_client.

One process counts in its own registry. Several workers of one server (`serve --workers`, or
gunicorn) use prometheus_client's multiprocess mode: `PROMETHEUS_MULTIPROC_DIR` names a folder
where every worker writes its figures, and a scrape of any worker sums them, so the totals are
the server's whichever worker answers (`serve` sets the folder from `<PREFIX>_METRICS_DIR`, or
makes a temporary one).

What every request records (its count by status and its duration, and the same of its upstream
answer) is kept, in one process, as plain numbers (`Tally`) that the registry reads when it is
collected: prometheus_client's Counter and Histogram take a lock per value and look for the
bucket in Python, about 7% of a proxied request's own CPU for the four updates. The
exposition is the same text either way (tests/unit/test_metrics.py compares them).
"""

from __future__ import annotations

import math
import os
from bisect import bisect_left
from collections.abc import Iterator, Sequence
from typing import Any, Protocol

from prometheus_client import (
    CONTENT_TYPE_LATEST,
    CollectorRegistry,
    Counter,
    Histogram,
    disable_created_metrics,
    generate_latest,
)
from prometheus_client.metrics_core import (
    CounterMetricFamily,
    HistogramMetricFamily,
    Metric,
)
from prometheus_client.multiprocess import MultiProcessCollector
from prometheus_client.registry import Collector
from prometheus_client.utils import floatToGoString

MULTIPROCESS_DIR = "PROMETHEUS_MULTIPROC_DIR"
MEDIA_TYPE = CONTENT_TYPE_LATEST
_MAX_SERIES = 4096  # label sets whose series lookups are kept
_BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0)
_BOUNDS = (*_BUCKETS, math.inf)  # a histogram's upper bounds, as prometheus_client adds +Inf
_LE = tuple(floatToGoString(bound) for bound in _BOUNDS)  # type: ignore[no-untyped-call]
disable_created_metrics()  # type: ignore[no-untyped-call]  # `_created` series say when a process started counting: noise here


class Answers(Protocol):
    """Answers counted by their labels and status, and their durations by their labels."""

    def add(self, labels: tuple[str, ...], status: int, seconds: float) -> None: ...


class Tally(Collector):
    """A counter (by labels and status) and a histogram (by labels) in one process, as plain
    numbers: what prometheus_client's `Counter` and `Histogram` of the same names would expose,
    in the same order, read when the registry is collected. Updated on the event loop's thread,
    where every request is answered."""

    def __init__(self, counter: tuple[str, str], histogram: tuple[str, str], labels: Sequence[str]):
        self.counter, self.histogram, self.labels = counter, histogram, list(labels)
        self.counts: dict[tuple[Any, ...], list[float]] = {}  # by labels and status: [count]
        self.series: dict[tuple[str, ...], list[float]] = {}  # by labels: each bucket, then sum

    def add(self, labels: tuple[str, ...], status: int, seconds: float) -> None:
        key = (labels, status)
        count = self.counts.get(key)
        if count is None:
            count = self.counts[key] = [0.0]
        count[0] += 1.0
        series = self.series.get(labels)
        if series is None:
            series = self.series[labels] = [0.0] * (len(_BOUNDS) + 1)
        series[bisect_left(_BOUNDS, seconds)] += 1.0
        series[-1] += seconds

    def _families(self) -> tuple[CounterMetricFamily, HistogramMetricFamily]:
        return (
            CounterMetricFamily(*self.counter, labels=[*self.labels, "status"]),
            HistogramMetricFamily(*self.histogram, labels=self.labels),
        )

    def describe(self) -> Iterator[Metric]:
        yield from self._families()  # the names, reserved in the registry

    def collect(self) -> Iterator[Metric]:
        counter, histogram = self._families()
        for (labels, status), count in list(self.counts.items()):
            counter.add_metric([*labels, str(status)], count[0])
        yield counter
        for labels, series in list(self.series.items()):
            cumulative, buckets = 0.0, []
            for le, value in zip(_LE, series, strict=False):
                cumulative += value
                buckets.append((le, cumulative))
            histogram.add_metric(list(labels), buckets, series[-1])
        yield histogram


class Figures:
    """The same, in prometheus_client's own Counter and Histogram: what multiprocess mode
    writes to its folder for every worker to read."""

    def __init__(
        self,
        counter: tuple[str, str],
        histogram: tuple[str, str],
        labels: Sequence[str],
        registry: CollectorRegistry,
    ):
        self.counter = Counter(*counter, [*labels, "status"], registry=registry)
        self.histogram = Histogram(*histogram, labels, registry=registry, buckets=_BUCKETS)
        self.kept: dict[tuple[Any, ...], tuple[Any, Any]] = {}

    def add(self, labels: tuple[str, ...], status: int, seconds: float) -> None:
        """The series of a label set looked up once (for the first `_MAX_SERIES` sets)."""
        key = (labels, status)
        pair = self.kept.get(key)
        if pair is None:
            pair = (self.counter.labels(*labels, str(status)), self.histogram.labels(*labels))
            if len(self.kept) < _MAX_SERIES:
                self.kept[key] = pair
        pair[0].inc()
        pair[1].observe(seconds)


class Metrics:
    """Requests answered, upstream calls and their durations."""

    def __init__(self) -> None:
        self.registry = registry = CollectorRegistry(auto_describe=False)
        self.requests = self._answers(
            ("capgen_requests", "Requests answered, by adapter, method, route and status"),
            ("capgen_request_duration_seconds", "Time to the last byte of each answer"),
            ["adapter", "method", "route"],
        )
        self.upstream = self._answers(
            ("capgen_upstream_requests", "Upstream answers, by consumed namespace and status"),
            ("capgen_upstream_duration_seconds", "Time to each upstream answer's headers"),
            ["namespace"],
        )
        self.upstream_errors = Counter(
            "capgen_upstream_errors",
            "Upstream calls that failed, by kind (connection, timeout, deadline)",
            ["namespace", "kind"],
            registry=registry,
        )
        self.upstream_streams = Counter(
            "capgen_upstream_streams", "Upstream streams relayed", ["namespace"], registry=registry
        )
        self.stream_seconds = Histogram(
            "capgen_upstream_stream_seconds",
            "Duration of each relayed upstream stream",
            ["namespace"],
            registry=registry,
            buckets=_BUCKETS,
        )

    def _answers(
        self, counter: tuple[str, str], histogram: tuple[str, str], labels: Sequence[str]
    ) -> Answers:
        if os.environ.get(MULTIPROCESS_DIR):
            return Figures(counter, histogram, labels, self.registry)
        tally = Tally(counter, histogram, labels)
        self.registry.register(tally)
        return tally

    def answered(self, adapter: str, method: str, route: str, status: int, seconds: float) -> None:
        """One request answered: counted, and its duration observed."""
        self.requests.add((adapter, method, route), status, seconds)

    def upstream_answered(self, namespace: str, status: int, seconds: float) -> None:
        """One upstream answer: counted, and the time to its headers observed."""
        self.upstream.add((namespace,), status, seconds)

    def exposition(self) -> bytes:
        """The text exposition format: this process's figures, or every worker's summed."""
        if not os.environ.get(MULTIPROCESS_DIR):
            return generate_latest(self.registry)
        registry = CollectorRegistry(auto_describe=False)
        MultiProcessCollector(registry)  # type: ignore[no-untyped-call]
        return generate_latest(registry)
