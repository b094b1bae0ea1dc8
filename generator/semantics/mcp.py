"""Build MCP adapters: tools (schemas, annotations), resources and prompts."""

from __future__ import annotations

from typing import Any

from ..diagnostics import not_one_of
from ..ir import model as ir
from ..ir.model import replace
from ..spec import models as m
from .auth import inbound_auth
from .context import CallContext, Context, caller_order, caller_texts
from .endpoints import build_endpoint, idle
from .extensions import adapter_fields
from .interface import derive, feeds, mirrored_headers
from .naming import normalise
from .rest import endpoint_modules
from .schemas import constraints, json_type
from .scope import unsupplied
from .selection import ToolSelection
from .templates import TemplateError, collect_names
from .unnamed import named

_HINTS = (
    ("read_only", "read_only_hint"),
    ("destructive", "destructive_hint"),
    ("idempotent", "idempotent_hint"),
    ("open_world", "open_world_hint"),
)


def build_mcp(
    ctx: Context, adapter: m.McpExposes, module: str, selection: ToolSelection | None = None
) -> ir.McpAdapter:
    tools: list[ir.Tool] = []
    names: set[str] = set()
    order = caller_order([op.call for op in adapter.tools])
    for op, place in zip(adapter.tools, order, strict=True):
        span = ctx.span(op)
        tool_name = (op.name or "").strip() or _ref_name(op)
        if not tool_name:  # a blank name is no name
            ctx.warning("W102", "an MCP tool without `name` is skipped", span)
            continue
        if tool_name in names:
            message = f"tool {tool_name!r} is declared twice in {adapter.namespace}; the first wins"
            ctx.problem("E041", "W131", message, span)
            continue
        names.add(tool_name)
        tools.append(
            _tool(ctx, adapter, op, tool_name, CallContext(order=place, texts=caller_texts(op)))
        )
    if selection is not None and not selection.everything:  # chosen by the build options
        tools = [tool for tool in tools if selection.keeps(tool)]
    resources = tuple(_resource(ctx, adapter, r) for r in adapter.resources)
    prompts = tuple(_prompt(ctx, p) for p in adapter.prompts)
    transport = (adapter.transport or "http").lower()
    if transport not in ("http", "stdio"):
        ctx.error(
            "E014",
            not_one_of("MCP transport", adapter.transport, ("http", "stdio")),
            ctx.span(adapter),
        )
    endpoints = [t.endpoint for t in tools] + [r.endpoint for r in resources if r.endpoint]
    modules = {module for endpoint in endpoints for module in endpoint_modules(endpoint)}
    return ir.McpAdapter(
        namespace=adapter.namespace,
        module=module,
        port=_port(ctx, adapter) if transport == "http" else None,
        address=adapter.address,
        transport=transport,
        description=" ".join((adapter.description or "").split()) or None,
        auth=inbound_auth(ctx, adapter.authentication, adapter.pointer),
        tools=tuple(tools),
        resources=resources,
        prompts=prompts,
        imports=tuple(sorted(modules)),
        **adapter_fields(ctx, adapter),
    )


DEFAULT_PORT = 9090


def _port(ctx: Context, adapter: m.McpExposes) -> int:
    """An MCP adapter over HTTP listens somewhere: without `port`, on the first port from 9090
    no other adapter of the spec declares (with a warning; `--port` can still move it)."""
    if adapter.port is not None:
        return adapter.port
    taken = {a.port for a in ctx.spec.rest} | {a.port for a in ctx.spec.mcp}
    port = next(p for p in range(DEFAULT_PORT, DEFAULT_PORT + 1000) if p not in taken)
    ctx.warning(
        "W122",
        f"MCP adapter {adapter.namespace!r} over HTTP has no `port`; it listens on {port}",
        ctx.span(adapter),
    )
    return port


def _ref_name(op: m.ExposedOperation) -> str | None:
    return op.ref.split(".", 1)[-1] if op.ref else None


def _mirrored(inputs: dict[str, ir.Input], headers: dict[str, str]) -> dict[str, ir.Input]:
    """Each argument that is a header's whole value, with that header (`x-mcp-header`): one
    argument per header name, and only of the types SEP-2243 allows (no number, no object)."""
    taken: set[str] = set()
    for name, item in inputs.items():
        header = headers.get(normalise(name))
        if header and item.type in ("string", "integer", "boolean") and header.lower() not in taken:
            taken.add(header.lower())
            inputs[name] = replace(item, header=header)
    return inputs


