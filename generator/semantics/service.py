"""The generated service class: one typed method per consumed operation and per exposed unit
(REST operation, MCP tool, resource and prompt), and each unit's descriptor naming its method
(`handler`) and the method's keyword arguments (`signature`), so adapters answer through it."""

from __future__ import annotations

import re
from collections.abc import Iterable

from ..ir import model as ir
from ..ir.model import replace
from . import naming
from .params import ANNOTATIONS

_VARIABLE = re.compile(r"\{([^{}]+)\}")
_MODULE_NAMES = frozenset({"ADAPTER", "TOOLS", "RESOURCES", "PROMPTS"})
# what each kind of method does by default: send the operation, answer the unit, fill a prompt
_CALL, _RUN, _FILL = "await self.call", "await self.run", "fill_messages"


def bind_service(package: ir.Package, taken: set[str]) -> ir.Package:
    """`package` with its service; `taken` holds the method names the consumed operations
    already have."""
    methods = [_operation(u, op) for u in package.upstreams for op in u.operations]
    names = set(taken) | naming.SERVICE_RESERVED
    rest = tuple(_rest(adapter, names, methods) for adapter in package.rest)
    mcp = tuple(_mcp(adapter, names, methods) for adapter in package.mcp)
    service = ir.ServiceClass(f"{naming.pascal(package.module)}Service", tuple(methods))
    return replace(package, rest=rest, mcp=mcp, service=service)


def _operation(upstream: ir.Upstream, op: ir.Operation) -> ir.Method:
    arguments = tuple(
        ir.Argument(p.identifier, p.name, p.annotation, p.required, p.description)
        for p in op.arguments
    )
    data = f"{upstream.module}.{op.result.name}" if op.result else op.data_annotation
    target = f"{upstream.module}.{op.const}"
    summary = f"``{op.method} {op.path}`` of {upstream.namespace}: {op.summary}"
    name = op.handler or op.method_name
    return ir.Method(name, "operation", arguments, f"Result[{data}]", target, summary, _CALL)


def _rest(adapter: ir.RestAdapter, names: set[str], methods: list[ir.Method]) -> ir.RestAdapter:
    routes = []
    for route in adapter.routes:
        name = _name("rest", route.name, names)
        declared = {i.name for i in route.endpoint.inputs}
        variables = [(n, "str", True, None) for _, n in route.variables if n not in declared]
        arguments = _arguments([*variables, *_described(route.endpoint.inputs)])
        summary = f"REST ``{route.method} {route.path}``: {route.summary or route.name}"
        target = f"{adapter.module}.{route.const}.endpoint"
        methods.append(ir.Method(name, "rest", arguments, "Answer", target, summary, _RUN))
        routes.append(replace(route, handler=name, signature=_signature(arguments)))
    return replace(adapter, routes=tuple(routes))


def _mcp(adapter: ir.McpAdapter, names: set[str], methods: list[ir.Method]) -> ir.McpAdapter:
    consts = set(_MODULE_NAMES)
    tools = []
    for tool in adapter.tools:
        name, const = _name("tool", tool.name, names), _const(tool.name, consts)
        arguments = _inputs(tool.inputs)
        target = f"{adapter.module}.{const}.endpoint"
        summary = f"MCP tool ``{tool.name}``: {tool.description or tool.title or tool.name}"
        methods.append(ir.Method(name, "tool", arguments, "Answer", target, summary, _RUN))
        tools.append(replace(tool, const=const, handler=name, signature=_signature(arguments)))
    resources = [_resource(adapter, r, names, consts, methods) for r in adapter.resources]
    prompts = [_prompt(adapter, p, names, consts, methods) for p in adapter.prompts]
    return replace(adapter, tools=tuple(tools), resources=tuple(resources), prompts=tuple(prompts))


def _resource(
    adapter: ir.McpAdapter,
    resource: ir.Resource,
    names: set[str],
    consts: set[str],
    methods: list[ir.Method],
) -> ir.Resource:
    const = _const(resource.name, consts)
    if resource.endpoint is None:  # static files: nothing to answer through a method
        return replace(resource, const=const)
    variables = _VARIABLE.findall(resource.uri)
    arguments = _arguments((v, "str", True, None) for v in variables)
    name = _name("resource", resource.name, names)
    summary = f"MCP resource ``{resource.uri}``: {resource.description or resource.name}"
    target = f"{adapter.module}.{const}.endpoint"
    methods.append(ir.Method(name, "resource", arguments, "Answer", target, summary, _RUN))
    return replace(resource, const=const, handler=name, signature=_signature(arguments))


def _prompt(
    adapter: ir.McpAdapter,
    prompt: ir.Prompt,
    names: set[str],
    consts: set[str],
    methods: list[ir.Method],
) -> ir.Prompt:
    const = _const(prompt.name, consts)
    arguments = _arguments((a.name, "str", a.required, a.description) for a in prompt.arguments)
    name = _name("prompt", prompt.name, names)
    summary = f"MCP prompt ``{prompt.name}``: {prompt.description or prompt.name}"
    target = f"{adapter.module}.{const}"
    methods.append(ir.Method(name, "prompt", arguments, "Messages", target, summary, _FILL))
    return replace(prompt, const=const, handler=name, signature=_signature(arguments))


def _inputs(inputs: Iterable[ir.Input]) -> tuple[ir.Argument, ...]:
    return _arguments(_described(inputs))


def _described(inputs: Iterable[ir.Input]) -> list[tuple[str, str, bool, str | None]]:
    return [(i.name, ANNOTATIONS.get(i.type, "Any"), i.required, i.description) for i in inputs]


def _arguments(
    given: Iterable[tuple[str, str, bool, str | None]],
) -> tuple[ir.Argument, ...]:
    items = list(given)
    identifiers = naming.unique(naming.identifier(name, "value") for name, *_ in items)
    return tuple(
        ir.Argument(identifier, name, annotation, required, description)
        for identifier, (name, annotation, required, description) in zip(
            identifiers, items, strict=True
        )
    )


def _signature(arguments: tuple[ir.Argument, ...]) -> tuple[tuple[str, str], ...]:
    return tuple((a.identifier, a.name) for a in arguments)


def _name(kind: str, name: str, taken: set[str]) -> str:
    return naming.claim(f"{kind}_{naming.snake(name)}", taken)


def _const(name: str, taken: set[str]) -> str:
    return naming.claim(naming.constant(name), taken)
