"""The tools an MCP adapter offers under the service's settings, each with its contract (its
arguments checked against `inputSchema`, its results' `structuredContent` against
`outputSchema`), what `tools/list` shows of them, and discovery mode for large specs."""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from typing import Any

import mcp.types as types
from mcp import MCPError

from ..engine import Answer
from ..engine.contract import Checker, mcp_output_schema, structured
from ..engine.redaction import Redactor
from ..expr.mapping import NOT_MAPPED
from ..formats import media_type
from ..model import McpAdapter, Tool, chosen
from ..rest.body import MAX_DEPTH, depth
from ..schemas import object_schema, result_schema
from ..settings import Settings
from .binary import binary_rule
from .results import text_result

TAGS = "tags"  # the `_meta` key of a tool's tags


class Catalog:
    """The tools an adapter offers under the service's settings, each with its contract, and
    what `tools/list` shows of them. Built once per adapter, whatever the number of servers."""

    def __init__(self, adapter: McpAdapter, settings: Settings) -> None:
        offered = selected(adapter.tools, settings.mcp_tools, settings.mcp_exclude_tools)
        self.tools = {tool.name: tool for tool in offered}
        self.contracts = {tool.name: ToolContract(tool, adapter) for tool in offered}
        listed = [self.contracts[tool.name].listed for tool in offered]
        self.discovery = Discovery(listed) if settings.mcp_discovery else None
        # in discovery mode a few meta-tools stand for all of them
        self.listed = list(self.discovery.tools) if self.discovery else listed


def selected(
    tools: tuple[Tool, ...], include: tuple[str, ...], exclude: tuple[str, ...]
) -> list[Tool]:
    """The tools offered at run time; a tool not offered is neither listed nor callable."""
    return [tool for tool in tools if chosen(tool.name, include, exclude)]


def cursor_position(cursor: str | None, total: int) -> int:
    """A cursor is the position of the next page; anything else is an invalid cursor."""
    if cursor is None:
        return 0
    if not cursor.isdigit() or int(cursor) >= max(total, 1):
        raise MCPError(code=types.INVALID_PARAMS, message="Invalid cursor")
    return int(cursor)


class Discovery:
    """Discovery mode for large specs (`<PREFIX>_MCP_DISCOVERY=true`): `tools/list` offers three
    meta-tools, whatever the number of operations; a model searches the tools, reads the one
    it wants, and invokes it (its arguments checked against its own input schema)."""

    SEARCH, DESCRIBE, INVOKE = "search_tools", "describe_tool", "invoke_tool"

    def __init__(self, listed: list[types.Tool]) -> None:
        self.by_name = {tool.name: tool for tool in listed}
        self.names = frozenset({self.SEARCH, self.DESCRIBE, self.INVOKE})
        name = {"type": "string", "description": "a tool name, as search_tools gives it"}
        self.tools = (
            types.Tool(
                name=self.SEARCH,
                description=f"Search the {len(listed)} tools of this server by words of their "
                "name or description; gives each match's name and description.",
                input_schema={
                    "type": "object",
                    "properties": {
                        "query": {"type": "string", "description": "words to look for"},
                        "limit": {"type": "integer", "minimum": 1, "maximum": 50},
                    },
                    "required": ["query"],
                },
                annotations=types.ToolAnnotations(read_only_hint=True, open_world_hint=False),
            ),
            types.Tool(
                name=self.DESCRIBE,
                description="The full definition of one tool: its input and output schemas "
                "and hints.",
                input_schema={"type": "object", "properties": {"name": name}, "required": ["name"]},
                annotations=types.ToolAnnotations(read_only_hint=True, open_world_hint=False),
            ),
            types.Tool(
                name=self.INVOKE,
                description="Call one tool with its arguments (as describe_tool gives them).",
                input_schema={
                    "type": "object",
                    "properties": {"name": name, "arguments": {"type": "object"}},
                    "required": ["name"],
                },
            ),
        )

    def invoked(
        self, meta: str, arguments: Mapping[str, Any]
    ) -> types.CallToolResult | tuple[str, Mapping[str, Any]]:
        """The answer of a search or a description, or the (tool, arguments) to run."""
        name = arguments.get("name")
        if meta != self.SEARCH and (not isinstance(name, str) or name not in self.by_name):
            return text_result(f"No tool named {name!r}: use {self.SEARCH}", is_error=True)
        if meta == self.DESCRIBE:
            definition = self.by_name[str(name)].model_dump(by_alias=True, exclude_none=True)
            return _json_result(definition)
        if meta == self.INVOKE:
            given = arguments.get("arguments") or {}
            if not isinstance(given, dict):
                return text_result("Invalid arguments: arguments: must be an object", is_error=True)
            return str(name), given
        query = arguments.get("query")
        if not isinstance(query, str):
            return text_result("Invalid arguments: query: must be a string", is_error=True)
        limit = arguments.get("limit")
        found = self.search(query, limit if isinstance(limit, int) and limit > 0 else 10)
        return _json_result({"tools": found})

    def search(self, query: str, limit: int) -> list[dict[str, str]]:
        """Tools whose name and description hold every word of the query, best first (more
        words in the name), in listing order otherwise."""
        words = [w for w in re.split(r"[\s_\-./]+", query.lower()) if w]
        ranked = []
        for index, tool in enumerate(self.by_name.values()):
            tags = " ".join((tool.meta or {}).get(TAGS, ()))
            text = f"{tool.name} {tool.title or ''} {tool.description or ''} {tags}".lower()
            if all(word in text for word in words):
                in_name = sum(word in tool.name.lower() for word in words)
                ranked.append((-in_name, index, tool))
        return [
            {"name": tool.name, "description": tool.description or tool.title or ""}
            for _, _, tool in sorted(ranked, key=lambda item: item[:2])[:limit]
        ]


