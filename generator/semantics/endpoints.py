"""What an exposed unit does: call, steps, mock, ref; `with` references; input mappings."""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from ..diagnostics import Span
from ..guess import did_you_mean
from ..ir import model as ir
from ..ir.model import replace
from ..spec import models as m
from .context import CallContext, Calls, Context, ExtraParam
from .outputs import outputs
from .scope import caller_heads, readable
from .templates import TemplateError, names

_LOCATIONS = ("path", "query", "header", "cookie", "body")
_MAPPING_TARGETS = {
    "body": "body",
    "path": "path",
    "pathparameters": "path",
    "query": "query",
    "queryparameters": "query",
    "header": "header",
    "headers": "header",
    "headerparameters": "header",
    "cookie": "cookie",
    "cookies": "cookie",
}


def ref_prefixes(kind: str, namespace: str) -> tuple[str, ...]:
    own = ("rest.",) if kind == "rest" else ("tools.",) if kind == "mcp" else ()
    return (*own, f"$this.{namespace}.", f"{namespace}.")


def with_entries(
    ctx: Context, data: dict[str, Any] | None, kind: str, namespace: str, span: Span
) -> tuple[ir.With, ...]:
    """SEMANTICS §2.4 + DEV-5: `rest.x`, `tools.x`, `<ns>.x`, `$this.<ns>.x` reference input `x`."""
    entries = []
    prefixes = ref_prefixes(kind, namespace)
    other = "tools." if kind == "rest" else "rest." if kind == "mcp" else None
    for key, value in (data or {}).items():
        if isinstance(value, str):
            prefix = next((p for p in prefixes if value.startswith(p)), None)
            if prefix is None and other and value.startswith(other):
                ctx.warning(
                    "W122",
                    f"`with: {key}: {value}` in a {kind} adapter read as a reference to `{value[len(other) :]}`",
                    span,
                )
                prefix = other
            if prefix is not None:
                entries.append(ir.With(str(key), ref=value[len(prefix) :]))
                continue
            value = _template(ctx, value, kind, namespace, span)
        entries.append(ir.With(str(key), value=value))
    return tuple(entries)


def _template(ctx: Context, value: str, kind: str, namespace: str, span: Span) -> str:
    """A `with` template, its caller references read as DEV-5 reads `with` values (DEV-24)."""
    try:
        names(value)
    except TemplateError as exc:
        ctx.error("E026", str(exc), span)
        return value
    own = [p.removeprefix("$this.")[:-1] for p in ref_prefixes(kind, namespace)]
    text = str(readable(value, caller_heads(ctx, own)))
    other = "tools" if kind == "rest" else "rest" if kind == "mcp" else ""
    if other and str(readable(text, caller_heads(ctx, [other]))) != text:
        ctx.warning("W122", f"`{value}` in a {kind} adapter: `{other}.x` read as input x", span)
        text = str(readable(text, caller_heads(ctx, [other])))
    return text


def mapping_target(
    ctx: Context, mapping: Any, call: str | None, span: Span
) -> tuple[str | None, str] | None:
    """Where an exposed input's `mapping` sends it: (location or None, consumed parameter name)."""
    if not isinstance(mapping, str) or not mapping.strip():
        return None
    text = mapping.strip().removeprefix("$.").removeprefix("$")
    head, _, rest = text.partition(".")
    location = _MAPPING_TARGETS.get(re.sub(r"[^a-z]", "", head.lower()))
    if location and rest:
        return location, rest
    if call and text.startswith(call + ".") and len(text) > len(call) + 1:
        return None, text[len(call) + 1 :]
    if text and "." not in text and "[" not in text:  # `$.name`: the consumed parameter `name`
        return None, text
    ctx.warning(
        "W122", f"input mapping {mapping!r} not understood; the input is passed by its name", span
    )
    return None


def collect_extra_params(ctx: Context, op: m.ExposedOperation, span: Span) -> None:
    """Pre-pass: input mappings that target parameters the consumed operation does not declare."""
    call = (
        op.call
        if isinstance(op.call, str)
        else (op.call or {}).get("operation") if isinstance(op.call, dict) else None
    )
    if not call or call.count(".") != 1:
        return
    namespace, name = call.split(".")
    for item in op.input_parameters:
        target = mapping_target(ctx, item.mapping, call, span) if item.mapping is not None else None
        if target:
            declared_in = (item.in_ or "").lower()
            location = target[0] or (declared_in if declared_in in _LOCATIONS else None)
            extra = ExtraParam(
                target[1], location, (item.type or "string").lower(), item.description
            )
            ctx.extra_params.setdefault((namespace, name), []).append(extra)


def build_endpoint(
    ctx: Context,
    op: m.ExposedOperation | m.McpResource,
    kind: str,
    namespace: str,
    inputs: tuple[ir.Input, ...],
    context: CallContext | None = None,
) -> tuple[ir.Endpoint, Calls]:
    """`context` is the exposed method and path, which (with what `with` feeds) tells apart two
    consumed operations declared under one name."""
    span = ctx.span(op)
    name = getattr(op, "name", None) or ""
    with_ = with_entries(ctx, op.with_, kind, namespace, span)
    target = _Target(pairs=[])
    ref = getattr(op, "ref", None)
    if ref:
        _resolve_ref(ctx, ref, target, span)
    elif op.call is not None:
        with_ = _resolve_call(ctx, op, kind, namespace, with_, context, target, span)
    call_ref, pairs, function, unavailable = (
        target.call,
        target.pairs,
        target.function,
        target.unavailable,
    )
    steps = tuple(_step(ctx, step, kind, namespace, pairs) for step in op.steps)
    missing = [
        s.name
        for s, spec in zip(steps, op.steps, strict=True)
        if spec.type == "call" and s.call is None
    ]
    if missing and unavailable is None:
        unavailable = _unavailable(op.steps[[s.name for s in op.steps].index(missing[0])].call)
    mappings = tuple(ir.StepMapping(mp.target_name, mp.value) for mp in op.mappings)
    endpoint = ir.Endpoint(
        name=name,
        inputs=inputs,
        with_=tuple(w for w in with_ if w.ref != w.key),  # `x: rest.x` changes nothing at run time
        call=call_ref,
        steps=steps,
        mappings=mappings,
        outputs=outputs(ctx, op.output_parameters),
        function=function,
        unavailable=unavailable,
    )
    return endpoint, Calls(tuple(pairs))


