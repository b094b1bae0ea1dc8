"""The parameters of a consumed operation: as the spec declares them, merged, and named for
the typed client method and the service."""

from __future__ import annotations

import re
from typing import Any

from ..diagnostics import Span, not_one_of
from ..ir import model as ir
from ..ir.model import replace
from ..loader import Locations
from ..spec import models as m
from . import naming
from .context import Context
from .schemas import constraints, json_type
from .scope import readable
from .templates import TemplateError, names
from .unnamed import named

LOCATIONS = ("path", "query", "header", "cookie", "body", "environment")
ANNOTATIONS = {
    "string": "str",
    "integer": "int",
    "number": "float",
    "boolean": "bool",
    "array": "list[Any]",
    "object": "dict[str, Any]",
}
_FIELD_NAME = re.compile(r"^[!#$%&'*+\-.^_`|~0-9A-Za-z]+$")  # an RFC 9110 token


def read_params(
    ctx: Context, items: list[m.InputParameter], locations: Locations
) -> list[ir.Param]:
    result = []
    for item in named(ctx, items, locations):
        location = (item.in_ or "query").lower()
        span = locations.span(item.pointer)
        if item.in_ is None:
            ctx.warning(
                "W122", f"parameter {item.name!r} has no `in`; sent as a query parameter", span
            )
        elif location not in LOCATIONS:
            ctx.error(
                "E014",
                not_one_of(f"parameter {item.name!r}: `in`", item.in_, LOCATIONS),
                span,
            )
            continue
        if location in ("header", "cookie") and not _FIELD_NAME.match(item.name):
            message = f"{location} name {item.name!r} cannot be sent over HTTP; calls that send it answer 400"
            ctx.warning("W123", message, span)
        value = readable(item.value if item.value is not None else item.template, ctx.caller_heads)
        if isinstance(value, str):
            check_template(ctx, value, span)
        param = make_param(item.name, location, item.type, item.required, item.description, value)
        result.append(replace(param, constraints=constraints(item)))
    return result


def make_param(
    name: str,
    location: str,
    kind: str | None,
    required: bool | None,
    description: str | None,
    value: Any,
) -> ir.Param:
    kind = json_type(kind)
    return ir.Param(
        name=name,
        location=location,
        identifier=naming.identifier(name, "param"),
        annotation=ANNOTATIONS.get(kind, "Any"),
        value=value,
        required=bool(required) or location == "path",
        type=kind,
        description=" ".join(description.split()) if description else None,
    )


def check_template(ctx: Context, template: str, span: Span) -> None:
    try:
        names(template)
    except TemplateError as exc:
        ctx.error("E026", str(exc), span)


def merge(params: list[ir.Param]) -> list[ir.Param]:
    """Later declarations replace earlier ones with the same name and location."""
    merged: dict[tuple[str, str], ir.Param] = {}
    for param in params:
        merged.pop((param.name, param.location), None)
        merged[(param.name, param.location)] = param
    return list(merged.values())


def with_identifiers(params: list[ir.Param], taken: set[str]) -> list[ir.Param]:
    result = []
    for param in params:
        ident = naming.claim(naming.identifier(param.name, "param"), taken)
        result.append(ir.Param(**{**_fields(param), "identifier": ident}))
    return result


def _fields(param: ir.Param) -> dict[str, Any]:
    return {name: getattr(param, name) for name in param.__dataclass_fields__}


def arguments(params: list[ir.Param]) -> tuple[ir.Param, ...]:
    """Typed-method arguments: path first, then the other required ones, then optional."""
    usable = [p for p in params if p.value is None and p.location != "environment"]
    ordered = (
        [p for p in usable if p.location == "path"]
        + [p for p in usable if p.location != "path" and p.required]
        + [p for p in usable if p.location != "path" and not p.required]
    )
    return tuple(ordered)
