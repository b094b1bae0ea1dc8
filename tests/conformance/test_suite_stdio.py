"""The conformance scenarios that apply to stdio, against the fixture capability served by its
generated package's `stdio` command, with a real client: the official Python SDK's stdio
client, in both protocol revisions (`legacy`: the 2025-11-25 handshake; `auto`, which lands
on 2026-07-28: `server/discover` and per-request `_meta`).

The official suite cannot drive a stdio server (its `server` command takes only `--url`), so
each scenario's checks are written here from the suite's description of them, and the
expected bytes come from the fixture's upstream (tests/support/suite_upstream.py), not from
capgen. Scenarios about HTTP itself (headers, Host checks, SSE streams, sessions) are "n/a"
on stdio; what no spec can express is listed (inexpressible.py), as over HTTP.
"""

from __future__ import annotations

import base64
import json
import os
import sys
import time
import warnings
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any, Literal

import anyio
import mcp.types as types
import pytest
from mcp import Client, MCPDeprecationWarning, MCPError, StdioServerParameters

from tests.conformance.inexpressible import INEXPRESSIBLE
from tests.conformance.suite import Verdict, build_fixture, record, required
from tests.support import suite_upstream as fx
from tests.support.suite_upstream import SuiteUpstream

pytestmark = pytest.mark.integration
MODES: dict[str, Literal["legacy", "auto"]] = {"2025-11-25": "legacy", "2026-07-28": "auto"}
NOT_ON_STDIO = {
    "dns-rebinding-protection": "Host and Origin checks: HTTP only",
    "http-header-validation": "Mcp-Method and Mcp-Name headers: HTTP only",
    "server-sse-multiple-streams": "SSE streams: HTTP only",
    "server-sse-polling": "SSE streams: HTTP only",
    "server-session-lifecycle": "Mcp-Session-Id: HTTP only",
    **{
        f"input-required-result-{name}": "about InputRequiredResult, which no spec-built tool "
        "returns (the suite passes it over HTTP because the tool it calls does not exist)"
        for name in ("unsupported-methods", "ignore-extra-params", "missing-input-response")
    },
    "input-required-result-validate-input": "about InputRequiredResult (as above)",
}
Check = Callable[[Client], Awaitable[list[str]]]


def _text(result: types.CallToolResult | types.GetPromptResult) -> str:
    if isinstance(result, types.GetPromptResult):
        return json.dumps([m.model_dump(mode="json") for m in result.messages])
    return " ".join(c.text for c in result.content if isinstance(c, types.TextContent))


async def _tool_binary(client: Client, tool: str, kind: str, media: str, data: bytes) -> list[str]:
    result = await client.call_tool(tool, {})
    blocks = [c.model_dump(mode="json", by_alias=True) for c in result.content]
    wanted = {"type": kind, "mimeType": media, "data": base64.b64encode(data).decode()}
    if kind == "resource":
        blob = {"mimeType": media, "blob": wanted["data"]}
        found = [
            b for b in blocks if b["type"] == "resource" and blob.items() <= b["resource"].items()
        ]
    else:
        found = [b for b in blocks if wanted.items() <= b.items()]
    return (
        [] if found and not result.is_error else [f"{tool}: expected {kind} {media}, got {blocks}"]
    )


async def _mixed(client: Client) -> list[str]:
    """One block per part of the upstream's multipart answer, in order."""
    result = await client.call_tool("test_multiple_content_types", {})
    blocks = [c.model_dump(mode="json", by_alias=True, exclude_none=True) for c in result.content]
    want = [
        {"type": "text", "text": fx.MIXED_TEXT},
        {"type": "image", "mimeType": "image/png", "data": base64.b64encode(fx.IMAGE).decode()},
        {
            "type": "resource",
            "resource": {
                "uri": fx.MIXED_URI,
                "mimeType": "application/json",
                "text": fx.MIXED_JSON,
            },
        },
    ]
    return [] if blocks == want and not result.is_error else [f"mixed content: got {blocks}"]


async def _progress(client: Client) -> list[str]:
    seen: list[float] = []

    async def progress(progress: float, total: float | None, message: str | None) -> None:
        seen.append(progress)

    result = await client.call_tool("test_tool_with_progress", {}, progress_callback=progress)
    problems = [] if len(seen) >= 3 and seen == sorted(seen) else [f"progress: {seen}"]
    return problems + ([] if _text(result) == "".join(fx.PROGRESS_STEPS) else [_text(result)])


