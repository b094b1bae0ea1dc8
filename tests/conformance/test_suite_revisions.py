"""The official MCP conformance suite's prerelease (npm `@modelcontextprotocol/conformance`
0.2.0-alpha.12, pinned by tests/tools/install) with both requirement sets, over streamable
HTTP: `--requirements 2025-11-25` (the initialize handshake) and `--requirements 2026-07-28`
(stateless: no initialize, per-request `_meta`, `server/discover`, routing headers).

Two capabilities, each served once by its generated package for both revisions (one server,
two protocol revisions): the seed, with its embedded mock upstream, and the conformance
fixture (fixture/everything.yaml), which exposes the tools, resources and prompts the suite
calls by name, backed by a real local upstream.

Every scenario the requirement set runs must pass, except those inexpressible.py lists, with
the reason; a listed scenario that passes fails the test, so the list stays true. The seed
is also let off what only the fixture declares ("n/a"). Each run's table is printed in the
terminal summary and kept under .cache/artifacts/conformance/.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.conformance.inexpressible import INEXPRESSIBLE, SEED_WITHOUT
from tests.conformance.suite import Listed, build_fixture, judge, record, required, run_suite
from tests.conftest import SEED_MODULE, SEED_PROJECT
from tests.support.service import RunningService
from tests.support.suite_upstream import SuiteUpstream

pytestmark = pytest.mark.integration
REVISIONS = ["2025-11-25", "2026-07-28"]


@pytest.fixture(scope="module")
def seed() -> Iterator[RunningService]:
    # The suite sends no credentials: inbound auth is off, as it would be behind a gateway.
    service = RunningService(SEED_PROJECT, SEED_MODULE, {}, ["--mock", "--no-auth"])
    try:
        service.wait_ready()
        yield service
    finally:
        service.stop()


@pytest.fixture(scope="module")
def fixture(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RunningService]:
    project, module = build_fixture(tmp_path_factory.mktemp("fixture"))
    with SuiteUpstream() as upstream:
        env = {"SUITE_UPSTREAM_BASE_URL": upstream.url}
        service = RunningService(project, module, env, ["--no-auth"])
        try:
            service.wait_ready(rest=False)
            yield service
        finally:
            service.stop()


def _conforms(
    request: pytest.FixtureRequest,
    name: str,
    service: RunningService,
    revision: str,
    output: Path,
    inapplicable: dict[str, Listed] | None = None,
) -> None:
    found, seconds, printed = run_suite(
        "0.2.0-alpha.12", service.mcp_url, output, "--requirements", revision
    )
    assert sorted(found) == sorted(required(revision)), printed
    title = f"{name}, --requirements {revision}, streamable HTTP"
    verdict = judge(title, found, seconds, INEXPRESSIBLE, inapplicable)
    record(request, verdict, f"{name}-{revision}-http")
    if verdict.failed or verdict.stale:
        pytest.fail("\n".join([*verdict.failed, *verdict.stale, "", verdict.table()]))


@pytest.mark.parametrize("revision", REVISIONS)
def test_the_seed(
    revision: str, seed: RunningService, tmp_path: Path, request: pytest.FixtureRequest
) -> None:
    _conforms(request, "seed", seed, revision, tmp_path / "results", SEED_WITHOUT)


@pytest.mark.parametrize("revision", REVISIONS)
def test_the_fixture_capability(
    revision: str, fixture: RunningService, tmp_path: Path, request: pytest.FixtureRequest
) -> None:
    _conforms(request, "fixture", fixture, revision, tmp_path / "results")
