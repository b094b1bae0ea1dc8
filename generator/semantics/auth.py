"""Outbound (consumes) and inbound (exposes) authentication blocks."""

from __future__ import annotations

from typing import Any

from ..diagnostics import Span, not_one_of
from ..ir import model as ir
from ..loader import Locations, Pointer
from ..spec import models as m
from ..spec.parse import Validator
from .context import Context
from .templates import TemplateError, names

PLACEMENTS = ("header", "query", "cookie", "body", "path")
UNSUPPORTED = (
    "oauth1",
    "hmac",
    "aws-sig-v4",
    "awssigv4",
    "aws",
    "signature",
    "jwt-bearer",
    "ntlm",
    "kerberos",
)


def _validated(
    ctx: Context, data: Any, locations: Locations, pointer: Pointer
) -> m.Authentication | None:
    return Validator(locations, ctx.diagnostics, {}).model(m.Authentication, data, pointer)


def outbound_auth(ctx: Context, data: Any, locations: Locations, owner: Pointer) -> ir.Auth | None:
    """SEMANTICS §3.6; kinds capgen cannot sign with get a W121 and no auth."""
    if data is None:
        return None
    pointer = (*owner, "authentication")
    span = locations.span(pointer)
    auth = _validated(ctx, data, locations, pointer)
    if auth is None:
        return None
    _check_templates(ctx, auth, span)
    kind = auth.type.lower()
    if kind == "bearer":
        return ir.Auth("bearer", token=auth.token or auth.value)
    if kind in ("apikey", "api-key", "header"):
        key, placement = _key_and_placement(ctx, auth, span)
        key, value, more = _key_value(ctx, auth, key, span)
        return ir.Auth("apikey", key=key, value=value, placement=placement, more=more)
    if kind in ("basic", "digest"):
        return ir.Auth(kind, username=auth.username, password=auth.password)
    if kind == "oauth2":
        token_url = auth.token_endpoint or auth.token_url
        if token_url and auth.client_id:
            return ir.Auth(
                "oauth2",
                token_url=token_url,
                client_id=auth.client_id,
                client_secret=auth.client_secret,
                scopes=tuple(auth.scopes),
                audience=auth.audience,
            )
        ctx.warning(
            "W121",
            "consumes `oauth2` describes a resource server; no token is sent (add tokenEndpoint, clientId and "
            "clientSecret for the client-credentials grant)",
            span,
        )
        return None
    if kind in ("certificate", "mtls", "tls") and auth.cert_path:
        return ir.Auth("certificate", certificate=auth.cert_path, password=auth.cert_password)
    ctx.warning(
        "W121",
        f"authentication type {auth.type!r} is not supported; requests are sent without it",
        span,
    )
    return None


def check_body_key(ctx: Context, auth: ir.Auth | None, operations: list[ir.Operation]) -> None:
    """DEV-29: a key placed in the body goes into a JSON object or a form (a multipart form
    included); an operation whose body is text, XML, SPARQL, bytes or a JSON array cannot
    carry it, which is an error where that operation is written."""
    if auth is None or auth.kind != "apikey" or auth.placement != "body":
        return
    for operation in operations:
        body = operation.body
        if body is None or body.kind in ("form", "multipart"):
            continue
        if body.kind == "json" and not isinstance(body.data, list):
            continue
        if body.kind == "raw" and "json" in body.content_type:
            continue  # a JSON template: the key joins the object it renders
        ctx.error(
            "E081",
            f"operation {operation.name!r}: the API key goes in the body, which is "
            f"{'a JSON array' if body.kind == 'json' else body.kind}; it takes a JSON object or a form",
            operation.span,
        )


def _check_templates(ctx: Context, auth: m.Authentication, span: Span) -> None:
    for field in ("token", "key", "value", "username", "password", "client_id", "client_secret"):
        text = getattr(auth, field)
        if isinstance(text, str):
            try:
                names(text)
            except TemplateError as exc:
                ctx.error("E026", str(exc), span)


