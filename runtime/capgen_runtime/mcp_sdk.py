"""Serve an MCP adapter with the official SDK's low-level `Server` (SEMANTICS §6).

Imported lazily by `mcp.py`.

The low-level server keeps the spec's input schemas and annotations exactly as generated;
tool results are one text item, with `isError` set from the upstream status.
"""

from __future__ import annotations

import base64
import json
import mimetypes
import re
from collections.abc import Mapping
from pathlib import Path
from typing import Any
from urllib.parse import unquote

import mcp.types as types
from mcp import MCPError
from mcp.server import Server, ServerRequestContext

from .body import MAX_DEPTH, depth
from .contract import Checker, mcp_output_schema, result_schema, structured
from .engine import Outcome, Service, execute, json_outcome
from .errors import CapabilityError, NoHandler
from .formats import media_type
from .mapping import NOT_MAPPED
from .mcp_stream import stream_result, with_progress
from .model import (
    Endpoint,
    McpAdapter,
    Prompt,
    Resource,
    Tool,
    chosen,
    object_schema,
)
from .settings import Settings

_SEGMENT = re.compile(r"^[A-Za-z0-9._-]+$")


class Catalog:
    """The tools an adapter offers under the service's settings, each with its contract, and
    what `tools/list` shows of them. Built once per adapter, whatever the number of servers."""

    def __init__(self, adapter: McpAdapter, settings: Settings) -> None:
        offered = selected(adapter.tools, settings.tools, settings.exclude_tools)
        self.tools = {tool.name: tool for tool in offered}
        self.contracts = {tool.name: ToolContract(tool) for tool in offered}
        listed = [self.contracts[tool.name].listed for tool in offered]
        self.discovery = Discovery(listed) if settings.discovery else None
        # in discovery mode a few meta-tools stand for all of them
        self.listed = list(self.discovery.tools) if self.discovery else listed


def build_server(
    adapter: McpAdapter, service: Service, catalog: Catalog | None = None
) -> Server[Any]:
    """A low-level MCP server whose handlers run the adapter's endpoints."""
    catalog = catalog or Catalog(adapter, service.settings)
    tools, contracts, listed = catalog.tools, catalog.contracts, catalog.listed
    discovery = catalog.discovery
    size = service.settings.page_size

    async def list_tools(
        ctx: ServerRequestContext[Any], params: types.PaginatedRequestParams | None
    ) -> types.ListToolsResult:
        start = _cursor(params.cursor if params else None, len(listed))
        if size <= 0:
            return types.ListToolsResult(tools=listed)
        more = start + size < len(listed)
        return types.ListToolsResult(
            tools=listed[start : start + size], next_cursor=str(start + size) if more else None
        )

    async def call_tool(
        ctx: ServerRequestContext[Any], params: types.CallToolRequestParams
    ) -> types.CallToolResult:
        if discovery is not None and params.name in discovery.names:
            invoked = discovery.invoked(params.name, params.arguments or {})
            if isinstance(invoked, types.CallToolResult):
                return invoked  # a search or a description
            return await run(ctx, *invoked)
        return await run(ctx, params.name, params.arguments or {})

    async def run(
        ctx: ServerRequestContext[Any], name: str, given: Mapping[str, Any]
    ) -> types.CallToolResult:
        tool = tools.get(name)
        if tool is None:
            raise MCPError(code=types.INVALID_PARAMS, message=f"Unknown tool: {name}")
        contract = contracts[tool.name]
        declared = contract.declared  # nothing else enters the template scope
        arguments = {k: v for k, v in given.items() if k in declared}
        problems = contract.check_arguments(arguments)
        if problems:  # a tool error the model can correct (protocol 2025-11-25)
            return _text_result(f"Invalid arguments: {'; '.join(problems)}", is_error=True)
        token = ctx.meta.get("progress_token") if ctx.meta else None
        try:
            outcome = await execute(tool.endpoint, arguments, service, stream=token is not None)
            if outcome.stream is not None:
                assert token is not None
                outcome = await with_progress(outcome, outcome.stream, ctx, token, service)
        except NoHandler:  # §6.5: neither call nor steps nor mock values: the mock `{}`
            outcome = json_outcome(200, {})
        except CapabilityError as exc:
            return _text_result(service.redact(exc.message), is_error=True)
        return contract.result(_tool_result(outcome, service), outcome, service)

    handlers: dict[str, Any] = {"on_list_tools": list_tools, "on_call_tool": call_tool}
    if adapter.resources:
        handlers.update(_resource_handlers(adapter.resources, service))
    if adapter.prompts:
        handlers.update(_prompt_handlers(adapter.prompts))
    server: Server[Any] = Server(
        adapter.namespace, version=adapter.version, instructions=adapter.description, **handlers
    )
    # The SDK wraps every request in an OpenTelemetry span by default; with no exporter it only
    # costs time. Services that want spans can put `OpenTelemetryMiddleware` back.
    server.middleware = [
        m for m in server.middleware if type(m).__name__ != "OpenTelemetryMiddleware"
    ]
    return server


