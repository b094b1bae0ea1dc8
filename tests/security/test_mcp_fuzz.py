"""Property test: whatever arguments an MCP client sends to a generated tool, the server answers
with a result or an invalid-params error, never a crash, and never echoes a bound secret.

Arguments are drawn for each tool's own input schema (required ones always, mostly of the
declared type, plus undeclared ones) from the hostile values of the REST fuzz test; the
upstream always answers 200, so an internal error would be capgen's fault, and the upstream
must never see a dot segment.
"""

from __future__ import annotations

import importlib
from typing import Any
from urllib.parse import unquote

import anyio
import pytest
from hypothesis import given
from hypothesis import strategies as st
from mcp import MCPError

from generator import pipeline
from tests.security.test_fuzz import SPECS, fuzz_settings, hostile, json_values
from tests.support.fake_upstream import Answer, FakeUpstream
from tests.support.packages import Built, make_fixture

SECRET = "value-of-"  # every bound variable is set to value-of-<NAME>
TYPED = {
    "string": hostile,
    "integer": st.integers(),
    "number": st.floats(allow_nan=False, allow_infinity=False),
    "boolean": st.booleans(),
    "array": st.lists(hostile, max_size=4),
    "object": st.dictionaries(hostile, json_values, max_size=4),
}
Tool = tuple[str, dict[str, str], list[str]]  # name, type of each property, required ones


@pytest.fixture(scope="module")
def servers(
    tmp_path_factory: pytest.TempPathFactory, fake_upstream_server: FakeUpstream
) -> list[tuple[Built, list[Tool]]]:
    fake_upstream_server.reset()
    fake_upstream_server.responder = lambda request: Answer(200, {"result": {"id": 1}})
    found = []
    for spec in SPECS:
        folder = tmp_path_factory.mktemp(f"mcp-{spec.stem}")
        package = pipeline.validate(spec).package
        assert package is not None
        env = {key: f"{SECRET}{key}" for bind in package.binds for _, key in bind.keys}
        built = make_fixture(folder, fake_upstream_server)(spec.read_text(), env=env)
        if not (built.project / built.module.__name__ / "mcp_server.py").exists():
            continue
        importlib.import_module(f"{built.module.__name__}.mcp_server")
        found.append((built, anyio.run(_tools, built)))
    return found


async def _tools(built: Built) -> list[Tool]:
    async with built.mcp() as client:
        listed = (await client.list_tools()).tools
    found = []
    for tool in listed:
        properties = tool.input_schema.get("properties", {})
        types = {name: schema.get("type", "string") for name, schema in properties.items()}
        found.append((tool.name, types, list(tool.input_schema.get("required", []))))
    return found


async def _call(built: Built, tool: str, arguments: dict[str, Any]) -> tuple[bool, str] | int:
    async with built.mcp() as client:
        try:
            result = await client.call_tool(tool, arguments)
        except MCPError as exc:
            return exc.error.code
    return result.is_error, "".join(getattr(part, "text", "") for part in result.content)


@fuzz_settings(200)
@given(data=st.data())
def test_no_arguments_make_a_generated_tool_fail(
    servers, fake_upstream_server: FakeUpstream, data: st.DataObject
) -> None:  # type: ignore[no-untyped-def]
    built, tools = data.draw(st.sampled_from(servers))
    tool, types, required = data.draw(st.sampled_from(tools))
    optional = data.draw(st.lists(st.sampled_from([*types, "undeclared"]), unique=True))
    names = [*required, *(name for name in optional if name not in required)]
    arguments = {  # mostly of the declared type, so that most calls get past the schema
        name: data.draw(TYPED.get(types.get(name, ""), json_values) | json_values) for name in names
    }
    before = len(fake_upstream_server.requests)
    outcome = anyio.run(_call, built, tool, arguments)
    if isinstance(outcome, int):
        assert outcome == -32602, (tool, arguments, outcome)
    else:
        is_error, text = outcome
        assert SECRET not in text and "Traceback" not in text, (tool, arguments, text[:300])
        assert not (is_error and text.startswith("internal")), (tool, arguments, text[:300])
    for request in fake_upstream_server.requests[before:]:
        # as a Java server reads them: decoded, matrix parameters (`;x`) removed
        segments = {segment.split(";")[0] for segment in unquote(request.raw_path).split("/")}
        assert not segments & {".", ".."}, request.raw_path


def test_the_specs_under_test_expose_tools(servers) -> None:  # type: ignore[no-untyped-def]
    assert len(servers) >= 4 and sum(len(tools) for _, tools in servers) >= 10
