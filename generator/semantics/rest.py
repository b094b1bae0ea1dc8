"""Build REST adapters: routes, inputs, endpoints and their OpenAPI description."""

from __future__ import annotations

import re

from ..diagnostics import Span, not_one_of
from ..ir import model as ir
from ..ir.model import replace
from ..spec import models as m
from . import naming
from .auth import inbound_auth
from .consumes import NO_BODY
from .context import CallContext, Calls, Context, caller_order, caller_texts
from .endpoints import build_endpoint, idle
from .extensions import adapter_fields, responses, route_tags
from .interface import Derived, derive, feeds
from .naming import normalise
from .routes import Draft, routes_of
from .schemas import constraints, json_type
from .scope import unsupplied
from .templates import TemplateError, normalise_path
from .unnamed import named

METHODS = ("GET", "POST", "PUT", "PATCH", "DELETE", "HEAD", "OPTIONS")
_VARIABLE = re.compile(r"\{([^{}]+)\}")
_INPUT_LOCATIONS = ("path", "query", "header", "cookie", "body", "environment")
_ADAPTER_NAMES = frozenset({"ADAPTER", "ROUTES"})  # the module's own names


def build_rest(ctx: Context, adapter: m.RestExposes, module: str) -> ir.RestAdapter:
    drafts: list[Draft] = []
    consts: set[str] = set()
    seen: dict[tuple[str, str], Span] = {}
    order = iter(caller_order([op.call for r in adapter.resources for op in r.operations]))
    for resource in adapter.resources:
        for op in resource.operations:
            draft = _operation(ctx, adapter, resource, op, consts, next(order))
            if draft is None:
                continue
            key = (draft.method, _shape(draft.path))
            if key in seen:
                message = f"{draft.method} {draft.path} is declared twice in {adapter.namespace}; the first wins"
                ctx.problem("E040", "W131", message, draft.span)
                continue
            seen[key] = draft.span
            drafts.append(draft)
        if resource.forward is not None:
            drafts.extend(_forward(ctx, adapter, resource, drafts, consts))
    routes = routes_of(drafts)
    return ir.RestAdapter(
        namespace=adapter.namespace,
        module=module,
        port=adapter.port or 8080,
        address=adapter.address,
        title=_title(ctx, adapter),
        description=" ".join((adapter.description or "").split()) or None,
        auth=inbound_auth(ctx, adapter.authentication, adapter.pointer),
        routes=routes,
        imports=_imports(routes),
        **adapter_fields(ctx, adapter),
    )


def _title(ctx: Context, adapter: m.RestExposes) -> str:
    info = ctx.spec.info
    return (info.label if info and info.label else adapter.namespace).strip()


def _shape(path: str) -> str:
    """Paths that differ only in variable names route the same way."""
    return "/".join("{}" if s.startswith("{") else s for s in path.split("/"))


def _full_path(resource_path: str, op_path: str | None) -> str:
    """An operation `path` (capgen extension) is appended unless it already starts with the resource's."""
    if not op_path:
        return resource_path
    if op_path == resource_path or op_path.startswith(resource_path.rstrip("/") + "/"):
        return op_path
    return resource_path.rstrip("/") + "/" + op_path.lstrip("/")


def _operation(
    ctx: Context,
    adapter: m.RestExposes,
    resource: m.ExposedResource,
    op: m.ExposedOperation,
    consts: set[str],
    place: tuple[int, int],
) -> Draft | None:
    span = ctx.span(op)
    located = _method_and_path(ctx, resource, op, span)
    if located is None:
        return None
    method, path, variables = located
    endpoint, pairs = _endpoint(ctx, adapter, resource, op, (method, path, variables), place)
    inputs, name = endpoint.inputs, endpoint.name
    supplied = [*(i.name for i in inputs), *variables]
    unsupplied(ctx, endpoint, pairs, supplied, f"{method} {path}", span)
    if idle(ctx, op, endpoint, f"{method} {path}", span):
        ctx.warning(
            "W122", f"{method} {path} has no call, steps, ref or mock values; it answers 404", span
        )
    const = naming.claim(naming.constant(name, "ROUTE"), consts, _ADAPTER_NAMES)
    summary, description = _texts(resource, op, ctx.functions.get(op.ref or ""))
    tags = route_tags(resource, op)
    return Draft(
        const,
        name,
        method,
        path,
        list(variables),
        endpoint,
        summary,
        description,
        span,
        tags,
        responses(ctx, op),
        _described(ctx, pairs, inputs, variables),
    )


