"""The request body of a consumed operation, as the spec writes it (`body: {type, data}`, a
template string, or a bare JSON object)."""

from __future__ import annotations

import re
from typing import Any

from ..diagnostics import Span
from ..ir import model as ir
from .context import Context
from .params import check_template
from .scope import readable
from .templates import TemplateError, collect_names

BODY_KINDS = {
    "json": ("json", "application/json"),
    "text": ("text", "text/plain"),
    "plain": ("text", "text/plain"),
    "xml": ("xml", "application/xml"),
    "sparql": ("sparql", "application/sparql-query"),
    "formurlencoded": ("form", "application/x-www-form-urlencoded"),
    "form": ("form", "application/x-www-form-urlencoded"),
    "urlencoded": ("form", "application/x-www-form-urlencoded"),
    "multipartform": ("multipart", "multipart/form-data"),
    "multipart": ("multipart", "multipart/form-data"),
    "formdata": ("multipart", "multipart/form-data"),
    "raw": ("raw", "application/octet-stream"),
    "binary": ("raw", "application/octet-stream"),
    "octetstream": ("raw", "application/octet-stream"),
}
SCHEMA_BODY_TYPES = ("json", "text", "xml", "sparql", "formUrlEncoded", "multipartForm")


def body_of(ctx: Context, body: Any, span: Span) -> ir.Body | None:
    if body is None:
        return None
    body = readable(body, ctx.caller_heads)  # DEV-24: `{{tools.x}}` is input x
    if isinstance(body, str):
        check_template(ctx, body, span)
        return ir.Body("raw", "application/json", body)
    if not isinstance(body, dict):
        ctx.error(
            "E013",
            f"`body` must be text or a mapping with `type` and `data`, got {type(body).__name__}",
            span,
        )
        return None
    kind_name = str(body.get("type", "json"))
    if "type" not in body and "data" not in body:
        ctx.warning("W120", "a `body` without `type`/`data` is sent as this JSON object", span)
        return ir.Body("json", "application/json", body)
    key = re.sub(r"[^a-z]", "", kind_name.lower())
    if key not in BODY_KINDS:
        ctx.warning("W122", f"body type {kind_name!r} unknown; sent as JSON", span)
        key = "json"
    elif kind_name not in SCHEMA_BODY_TYPES:
        ctx.warning("W120", f"body type {kind_name!r} read as {BODY_KINDS[key][0]}", span)
    kind, content_type = BODY_KINDS[key]
    data = body.get("data")
    if kind == "multipart" and isinstance(data, dict):
        data = [{"name": k, "value": v} for k, v in data.items()]
    try:
        collect_names(data)
    except TemplateError as exc:
        ctx.error("E026", str(exc), span)
    return ir.Body(kind, str(body.get("contentType", content_type)), data)
