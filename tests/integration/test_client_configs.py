"""The seed package's README gives each MCP client a configuration, and its `manifest.json`
an MCPB launch: each one, read as the client reads it (its `command`, `args` and `env`, with the
client's substitutions filled in), starts a server the MCP SDK's stdio client lists the tools
of and calls, whose upstream request carries the credential the configuration passed on.

The README is read with markdown-it and the manifest is checked against the schema the npm
package `@anthropic-ai/mcpb` ships (tests/data/mcpb), not with capgen's own code.
"""

from __future__ import annotations

import json
import os
import re
import sys
from typing import Any

import anyio
import pytest
from markdown_it import MarkdownIt
from mcp import Client, StdioServerParameters

from tests.conftest import SEED_PROJECT, UPSTREAM_KEY
from tests.security.emitted import check_mcpb_manifest
from tests.support.fake_upstream import FakeUpstream

pytestmark = pytest.mark.integration
KEY = UPSTREAM_KEY  # what the fake upstream accepts, given as the user would
README = (SEED_PROJECT / "README.md").read_text(encoding="utf-8")
MANIFEST = (SEED_PROJECT / "manifest.json").read_text(encoding="utf-8")
ARGS = {"account_id": "a", "model": "@cf/meta/llama-3.1-8b-instruct", "body": {"prompt": "hi"}}


def _configs() -> dict[str, dict[str, Any]]:
    """The JSON blocks of the README, by the file name written before each."""
    tokens = MarkdownIt("commonmark").parse(README)
    found = {}
    for index, token in enumerate(tokens):
        if token.type == "fence" and token.info == "json":
            label = tokens[index - 2].content  # the paragraph before: **Client** (`path`):
            path = re.search(r"`([^`]+)`", label)
            assert path is not None, label
            found[path.group(1)] = json.loads(token.content)
    return found


def _filled(value: str) -> str:
    """What a client puts in place of its substitution: the user's answer, the bundle folder."""
    value = value.replace("${__dirname}", str(SEED_PROJECT))
    return re.sub(r"\$\{(env|input|user_config)[:.][^}]+\}|<your [^>]+>", KEY, value)


def _call(entry: dict[str, Any], upstream: FakeUpstream) -> tuple[list[str], bool]:
    env = {k: _filled(v) for k, v in entry.get("env", {}).items()}
    env["PYTHONPATH"] = os.pathsep.join([env.get("PYTHONPATH", ""), str(SEED_PROJECT)])
    env["WORKERS_AI_AI_INFERENCE_BASE_URL"] = upstream.url
    env["PATH"] = os.environ.get("PATH", "")
    assert entry["command"] == "python"  # the interpreter the package is installed in
    params = StdioServerParameters(command=sys.executable, args=entry["args"], env=env)

    async def run() -> tuple[list[str], bool]:
        async with Client(params) as client:
            tools = [t.name for t in (await client.list_tools()).tools]
            result = await client.call_tool(tools[0], ARGS)
            return tools, result.is_error

    return anyio.run(run)


def test_the_readme_has_the_three_clients() -> None:
    configs = _configs()
    assert set(configs) == {"claude_desktop_config.json", ".cursor/mcp.json", ".vscode/mcp.json"}
    assert "stdio" in README and "1 operation)" in README and "1 tool)" in README
    assert "$(" not in README


@pytest.mark.parametrize(
    "path", ["claude_desktop_config.json", ".cursor/mcp.json", ".vscode/mcp.json"]
)
def test_each_client_config_starts_the_server(path: str, upstream: FakeUpstream) -> None:
    document = _configs()[path]
    servers = document.get("mcpServers") or document["servers"]
    (entry,) = servers.values()
    if path == ".vscode/mcp.json":  # every ${input:id} is declared, with a hidden answer
        declared = {i["id"] for i in document["inputs"] if i["password"]}
        assert set(re.findall(r"\$\{input:([^}]+)\}", json.dumps(entry))) <= declared
    tools, failed = _call(entry, upstream)
    assert tools == ["cloudflare-execute-ai-model"] and not failed
    (request,) = upstream.requests
    assert request.headers["authorization"] == f"Bearer {KEY}"


def test_the_mcpb_manifest_is_valid_and_launches_the_server(upstream: FakeUpstream) -> None:
    check_mcpb_manifest(MANIFEST)
    manifest = json.loads(MANIFEST)
    assert manifest["manifest_version"] == "0.4" and manifest["server"]["type"] == "python"
    assert {n for n, c in manifest["user_config"].items() if c["sensitive"]} == {
        "cloudflare_api_key"
    }
    tools, failed = _call(manifest["server"]["mcp_config"], upstream)
    assert [t["name"] for t in manifest["tools"]] == tools and not failed
    (request,) = upstream.requests
    assert request.headers["authorization"] == f"Bearer {KEY}"