def selected(
    tools: tuple[Tool, ...], include: tuple[str, ...], exclude: tuple[str, ...]
) -> list[Tool]:
    """The tools offered at run time; a tool not offered is neither listed nor callable."""
    return [tool for tool in tools if chosen(tool.name, include, exclude)]


def _cursor(cursor: str | None, total: int) -> int:
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
            return _text_result(f"No tool named {name!r}: use {self.SEARCH}", is_error=True)
        if meta == self.DESCRIBE:
            definition = self.by_name[str(name)].model_dump(by_alias=True, exclude_none=True)
            return _json_result(definition)
        if meta == self.INVOKE:
            given = arguments.get("arguments") or {}
            if not isinstance(given, dict):
                return _text_result(
                    "Invalid arguments: arguments: must be an object", is_error=True
                )
            return str(name), given
        query = arguments.get("query")
        if not isinstance(query, str):
            return _text_result("Invalid arguments: query: must be a string", is_error=True)
        limit = arguments.get("limit")
        found = self.search(query, limit if isinstance(limit, int) and limit > 0 else 10)
        return _json_result({"tools": found})

    def search(self, query: str, limit: int) -> list[dict[str, str]]:
        """Tools whose name and description hold every word of the query, best first (more
        words in the name), in listing order otherwise."""
        words = [w for w in re.split(r"[\s_\-./]+", query.lower()) if w]
        ranked = []
        for index, tool in enumerate(self.by_name.values()):
            text = f"{tool.name} {tool.title or ''} {tool.description or ''}".lower()
            if all(word in text for word in words):
                in_name = sum(word in tool.name.lower() for word in words)
                ranked.append((-in_name, index, tool))
        return [
            {"name": tool.name, "description": tool.description or tool.title or ""}
            for _, _, tool in sorted(ranked, key=lambda item: item[:2])[:limit]
        ]


def _json_result(value: dict[str, Any]) -> types.CallToolResult:
    result = _text_result(json.dumps(value, ensure_ascii=False), is_error=False)
    result.structured_content = value
    return result


class ToolContract:
    """A tool's listed definition, the check of its arguments against its `inputSchema`, and
    its results' `structuredContent`, checked against its `outputSchema`."""

    def __init__(self, tool: Tool) -> None:
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
        )

    def check_arguments(self, arguments: Mapping[str, Any]) -> list[str]:
        """What is wrong with the arguments, one entry per offending argument; an empty
        required text is missing too (it would leave a hole in the upstream request)."""
        offences = self.arguments.offences(arguments)
        named = {name for name, _ in offences}
        empty = [n for n in self.required if arguments.get(n) == "" and n not in named]
        return [*(line for _, line in offences), *(f"{name}: is required" for name in empty)]

    def result(
        self, result: types.CallToolResult, outcome: Outcome, service: Service
    ) -> types.CallToolResult:
        """The result with its structured content: the JSON answer (wrapped as the published
        schema says), or, for a binary answer, its media type and size."""
        if result.is_error:
            return result
        if result.structured_content is None:
            value = json_value(outcome)
            if value is not NOT_MAPPED and depth(value) > MAX_DEPTH:  # the SDK cannot send it
                message = f"the upstream's answer nests deeper than {MAX_DEPTH} levels"
                return _text_result(message, is_error=True)
            if value is not NOT_MAPPED:
                result.structured_content = structured(service.redact_value(value), self.wrapped)
            elif not self.wrapped:
                media = media_type(outcome.media_type) or "application/octet-stream"
                result.structured_content = {"mimeType": media, "size": len(outcome.content)}
        if self.output is None or result.structured_content is None:
            return result
        problems = self.output.problems(result.structured_content)
        if problems:  # the contract is broken, but what the upstream said is still shown
            message = "the upstream's answer does not match the tool's output schema: "
            broken = _text_result(message + "; ".join(problems), is_error=True)
            broken.content.extend(c for c in result.content if isinstance(c, types.TextContent))
            return broken
        return result


