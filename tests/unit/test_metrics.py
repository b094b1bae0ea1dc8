"""The per-request figures kept as plain numbers (`Tally`) expose what prometheus_client's own
Counter and Histogram expose for the same observations: the library is the oracle."""

from __future__ import annotations

import pytest
from capgen_runtime import metrics
from capgen_runtime.metrics import MULTIPROCESS_DIR, Figures, Metrics, Tally
from prometheus_client import CollectorRegistry, Counter, Histogram, generate_latest

COUNTER = ("capgen_requests", "Requests answered")
HISTOGRAM = ("capgen_request_duration_seconds", "Time to the last byte")
LABELS = ["adapter", "method", "route"]
OBSERVED = [  # interleaved label sets and statuses; durations on, between and past the bounds
    (("rest", "POST", "/v1/a"), 200, 0.0),
    (("rest", "POST", "/v1/a"), 200, 0.005),
    (("rest", "GET", "/v1/b"), 404, 0.0050001),
    (("rest", "POST", "/v1/a"), 502, 30.0),
    (("mcp", "POST", "/mcp"), 200, 31.5),
    (("rest", "POST", "/v1/a"), 200, 0.27),
    (("rest", "GET", "/v1/b"), 200, 1e-7),
    (("mcp", "POST", "/mcp"), 200, 2.5),
]


def _library(observed: list[tuple[tuple[str, ...], int, float]]) -> bytes:
    registry = CollectorRegistry(auto_describe=False)
    counter = Counter(*COUNTER, [*LABELS, "status"], registry=registry)
    histogram = Histogram(*HISTOGRAM, LABELS, registry=registry, buckets=metrics._BUCKETS)
    for labels, status, seconds in observed:
        counter.labels(*labels, str(status)).inc()
        histogram.labels(*labels).observe(seconds)
    return generate_latest(registry)


@pytest.mark.parametrize("count", [0, 1, 3, len(OBSERVED)])
def test_tally_exposes_what_counter_and_histogram_expose(count: int) -> None:
    registry = CollectorRegistry(auto_describe=False)
    tally = Tally(COUNTER, HISTOGRAM, LABELS)
    registry.register(tally)
    for labels, status, seconds in OBSERVED[:count]:
        tally.add(labels, status, seconds)
    assert generate_latest(registry) == _library(OBSERVED[:count])


def test_tally_reserves_its_names() -> None:
    registry = CollectorRegistry(auto_describe=False)
    registry.register(Tally(COUNTER, HISTOGRAM, LABELS))
    with pytest.raises(ValueError, match="Duplicated"):
        Counter(*COUNTER, [], registry=registry)


def test_one_process_tallies_and_workers_use_the_library(
    monkeypatch: pytest.MonkeyPatch, tmp_path: object
) -> None:
    monkeypatch.delenv(MULTIPROCESS_DIR, raising=False)
    alone = Metrics()
    assert isinstance(alone.requests, Tally) and isinstance(alone.upstream, Tally)
    monkeypatch.setenv(MULTIPROCESS_DIR, str(tmp_path))
    assert isinstance(Metrics().requests, Figures)


def test_metrics_exposition_in_one_process(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv(MULTIPROCESS_DIR, raising=False)
    figures = Metrics()
    figures.answered("rest", "POST", "/v1/a", 200, 0.02)
    figures.upstream_answered("upstream", 503, 0.3)
    lines = figures.exposition().decode().splitlines()
    route = 'method="POST",route="/v1/a"'
    assert f'capgen_requests_total{{adapter="rest",{route},status="200"}} 1.0' in lines
    assert (
        f'capgen_request_duration_seconds_bucket{{adapter="rest",le="0.01",{route}}} 0.0' in lines
    )
    assert (
        f'capgen_request_duration_seconds_bucket{{adapter="rest",le="0.025",{route}}} 1.0' in lines
    )
    assert 'capgen_upstream_requests_total{namespace="upstream",status="503"} 1.0' in lines
    assert 'capgen_upstream_duration_seconds_bucket{le="0.25",namespace="upstream"} 0.0' in lines
    assert 'capgen_upstream_duration_seconds_bucket{le="0.5",namespace="upstream"} 1.0' in lines
    assert 'capgen_upstream_duration_seconds_sum{namespace="upstream"} 0.3' in lines
