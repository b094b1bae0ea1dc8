"""A sample of the shared corpus, built, served and exercised in CI (the whole corpus is `nox -s corpus`).

At least 30 specs from several providers, smallest first per provider so the run stays within
CI's budget even with a cold formatting cache. The sample is copied into tests/data/corpus so
CI needs nothing beside the checkout; `CAPGEN_CORPUS` samples another folder instead.
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from tests.conftest import ROOT
from tests.corpus.harness import Responder, SpecRun, select
from tests.support.fake_upstream import FakeUpstream

CORPUS = Path(os.environ.get("CAPGEN_CORPUS", ROOT / "tests" / "data" / "corpus"))
SAMPLE = 32

pytestmark = [pytest.mark.corpus, pytest.mark.integration]


def _sample() -> list[Path]:
    specs = [p for p in CORPUS.rglob("*") if p.suffix in (".yaml", ".yml")]
    return select(specs, CORPUS, SAMPLE, max_bytes=120_000)


@pytest.fixture(scope="module")
def corpus_upstream() -> FakeUpstream:
    upstream = FakeUpstream()
    upstream.responder = Responder()
    upstream.start()
    yield upstream
    upstream.stop()


def test_the_sample_spans_providers() -> None:
    sample = _sample()
    providers = {
        SpecRun(p, Path("."), FakeUpstream(), Responder(), CORPUS).report.provider for p in sample
    }
    assert len(sample) >= 30
    assert len(providers) >= 10


@pytest.mark.parametrize("spec", _sample(), ids=lambda p: str(p.relative_to(CORPUS)))
def test_spec_builds_serves_and_sends_what_the_spec_implies(
    spec: Path, corpus_upstream: FakeUpstream, tmp_path: Path
) -> None:
    responder = corpus_upstream.responder
    assert isinstance(responder, Responder)
    report = SpecRun(spec, tmp_path, corpus_upstream, responder, CORPUS).run()
    assert report.built and report.imported and report.served, report.failures
    assert report.failures == []
    if report.adapters:
        assert report.rest[1] + report.mcp[1] > 0, "nothing was exercised"
