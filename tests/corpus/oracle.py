"""What a call of an exposed operation must send upstream, computed from the IR.

Independent of the generated run-time: it derives sample inputs from the declared interface
(REST inputs / MCP input schema), follows the spec's `with` entries, and predicts the method,
path, query, headers and body the consumed operation implies. Sample values are URL-safe so
the predicted path needs no encoding rules.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

from generator.ir import model as ir
from generator.semantics.naming import normalise, snake

_PLACEHOLDER = re.compile(r"\{([^{}]+)\}")
_MUSTACHE = re.compile(r"\{\{\s*([^{}#^/!]+?)\s*\}\}")


def sample(name: str, kind: str) -> Any:
    slug = re.sub(r"[^a-z0-9]+", "-", snake(name).lower()).strip("-") or "v"
    return {
        "integer": 7,
        "number": 1.5,
        "boolean": True,
        "array": [f"a-{slug}", f"b-{slug}"],
        "object": {"sample": f"o-{slug}"},
    }.get(kind, f"s-{slug}")


def text(value: Any) -> str:
    if value is True:
        return "true"
    if value is False:
        return "false"
    return str(value)


@dataclass
class Expected:
    method: str
    path: str  # relative to the namespace's base URL
    query: list[tuple[str, str]] = field(default_factory=list)
    headers: dict[str, str] = field(default_factory=dict)
    body: Any = None
    has_body: bool = False


@dataclass
class Call:
    """A request to make against an exposed unit, and what the upstream should then see."""

    namespace: str
    expected: Expected
    # REST
    path: str = ""
    query: dict[str, Any] = field(default_factory=dict)
    headers: dict[str, str] = field(default_factory=dict)
    body: Any = None
    # MCP
    arguments: dict[str, Any] = field(default_factory=dict)


def find(values: dict[str, Any], name: str) -> Any:
    if name in values:
        return values[name]
    for key, value in values.items():
        if normalise(key) == normalise(name):
            return value
    return None


def render(template: str, scopes: list[dict[str, Any]]) -> str:
    def value(match: re.Match[str]) -> str:
        name = match.group(1)
        for scope in scopes:
            if name in scope:
                return text(scope[name])
        head, _, tail = name.partition(".")
        for scope in scopes:
            if isinstance(scope.get(head), dict) and tail in scope[head]:
                return text(scope[head][tail])
        return ""

    return _MUSTACHE.sub(value, template)


def apply_with(
    params: dict[str, Any], entries: tuple[ir.With, ...], binds: dict[str, Any]
) -> dict[str, Any]:
    result = dict(params)
    for entry in entries:
        if entry.ref is not None:
            found = find(params, entry.ref)
            if found is not None:
                result[entry.key] = found
        elif isinstance(entry.value, str):
            result[entry.key] = render(entry.value, [params, binds])
        else:
            result[entry.key] = entry.value
    return result


def expect(
    upstream: ir.Upstream,
    operation: ir.Operation,
    endpoint: ir.Endpoint,
    inputs: dict[str, Any],
    binds: dict[str, Any],
) -> Expected:
    assert endpoint.call is not None
    params = apply_with(apply_with(inputs, endpoint.with_, binds), endpoint.call.with_, binds)
    expected = Expected(operation.method, "")
    body_values: dict[str, Any] = {}
    for param in (*upstream.parameters, *operation.parameters):
        if param.value is not None:
            value = (
                render(param.value, [params, binds])
                if isinstance(param.value, str)
                else param.value
            )
            if isinstance(value, str) and "{{" in value:
                continue
        else:
            value = find(params, param.name)
        if value is None:
            continue
        params[param.name] = value
        if param.location == "query":
            items = value if isinstance(value, list) else [value]
            expected.query.extend((param.name, text(v)) for v in items)
        elif param.location == "header":
            expected.headers[param.name.lower()] = text(value)
        elif param.location == "body":
            body_values[param.name] = value

    def fill(match: re.Match[str]) -> str:
        return text(find(params, match.group(1)))

    expected.path = _PLACEHOLDER.sub(fill, operation.path)
    if operation.body is None and body_values:
        expected.has_body = True
        single = next(iter(body_values.values())) if len(body_values) == 1 else None
        expected.body = single if isinstance(single, (dict, list)) else body_values
    _auth(upstream.auth, expected, binds)
    return expected


def _auth(auth: ir.Auth | None, expected: Expected, binds: dict[str, Any]) -> None:
    if auth is None:
        return
    if auth.kind == "bearer" and auth.token:
        expected.headers["authorization"] = "Bearer " + render(auth.token, [binds])
    elif auth.kind == "apikey" and auth.key and auth.value:
        value = render(auth.value, [binds])
        if auth.placement == "query":
            expected.query.append((render(auth.key, [binds]), value))
        elif auth.placement == "header":
            expected.headers[render(auth.key, [binds]).lower()] = value


Operations = dict[tuple[str, str], ir.Operation]  # (client module, constant) -> operation


def rest_call(
    route: ir.Route,
    upstreams: dict[str, ir.Upstream],
    operations: Operations,
    binds: dict[str, Any],
    hidden: str,
) -> Call | None:
    endpoint = route.endpoint
    if endpoint.call is None or endpoint.steps or endpoint.forward or endpoint.unavailable:
        return None
    operation = operations[(endpoint.call.operation.module, endpoint.call.operation.const)]  # type: ignore[attr-defined]
    inputs: dict[str, Any] = {}
    path = route.path
    for _, name in route.variables:
        value = text(sample(name, "string"))
        inputs[name] = value
        path = path.replace("{" + name + "}", value)
    call = Call(operation.namespace, Expected("", ""), path=path)
    whole: list[ir.Input] = []
    fields: dict[str, Any] = {}
    for item in endpoint.inputs:
        if item.value is not None and not item.value.startswith("$"):
            inputs[item.name] = item.value
            continue
        if item.location == "path" or item.name.lower() == hidden:
            continue
        value = sample(item.name, item.type)
        if item.location == "query":
            call.query[item.name] = value
            inputs[item.name] = text(value) if not isinstance(value, list) else text(value[0])
        elif item.location == "header":
            call.headers[item.name] = text(value)
            inputs[item.name] = text(value)
        elif item.location == "cookie":
            continue
        elif item.location == "body":
            if item.value is None:
                whole.append(item)
            else:
                fields[item.name] = value
                inputs[item.name] = value
    lone = len(whole) == 1 and not fields and whole[0].type in ("object", "array")
    if lone:  # the only body input, an object or array: the caller's whole body is it
        call.body = {"sample": "whole-body"}
        inputs[whole[0].name] = call.body
    elif whole or fields:  # several: each one is the body field of its name
        for item in whole:
            fields[item.name] = inputs[item.name] = sample(item.name, item.type)
        call.body = fields
    call.expected = expect(upstreams[operation.namespace], operation, endpoint, inputs, binds)
    return call


def mcp_call(
    tool: ir.Tool, upstreams: dict[str, ir.Upstream], operations: Operations, binds: dict[str, Any]
) -> Call | None:
    endpoint = tool.endpoint
    if endpoint.call is None or endpoint.steps or endpoint.unavailable:
        return None
    operation = operations[(endpoint.call.operation.module, endpoint.call.operation.const)]  # type: ignore[attr-defined]
    arguments = {item.name: sample(item.name, item.type) for item in tool.inputs}
    call = Call(operation.namespace, Expected("", ""), arguments=arguments)
    call.expected = expect(upstreams[operation.namespace], operation, endpoint, arguments, binds)
    return call