@dataclass
class _Target:
    """What an exposed unit calls: a consumed operation, or an aggregate function."""

    pairs: list[tuple[ir.Operation, tuple[ir.With, ...]]]
    call: ir.Call | None = None
    function: ir.Endpoint | None = None
    unavailable: str | None = None


def _resolve_ref(ctx: Context, ref: str, target: _Target, span: Span) -> None:
    found = ctx.functions.get(ref)
    if found is None:
        guess = did_you_mean(ref, ctx.functions)
        ctx.error("E034", f"`ref: {ref}` names no aggregate function (§7.8: fatal){guess}", span)
        target.unavailable = (
            f"this operation refers to {ref}, which the capability does not declare"
        )
    else:
        target.function = found.endpoint
        target.pairs.extend(ctx.function_calls[ref].pairs)


def _resolve_call(
    ctx: Context,
    op: m.ExposedOperation | m.McpResource,
    kind: str,
    namespace: str,
    with_: tuple[ir.With, ...],
    context: CallContext | None,
    target: _Target,
    span: Span,
) -> tuple[ir.With, ...]:
    assert op.call is not None
    call_name, call_with = _call_parts(ctx, op.call, kind, namespace, span)
    keys = frozenset(w.key for w in (*with_, *call_with))
    operation = ctx.lookup(call_name, span, replace(context or CallContext(), keys=keys))
    if operation is None:
        target.unavailable = _unavailable(call_name)
        return with_
    with_ = (*with_, *_mapped_inputs(ctx, op, call_name, with_, span))
    target.call = ir.Call(operation, call_with)
    target.pairs.append((operation, (*with_, *call_with)))
    return with_


def _unavailable(call: str | None) -> str:
    return f"this operation calls {call}, which the capability does not declare"


def _call_parts(
    ctx: Context, call: Any, kind: str, namespace: str, span: Span
) -> tuple[str | None, tuple[ir.With, ...]]:
    if isinstance(call, dict):
        operation = call.get("operation") or call.get("call")
        return (str(operation) if operation else None), with_entries(
            ctx, call.get("with"), kind, namespace, span
        )
    return (str(call) if call is not None else None), ()


def _mapped_inputs(
    ctx: Context,
    op: m.ExposedOperation | m.McpResource,
    call: str | None,
    with_: Sequence[ir.With],
    span: Span,
) -> list[ir.With]:
    """Inputs whose `mapping` names a consumed parameter become `with` references."""
    explicit = {w.key for w in with_}
    extra = []
    for item in getattr(op, "input_parameters", ()):
        target = mapping_target(ctx, item.mapping, call, span) if item.mapping is not None else None
        if target and target[1] not in explicit and target[1] != item.name:
            extra.append(ir.With(target[1], ref=item.name))
            explicit.add(target[1])
    return extra


def _step(
    ctx: Context,
    step: m.Step,
    kind: str,
    namespace: str,
    pairs: list[tuple[ir.Operation, tuple[ir.With, ...]]],
) -> ir.Step:
    span = ctx.span(step)
    step_kind = (step.type or "call").lower()
    if step_kind == "call":
        operation = ctx.lookup(step.call, span)
        if operation is None:
            return ir.Step("call", step.name)
        step_with = with_entries(ctx, step.with_, kind, namespace, span)
        pairs.append((operation, step_with))
        return ir.Step(
            "call",
            step.name,
            call=ir.Call(operation, step_with),
        )
    if step_kind == "lookup":
        fields = tuple(
            str(f) if not isinstance(f, dict) else str(f.get("name", ""))
            for f in step.output_parameters
        )
        return ir.Step(
            "lookup",
            step.name,
            index=step.index,
            match=step.match,
            lookup_value=step.lookup_value,
            fields=fields,
        )
    ctx.warning(
        "W132",
        f"step {step.name!r} of type {step.type!r} is not supported; the operation answers 501",
        span,
    )
    return ir.Step(step_kind, step.name)


def has_values(outputs: tuple[ir.Output, ...]) -> bool:
    return any(o.value is not None or has_values(o.properties) for o in outputs)


def idle(
    ctx: Context, op: m.ExposedOperation, endpoint: ir.Endpoint, what: str, span: Span
) -> bool:
    """Whether an exposed unit has no call, steps, ref nor mock values and the engine's rules
    answer it (a REST 404, SEMANTICS §7.2; an MCP tool's mock object of its `with`, §6.5).
    A unit with nothing at all, or whose outputs map an upstream answer nothing fetches (a
    deleted `call:` line), is an error where it is written instead."""
    if op.call is not None or op.ref is not None or op.steps or has_values(endpoint.outputs):
        return False
    if maps_an_answer(endpoint.outputs) or not (endpoint.outputs or endpoint.with_):
        ctx.error(
            "E035",
            f"{what} has no call, steps, ref or mock values: it would do nothing",
            span,
        )
        return False
    return True


def maps_an_answer(outputs: tuple[ir.Output, ...]) -> bool:
    return any(
        o.mapping is not None
        or maps_an_answer(o.properties)
        or (o.items is not None and maps_an_answer((o.items,)))
        for o in outputs
    )
