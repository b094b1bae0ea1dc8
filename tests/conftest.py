"""Shared fixtures: paths, the golden-update switch, the fake upstream, the served seed."""

from __future__ import annotations

import sys
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from tests.support.fake_upstream import FakeUpstream
from tests.support.packages import Built, make_fixture
from tests.support.service import RunningService

ROOT = Path(__file__).resolve().parent.parent
SEED_SPEC = ROOT / "specs" / "workers-ai-ai-inference.yaml"
SEED_PROJECT = ROOT / "generated" / "workers_ai_ai_inference"
SEED_MODULE = "workers_ai_ai_inference"
UPSTREAM_KEY = "test-upstream-key"
INBOUND_TOKEN = "test-inbound-token-7f3a"

if str(SEED_PROJECT) not in sys.path:  # the runtime unit tests import the committed seed package
    sys.path.insert(0, str(SEED_PROJECT))


def pytest_addoption(parser: pytest.Parser) -> None:
    parser.addoption(
        "--update-goldens",
        action="store_true",
        help="rewrite the expected files of snapshot and error cases instead of comparing",
    )


def pytest_terminal_summary(terminalreporter: pytest.TerminalReporter) -> None:
    """The conformance tables the official-suite tests recorded (also under .cache/artifacts)."""
    tables = [
        value
        for reports in terminalreporter.stats.values()
        for report in reports
        if getattr(report, "when", None) == "call"
        for key, value in getattr(report, "user_properties", ())
        if key == "conformance"
    ]
    if tables:
        terminalreporter.section("MCP conformance")
        for table in sorted(tables):
            terminalreporter.write_line(table)


@pytest.fixture
def update_goldens(request: pytest.FixtureRequest) -> bool:
    return bool(request.config.getoption("--update-goldens"))


@pytest.fixture
def anyio_backend() -> str:
    return "asyncio"


@pytest.fixture(scope="session")
def fake_upstream_server() -> Iterator[FakeUpstream]:
    server = FakeUpstream()
    server.start()
    yield server
    server.stop()


@pytest.fixture
def upstream(fake_upstream_server: FakeUpstream) -> FakeUpstream:
    fake_upstream_server.reset()
    return fake_upstream_server


def seed_env(upstream_url: str) -> dict[str, str]:
    return {
        "CLOUDFLARE_API_KEY": UPSTREAM_KEY,
        "WORKERS_AI_AI_INFERENCE_BASE_URL": f"{upstream_url}/client/v4",
        "WORKERS_AI_AI_INFERENCE_API_TOKEN": INBOUND_TOKEN,
        "WORKERS_AI_AI_INFERENCE_TIMEOUT": "2",
        "WORKERS_AI_AI_INFERENCE_CONNECT_TIMEOUT": "1",
    }


@pytest.fixture(scope="session")
def seed_service(fake_upstream_server: FakeUpstream) -> Iterator[RunningService]:
    service = RunningService(SEED_PROJECT, SEED_MODULE, seed_env(fake_upstream_server.url), [])
    try:
        service.wait_ready()
        yield service
    finally:
        service.stop()


@pytest.fixture
def make(tmp_path: Path, upstream: FakeUpstream) -> Callable[..., Built]:
    """Build a spec text into a package under a unique import name; see tests/support/packages.py."""
    return make_fixture(tmp_path, upstream)