def json_value(outcome: Outcome) -> Any:
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


def _text_result(text: str, *, is_error: bool) -> types.CallToolResult:
    return types.CallToolResult(
        content=[types.TextContent(type="text", text=text)], is_error=is_error
    )


def _tool_result(outcome: Outcome, service: Service) -> types.CallToolResult:
    if outcome.is_error:  # DEV-25: the upstream's error body, whatever its type, as text
        status = outcome.headers.get("X-Upstream-Status", str(outcome.status))
        text = outcome.text or f"No response entity received (HTTP {status})"
        return _text_result(service.redact(text), is_error=True)
    media = media_type(outcome.media_type)
    if outcome.content and outcome.value is NOT_MAPPED and not _is_text(media):
        data = base64.b64encode(outcome.content).decode()
        content: types.ContentBlock
        if media.startswith("image/"):
            content = types.ImageContent(type="image", data=data, mime_type=media)
        elif media.startswith("audio/"):
            content = types.AudioContent(type="audio", data=data, mime_type=media)
        else:  # a PDF, an archive, octet-stream: an embedded resource with its type
            blob = types.BlobResourceContents(
                uri="capgen://result", blob=data, mime_type=media or "application/octet-stream"
            )
            content = types.EmbeddedResource(type="resource", resource=blob)
        return types.CallToolResult(content=[content], is_error=outcome.is_error)
    if media == "text/event-stream":
        return stream_result(outcome, service)
    return _text_result(service.redact(outcome.text), is_error=outcome.is_error)


def _is_text(media: str) -> bool:
    return (
        not media
        or media.startswith("text/")
        or media.endswith(("json", "+xml", "/xml", "yaml", "ndjson"))
        or media in ("application/x-www-form-urlencoded", "application/javascript")
    )


def _resource_handlers(resources: tuple[Resource, ...], service: Service) -> dict[str, Any]:
    concrete = [r for r in resources if "{" not in r.uri]
    templates = [r for r in resources if "{" in r.uri]

    async def list_resources(
        ctx: ServerRequestContext[Any], params: Any
    ) -> types.ListResourcesResult:
        listed: list[types.Resource] = []
        for r in concrete:
            if r.location:
                listed.extend(
                    types.Resource(
                        name=r.name, uri=f"{r.uri.rstrip('/')}/{rel}", mime_type=_guess(rel)
                    )
                    for rel in _static_files(r.location)
                )
            else:
                listed.append(
                    types.Resource(
                        name=r.name,
                        uri=r.uri,
                        title=r.title or r.name,
                        description=r.description,
                        mime_type=r.mime_type,
                    )
                )
        return types.ListResourcesResult(resources=listed)

    async def list_templates(
        ctx: ServerRequestContext[Any], params: Any
    ) -> types.ListResourceTemplatesResult:
        return types.ListResourceTemplatesResult(
            resource_templates=[
                types.ResourceTemplate(
                    name=r.name,
                    uri_template=r.uri,
                    title=r.title,
                    description=r.description,
                    mime_type=r.mime_type,
                )
                for r in templates
            ]
        )

    async def read_resource(
        ctx: ServerRequestContext[Any], params: types.ReadResourceRequestParams
    ) -> types.ReadResourceResult:
        uri = str(params.uri)
        for resource in resources:
            found = await _read(resource, uri, service)
            if found is not None:
                return types.ReadResourceResult(contents=[found])
        raise MCPError(code=types.INVALID_PARAMS, message=f"Unknown resource: {uri}")

    return {
        "on_list_resources": list_resources,
        "on_list_resource_templates": list_templates,
        "on_read_resource": read_resource,
    }


async def _read(
    resource: Resource, uri: str, service: Service
) -> types.TextResourceContents | None:
    if resource.location:
        prefix = resource.uri.rstrip("/") + "/"
        if not uri.startswith(prefix):
            return None
        return _read_static(resource, uri, uri[len(prefix) :])
    values = match_template(resource.uri, uri)
    if values is None:
        return None
    try:
        outcome = await execute(resource.endpoint or Endpoint(resource.name), values, service)
    except CapabilityError as exc:
        raise MCPError(code=types.INVALID_PARAMS, message=exc.message) from None
    return types.TextResourceContents(
        uri=uri,
        mime_type=resource.mime_type or "application/json",
        text=service.redact(outcome.text),
    )