async def _error(client: Client) -> list[str]:
    result = await client.call_tool("test_error_handling", {})
    return [] if result.is_error and fx.ERROR_TEXT in _text(result) else [repr(result)]


async def _read(client: Client, uri: str, media: str, want: str, field: str) -> list[str]:
    contents = (await client.read_resource(uri)).contents
    got = [c.model_dump(mode="json", by_alias=True, exclude_none=True) for c in contents]
    ok = got and got[0].get("mimeType") == media and got[0].get(field) == want
    brief = [{k: str(v)[:40] for k, v in g.items()} for g in got]
    return [] if ok else [f"{uri}: expected {field} {want[:40]!r} ({media}), got {brief}"]


async def _template(client: Client) -> list[str]:
    contents = (await client.read_resource("test://template/123/data")).contents
    text = contents[0].text if isinstance(contents[0], types.TextResourceContents) else ""
    return [] if json.loads(text or "null") == fx.template_data("123") else [repr(contents)]


async def _listed(client: Client) -> list[str]:
    tools = {t.name: t for t in (await client.list_tools()).tools}
    want = {"test_simple_text", "test_image_content", "test_tool_with_progress"}
    problems = [f"missing tools: {want - set(tools)}"] if not want <= set(tools) else []
    return problems + [f"{n}: no description" for n, t in tools.items() if not t.description]


async def _prompts(client: Client) -> list[str]:
    names = {p.name: p for p in (await client.list_prompts()).prompts}
    want = {"test_simple_prompt", "test_prompt_with_arguments"}
    return (
        [] if want <= set(names) and all(p.description for p in names.values()) else [repr(names)]
    )


async def _prompt_args(client: Client) -> list[str]:
    got = await client.get_prompt("test_prompt_with_arguments", {"arg1": "alpha", "arg2": "beta"})
    return [] if "arg1='alpha', arg2='beta'" in _text(got) else [_text(got)]


async def _completion(client: Client) -> list[str]:
    ref = types.PromptReference(type="ref/prompt", name="test_prompt_with_arguments")
    done = await client.complete(ref, {"name": "arg1", "value": "te"})
    return [] if isinstance(done.completion.values, list) else [repr(done)]


async def _not_found(client: Client) -> list[str]:
    uri = "test://nonexistent-resource-for-conformance-testing"
    try:
        result = await client.read_resource(uri)
    except MCPError as exc:
        return [] if exc.error.code == types.INVALID_PARAMS else [f"code {exc.error.code}"]
    return [f"a result for an unknown resource: {result}"]


async def _caching(client: Client) -> list[str]:
    """2026-07-28: ttlMs and cacheScope on the wire (fields the server set, not defaults)."""
    results: list[Any] = [
        await client.list_tools(),
        await client.list_prompts(),
        await client.list_resources(),
        await client.list_resource_templates(),
        await client.read_resource("test://static-text"),
    ]
    return [
        f"{type(r).__name__}: no {f}"
        for r in results
        for f in ("ttl_ms", "cache_scope")
        if f not in r.model_fields_set
    ]


async def _schema_tool(client: Client) -> list[str]:
    tools = {t.name: t for t in (await client.list_tools()).tools}
    schema = (
        tools["json_schema_2020_12_tool"].input_schema
        if "json_schema_2020_12_tool" in tools
        else {}
    )
    found = [k for k in ("$schema", "$defs", "allOf", "if") if k in schema]
    return [f"json_schema_2020_12_tool: {found or 'missing'}"] if found or not schema else []


