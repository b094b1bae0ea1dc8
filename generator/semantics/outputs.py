"""Output parameters (SEMANTICS §4) into IR outputs."""

from __future__ import annotations

from ..ir import model as ir
from ..ir.model import replace
from ..loader import Locations
from ..spec import models as m
from .context import Context
from .templates import TemplateError, names


def outputs(
    ctx: Context, items: list[m.OutputParameter], locations: Locations | None = None
) -> tuple[ir.Output, ...]:
    return tuple(output(ctx, item, locations) for item in items)


def output(ctx: Context, item: m.OutputParameter, locations: Locations | None = None) -> ir.Output:
    span = (locations or ctx.spec.locations).span(item.pointer)
    mapping = item.mapping
    value = item.value
    if isinstance(mapping, dict):
        ctx.warning(
            "W122",
            "an object-valued `mapping` is not supported (put `properties` on the parameter)",
            span,
        )
        mapping = None
    if item.name and isinstance(value, str) and value.startswith("$") and mapping is None:
        mapping, value = value, None  # consumed-style `value: $.x` is a mapping (SEMANTICS §4.1)
    if isinstance(value, str):
        try:
            names(value)
        except TemplateError as exc:
            ctx.error("E026", str(exc), span)
    properties: tuple[ir.Output, ...] = ()
    if isinstance(item.properties, dict):
        properties = tuple(
            _named(output(ctx, child, locations), key) for key, child in item.properties.items()
        )
    elif isinstance(item.properties, list):
        properties = outputs(ctx, item.properties, locations)
    items = _items(item.items)
    return ir.Output(
        type=(item.type or ("object" if properties else "string")).lower(),
        name=item.name,
        mapping=str(mapping) if mapping is not None else None,
        value=value,
        properties=properties,
        items=output(ctx, items, locations) if isinstance(items, m.OutputParameter) else None,
        values=output(ctx, item.values, locations) if item.values is not None else None,
        max_length=item.max_length,
        description=" ".join(item.description.split()) if item.description else None,
    )


def _items(items: m.OutputParameter | list[m.OutputParameter] | None) -> m.OutputParameter | None:
    """`items` as one parameter. A list of named fields (`- name: fullName`) is an object with
    those properties (DEV-26); any other list is its first element, as the engine reads it."""
    if not isinstance(items, list):
        return items
    if items and all(field.name for field in items):
        return m.OutputParameter(type="object", properties=list(items))
    return items[0] if items else None


def _named(out: ir.Output, key: str) -> ir.Output:
    if out.name:
        return out
    return replace(out, name=key)