def _described(
    ctx: Context,
    pairs: list[tuple[ir.Operation, tuple[ir.With, ...]]],
    inputs: tuple[ir.Input, ...],
    variables: tuple[str, ...],
) -> tuple[tuple[str, str], ...]:
    """The descriptions of the path variables no input declares, from the consumed
    parameters they feed (as an MCP tool's derived inputs are described)."""
    declared = {normalise(i.name) for i in inputs}
    found = {
        normalise(d.name): d.description
        for d in derive(pairs, [i.name for i in inputs], ctx.bind_names)
        if d.description and normalise(d.name) not in declared
    }
    return tuple((v, found[normalise(v)]) for v in variables if normalise(v) in found)


def _endpoint(
    ctx: Context,
    adapter: m.RestExposes,
    resource: m.ExposedResource,
    op: m.ExposedOperation,
    located: tuple[str, str, tuple[str, ...]],
    place: tuple[int, int],
) -> tuple[ir.Endpoint, list[tuple[ir.Operation, tuple[ir.With, ...]]]]:
    """The route's endpoint, named, with its declared and derived inputs, and the calls it makes
    paired with the arguments each is given."""
    method, path, variables = located
    own = [*resource.input_parameters, *op.input_parameters]
    if not own and op.ref:  # a `ref` inherits its function's inputs, as MCP tools do (§6.4)
        own = list(ctx.function_inputs.get(op.ref, ()))
    declared = _inputs(ctx, [*adapter.input_parameters, *own], variables, method)
    where = CallContext(method, path, order=place, texts=caller_texts(op))
    endpoint, calls = build_endpoint(ctx, op, "rest", adapter.namespace, declared, where)
    paired = _pair_path_variables(calls, variables, declared)
    pairs = [(operation, (*entries, *paired)) for operation, entries in calls.pairs]
    derived = derive(pairs, [*(i.name for i in declared), *variables], ctx.bind_names)
    fed = feeds(pairs, ctx.bind_names)
    inputs = tuple(
        replace(i, feeds=fed.get(normalise(i.name)) if i.location != "path" else None)
        for i in (*declared, *(_derived_input(d) for d in derived))
    )
    function = ctx.functions.get(op.ref or "")  # a bare `ref` is named and described by it
    name = op.name or (
        function.ref.split(".")[-1] if function else naming.snake(f"{method} {path}")
    )
    return replace(endpoint, name=name, inputs=inputs, with_=(*endpoint.with_, *paired)), pairs


def _method_and_path(
    ctx: Context, resource: m.ExposedResource, op: m.ExposedOperation, span: Span
) -> tuple[str, str, tuple[str, ...]] | None:
    """The operation's method and its whole path with its variables, or None (reported)."""
    method = (op.method or "").upper()
    if not method:
        ctx.error("E012", "a REST operation needs `method`", span)
        return None
    if method not in METHODS:
        ctx.error("E014", not_one_of("method", op.method, METHODS), span)
        return None
    raw = _full_path(resource.path, op.path)
    try:
        path, variables = normalise_path(raw)
    except TemplateError:
        ctx.error("E043", f"REST path {raw!r} has unbalanced braces", ctx.span(resource))
        return None
    if not path.startswith("/"):
        ctx.error("E043", f"REST path {raw!r} must start with '/'", ctx.span(resource))
        return None
    return method, path, tuple(variables)


def _texts(
    resource: m.ExposedResource, op: m.ExposedOperation, function: ir.Function | None
) -> tuple[str | None, str | None]:
    """The operation's summary and description (none when it only repeats the summary)."""
    written = op.description or (function.description if function else None)
    description = " ".join((written or resource.description or "").split()) or None
    summary = (
        " ".join((op.label or resource.label or (description or "").split(". ")[0]).split()) or None
    )
    if description and summary and description.rstrip(".") == summary.rstrip("."):
        description = None
    return summary, description