def match_template(template: str, uri: str) -> dict[str, str] | None:
    """`data://users/{userId}/profile` against a URI; a variable never spans `/`."""
    if "{" not in template:
        return {} if template == uri else None
    pattern = "".join(
        f"(?P<v{i}>[^/]+)" if part.startswith("{") else re.escape(part)
        for i, part in enumerate(re.split(r"(\{[^{}]+\})", template))
    )
    match = re.fullmatch(pattern, uri)
    if match is None:
        return None
    names = [part[1:-1] for part in re.split(r"(\{[^{}]+\})", template) if part.startswith("{")]
    values = [v for k, v in sorted(match.groupdict().items(), key=lambda kv: int(kv[0][1:]))]
    return dict(zip(names, (unquote(v) for v in values), strict=True))


def _root(location: str) -> Path:
    return Path(unquote(location.removeprefix("file://"))).resolve()


def _static_files(location: str) -> list[str]:
    root = _root(location)
    if not root.is_dir():
        return []
    return sorted(p.relative_to(root).as_posix() for p in root.rglob("*") if p.is_file())


def _read_static(resource: Resource, uri: str, relative: str) -> types.TextResourceContents:
    parts = relative.split("/")
    if not relative or any(not _SEGMENT.match(p) or p in (".", "..") for p in parts):
        raise MCPError(code=types.INVALID_PARAMS, message=f"Invalid resource path: {uri}")
    root = _root(resource.location or "")
    target = (root / relative).resolve()
    if root not in target.parents or not target.is_file():
        raise MCPError(code=types.INVALID_PARAMS, message=f"Unknown resource: {uri}")
    text = target.read_text(encoding="utf-8", errors="replace")
    return types.TextResourceContents(uri=uri, mime_type=_guess(relative), text=text)


def _guess(name: str) -> str:
    return mimetypes.guess_type(name)[0] or "text/plain"


_PROMPT_ARG = re.compile(r"\{\{([A-Za-z0-9_]+)\}\}")


def _prompt_handlers(prompts: tuple[Prompt, ...]) -> dict[str, Any]:
    by_name = {p.name: p for p in prompts}

    async def list_prompts(ctx: ServerRequestContext[Any], params: Any) -> types.ListPromptsResult:
        return types.ListPromptsResult(
            prompts=[
                types.Prompt(
                    name=p.name,
                    title=p.title,
                    description=p.description,
                    arguments=[
                        types.PromptArgument(
                            name=a.name,
                            title=a.title,
                            description=a.description,
                            required=a.required,
                        )
                        for a in p.arguments
                    ],
                )
                for p in prompts
            ]
        )

    async def get_prompt(
        ctx: ServerRequestContext[Any], params: types.GetPromptRequestParams
    ) -> types.GetPromptResult:
        prompt = by_name.get(params.name)
        if prompt is None:
            raise MCPError(code=types.INVALID_PARAMS, message=f"Unknown prompt: {params.name}")
        arguments = {k: str(v) for k, v in (params.arguments or {}).items()}
        missing = [a.name for a in prompt.arguments if a.required and not arguments.get(a.name)]
        if missing:
            raise MCPError(
                code=types.INVALID_PARAMS,
                message=f"Missing required argument(s) of prompt {prompt.name}: {', '.join(missing)}",
            )
        messages = prompt.messages
        if prompt.location:
            messages = (("user", _root(prompt.location).read_text(encoding="utf-8")),)
        return types.GetPromptResult(
            description=prompt.description,
            messages=[
                types.PromptMessage(
                    role=role,
                    content=types.TextContent(type="text", text=fill_prompt(text, arguments)),
                )
                for role, text in messages
            ],
        )

    return {"on_list_prompts": list_prompts, "on_get_prompt": get_prompt}


def fill_prompt(template: str, arguments: Mapping[str, str]) -> str:
    """One pass: a missing argument keeps its placeholder; values are never re-expanded."""
    return _PROMPT_ARG.sub(lambda m: arguments.get(m.group(1), m.group(0)), template)
