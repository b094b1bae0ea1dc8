"""Build the consumed APIs: upstreams, operations, parameters, bodies and outbound auth."""

from __future__ import annotations

import keyword
import re

from capgen_runtime.formats import FORMATS as REGISTERED_FORMATS
from capgen_runtime.formats import PASSTHROUGH, FormatError, check_selector

from ..diagnostics import Span, not_one_of
from ..ir import model as ir
from ..ir.model import replace
from ..loader import Locations
from ..spec import models as m
from ..spec.parse import Consumes
from . import naming
from .auth import check_body_key, outbound_auth
from .bodies import body_of
from .context import Context
from .extensions import binary_size, tunnel
from .outputs import outputs
from .params import (
    ANNOTATIONS,
    arguments,
    make_param,
    merge,
    read_params,
    with_identifiers,
)
from .templates import TemplateError, collect_names, normalise_path

METHODS = ("GET", "POST", "PUT", "PATCH", "DELETE", "HEAD", "OPTIONS")
NO_BODY = ("GET", "HEAD", "DELETE", "OPTIONS")  # methods whose data goes in the query
FORMATS = tuple(REGISTERED_FORMATS)  # outputRawFormat names, from the runtime's registry
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
            "client" if single else naming.claim(f"client_{naming.snake(namespace)}", names_taken)
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
    params = tuple(read_params(ctx, spec.input_parameters, locations))
    operations = _operations(ctx, entry, module, credential)
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


def _operations(
    ctx: Context, entry: Consumes, module: str, credential: dict[str, str | None]
) -> list[ir.Operation]:
    """The API's operations; one declared twice under a name is kept, for its callers to tell
    apart (DEV-22)."""
    spec, locations = entry.model, entry.locations
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
    return operations


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
    located = _located(ctx, resource, op, span)
    if located is None:
        return None
    method, path, placeholders, fragment_headers = located
    body = body_of(ctx, op.body, locations.span((*op.pointer, "body")))
    params = _params(ctx, spec, resource, op, locations, method, placeholders, credential)
    params = with_identifiers(_template_params(ctx, params, fragment_headers, body), {"self"})
    fmt = _format(ctx, op, span)
    const, method_name, handler = _names(ctx, op, consts, methods)
    read = outputs(ctx, [o for o in op.output_parameters if o.name], locations)
    result = _result_type(method_name, read, consts)
    return ir.Operation(
        namespace=spec.namespace,
        name=op.name,
        module=module,
        const=const,
        method_name=method_name,
        method=method,
        path=path,
        parameters=tuple(p for p in params if p.location != "template"),
        arguments=arguments(params),
        documented=tuple(p for p in arguments(params) if p.description),
        handler=handler,
        signature=tuple((p.identifier, p.name) for p in arguments(params)),
        body=body,
        output_format=fmt,
        outputs=read,
        output_selector=_selector(ctx, op, fmt, span),
        media_type=op.output_media_type,
        max_binary_size=binary_size(
            ctx, op.max_binary_size, locations.key_span((*op.pointer, "maxBinarySize"))
        ),
        **_texts(op),
        result=result,
        data_annotation="bytes" if fmt in PASSTHROUGH else (result.name if result else "Any"),
        span=span,
    )


def _texts(op: m.ConsumedOperation) -> dict[str, str]:
    """The operation's one-sentence summary, the rest of its description, and the description
    as written."""
    description = " ".join((op.description or op.label or op.name).split())
    summary, _, details = description.partition(". ")
    return {
        "summary": summary.rstrip(".") + ".",
        "details": details.strip(),
        "described": " ".join((op.description or "").split()),
    }


def _located(
    ctx: Context, resource: m.ConsumedResource, op: m.ConsumedOperation, span: Span
) -> tuple[str, str, list[str], list[ir.Param]] | None:
    """The operation's method, normalised path, its placeholders and the headers its path's
    fragment sets; None (reported) when the method or path cannot be read."""
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
    return method, path, list(placeholders), fragment_headers


def _params(
    ctx: Context,
    spec: m.HttpConsumes,
    resource: m.ConsumedResource,
    op: m.ConsumedOperation,
    locations: Locations,
    method: str,
    placeholders: list[str],
    credential: dict[str, str | None],
) -> list[ir.Param]:
    """Path placeholders, then the resource's and operation's declared parameters, then those
    only its callers name."""
    merged = merge(
        read_params(ctx, resource.input_parameters, locations)
        + read_params(ctx, op.input_parameters, locations)
    )
    merged = [
        replace(p, value=credential[p.name]) if p.location == "path" and p.name in credential else p
        for p in merged
    ]
    declared = {p.name for p in merged}
    params: list[ir.Param] = [  # a placeholder naming a bind is filled from it, never by callers
        make_param(p, "path", "string", True, None, _fixed_placeholder(ctx, p, credential))
        for p in placeholders
        if p not in declared
    ]
    params += merged
    for extra in ctx.extra_params.get((spec.namespace, op.name), ()):
        if extra.name not in {p.name for p in params}:
            location = extra.location or ("query" if method in NO_BODY else "body")
            params.append(
                make_param(extra.name, location, extra.type, False, extra.description, None)
            )
    return params


def _template_params(
    ctx: Context, params: list[ir.Param], headers: list[ir.Param], body: ir.Body | None
) -> list[ir.Param]:
    """`params`, the path fragment's `headers` they do not name, and a template-only parameter
    for each name a request template uses that nothing else supplies."""
    params = [*params, *(h for h in headers if h.name not in {p.name for p in params})]
    try:
        used = collect_names(
            [body.data if body else None, *(p.value for p in params if isinstance(p.value, str))]
        )
    except TemplateError:
        used = ()  # already reported where the template is
    for var in used:
        if var not in {p.name for p in params} and not _is_bind(ctx, var) and "." not in var:
            params.append(
                make_param(
                    var, "template", "string", False, "value used by a request template", None
                )
            )
    return params


def _format(ctx: Context, op: m.ConsumedOperation, span: Span) -> str:
    fmt = (op.output_raw_format or "json").lower()
    if fmt not in FORMATS:
        ctx.warning(
            "W122",
            f"operation {op.name!r}: outputRawFormat {op.output_raw_format!r} is not supported; "
            "mapping its responses answers 500",
            span,
        )
        fmt = str(op.output_raw_format)
    return fmt


def _names(
    ctx: Context, op: m.ConsumedOperation, consts: set[str], methods: set[str]
) -> tuple[str, str, str]:
    """The operation's constant, client method and service method names, unique in their
    scopes."""
    const = naming.claim(naming.constant(op.name, "OPERATION"), consts)
    method_name = naming.claim(
        naming.identifier(op.name, "operation"), methods, naming.CLIENT_RESERVED
    )
    handler = naming.claim(method_name, ctx.service_methods, naming.SERVICE_RESERVED)
    return const, method_name, handler


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
    name = naming.claim(naming.pascal(method_name, "Operation") + "Result", taken)
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
        header = make_param("X-Amz-Target", "header", "string", True, None, target.group(1))
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
