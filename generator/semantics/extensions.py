"""What the ikanos eras added to a capability, read into the IR: binary sizes, declared REST
answers, MCP caching hints, the package version, tags and the tunnel warning.

Each function reads one spec field, checks it where it was written and gives the IR value
(or the default that leaves the descriptors as they were).
"""

from __future__ import annotations

import re
from typing import Any

from packaging.version import InvalidVersion, Version

from ..diagnostics import Span, not_one_of
from ..ir import model as ir
from ..spec import models as m
from .context import Context

DEFAULT_VERSION = "0.1.0"
_UNITS = {"B": 1, "KiB": 1024, "MiB": 1024**2, "GiB": 1024**3}
_SIZE = re.compile(r"(\d+(?:\.\d+)?)(B|KiB|MiB|GiB)")
_LOOSE = re.compile(r"\s*(\d+(?:\.\d+)?)\s*([a-zA-Z]*)\s*")
_STATUS = re.compile(r"[1-5][0-9X]{2}")
_MEDIA = re.compile(r"[\w!#$&^.+-]+/[\w!#$&^.+-]+(\s*;.*)?")
CACHE_SCOPES = ("public", "private")


def binary_size(ctx: Context, value: Any, span: Span) -> int | None:
    """`512KiB` as bytes (E070 when it is not a size; the hint offers the closest one)."""
    if value is None:
        return None
    text = str(value)
    found = _SIZE.fullmatch(text)
    if found is not None:
        return int(float(found.group(1)) * _UNITS[found.group(2)])
    loose = _LOOSE.fullmatch(text)
    unit = {"": "B", "b": "B", "k": "KiB", "m": "MiB", "g": "GiB"}.get(
        loose.group(2)[:1].lower() if loose else "", "MiB"
    )
    guess = f"; did you mean {loose.group(1)}{unit}?" if loose else ""
    ctx.error("E070", f"maxBinarySize {text!r} is not a size{guess}", span)
    return None


def responses(ctx: Context, op: m.ExposedOperation) -> tuple[ir.Response, ...]:
    """`responseBinary` (one binary answer) or `responses` (by status, then media type)."""
    key = "responseBinary" if op.response_binary is not None else "responses"
    span = ctx.key_span(op, key)
    if op.responses is not None and op.response_binary is not None:
        ctx.error("E071", "give `responses` or `responseBinary`, not both", span)
        return ()
    if op.response_binary is not None:
        given = op.response_binary
        if not isinstance(given, dict) or not _MEDIA.fullmatch(str(given.get("mediaType"))):
            ctx.error("E071", "`responseBinary` needs `mediaType` (e.g. image/png)", span)
            return ()
        status = str(given.get("status", 200))
        description = given.get("description")
        return (ir.Response(status, str(given["mediaType"]), True, None, description),)
    if op.responses is None:
        return ()
    if not isinstance(op.responses, dict):
        ctx.error("E071", "`responses` must map statuses to answers", span)
        return ()
    found: list[ir.Response] = []
    for status, answer in op.responses.items():
        where = ctx.spec.locations.key_span((*op.pointer, "responses", status))
        found.extend(_answers(ctx, str(status), answer, where))
    return tuple(found)


def _answers(ctx: Context, status: str, answer: Any, span: Span) -> list[ir.Response]:
    if not _STATUS.fullmatch(status) or not isinstance(answer, dict):
        ctx.error("E071", f"response {status!r}: a status (200, 4XX) with a mapping", span)
        return []
    description = answer.get("description")
    content = answer.get("content") or {}
    if not isinstance(content, dict):
        ctx.error("E071", f"response {status}: `content` maps media types to answers", span)
        return []
    if not content:
        return [ir.Response(status, description=description)]
    found = []
    for media, body in content.items():
        body = body if isinstance(body, dict) else {}
        if not _MEDIA.fullmatch(str(media)):
            ctx.error("E071", f"response {status}: {media!r} is not a media type", span)
            continue
        binary = body.get("binary") is True
        schema = body.get("schema") if isinstance(body.get("schema"), dict) else None
        found.append(ir.Response(status, str(media), binary, schema, description))
    return found


def adapter_fields(ctx: Context, adapter: m.RestExposes | m.McpExposes) -> dict[str, Any]:
    """What an exposed adapter's descriptor takes from the ikanos eras: the version it
    announces, its binary size limit and (MCP) its caching hints."""
    span = ctx.key_span(adapter, "maxBinarySize")
    found = {
        "version": adapter_version(ctx),
        "max_binary_size": binary_size(ctx, adapter.max_binary_size, span),
    }
    return {**found, **caching(ctx, adapter)} if isinstance(adapter, m.McpExposes) else found


def caching(ctx: Context, adapter: m.McpExposes) -> dict[str, Any]:
    """`ttlMs` and `cacheScope` of an MCP adapter, as McpAdapter fields."""
    found: dict[str, Any] = {}
    if adapter.ttl_ms is not None:
        if adapter.ttl_ms < 0:
            message = f"ttlMs must be 0 or more, got {adapter.ttl_ms}"
            ctx.error("E014", message, ctx.key_span(adapter, "ttlMs"))
        else:
            found["ttl_ms"] = adapter.ttl_ms
    if adapter.cache_scope is not None:
        if adapter.cache_scope not in CACHE_SCOPES:
            message = not_one_of("cacheScope", adapter.cache_scope, CACHE_SCOPES)
            ctx.error("E014", message, ctx.key_span(adapter, "cacheScope"))
        else:
            found["cache_scope"] = adapter.cache_scope
    return found


def package_version(ctx: Context) -> str:
    """`info.version` as the package's version, when Python packaging can read it."""
    info = ctx.spec.info
    if info is None or not info.version:
        return DEFAULT_VERSION
    try:
        return str(Version(info.version))
    except InvalidVersion:
        message = f"info.version {info.version!r} is not a Python package version"
        ctx.warning("W144", message, ctx.key_span(info, "version"))
        return DEFAULT_VERSION


def adapter_version(ctx: Context) -> str:
    """What an adapter tells its clients (MCP serverInfo, OpenAPI info): `info.version`."""
    info = ctx.spec.info
    return info.version.strip() if info and info.version and info.version.strip() else "1.0.0"


def route_tags(resource: m.ExposedResource, op: m.ExposedOperation) -> tuple[str, ...]:
    """An operation's `tags`, else its resource's, else the resource's name (or path)."""
    return tuple(op.tags or resource.tags) or (resource.name or resource.path,)


def tunnel(ctx: Context, consumes: m.HttpConsumes, span: Span) -> None:
    if consumes.tunnel is None:
        return
    fallback = consumes.tunnel.get("fallback") if isinstance(consumes.tunnel, dict) else None
    unlike = " (with `fallback: fail` the engine would not call without the tunnel)"
    ctx.warning(
        "W143",
        f"consumes {consumes.namespace!r} declares a tunnel: capgen does not open tunnels; "
        f"requests go to its baseUri directly{unlike if fallback in (None, 'fail') else ''}",
        span,
    )
