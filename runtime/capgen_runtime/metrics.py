"""The service's Prometheus metrics, kept by prometheus_client.

One process counts in its own registry. Several workers of one server (`serve --workers`, or
gunicorn) use prometheus_client's multiprocess mode: `PROMETHEUS_MULTIPROC_DIR` names a folder
where every worker writes its figures, and a scrape of any worker sums them, so the totals are
the server's whichever worker answers (`serve` sets the folder from `<PREFIX>_METRICS_DIR`, or
makes a temporary one).
"""

from __future__ import annotations

import os
from typing import Any

from prometheus_client import (
    CONTENT_TYPE_LATEST,
    CollectorRegistry,
    Counter,
    Histogram,
    disable_created_metrics,
    generate_latest,
)
from prometheus_client.multiprocess import MultiProcessCollector

MULTIPROCESS_DIR = "PROMETHEUS_MULTIPROC_DIR"
MEDIA_TYPE = CONTENT_TYPE_LATEST
_MAX_SERIES = 4096  # label sets whose series lookups are kept
_BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0)
disable_created_metrics()  # type: ignore[no-untyped-call]  # `_created` series say when a process started counting: noise here


class Metrics:
    """Requests answered, upstream calls and their durations."""

    def __init__(self) -> None:
        self.registry = CollectorRegistry(auto_describe=False)
        self._answers: dict[tuple[Any, ...], tuple[Any, Any]] = {}  # series of requests
        self._upstream: dict[tuple[Any, ...], tuple[Any, Any]] = {}  # and of upstream answers
        registry = self.registry
        self.requests = Counter(
            "capgen_requests",
            "Requests answered, by adapter, method, route and status",
            ["adapter", "method", "route", "status"],
            registry=registry,
        )
        self.request_seconds = Histogram(
            "capgen_request_duration_seconds",
            "Time to the last byte of each answer",
            ["adapter", "method", "route"],
            registry=registry,
            buckets=_BUCKETS,
        )
        self.upstream_requests = Counter(
            "capgen_upstream_requests",
            "Upstream answers, by consumed namespace and status",
            ["namespace", "status"],
            registry=registry,
        )
        self.upstream_seconds = Histogram(
            "capgen_upstream_duration_seconds",
            "Time to each upstream answer's headers",
            ["namespace"],
            registry=registry,
            buckets=_BUCKETS,
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

    def answered(self, adapter: str, method: str, route: str, status: int, seconds: float) -> None:
        """One request answered: counted, and its duration observed."""
        labels = (adapter, method, route)
        self._count(self._answers, self.requests, self.request_seconds, labels, status, seconds)

    def upstream_answered(self, namespace: str, status: int, seconds: float) -> None:
        """One upstream answer: counted, and the time to its headers observed."""
        labels = (namespace,)
        self._count(
            self._upstream, self.upstream_requests, self.upstream_seconds, labels, status, seconds
        )

    @staticmethod
    def _count(
        kept: dict[tuple[Any, ...], tuple[Any, Any]],
        counter: Counter,
        histogram: Histogram,
        labels: tuple[str, ...],
        status: int,
        seconds: float,
    ) -> None:
        """`counter` (by `labels` and the status) counts one, `histogram` (by `labels`)
        observes `seconds`; the series of a label set looked up once (for the first
        `_MAX_SERIES` sets)."""
        key = (*labels, status)
        pair = kept.get(key)
        if pair is None:
            pair = (counter.labels(*labels, str(status)), histogram.labels(*labels))
            if len(kept) < _MAX_SERIES:
                kept[key] = pair
        pair[0].inc()
        pair[1].observe(seconds)

    def exposition(self) -> bytes:
        """The text exposition format: this process's figures, or every worker's summed."""
        if not os.environ.get(MULTIPROCESS_DIR):
            return generate_latest(self.registry)
        registry = CollectorRegistry(auto_describe=False)
        MultiProcessCollector(registry)  # type: ignore[no-untyped-call]
        return generate_latest(registry)
