"""DEV-28: parameters written with an empty `name`, as generated catalogues sometimes do."""

from __future__ import annotations

from collections.abc import Iterable

from ..loader import Locations
from ..spec import models as m
from .context import Context


def named(
    ctx: Context, items: Iterable[m.InputParameter], locations: Locations | None = None
) -> list[m.InputParameter]:
    """The parameters that have a name. An unnamed one that is optional and carries nothing
    (no value, template, mapping, const or default) could never reach a request: dropped with
    a located warning. One that is required, or carries a value, is an error: it would go on
    the wire as `&=value` or be asked of every caller under no name."""
    kept = []
    for item in items:
        if item.name.strip():
            kept.append(item)
            continue
        span = ctx.span(item, locations)
        carried = [
            key
            for key in ("value", "template", "mapping", "const", "default")
            if getattr(item, key) is not None
        ]
        if item.required is True or carried:
            what = (
                "a required parameter"
                if item.required is True
                else f"a parameter given a `{carried[0]}`"
            )
            ctx.error("E012", f"{what} needs a non-empty `name`", span)
        else:
            ctx.warning(
                "W150", "a parameter with an empty `name` is dropped: nothing can fill it", span
            )
    return kept
