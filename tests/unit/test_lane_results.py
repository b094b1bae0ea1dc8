"""The lane's own wire form of a plain text call result (mcp/results.py `text_result_wire`)
is byte for byte what the SDK's runner makes of the same result: the SDK is the oracle. Results
are generated (text of any characters, structured content of any JSON value, the error flag
set or not), on every handshake-era revision; results of other shapes are left to the SDK."""

from __future__ import annotations

from typing import Any

import mcp.types as types
import pydantic_core
import pytest
from capgen_runtime.mcp.results import text_result_wire
from hypothesis import given, settings
from hypothesis import strategies as st
from mcp.server.connection import Connection
from mcp.server.lowlevel.server import Server
from mcp.server.runner import ServerRunner
from mcp_types import DEFAULT_NEGOTIATED_VERSION
from mcp_types.version import HANDSHAKE_PROTOCOL_VERSIONS, MODERN_PROTOCOL_VERSIONS

RUNNER = ServerRunner(
    Server("oracle"), Connection.from_envelope(DEFAULT_NEGOTIATED_VERSION, None, None), None
)
JSON = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats() | st.text(),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(), inner, max_size=4),
    max_leaves=12,
)
TEXT = st.text() | st.sampled_from(['{"a":"\\u00e9"}', 'q"\\/\n\t\x00\x7f\u2028é😀'])


def sdk_wire(result: types.CallToolResult, version: str) -> bytes:
    return pydantic_core.to_json(RUNNER._serialize("tools/call", version, result))


@settings(max_examples=300, deadline=None)
@given(
    text=TEXT,
    structured=st.none() | st.dictionaries(st.text(), JSON, max_size=5),
    is_error=st.booleans(),
    version=st.sampled_from(HANDSHAKE_PROTOCOL_VERSIONS),
)
def test_a_plain_text_result_is_written_as_the_sdk_writes_it(
    text: str, structured: dict[str, Any] | None, is_error: bool, version: str
) -> None:
    result = types.CallToolResult(
        content=[types.TextContent(type="text", text=text)],
        structured_content=structured,
        is_error=is_error,
    )
    assert text_result_wire(result, version) == sdk_wire(result, version)


def test_the_error_flag_left_out_is_written_as_the_sdk_writes_it() -> None:
    result = types.CallToolResult(content=[types.TextContent(type="text", text="x")])
    for version in HANDSHAKE_PROTOCOL_VERSIONS:
        assert text_result_wire(result, version) == sdk_wire(result, version)


@pytest.mark.parametrize(
    "result",
    [
        types.CallToolResult(content=[], is_error=False),
        types.CallToolResult(
            content=[
                types.TextContent(type="text", text="a"),
                types.TextContent(type="text", text="b"),
            ]
        ),
        types.CallToolResult(
            content=[types.ImageContent(type="image", data="AA==", mime_type="image/png")]
        ),
        types.CallToolResult(content=[types.TextContent(type="text", text="a")], _meta={"k": 1}),
        types.CallToolResult(
            content=[
                types.TextContent(type="text", text="a", annotations=types.Annotations(priority=1))
            ]
        ),
    ],
)
def test_other_results_are_left_to_the_sdk(result: types.CallToolResult) -> None:
    for version in HANDSHAKE_PROTOCOL_VERSIONS:
        assert text_result_wire(result, version) is None
        assert sdk_wire(result, version)  # which shapes them


def test_a_modern_revision_is_left_to_the_sdk() -> None:
    result = types.CallToolResult(content=[types.TextContent(type="text", text="a")])
    for version in MODERN_PROTOCOL_VERSIONS:
        assert text_result_wire(result, version) is None


def test_text_the_sdk_cannot_write_is_left_to_it() -> None:
    for text, structured in (("\ud800", None), ("x", {"a": "\ud800"})):
        result = types.CallToolResult(
            content=[types.TextContent(type="text", text=text)], structured_content=structured
        )
        assert text_result_wire(result, "2025-11-25") is None
        with pytest.raises(pydantic_core.PydanticSerializationError):
            sdk_wire(result, "2025-11-25")
