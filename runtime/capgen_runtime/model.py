"""Descriptors of a capability: what the generated modules declare and the runtime executes.

Every class is a frozen dataclass. The generated modules build them once at import time;
nothing here reads the environment or does I/O.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from fnmatch import fnmatchcase
from typing import Any

JSON = Any
# A service method's keyword arguments, in order: (Python name, name in the spec)
Signature = tuple[tuple[str, str], ...]


@dataclass(frozen=True, slots=True)
class RawBody:
    """A caller's body passed through as it came (audio for speech recognition, an image to
    classify): the upstream receives these bytes with this content type."""

    data: bytes
    content_type: str


@dataclass(frozen=True, slots=True)
class Bind:
    """A `binds` entry: variables read from the environment or from a file."""

    namespace: str
    keys: tuple[tuple[str, str], ...]
    location: str | None = None


@dataclass(frozen=True, slots=True)
class Parameter:
    """A parameter of a consumed operation and where it goes in the upstream request."""

    name: str
    location: str  # path | query | header | cookie | body | environment
    value: JSON = None  # a template (strings) or a literal; None means "taken from the inputs"
    required: bool = False
    type: str = "string"


@dataclass(frozen=True, slots=True)
class Body:
    """The request body template of a consumed operation."""

    kind: str  # json | text | xml | sparql | form | multipart | raw
    content_type: str
    data: JSON = None  # structured data whose strings are templates, or one template string


@dataclass(frozen=True, slots=True)
class Auth:
    """Outbound authentication of a consumed API. String fields are templates."""

    kind: str  # bearer | apikey | basic | digest | oauth2 | certificate
    token: str | None = None
    key: str | None = None
    value: str | None = None
    placement: str = "header"  # header | query | cookie | body | path
    more: tuple[tuple[str, str], ...] = ()  # apikey: further (key, value), each sent the same way
    username: str | None = None
    password: str | None = None
    token_url: str | None = None
    client_id: str | None = None
    client_secret: str | None = None
    scopes: tuple[str, ...] = ()
    audience: str | None = None
    certificate: str | None = None  # PEM file (certificate + key) for mutual TLS


@dataclass(frozen=True, slots=True)
class Upstream:
    """A consumed HTTP API (`consumes` entry of type http)."""

    namespace: str
    base_url: str
    base_url_env: str
    auth: Auth | None = None
    parameters: tuple[Parameter, ...] = ()


@dataclass(frozen=True, slots=True)
class Output:
    """An output parameter: how to build (part of) a result from a decoded response."""

    type: str = "object"
    name: str | None = None
    mapping: str | None = None
    value: JSON = None
    properties: tuple[Output, ...] = ()
    items: Output | None = None
    values: Output | None = None
    max_length: int | None = None
    description: str | None = None


@dataclass(frozen=True, slots=True)
class Operation:
    """A consumed HTTP operation."""

    namespace: str
    name: str
    method: str
    path: str  # `{name}` placeholders, relative to the upstream base URL
    parameters: tuple[Parameter, ...] = ()
    body: Body | None = None
    output_format: str = "json"
    outputs: tuple[Output, ...] = ()  # named consumed outputs, used by orchestration steps
    output_selector: str | None = None  # html: the CSS selector of the tables to read
    handler: str | None = None  # the service method that sends it (descriptor schema 2)
    signature: Signature = ()
    media_type: str | None = None  # `outputMediaType` to advertise (how it is read stays)
    max_binary_size: int | None = None  # bytes a binary answer may have (None: the adapter's)


@dataclass(frozen=True, slots=True)
class With:
    """One `with` entry: `ref` names a caller input; otherwise `value` (strings are templates)."""

    key: str
    ref: str | None = None
    value: JSON = None


@dataclass(frozen=True, slots=True)
class Call:
    operation: Operation
    with_: tuple[With, ...] = ()


@dataclass(frozen=True, slots=True)
class Step:
    """An orchestration step: `call` (with `call`) or `lookup` (with index/match/lookup_value)."""

    kind: str  # call | lookup | unsupported
    name: str
    call: Call | None = None
    index: str | None = None
    match: str | None = None
    lookup_value: str | None = None
    fields: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class StepMapping:
    target: str
    value: str


@dataclass(frozen=True, slots=True)
class Forward:
    upstream: str
    path_variable: str | None
    trusted_headers: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class Input:
    """An input of an exposed operation and where a REST request carries it."""

    name: str
    location: str = "argument"  # path | query | header | cookie | body | environment; MCP: argument
    value: str | None = (
        None  # static value, or a JSONPath into the request body when it starts with `$`
    )
    type: str = "string"
    required: bool = False
    description: str | None = None
    constraints: dict[str, JSON] | None = None  # JSON Schema keywords given in the spec
    feeds: str | None = None  # `path` or `header`: it fills a consumed path placeholder or header
    header: str | None = None  # MCP: the consumed header it is the whole value of (x-mcp-header)


def chosen(name: str, include: Sequence[str], exclude: Sequence[str]) -> bool:
    """A name that matches an `include` pattern (any, when there is none) and no `exclude`
    pattern: the one rule of the MCP tool settings and of capgen's build options."""
    if include and not any(fnmatchcase(name, p) for p in include):
        return False
    return not any(fnmatchcase(name, p) for p in exclude)