def _checks(modern: bool) -> dict[str, Check]:
    checks: dict[str, Check] = {
        "tools-list": _listed,
        "tools-call-simple-text": lambda c: _expect_text(c, "test_simple_text", fx.SIMPLE_TEXT),
        "tools-call-image": lambda c: _tool_binary(
            c, "test_image_content", "image", "image/png", fx.IMAGE
        ),
        "tools-call-audio": lambda c: _tool_binary(
            c, "test_audio_content", "audio", "audio/wav", fx.AUDIO
        ),
        "tools-call-embedded-resource": lambda c: _tool_binary(
            c, "test_embedded_resource", "resource", "application/pdf", fx.PDF
        ),
        "tools-call-error": _error,
        "tools-call-with-progress": _progress,
        "tools-call-mixed-content": _mixed,
        "resources-list": lambda c: _uris(c, {"test://static-text", "test://static-binary"}),
        "resources-read-text": lambda c: _read(
            c, "test://static-text", "text/plain", fx.STATIC_TEXT, "text"
        ),
        "resources-read-binary": lambda c: _read(
            c,
            "test://static-binary",
            "image/png",
            base64.b64encode(fx.STATIC_BINARY).decode(),
            "blob",
        ),
        "resources-templates-read": _template,
        "prompts-list": _prompts,
        "prompts-get-simple": lambda c: _prompt_text(
            c, "test_simple_prompt", "This is a simple prompt"
        ),
        "prompts-get-with-args": _prompt_args,
        "completion-complete": _completion,
        "json-schema-2020-12": _schema_tool,
    }
    if modern:
        checks |= {"caching": _caching, "sep-2164-resource-not-found": _not_found}
    else:
        checks["ping"] = _ping
    return checks


async def _expect_text(client: Client, tool: str, want: str) -> list[str]:
    result = await client.call_tool(tool, {})
    return [] if _text(result) == want and not result.is_error else [repr(result)]


async def _uris(client: Client, want: set[str]) -> list[str]:
    got = {str(r.uri) for r in (await client.list_resources()).resources}
    return [] if want <= got else [f"resources: {got}"]


async def _prompt_text(client: Client, name: str, want: str) -> list[str]:
    got = await client.get_prompt(name)
    return [] if want in _text(got) and got.messages[0].role == "user" else [_text(got)]


async def _ping(client: Client) -> list[str]:
    with warnings.catch_warnings():  # the SDK warns that 2026-07-28 removed ping, even here
        warnings.simplefilter("ignore", MCPDeprecationWarning)
        await client.send_ping()
    return []


async def _run(
    params: StdioServerParameters, mode: Literal["legacy", "auto"], checks: dict[str, Check]
) -> dict[str, list[str]]:
    found: dict[str, list[str]] = {}
    async with Client(params, mode=mode) as client:
        found["server-initialize" if mode == "legacy" else "server-stateless"] = (
            []
            if client.protocol_version == {"legacy": "2025-11-25"}.get(mode, "2026-07-28")
            else [f"negotiated {client.protocol_version}"]
        )
        for scenario, check in checks.items():
            try:
                found[scenario] = await check(client)
            except Exception as exc:  # one scenario's failure is its own row
                found[scenario] = [f"{type(exc).__name__}: {exc}"]
    return found


@pytest.fixture(scope="module")
def built(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, str]:
    return build_fixture(tmp_path_factory.mktemp("stdio"))


@pytest.mark.parametrize("revision", list(MODES))
def test_the_fixture_over_stdio(
    revision: str, built: tuple[Path, str], request: pytest.FixtureRequest
) -> None:
    project, module = built
    with SuiteUpstream() as upstream:
        env = {**os.environ, "PYTHONPATH": str(project), "SUITE_UPSTREAM_BASE_URL": upstream.url}
        params = StdioServerParameters(
            command=sys.executable, args=["-m", module, "stdio"], env=env
        )
        started = time.monotonic()
        found = anyio.run(_run, params, MODES[revision], _checks(revision == "2026-07-28"))
    verdict = Verdict(f"fixture, --requirements {revision}, stdio", time.monotonic() - started)
    for scenario in required(revision):
        problems, listed = found.get(scenario), INEXPRESSIBLE.get(scenario)
        if problems:
            verdict.failed.append(f"{scenario}: {problems}")
            verdict.rows.append((scenario, "failed", "; ".join(problems)[:300]))
        elif problems is not None:  # a listed check of a scenario that otherwise applies
            note = f"listed checks: {listed.reason}" if listed else ""
            verdict.rows.append((scenario, "passed", note))
        elif listed is not None:
            verdict.rows.append((scenario, "listed", listed.reason))
        else:
            verdict.rows.append((scenario, "n/a", NOT_ON_STDIO.get(scenario, "HTTP only")))
    record(request, verdict, f"fixture-{revision}-stdio")
    if verdict.failed:
        pytest.fail("\n".join([*verdict.failed, "", verdict.table()]))
