"""Third-party MCP clients against the served seed, in both protocol revisions, from one server:
the MCP Inspector CLI and the TypeScript SDK v1 (`@modelcontextprotocol/sdk`) in 2025-11-25
mode, the Inspector CLI, the TypeScript SDK v2 (`@modelcontextprotocol/client`, pinned to
2026-07-28) and the Python SDK in 2026-07-28 mode (tests/tools/install pins them).

Each client lists the tools and calls the seed's tool, then calls it with no arguments (a
tool error the model can correct). Every client must see the same tool, the same answer and
the same error, whatever the revision; the expectations come from the spec text (the tool's
name, its required inputs) and from what the fake upstream answered and received.
"""

from __future__ import annotations

import json
import subprocess
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import anyio
import pytest
from pydantic import BaseModel

from tests.conformance.suite import CLIENTS, node_env
from tests.conftest import INBOUND_TOKEN, SEED_MODULE, SEED_PROJECT, UPSTREAM_KEY, seed_env
from tests.integration.mcp_client import mcp_client
from tests.support.fake_upstream import FakeUpstream
from tests.support.service import RunningService

pytestmark = pytest.mark.integration
TOOL = "cloudflare-execute-ai-model"
MODEL = "@cf/meta/llama-3.1-8b-instruct"
ARGS = {"account_id": "acct", "model": MODEL, "body": {"prompt": "hi"}}
TS_CLIENT = Path(__file__).resolve().parent.parent / "support" / "ts_client.mjs"
MODERN_STAMP = "io.modelcontextprotocol/serverInfo"  # the _meta of every 2026-07-28 result


@pytest.fixture(scope="module")
def served() -> Iterator[tuple[RunningService, FakeUpstream]]:
    upstream = FakeUpstream()
    upstream.start()
    service = RunningService(SEED_PROJECT, SEED_MODULE, seed_env(upstream.url), [])
    try:
        service.wait_ready()
        yield service, upstream
    finally:
        service.stop()
        upstream.stop()


def _typescript(sdk: str, url: str) -> dict[str, Any]:
    command = ["node", str(TS_CLIENT), sdk, url, INBOUND_TOKEN, TOOL, json.dumps(ARGS)]
    done = subprocess.run(command, capture_output=True, text=True, timeout=120, env=node_env())
    assert done.returncode == 0, done.stderr[-3000:]
    seen: dict[str, Any] = json.loads(done.stdout.splitlines()[-1])
    return seen


def _inspector(era: str, url: str, home: Path, *method: str) -> dict[str, Any]:
    """One Inspector CLI invocation (`--format json`); its catalog and secrets stay in `home`.
    It exits 5 (`tool_is_error`) after printing a result whose `isError` is true."""
    command = [
        str(CLIENTS / ".bin" / "mcp-inspector"),
        "--cli",
        "--protocol-era",
        era,
        "--format",
        "json",
        "-q",
        "--header",
        f"Authorization: Bearer {INBOUND_TOKEN}",
        *method,
        url,
    ]
    env = {**node_env(), "HOME": str(home), "MCP_CATALOG_PATH": str(home / "mcp.json")}
    done = subprocess.run(command, capture_output=True, text=True, timeout=120, env=env)
    answer: dict[str, Any] = json.loads(done.stdout or "{}").get("result", {})
    assert done.returncode == (5 if answer.get("isError") else 0), done.stdout + done.stderr
    return answer


def _inspect(era: str, url: str, home: Path) -> dict[str, Any]:
    call = ["--method", "tools/call", "--tool-name", TOOL]
    return {
        "tools": _inspector(era, url, home, "--method", "tools/list")["tools"],
        "result": _inspector(era, url, home, *call, "--tool-args-json", json.dumps(ARGS)),
        "invalid": _inspector(era, url, home, *call, "--tool-args-json", "{}"),
    }


def _wire(model: BaseModel) -> dict[str, Any]:
    return model.model_dump(by_alias=True, mode="json", exclude_none=True)


def _python(mode: str, url: str) -> dict[str, Any]:
    async def go() -> dict[str, Any]:
        async with mcp_client(url, INBOUND_TOKEN, mode=mode) as client:
            tools = [_wire(t) for t in (await client.list_tools()).tools]
            result = _wire(await client.call_tool(TOOL, ARGS))
            invalid = _wire(await client.call_tool(TOOL, {}))
            return {
                "protocolVersion": client.protocol_version,
                "tools": tools,
                "result": result,
                "invalid": invalid,
            }

    return anyio.run(go)


def _same_everywhere(seen: dict[str, dict[str, Any]], upstream: FakeUpstream) -> None:
    tools = {name: [t for t in s["tools"] if t["name"] == TOOL] for name, s in seen.items()}
    assert all(len(found) == 1 for found in tools.values()), tools
    first = next(iter(tools.values()))[0]
    assert {"account_id", "model", "body"} <= set(first["inputSchema"]["required"])
    assert all(found[0] == first for found in tools.values()), tools
    answers = {
        name: (s["result"]["content"], s["result"].get("isError")) for name, s in seen.items()
    }
    text = json.dumps(answers)
    assert (
        "Hello from the fake Workers AI." in text
        and len(set(map(json.dumps, answers.values()))) == 1
    ), text
    errors = {
        name: (s["invalid"]["content"], s["invalid"].get("isError")) for name, s in seen.items()
    }
    assert len(set(map(json.dumps, errors.values()))) == 1, errors
    content, is_error = next(iter(errors.values()))
    assert is_error is True and "account_id" in content[0]["text"], errors
    calls = [r for r in upstream.requests if r.method == "POST"]
    assert len(calls) == len(seen), [r.path for r in calls]  # a tool error never calls upstream
    assert all(r.raw_path == f"/client/v4/accounts/acct/ai/run/{MODEL}" for r in calls)
    assert all(r.headers["authorization"] == f"Bearer {UPSTREAM_KEY}" for r in calls)
    assert all(r.json() == {"prompt": "hi"} for r in calls)


def test_every_client_sees_the_same_tool_answer_and_error_in_both_revisions(
    served: tuple[RunningService, FakeUpstream], tmp_path: Path
) -> None:
    service, upstream = served
    upstream.reset()
    url = service.mcp_url
    seen = {
        "typescript-sdk-v1": _typescript("v1", url),
        "typescript-sdk-v2": _typescript("v2", url),
        "python-sdk-legacy": _python("legacy", url),
        "python-sdk-auto": _python("auto", url),
        "inspector-legacy": _inspect("legacy", url, tmp_path),
        "inspector-modern": _inspect("modern", url, tmp_path),
    }
    versions = {name: s.get("protocolVersion") for name, s in seen.items()}
    assert {k: v for k, v in versions.items() if v} == {
        "typescript-sdk-v1": "2025-11-25",
        "typescript-sdk-v2": "2026-07-28",
        "python-sdk-legacy": "2025-11-25",
        "python-sdk-auto": "2026-07-28",
    }
    # The Inspector does not say which revision it spoke; the result says it: only 2026-07-28
    # results carry the server's identity in `_meta`.
    assert MODERN_STAMP in seen["inspector-modern"]["result"].get("_meta", {})
    assert MODERN_STAMP not in seen["inspector-legacy"]["result"].get("_meta", {})
    for s in seen.values():  # the era's envelope aside, the answers must be identical
        for key in ("result", "invalid"):
            s[key].pop("_meta", None)
    _same_everywhere(seen, upstream)
