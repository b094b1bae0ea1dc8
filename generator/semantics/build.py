"""Spec → IR: the passes in order, and the package-level names."""

from __future__ import annotations

from typing import Any, TypeVar

from ..diagnostics import Diagnostics
from ..ir import model as ir
from ..ir.model import replace
from ..loader import Locations, Pointer
from ..spec import models as m
from ..spec.parse import Spec
from . import naming
from .consumes import build_upstreams
from .context import Calls, Context
from .endpoints import build_endpoint, collect_extra_params
from .environment import check_bind_names, portable
from .extensions import package_version
from .mcp import build_mcp
from .rest import build_rest, endpoint_modules
from .scope import caller_heads
from .selection import ToolSelection
from .service import bind_service
from .templates import TemplateError, collect_names
from .unnamed import named

A = TypeVar("A", m.RestExposes, m.McpExposes)


def build_package(
    spec: Spec,
    diagnostics: Diagnostics,
    module: str | None = None,
    selection: ToolSelection | None = None,
) -> ir.Package:
    check_bind_names(spec, diagnostics)
    binds = tuple(ir.Bind(b.namespace, tuple(b.keys.items()), b.location) for b in spec.binds)
    binds += _implicit_binds(spec, diagnostics, frozenset(k for b in binds for k, _ in b.keys))
    ctx = Context(spec, diagnostics, bind_names=frozenset(k for b in binds for k, _ in b.keys))
    callers = [a.namespace for a in _all_adapters(spec)] + [a.namespace for a in spec.aggregates]
    ctx.caller_heads = caller_heads(ctx, ["rest", "tools", *callers])
    for op in _exposed_operations(spec):
        collect_extra_params(ctx, op, ctx.span(op))
    build_upstreams(ctx)
    functions = _functions(ctx)
    rest = _adapters(spec.rest, "rest")
    mcp = _adapters(spec.mcp, "mcp_server" if len(spec.mcp) == 1 else "mcp")
    rest_adapters = tuple(build_rest(ctx, a, name) for a, name in rest)
    mcp_adapters = tuple(build_mcp(ctx, a, name, selection) for a, name in mcp)
    _check_ports(ctx, spec)
    _check_namespaces(ctx, spec)
    if not rest_adapters and not mcp_adapters:
        diagnostics.warning(
            "W112", "the spec exposes no REST or MCP adapter", spec.locations.span(())
        )
    package = _package(ctx, binds, functions, rest_adapters, mcp_adapters, module)
    return bind_service(package, ctx.service_methods)


def _package(
    ctx: Context,
    binds: tuple[ir.Bind, ...],
    functions: tuple[ir.Function, ...],
    rest: tuple[ir.RestAdapter, ...],
    mcp: tuple[ir.McpAdapter, ...],
    module: str | None,
) -> ir.Package:
    """The package of the built parts, with its names."""
    spec = ctx.spec
    stem = spec.path.name.split(".")[0]
    package_module = _package_module(ctx, module or stem, given=module is not None)
    info = spec.info
    title = (info.label if info and info.label else stem).strip()
    auths = [a.auth for a in rest] + [a.auth for a in mcp]
    oauth = any(auth is not None and auth.kind == "oauth2" for auth in auths)
    imported = {mod for f in functions for mod in endpoint_modules(f.endpoint)} - {"aggregates"}
    upstreams = tuple(ctx.upstreams.values())
    adapters = [a.module for a in rest] + [a.module for a in mcp]
    modules = {"settings", *(u.module for u in upstreams), *adapters}
    return ir.Package(
        dist_name=naming.dist_name(package_module),
        module=package_module,
        title=title,
        description=" ".join((info.description if info and info.description else title).split()),
        spec_name=spec.path.name,
        env_prefix=naming.constant(package_module),
        binds=binds,
        upstreams=upstreams,
        rest=rest,
        mcp=mcp,
        functions=functions,
        function_imports=tuple(sorted(imported)),
        modules=tuple(sorted(modules)),
        runtime_extras=("oauth2",) if oauth else (),
        version=package_version(ctx),
    )


