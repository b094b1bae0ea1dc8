"""Build the consumed APIs: upstreams, operations, parameters, bodies and outbound auth."""

from __future__ import annotations

import keyword
import re
from dataclasses import replace
from typing import Any

from capgen_runtime.formats import FORMATS as REGISTERED_FORMATS
from capgen_runtime.formats import PASSTHROUGH, FormatError, check_selector

from ..diagnostics import Span, not_one_of
from ..ir import model as ir
from ..loader import Locations
from ..spec import models as m
from ..spec.parse import Consumes
from . import naming
from .auth import check_body_key, outbound_auth
from .context import Context
from .extensions import binary_size, tunnel
from .outputs import outputs
from .schemas import constraints, json_type
from .scope import readable
from .templates import TemplateError, collect_names, names, normalise_path
from .unnamed import named

METHODS = ("GET", "POST", "PUT", "PATCH", "DELETE", "HEAD", "OPTIONS")
NO_BODY = ("GET", "HEAD", "DELETE", "OPTIONS")  # methods whose data goes in the query
LOCATIONS = ("path", "query", "header", "cookie", "body", "environment")
FORMATS = tuple(REGISTERED_FORMATS)  # outputRawFormat names, from the runtime's registry
ANNOTATIONS = {
    "string": "str",
    "integer": "int",
    "number": "float",
    "boolean": "bool",
    "array": "list[Any]",
    "object": "dict[str, Any]",
}
_BODY_KINDS = {
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
_SCHEMA_BODY_TYPES = ("json", "text", "xml", "sparql", "formUrlEncoded", "multipartForm")
_SHELL_VAR = re.compile(r"\$\{([A-Za-z_][A-Za-z0-9_]*)\}")
_FIELD_NAME = re.compile(r"^[!#$%&'*+\-.^_`|~0-9A-Za-z]+$")  # an RFC 9110 token


def build_upstreams(ctx: Context) -> None:
    names_taken: set[str] = set()
    single = len({entry.model.namespace for entry in ctx.spec.consumes}) == 1
    for entry in ctx.spec.consumes:
        namespace = entry.model.namespace
        span = entry.locations.span(entry.model.pointer)
        if namespace in ctx.upstreams:
            message = f"consumes namespace {namespace!r} is declared twice; the first wins"
            ctx.problem("E022", "W131", message, span)
            continue
        module = (
            "client"
            if single
            else naming.unique([f"client_{naming.snake(namespace)}"], names_taken)[0]
        )
        names_taken.add(module)
        upstream = _upstream(ctx, entry, module, span)
        ctx.upstreams[namespace] = upstream
        for operation in upstream.operations:  # the first of a name declared twice
            ctx.operations.setdefault((namespace, operation.name), operation)


def _upstream(ctx: Context, entry: Consumes, module: str, span: Span) -> ir.Upstream:
    spec = entry.model
    locations = entry.locations
    tunnel(ctx, spec, locations.key_span((*spec.pointer, "tunnel")))
    auth = outbound_auth(ctx, spec.authentication, locations, spec.pointer)
    # an API key placed in the path fills the placeholder its key names (a bot token), in the
    # operations' paths or in the base URL
    credential = (
        {k: v for k, v in ((auth.key, auth.value), *auth.more) if k}
        if auth and auth.placement == "path"
        else {}
    )
    base_url = _base_url(ctx, spec, locations, frozenset(credential))
    params = tuple(_params(ctx, spec.input_parameters, locations))
    operations: list[ir.Operation] = []
    seen: dict[str, Span] = {}
    consts: set[str] = {"UPSTREAM", "OPERATIONS"}
    methods: set[str] = set()
    for resource in spec.resources:
        for op in resource.operations:
            op_span = locations.span(op.pointer)
            twice = op.name in seen
            if twice:
                ctx.warning(
                    "W131",
                    f"operation {op.name!r} is declared twice in {spec.namespace}; a call to it "
                    "is resolved by the caller's method, path, inputs and description",
                    op_span,
                )
            seen[op.name] = op_span
            operation = _operation(
                ctx, spec, resource, op, locations, consts, methods, module, credential
            )
            if operation is None:
                ctx.broken.add((spec.namespace, op.name))
                continue
            operations.append(operation)
            if twice or (spec.namespace, op.name) in ctx.duplicates:
                first = next(o for o in operations if o.name == op.name)
                same = ctx.duplicates.setdefault((spec.namespace, op.name), [first])
                if operation is not first:
                    same.append(operation)
    check_body_key(ctx, auth, operations)
    return ir.Upstream(
        namespace=spec.namespace,
        module=module,
        class_name=naming.pascal(spec.namespace) + "Client",
        base_url=base_url,
        base_url_env=naming.base_url_env(spec.namespace),
        auth=auth,
        parameters=params,
        operations=tuple(operations),
        description=(spec.description or spec.label or "").strip(),
        span=span,
    )


def _base_url(
    ctx: Context, spec: m.HttpConsumes, locations: Locations, credential: frozenset[str]
) -> str:
    span = locations.span((*spec.pointer, "baseUri"))
    raw = spec.base_uri.strip()
    if _SHELL_VAR.search(raw):
        ctx.warning("W120", "`${VAR}` in baseUri read as the template `{{VAR}}`", span)
        raw = _SHELL_VAR.sub(lambda mt: "{{" + mt.group(1) + "}}", raw)
    try:
        base, placeholders = normalise_path(raw)
    except TemplateError:
        ctx.error("E023", f"malformed baseUri {spec.base_uri!r}", span)
        return raw
    base = re.sub(r"\{([^{}]+)\}", r"{{\1}}", base)
    env = naming.base_url_env(spec.namespace)
    if not base:
        ctx.warning("W122", f"empty baseUri: the service needs {env} at start-up", span)
        return base
    if base.endswith("/"):
        ctx.error("E020", f"baseUri {spec.base_uri!r} ends with '/'", span)
    concrete = re.sub(r"\{\{[^{}]+\}\}", "x", base)
    if not (base.startswith("{{") or re.match(r"^https?://[^/]+", concrete)):
        ctx.error("E021", f"baseUri {spec.base_uri!r} is not an http(s) URL", span)
    unbound = [
        p for p in placeholders if p.split(".")[-1] not in ctx.bind_names and p not in credential
    ]
    if unbound:
        ctx.warning(
            "W122",
            f"baseUri placeholder(s) {', '.join(unbound)} are read from the environment at start-up (or set {env})",
            span,
        )
    return base


def _params(ctx: Context, items: list[m.InputParameter], locations: Locations) -> list[ir.Param]:
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
            _check_template(ctx, value, span)
        param = _param(item.name, location, item.type, item.required, item.description, value)
        result.append(replace(param, constraints=constraints(item)))
    return result


def _param(
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


def _check_template(ctx: Context, template: str, span: Span) -> None:
    try:
        names(template)
    except TemplateError as exc:
        ctx.error("E026", str(exc), span)


def _operation(
    ctx: Context,
    spec: m.HttpConsumes,
    resource: m.ConsumedResource,
    op: m.ConsumedOperation,
    locations: Locations,
    consts: set[str],
    methods: set[str],
    module: str,
    credential: dict[str, str | None],
) -> ir.Operation | None:
    span = locations.span(op.pointer)
    method = (op.method or "GET").upper()
    if method not in METHODS:
        ctx.error(
            "E014",
            not_one_of(f"operation {op.name!r}: method", op.method, METHODS),
            span,
        )
        return None
    raw_path = op.path if op.path is not None else resource.path
    raw_path, fragment_headers = _fragment(ctx, raw_path or "", span)
    try:
        path, placeholders = normalise_path(raw_path)
    except TemplateError:
        ctx.error("E023", f"operation {op.name!r}: malformed path {raw_path!r}", span)
        return None
    taken: set[str] = {"self"}
    merged = _merge(
        _params(ctx, resource.input_parameters, locations)
        + _params(ctx, op.input_parameters, locations)
    )
    merged = [
        replace(p, value=credential[p.name]) if p.location == "path" and p.name in credential else p
        for p in merged
    ]
    declared = {p.name for p in merged}
    params: list[ir.Param] = [  # a placeholder naming a bind is filled from it, never by callers
        _param(p, "path", "string", True, None, _fixed_placeholder(ctx, p, credential))
        for p in placeholders
        if p not in declared
    ]
    params += merged
    params += [h for h in fragment_headers if h.name not in {p.name for p in params}]
    for extra in ctx.extra_params.get((spec.namespace, op.name), ()):
        if extra.name not in {p.name for p in params}:
            location = extra.location or ("query" if method in NO_BODY else "body")
            params.append(_param(extra.name, location, extra.type, False, extra.description, None))
    body = _body(ctx, op.body, locations.span((*op.pointer, "body")))
    try:
        used = collect_names(
            [body.data if body else None, *(p.value for p in params if isinstance(p.value, str))]
        )
    except TemplateError:
        used = ()  # already reported where the template is
    for var in used:
        if var not in {p.name for p in params} and not _is_bind(ctx, var) and "." not in var:
            params.append(
                _param(var, "template", "string", False, "value used by a request template", None)
            )
    params = _with_identifiers(params, taken)
    fmt = (op.output_raw_format or "json").lower()
    if fmt not in FORMATS:
        ctx.warning(
            "W122",
            f"operation {op.name!r}: outputRawFormat {op.output_raw_format!r} is not supported; "
            "mapping its responses answers 500",
            span,
        )
        fmt = str(op.output_raw_format)
    const = naming.unique([naming.constant(op.name, "OPERATION")], consts)[0]
    consts.add(const)
    method_name = naming.unique(
        [naming.identifier(op.name, "operation")], methods | naming.CLIENT_RESERVED
    )[0]
    methods.add(method_name)
    handler = naming.unique([method_name], ctx.service_methods | naming.SERVICE_RESERVED)[0]
    ctx.service_methods.add(handler)
    description = " ".join((op.description or op.label or op.name).split())
    summary, _, details = description.partition(". ")
    read = outputs(ctx, [o for o in op.output_parameters if o.name], locations)
    result = _result_type(method_name, read, consts)
    data = "bytes" if fmt in PASSTHROUGH else (result.name if result else "Any")
    return ir.Operation(
        namespace=spec.namespace,
        name=op.name,
        module=module,
        const=const,
        method_name=method_name,
        method=method,
        path=path,
        parameters=tuple(p for p in params if p.location != "template"),
        arguments=_arguments(params),
        documented=tuple(p for p in _arguments(params) if p.description),
        handler=handler,
        signature=tuple((p.identifier, p.name) for p in _arguments(params)),
        body=body,
        output_format=fmt,
        outputs=read,
        output_selector=_selector(ctx, op, fmt, span),
        media_type=op.output_media_type,
        max_binary_size=binary_size(
            ctx, op.max_binary_size, locations.key_span((*op.pointer, "maxBinarySize"))
        ),
        summary=summary.rstrip(".") + ".",
        details=details.strip(),
        described=" ".join((op.description or "").split()),
        result=result,
        data_annotation=data,
        span=span,
    )


def _selector(ctx: Context, op: m.ConsumedOperation, fmt: str, span: Span) -> str | None:
    """HTML: the CSS selector `outputSchema` gives, which chooses the tables (SEMANTICS case 37)."""
    selector = op.output_schema
    if fmt != "html" or not isinstance(selector, str) or not selector.strip():
        return None
    try:
        check_selector(selector)
    except FormatError as exc:
        ctx.error("E013", f"operation {op.name!r}: outputSchema: {exc}", span)
        return None
    return selector.strip()


def _result_type(
    method_name: str, declared: tuple[ir.Output, ...], taken: set[str]
) -> ir.ResultType | None:
    """`.data` of an operation with named outputs: each output by name, None when the answer
    lacks it."""
    named = [o for o in declared if o.name]
    if not named:
        return None
    name = naming.unique([naming.pascal(method_name, "Operation") + "Result"], taken)[0]
    taken.add(name)
    fields = tuple((str(o.name), _optional(ANNOTATIONS.get(o.type))) for o in named)
    functional = not all(k.isidentifier() and not keyword.iskeyword(k) for k, _ in fields)
    return ir.ResultType(name, fields, functional)


def _optional(annotation: str | None) -> str:
    return f"{annotation} | None" if annotation else "Any"


_AMZ_TARGET = re.compile(r"X-Amz-Target=([\w.\-]+)", re.IGNORECASE)


def _fragment(ctx: Context, path: str, span: Span) -> tuple[str, list[ir.Param]]:
    """HTTP never sends a `#fragment`. The AWS JSON convention `/#X-Amz-Target=Service.Action`
    names the operation: it is sent as the `X-Amz-Target` header. Any other fragment is dropped,
    with a warning."""
    path, hash_sign, fragment = path.partition("#")
    if not hash_sign:
        return path, []
    target = _AMZ_TARGET.fullmatch(fragment.strip())
    if target is not None:
        ctx.warning("W122", f"`#{fragment}` in the path is sent as the header X-Amz-Target", span)
        header = _param("X-Amz-Target", "header", "string", True, None, target.group(1))
        return path or "/", [header]
    ctx.warning("W122", f"`#{fragment}` in the path is never sent over HTTP; it is dropped", span)
    return path or "/", []


def _fixed_placeholder(ctx: Context, name: str, credential: dict[str, str | None]) -> str | None:
    """The template of a path placeholder no caller fills: a bind, or the path credential."""
    if name in credential:
        return credential[name]
    return "{{" + name + "}}" if _is_bind(ctx, name) else None


def _is_bind(ctx: Context, name: str) -> bool:
    return name in ctx.bind_names or name.split(".")[-1] in ctx.bind_names


def _merge(params: list[ir.Param]) -> list[ir.Param]:
    """Later declarations replace earlier ones with the same name and location."""
    merged: dict[tuple[str, str], ir.Param] = {}
    for param in params:
        merged.pop((param.name, param.location), None)
        merged[(param.name, param.location)] = param
    return list(merged.values())


def _with_identifiers(params: list[ir.Param], taken: set[str]) -> list[ir.Param]:
    result = []
    for param in params:
        ident = naming.unique([naming.identifier(param.name, "param")], taken)[0]
        taken.add(ident)
        result.append(ir.Param(**{**_fields(param), "identifier": ident}))
    return result


def _fields(param: ir.Param) -> dict[str, Any]:
    return {name: getattr(param, name) for name in param.__dataclass_fields__}


def _arguments(params: list[ir.Param]) -> tuple[ir.Param, ...]:
    """Typed-method arguments: path first, then the other required ones, then optional."""
    usable = [p for p in params if p.value is None and p.location != "environment"]
    ordered = (
        [p for p in usable if p.location == "path"]
        + [p for p in usable if p.location != "path" and p.required]
        + [p for p in usable if p.location != "path" and not p.required]
    )
    return tuple(ordered)


def _body(ctx: Context, body: Any, span: Span) -> ir.Body | None:
    if body is None:
        return None
    body = readable(body, ctx.caller_heads)  # DEV-24: `{{tools.x}}` is input x
    if isinstance(body, str):
        _check_template(ctx, body, span)
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
    if key not in _BODY_KINDS:
        ctx.warning("W122", f"body type {kind_name!r} unknown; sent as JSON", span)
        key = "json"
    elif kind_name not in _SCHEMA_BODY_TYPES:
        ctx.warning("W120", f"body type {kind_name!r} read as {_BODY_KINDS[key][0]}", span)
    kind, content_type = _BODY_KINDS[key]
    data = body.get("data")
    if kind == "multipart" and isinstance(data, dict):
        data = [{"name": k, "value": v} for k, v in data.items()]
    try:
        collect_names(data)
    except TemplateError as exc:
        ctx.error("E026", str(exc), span)
    return ir.Body(kind, str(body.get("contentType", content_type)), data)