def _pair_path_variables(
    calls: Calls, variables: tuple[str, ...], declared: tuple[ir.Input, ...]
) -> tuple[ir.With, ...]:
    """`/items/{item-id}` calling `/things/{id}`: when exactly the same number of exposed path
    variables and consumed placeholders are left unmatched (by name, normalised name or `with`),
    they are paired in order."""
    if len(calls.pairs) != 1:
        return ()
    operation, entries = calls.pairs[0]
    offered = {normalise(v) for v in variables} | {normalise(i.name) for i in declared}
    fed = {w.key for w in entries} | {normalise(w.ref) for w in entries if w.ref}
    placeholders = [
        p.name for p in operation.parameters if p.location == "path" and p.value is None
    ]
    left = [p for p in placeholders if p not in fed and normalise(p) not in offered]
    consumed = {normalise(p.name) for p in operation.parameters} | {
        normalise(w.ref) for w in entries if w.ref
    }
    unused = [v for v in variables if normalise(v) not in consumed]
    if not left or len(left) != len(unused):
        return ()
    return tuple(ir.With(key, ref=variable) for key, variable in zip(left, unused, strict=True))


def _inputs(
    ctx: Context, items: list[m.InputParameter], variables: tuple[str, ...], method: str
) -> tuple[ir.Input, ...]:
    result: dict[str, ir.Input] = {}
    for item in named(ctx, items):
        location = (item.in_ or "").lower()
        if location and location not in _INPUT_LOCATIONS:
            ctx.error(
                "E014",
                not_one_of(f"input {item.name!r}: `in`", item.in_, _INPUT_LOCATIONS),
                ctx.span(item),
            )
            continue
        if not location:
            location = (
                "path" if item.name in variables else "query" if method in NO_BODY else "body"
            )
        elif location == "path" and item.name not in variables:  # no caller could send it
            ctx.warning(
                "W122",
                f"input {item.name!r} is `in: path` but the path has no {{{item.name}}}; "
                "it is read from the query",
                ctx.span(item),
            )
            location = "query"
        value = item.value if isinstance(item.value, str) else None
        result[item.name] = ir.Input(
            name=item.name,
            location=location,
            value=value,
            type=json_type(item.type),
            required=item.required is not False if location == "path" else bool(item.required),
            description=" ".join(item.description.split()) if item.description else None,
            constraints=constraints(item),
        )
    return tuple(result.values())


def _derived_input(derived: Derived) -> ir.Input:
    location = {"path": "query", "template": "query"}.get(derived.location, derived.location)
    value = None if location != "body" or derived.whole_body else f"$['{derived.name}']"
    return ir.Input(
        derived.name,
        location,
        value,
        json_type(derived.type),
        derived.required,
        derived.description,
        derived.constraints,
    )


def _forward(
    ctx: Context,
    adapter: m.RestExposes,
    resource: m.ExposedResource,
    drafts: list[Draft],
    consts: set[str],
) -> list[Draft]:
    forward = resource.forward
    assert forward is not None
    span = ctx.span(resource)
    if forward.target_namespace not in ctx.upstreams:
        ctx.error(
            "E033",
            f"`forward.targetNamespace: {forward.target_namespace}` is not a consumes namespace",
            span,
        )
        return []
    try:
        path, variables = normalise_path(resource.path)
    except TemplateError:
        ctx.error("E043", f"REST path {resource.path!r} has unbalanced braces", span)
        return []
    variable = "path" if "path" in variables else (variables[-1] if variables else None)
    claimed = {d.method for d in drafts if d.path == path}
    target = ir.Forward(forward.target_namespace, variable, tuple(forward.trusted_headers))
    result = []
    for method in ("GET", "POST", "PUT", "PATCH", "DELETE"):
        if method in claimed:
            continue
        name = f"forward-{method.lower()}-{resource.name or naming.snake(path)}"
        const = naming.claim(naming.constant(name), consts)
        endpoint = ir.Endpoint(name=name, forward=target)
        summary = f"Forward {method} to {forward.target_namespace}"
        result.append(
            Draft(
                const, name, method, path, list(variables), endpoint, summary, None, span, (path,)
            )
        )
    return result


def _imports(routes: tuple[ir.Route, ...]) -> tuple[str, ...]:
    """Modules the generated adapter refers to (clients of called operations, aggregates)."""
    modules: set[str] = set()
    for route in routes:
        modules.update(endpoint_modules(route.endpoint))
    return tuple(sorted(modules))


def _called(call: ir.Call) -> ir.Operation:
    operation = call.operation
    assert isinstance(operation, ir.Operation), "calls of the IR hold IR operations"
    return operation


def endpoint_modules(endpoint: ir.Endpoint) -> set[str]:
    """The package modules whose names the endpoint's descriptor refers to."""
    calls = [endpoint.call, *(step.call for step in endpoint.steps)]
    modules = {_called(call).module for call in calls if call is not None}
    if endpoint.function is not None:
        modules.add("aggregates")
    return modules