@dataclass(frozen=True, slots=True)
class Endpoint:
    """What an exposed REST operation, MCP tool, resource or aggregate function does."""

    name: str
    inputs: tuple[Input, ...] = ()
    with_: tuple[With, ...] = ()
    call: Call | None = None
    steps: tuple[Step, ...] = ()
    mappings: tuple[StepMapping, ...] = ()
    outputs: tuple[Output, ...] = ()
    forward: Forward | None = None
    function: Endpoint | None = None  # the aggregate function behind a `ref`
    unavailable: str | None = None  # why it cannot run: answered with 501
    media_type: str | None = None  # an aggregate flow's advertised `outputMediaType` (ikanos)


@dataclass(frozen=True, slots=True)
class InboundAuth:
    """An exposes-level `authentication` block; string fields are templates over binds."""

    kind: str  # bearer | apikey | basic | digest | oauth2
    token: str | None = None
    key: str | None = None
    value: str | None = None
    placement: str = "header"
    username: str | None = None
    password: str | None = None
    authorization_server: str | None = None
    resource: str | None = None
    audience: str | None = None
    scopes: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class Response:
    """A declared answer (`responses`/`responseBinary`): status, media type, raw bytes?"""

    status: str
    media_type: str | None = None
    binary: bool = False
    schema: dict[str, JSON] | None = None
    description: str | None = None


@dataclass(frozen=True, slots=True)
class Route:
    """One exposed REST operation."""

    name: str
    method: str
    path: str  # as written in the spec
    route: str  # the Starlette path, variables renamed to identifiers
    endpoint: Endpoint
    variables: tuple[tuple[str, str], ...] = ()  # (route identifier, name in the spec)
    summary: str | None = None
    description: str | None = None
    handler: str | None = None  # the service method that answers it (descriptor schema 2)
    signature: Signature = ()
    tags: tuple[str, ...] = ()  # the spec's `tags`, else the exposed resource it belongs to
    responses: tuple[Response, ...] = ()  # the answers it declares (ikanos beta1)
    # (name in the spec, description) of the path variables no input declares, taken from
    # the consumed parameters they feed: what the OpenAPI document says of them
    described: tuple[tuple[str, str], ...] = ()


@dataclass(frozen=True, slots=True)
class RestAdapter:
    namespace: str
    port: int
    title: str
    routes: tuple[Route, ...]
    description: str | None = None
    address: str | None = None
    auth: InboundAuth | None = None
    version: str = "1.0.0"  # the spec's `info.version` (ikanos beta4)
    max_binary_size: int | None = None  # the most bytes of a binary answer (None: 10 MiB)


@dataclass(frozen=True, slots=True)
class Tool:
    name: str
    endpoint: Endpoint
    inputs: tuple[Input, ...] = ()  # the tool's arguments; its inputSchema is built from them
    title: str | None = None
    description: str | None = None
    annotations: dict[str, Any] | None = None
    handler: str | None = None  # the service method that answers it (descriptor schema 2)
    signature: Signature = ()
    tags: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class Resource:
    name: str
    uri: str
    endpoint: Endpoint | None = None
    title: str | None = None
    description: str | None = None
    mime_type: str | None = None
    location: str | None = None  # a file:// directory served as static resources
    handler: str | None = None  # the service method that answers it (descriptor schema 2)
    signature: Signature = ()
    binary: bool = False  # read as a blob (base64) rather than text (ikanos beta1)


@dataclass(frozen=True, slots=True)
class PromptArgument:
    name: str
    title: str | None = None
    description: str | None = None
    required: bool = True


@dataclass(frozen=True, slots=True)
class Prompt:
    name: str
    title: str | None = None
    description: str | None = None
    arguments: tuple[PromptArgument, ...] = ()
    messages: tuple[tuple[str, str], ...] = ()  # (role, template)
    location: str | None = None
    handler: str | None = None  # the service method that answers it (descriptor schema 2)
    signature: Signature = ()


@dataclass(frozen=True, slots=True)
class McpAdapter:
    namespace: str
    port: int | None
    tools: tuple[Tool, ...]
    resources: tuple[Resource, ...] = ()
    prompts: tuple[Prompt, ...] = ()
    description: str | None = None
    address: str | None = None
    transport: str = "http"
    auth: InboundAuth | None = None
    version: str = "1.0.0"
    max_binary_size: int | None = None  # the most bytes of a binary answer (None: 10 MiB)
    ttl_ms: int | None = None  # MCP 2026-07-28 caching hints of list and read results
    cache_scope: str | None = None  # public | private


MCP_PATH = "/mcp"  # where an MCP adapter over HTTP answers


def mcp_paths(adapters: Iterable[McpAdapter]) -> dict[str, str]:
    """Where each MCP adapter over HTTP answers in one-port mode, by namespace: the first at
    `/mcp`, any other at `/<namespace>/mcp`."""
    http = [a for a in adapters if a.transport == "http"]
    return {
        a.namespace: MCP_PATH if i == 0 else f"/{a.namespace}{MCP_PATH}" for i, a in enumerate(http)
    }
