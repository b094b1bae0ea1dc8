"""What a template can read (DEV-24): caller references inside templates, and the names that
nothing supplies.

`{{tools.x}}`, `{{rest.x}}`, `{{<namespace>.x}}` and `{{$this.<namespace>.x}}` inside a
template read caller input `x`, as DEV-5 reads them in `with` values; they are rewritten to
`{{x}}` when the spec is read, so the run time renders them like any other name. A bind
namespace is never a caller reference: `{{env.KEY}}` stays the bind's KEY. A name that no
input, bind, step or `with` entry can supply renders empty; each is reported where it is
written (a warning, an error with --strict).
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator
from typing import Any

from ..diagnostics import Span
from ..ir import model as ir
from .context import Context
from .templates import TemplateError, collect_names

_TAG = re.compile(r"\{\{(\s*[#^/&]?\s*)(\$this\.)?([^{}.\s#^/&!]+)\.([^{}\s]+?)(\s*)\}\}")
_SECTION = re.compile(r"\{\{\s*[#^]")


def readable(data: Any, heads: frozenset[str]) -> Any:
    """`data` (a template, or a structure of them) with each caller reference whose head is
    in `heads` read as the plain name (`{{tools.mode}}` → `{{mode}}`)."""
    if isinstance(data, str):
        if "{{" not in data:
            return data

        def plain(match: re.Match[str]) -> str:
            if match.group(3) not in heads:
                return match.group(0)
            return "{{" + match.group(1) + match.group(4) + match.group(5) + "}}"

        return _TAG.sub(plain, data)
    if isinstance(data, dict):
        return {readable(k, heads): readable(v, heads) for k, v in data.items()}
    if isinstance(data, list):
        return [readable(item, heads) for item in data]
    return data


def caller_heads(ctx: Context, own: Iterable[str]) -> frozenset[str]:
    """The heads that name a caller's inputs, less the bind namespaces (never shadowed)."""
    binds = {b.namespace for b in ctx.spec.binds}
    return frozenset(h for h in own if h and h not in binds)


def unsupplied(
    ctx: Context,
    endpoint: ir.Endpoint,
    pairs: Iterable[tuple[ir.Operation, Iterable[ir.With]]],
    supplied: Iterable[str],
    unit: str,
    span: Span,
) -> None:
    """Report each template name of an exposed unit that nothing can supply (DEV-24): not an
    input (declared or offered), a path variable, a `with` key, a step, a consumed parameter
    of the operation it reaches, nor a bind."""
    pairs = list(pairs)
    known = set(supplied) | set(ctx.bind_names) | {b.namespace for b in ctx.spec.binds}
    known |= {w.key for _, entries in pairs for w in entries}
    known |= {w.key for w in endpoint.with_} | {s.name for s in endpoint.steps}
    for operation, _ in pairs:
        written = known | {p.name for p in operation.parameters}
        for where, template in _consumed_templates(operation):
            _report(ctx, template, written, f"{unit}: {where} of {_name(operation)}", span)
    for where, template in _own_templates(endpoint, pairs):
        _report(ctx, template, known, f"{unit}: {where}", span)


def _name(operation: ir.Operation) -> str:
    return f"{operation.namespace}.{operation.name}"


def _consumed_templates(operation: ir.Operation) -> Iterator[tuple[str, Any]]:
    for param in operation.parameters:
        if isinstance(param.value, str):
            yield f"parameter {param.name!r}", param.value
    if operation.body is not None:
        yield "the body", operation.body.data


def _own_templates(
    endpoint: ir.Endpoint, pairs: list[tuple[ir.Operation, Iterable[ir.With]]]
) -> Iterator[tuple[str, Any]]:
    entries = [*endpoint.with_, *(w for _, ws in pairs for w in ws)]
    seen: set[int] = set()
    for entry in entries:  # a `with` value may be a mapping: told apart by identity
        if id(entry) in seen:
            continue
        seen.add(id(entry))
        if entry.ref is None and isinstance(entry.value, str):
            yield f"`with: {entry.key}`", entry.value
    if not (endpoint.call or endpoint.steps or endpoint.function):  # a mock renders its values
        for output in endpoint.outputs:
            yield f"output {output.name or 'value'!r}", _values(output)


def _values(output: ir.Output) -> list[Any]:
    children = [*output.properties, *(x for x in (output.items, output.values) if x)]
    return [output.value, *(_values(child) for child in children)]


def _report(ctx: Context, template: Any, known: set[str], where: str, span: Span) -> None:
    try:
        used = collect_names(template)
    except TemplateError:
        return  # reported where the template is read
    if any(_SECTION.search(t) for t in _strings(template)):
        return  # names inside a section are read from its items
    for name in used:
        if name == "." or name in known or name.split(".")[0] in known:
            continue
        message = (
            f"{where}: `{{{{{name}}}}}` renders empty: no input, bind, step or `with` entry "
            "supplies it"
        )
        ctx.problem("E080", "W151", message, span)


def _strings(data: Any) -> Iterator[str]:
    if isinstance(data, str):
        yield data
    elif isinstance(data, dict):
        for key, value in data.items():
            yield from _strings(key)
            yield from _strings(value)
    elif isinstance(data, list):
        for item in data:
            yield from _strings(item)