def _json_result(value: dict[str, Any]) -> types.CallToolResult:
    result = text_result(json.dumps(value, ensure_ascii=False), is_error=False)
    result.structured_content = value
    return result


class ToolContract:
    """A tool's listed definition, the check of its arguments against its `inputSchema`, and
    its results' `structuredContent`, checked against its `outputSchema`."""

    def __init__(self, tool: Tool, adapter: McpAdapter) -> None:
        self.binary = binary_rule(tool.endpoint, adapter)
        self.declared = frozenset(i.name for i in tool.inputs)
        self.required = tuple(i.name for i in tool.inputs if i.required)
        input_schema = object_schema(tool.inputs, placed=False)
        self.arguments = Checker(input_schema)
        output, self.wrapped = mcp_output_schema(result_schema(tool.endpoint))
        self.output = Checker(output) if output is not None else None
        annotations = types.ToolAnnotations(**tool.annotations) if tool.annotations else None
        self.listed = types.Tool(
            name=tool.name,
            title=tool.title,
            description=tool.description,
            input_schema=input_schema,
            output_schema=output,
            annotations=annotations,
            # the spec's `tags` (ikanos), which MCP has no field for, under `_meta`
            meta={TAGS: list(tool.tags)} if tool.tags else None,
        )

    def check_arguments(self, arguments: Mapping[str, Any]) -> list[str]:
        """What is wrong with the arguments, one entry per offending argument; an empty
        required text is missing too (it would leave a hole in the upstream request)."""
        offences = self.arguments.offences(arguments)
        named = {name for name, _ in offences}
        empty = [n for n in self.required if arguments.get(n) == "" and n not in named]
        return [*(line for _, line in offences), *(f"{name}: is required" for name in empty)]

    def result(
        self, result: types.CallToolResult, outcome: Answer, redactor: Redactor
    ) -> types.CallToolResult:
        """The result with its structured content: the JSON answer (wrapped as the published
        schema says), or, for a binary answer, its media type and size."""
        if result.is_error:
            return result
        if result.structured_content is None:
            value = json_value(outcome)
            if value is not NOT_MAPPED and _deep(value, outcome):  # the SDK cannot send it
                message = f"the upstream's answer nests deeper than {MAX_DEPTH} levels"
                return text_result(message, is_error=True)
            if value is not NOT_MAPPED:
                result.structured_content = structured(
                    _redacted(value, outcome, redactor), self.wrapped
                )
            elif not self.wrapped:
                media = self.binary.advertised(outcome) or "application/octet-stream"
                result.structured_content = {"mimeType": media, "size": len(outcome.content)}
        if self.output is None or result.structured_content is None:
            return result
        problems = self.output.problems(result.structured_content)
        if problems:  # the contract is broken, but what the upstream said is still shown
            message = "the upstream's answer does not match the tool's output schema: "
            broken = text_result(message + "; ".join(problems), is_error=True)
            broken.content.extend(c for c in result.content if isinstance(c, types.TextContent))
            return broken
        return result


def _redacted(value: Any, outcome: Answer, redactor: Redactor) -> Any:
    """The value with every secret redacted; a value capgen built is judged by its JSON text
    (the answer's content), read once, instead of string by string."""
    if outcome.value is value:
        return redactor.written_value(value, outcome.content)
    return redactor.value(value)


def _deep(value: Any, outcome: Answer) -> bool:
    """The value nests deeper than `MAX_DEPTH`. Its JSON text, the answer's content when that
    was written from it (a built value's, or the body it was read from), takes two characters
    a level at least: a short one cannot."""
    if outcome.content and len(outcome.content) <= 2 * MAX_DEPTH:
        return False
    return depth(value) > MAX_DEPTH


def json_value(outcome: Answer) -> Any:
    """The answer as a JSON value: the mapped value, or a JSON body; NOT_MAPPED otherwise."""
    if outcome.value is not NOT_MAPPED:
        return outcome.value
    media = media_type(outcome.media_type)
    if not outcome.content or not (media.endswith("json") or media.endswith("+json")):
        return NOT_MAPPED
    try:
        return json.loads(outcome.content)
    except (ValueError, RecursionError):
        return NOT_MAPPED