def _tool(
    ctx: Context, adapter: m.McpExposes, op: m.ExposedOperation, name: str, where: CallContext
) -> ir.Tool:
    """Declared inputs shape the schema (SEMANTICS §6.4); without them the inputs are derived
    from the consumed operation (DEV-18). Placeholders nobody feeds are required either way."""
    declared = named(ctx, op.input_parameters) or list(ctx.function_inputs.get(op.ref or "", ()))
    inputs = {
        i.name: ir.Input(
            i.name,
            type=json_type(i.type),
            required=i.required is not False,
            description=_clean(i.description),
            constraints=constraints(i),
        )
        for i in declared
    }
    endpoint, calls = build_endpoint(ctx, op, "mcp", adapter.namespace, (), where)
    for d in derive(calls.pairs, inputs, ctx.bind_names):
        if not declared or d.location == "path":
            inputs[d.name] = ir.Input(
                d.name,
                type=json_type(d.type),
                required=d.required or bool(declared),
                description=d.description,
                constraints=d.constraints,
            )
    if not declared:
        for var in _mock_vars(endpoint, ctx.bind_names):
            inputs.setdefault(var, ir.Input(var))
    fed = feeds(calls.pairs, ctx.bind_names)
    inputs = {name: replace(i, feeds=fed.get(normalise(name))) for name, i in inputs.items()}
    inputs = _mirrored(inputs, mirrored_headers(calls.pairs, ctx.bind_names))
    unsupplied(ctx, endpoint, calls.pairs, inputs, f"tool {name!r}", ctx.span(op))
    idle(ctx, op, endpoint, f"tool {name!r}", ctx.span(op))
    description = op.description
    if op.ref and description is None and op.ref in ctx.functions:
        description = ctx.functions[op.ref].description
    if not description and calls.pairs:  # what it calls says what it does
        description = calls.pairs[0][0].summary
    return ir.Tool(
        name=name,
        title=op.label,
        description=" ".join(description.split()) if description else None,
        inputs=tuple(inputs.values()),
        annotations=_annotations(ctx, op),
        endpoint=replace(endpoint, name=name),
        span=ctx.span(op),
        tags=tuple(op.tags),
    )


def _clean(text: str | None) -> str | None:
    return " ".join(text.split()) if text else None


def _mock_vars(endpoint: ir.Endpoint, bind_names: frozenset[str]) -> list[str]:
    if endpoint.call or endpoint.steps or endpoint.function:
        return []
    try:
        used = collect_names([_values(o) for o in endpoint.outputs])
    except TemplateError:
        return []
    return [n for n in used if n not in bind_names and "." not in n]


def _values(output: ir.Output) -> list[Any]:
    return [
        output.value,
        *(_values(p) for p in output.properties),
        *(_values(x) for x in (output.items,) if x),
    ]


def _annotations(ctx: Context, op: m.ExposedOperation) -> dict[str, Any] | None:
    """Only hints the spec sets (SEMANTICS §6.4), the label as title; `ref` derives from semantics."""
    found: dict[str, Any] = {}
    if op.label:
        found["title"] = op.label
    semantics = _function_semantics(ctx, op)
    if semantics.get("safe") is True:
        found.update(read_only_hint=True, destructive_hint=False)
    elif semantics.get("safe") is False:
        found["read_only_hint"] = False
    if isinstance(semantics.get("idempotent"), bool):
        found["idempotent_hint"] = semantics["idempotent"]
    if op.hints is not None:
        for spec_name, hint in _HINTS:
            value = getattr(op.hints, spec_name)
            if value is not None:
                found[hint] = value
    return found or None


def _function_semantics(ctx: Context, op: m.ExposedOperation) -> dict[str, Any]:
    if not op.ref:
        return {}
    for aggregate in ctx.spec.aggregates:
        for function in aggregate.functions:
            if f"{aggregate.namespace}.{function.name}" == op.ref:
                return dict(function.semantics or {})
    return {}


def _resource(ctx: Context, adapter: m.McpExposes, resource: m.McpResource) -> ir.Resource:
    endpoint = None
    if resource.location is None:
        endpoint, _ = build_endpoint(ctx, resource, "mcp", adapter.namespace, ())
    return ir.Resource(
        name=resource.name,
        uri=resource.uri,
        title=resource.label,
        description=_clean(resource.description),
        mime_type=resource.mime_type,
        endpoint=endpoint,
        location=resource.location,
        binary=resource.binary is True,
    )


def _prompt(ctx: Context, prompt: m.McpPrompt) -> ir.Prompt:
    if not prompt.template and not prompt.location:
        ctx.error(
            "E044",
            f"prompt {prompt.name!r} needs `template` messages or a `location`",
            ctx.span(prompt),
        )
    return ir.Prompt(
        name=prompt.name,
        title=prompt.label,
        description=_clean(prompt.description or prompt.label)
        or _clean(next((msg.content for msg in prompt.template), None)),
        arguments=tuple(
            ir.PromptArgument(a.name, a.label, _clean(a.description), a.required is not False)
            for a in prompt.arguments
        ),
        messages=tuple((msg.role, msg.content) for msg in prompt.template),
        location=prompt.location,
    )