def _package_module(ctx: Context, name: str, *, given: bool) -> str:
    package_module, renamed = naming.package_module(name, given=given)
    if renamed:
        ctx.warning(
            "W124",
            f"package name {package_module.removesuffix(naming.PACKAGE_SUFFIX)!r} would shadow "
            f"the module of that name; the package is {package_module!r}",
            ctx.spec.locations.span(()),
        )
    return package_module


def _implicit_binds(
    spec: Spec, diagnostics: Diagnostics, declared: frozenset[str]
) -> tuple[ir.Bind, ...]:
    """An upstream credential must never become an empty string: a variable a consumes
    authentication block uses that no bind declares is read from the environment variable of
    that name (fatal at start-up when unset), with a warning."""
    # outbound only: an inbound credential nobody binds refuses to start (case 44)
    blocks: list[tuple[Any, Locations, Pointer]] = [
        (c.model.authentication, c.locations, c.model.pointer) for c in spec.consumes
    ]
    found: dict[str, dict[str, str]] = {}
    for data, locations, pointer in blocks:
        try:
            used = collect_names(data) if isinstance(data, dict) else ()
        except TemplateError:
            continue  # reported where the template is read
        for name in used:
            head, _, key = name.rpartition(".")
            if key in declared or key in found.get(head or "env", {}) or not portable(key):
                continue
            diagnostics.warning(
                "W133",
                f"`{{{{{name}}}}}` in a consumes authentication is not declared under binds; it is "
                f"read from the environment variable {key} at start-up (which fails when it is unset)",
                locations.span((*pointer, "authentication")),
            )
            found.setdefault(head or "env", {})[key] = key
    return tuple(ir.Bind(ns, tuple(keys.items())) for ns, keys in sorted(found.items()))


def _exposed_operations(spec: Spec) -> list[m.ExposedOperation]:
    ops: list[m.ExposedOperation] = [
        op for a in spec.rest for r in a.resources for op in r.operations
    ]
    ops += [tool for a in spec.mcp for tool in a.tools]
    ops += [f for a in spec.aggregates for f in a.functions]
    return ops


def _adapters(adapters: list[A], base: str) -> list[tuple[A, str]]:
    if len(adapters) == 1:
        return [(adapters[0], base)]
    prefix = "rest" if base == "rest" else "mcp"
    modules = naming.unique([_module(prefix, naming.snake(a.namespace)) for a in adapters])
    return list(zip(adapters, modules, strict=True))


def _module(prefix: str, name: str) -> str:
    """`rest_orders` for namespace `orders`, and also for `rest-orders` (no `rest_rest_`)."""
    return name if name.startswith(f"{prefix}_") else f"{prefix}_{name}"


def _functions(ctx: Context) -> tuple[ir.Function, ...]:
    result = []
    consts: set[str] = set()
    for aggregate in ctx.spec.aggregates:
        for function in aggregate.functions:
            ref = f"{aggregate.namespace}.{function.name}"
            endpoint, calls = build_endpoint(ctx, function, "aggregate", aggregate.namespace, ())
            endpoint = replace(endpoint, media_type=function.output_media_type)
            const = naming.claim(naming.constant(ref), consts)
            built = ir.Function(const, ref, endpoint, function.description)
            ctx.functions[ref] = built
            ctx.function_calls[ref] = Calls(calls.pairs)
            ctx.function_inputs[ref] = tuple(named(ctx, function.input_parameters))
            result.append(built)
    return tuple(result)


def _check_ports(ctx: Context, spec: Spec) -> None:
    seen: dict[int, str] = {}
    for adapter in _all_adapters(spec):
        port = adapter.port
        if port is None or getattr(adapter, "transport", "http") == "stdio":
            continue
        if port in seen:
            ctx.error(
                "E042",
                f"{adapter.namespace} and {seen[port]} both listen on port {port}",
                ctx.span(adapter),
            )
        seen[port] = adapter.namespace


def _check_namespaces(ctx: Context, spec: Spec) -> None:
    seen = set(ctx.upstreams)
    for adapter in _all_adapters(spec):
        if adapter.namespace in seen:
            ctx.error("E022", f"namespace {adapter.namespace!r} is used twice", ctx.span(adapter))
        seen.add(adapter.namespace)


def _all_adapters(spec: Spec) -> list[m.RestExposes | m.McpExposes]:
    return [*spec.rest, *spec.mcp]
