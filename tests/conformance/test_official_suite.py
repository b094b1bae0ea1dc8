"""The official MCP conformance suite 0.1.16 (npm `@modelcontextprotocol/conformance`, the
release CI ran first) against generated servers: the seed, and a spec with resources and
prompts. Its prerelease, with both protocol revisions, is test_suite_revisions.py.

Every scenario runs. Those a server can pass without the suite's own fixtures must pass;
the others are listed below with the reason, and must fail for that reason only (a listed
scenario that starts passing is reported too, so the list stays true).
"""

from __future__ import annotations

from pathlib import Path

import pytest

from generator import pipeline
from tests.conformance.suite import Listed, judge, record, run_suite
from tests.conformance.test_mcp_protocol import SPEC as RESOURCES_AND_PROMPTS
from tests.conftest import SEED_SPEC
from tests.support.service import RunningService

pytestmark = pytest.mark.integration
# scenario -> why a generated server cannot pass it
NEEDS_FIXTURES = {
    scenario: Listed(reason)
    for scenario, reason in {
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
    }.items()
}

WITHOUT_RESOURCES = {
    "resources-list": Listed("the seed declares no resources"),
    "prompts-list": Listed("the seed declares no prompts"),
}


@pytest.mark.parametrize("case", ["seed", "resources-and-prompts"])
def test_the_official_conformance_suite(
    case: str, tmp_path: Path, request: pytest.FixtureRequest
) -> None:
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
        results, seconds, printed = run_suite("0.1.16", service.mcp_url, tmp_path / "results")
    finally:
        service.stop()
    assert results, printed
    title = f"{case}, suite 0.1.16, streamable HTTP"
    inapplicable = WITHOUT_RESOURCES if case == "seed" else None
    verdict = judge(title, results, seconds, NEEDS_FIXTURES, inapplicable)
    record(request, verdict, f"{case}-0.1.16-http")
    if verdict.failed or verdict.stale:
        pytest.fail("\n".join([*verdict.failed, *verdict.stale, "", verdict.table()]))
    passed = {scenario for scenario, status, _ in verdict.rows if status == "passed"}
    assert {"server-initialize", "ping", "tools-list", "dns-rebinding-protection"} <= passed
    if case != "seed":
        assert {"resources-list", "prompts-list"} <= passed