def _key_value(
    ctx: Context, auth: m.Authentication, key: str | None, span: Span
) -> tuple[str | None, str | None, tuple[tuple[str, str], ...]]:
    """The key's value, as written (`value`), or in the other ways people write it: `token`, or
    a `headers` map or list, whose every header is sent, each with its own value (DEV-27:
    Datadog's API and application keys). A key with no value is an error, never dropped."""
    value = auth.value
    if value is None and auth.token is not None:
        ctx.warning("W120", "apikey `token` read as `value`", span)
        value = auth.token
    pairs = _header_pairs((auth.model_extra or {}).get("headers"))
    if value is None and key is None and pairs:
        ctx.warning("W120", "apikey `headers` read as the keys and values to send", span)
        (key, value), pairs = pairs[0], pairs[1:]
    if not key or not value:
        ctx.error(
            "E012",
            "apikey authentication needs `key` and `value`: no credential would be sent",
            span,
        )
    return key, value, tuple(pairs)


def _header_pairs(headers: Any) -> list[tuple[str, str]]:
    if isinstance(headers, dict):
        return [(str(k), str(v)) for k, v in headers.items() if v is not None]
    if isinstance(headers, list):
        return [
            (str(h.get("name") or h.get("key")), str(h.get("value")))
            for h in headers
            if isinstance(h, dict)
            and (h.get("name") or h.get("key"))
            and h.get("value") is not None
        ]
    return []


def _key_and_placement(ctx: Context, auth: m.Authentication, span: Span) -> tuple[str | None, str]:
    key = auth.key
    if key is None and (auth.name or auth.header):
        key = auth.name or auth.header
        ctx.warning("W120", f"apikey `{'name' if auth.name else 'header'}` read as `key`", span)
    placement = auth.placement
    if placement is None and auth.in_:
        placement = auth.in_
        ctx.warning("W120", "apikey `in` read as `placement`", span)
    if auth.type.lower() == "header":
        ctx.warning(
            "W120", "authentication type `header` read as `apikey` with placement header", span
        )
    placement = (placement or "header").lower()
    if placement not in PLACEMENTS:
        ctx.error("E014", not_one_of("apikey placement", placement, PLACEMENTS), span)
        placement = "header"
    elif placement in ("body", "path"):  # real APIs do it; the published schema does not say so
        ctx.warning(
            "W122", f"apikey placement `{placement}`: the key is sent in the {placement}", span
        )
    return key, placement


def inbound_auth(ctx: Context, data: Any, owner: Pointer) -> ir.InboundAuth | None:
    """SEMANTICS §7.10: bearer, apikey, basic, digest and oauth2 (JWT) are enforced; other kinds
    fall back to capgen's own bearer token (never silently open)."""
    if data is None:
        return None
    locations = ctx.spec.locations
    pointer = (*owner, "authentication")
    span = locations.span(pointer)
    auth = _validated(ctx, data, locations, pointer)
    if auth is None:
        return None
    _check_templates(ctx, auth, span)
    kind = auth.type.lower()
    if kind == "bearer":
        return ir.InboundAuth("bearer", token=auth.token or auth.value)
    if kind in ("apikey", "api-key", "header"):
        key, placement = _key_and_placement(ctx, auth, span)
        return ir.InboundAuth("apikey", key=key, value=auth.value, placement=placement)
    if kind in ("basic", "digest"):
        return ir.InboundAuth(kind, username=auth.username, password=auth.password)
    if kind == "oauth2" and _verifiable(ctx, auth, span):
        return ir.InboundAuth(
            "oauth2",
            authorization_server=auth.authorization_server_uri,
            resource=auth.resource,
            audience=auth.audience,
            scopes=tuple(auth.scopes),
        )
    ctx.warning(
        "W121",
        f"inbound authentication {auth.type!r} is not supported; the adapter requires capgen's bearer token instead",
        span,
    )
    return None


def _verifiable(ctx: Context, auth: m.Authentication, span: Span) -> bool:
    """oauth2 inbound needs the issuer and an audience; introspection is not implemented."""
    if (auth.token_validation or "jwks").lower() == "introspection":
        ctx.warning("W121", "oauth2 `tokenValidation: introspection` is not supported", span)
        return False
    if not auth.authorization_server_uri or not (auth.resource or auth.audience):
        ctx.warning(
            "W121",
            "inbound oauth2 needs `authorizationServerUri` and `resource` (or `audience`)",
            span,
        )
        return False
    return True
