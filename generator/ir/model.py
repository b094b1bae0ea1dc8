"""The intermediate representation: what will be generated, with final names.

Frozen dataclasses and tuples only; built once by `semantics`, read by `targets` and the
templates. Each class mirrors a run-time descriptor of the generated package's `_runtime`
(same field names), plus the names the templates need.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from ..diagnostics import Span

NO_SPAN = Span("", 0, 0)


@dataclass(frozen=True, slots=True)
class Bind:
    namespace: str
    keys: tuple[tuple[str, str], ...]
    location: str | None = None


@dataclass(frozen=True, slots=True)
class Auth:
    kind: str
    token: str | None = None
    key: str | None = None
    value: str | None = None
    placement: str = "header"
    username: str | None = None
    password: str | None = None
    token_url: str | None = None
    client_id: str | None = None
    client_secret: str | None = None
    scopes: tuple[str, ...] = ()
    audience: str | None = None
    certificate: str | None = None


@dataclass(frozen=True, slots=True)
class Param:
    """A consumed-operation parameter, and its argument in the typed client method."""

    name: str
    location: str
    identifier: str
    annotation: str
    value: Any = None
    required: bool = False
    type: str = "string"
    description: str | None = None


@dataclass(frozen=True, slots=True)
class Body:
    kind: str
    content_type: str
    data: Any = None


@dataclass(frozen=True, slots=True)
class Output:
    type: str = "object"
    name: str | None = None
    mapping: str | None = None
    value: Any = None
    properties: tuple[Output, ...] = ()
    items: Output | None = None
    values: Output | None = None
    max_length: int | None = None


@dataclass(frozen=True, slots=True)
class Operation:
    namespace: str
    name: str
    const: str
    method_name: str
    method: str
    path: str
    params: tuple[Param, ...]
    arguments: tuple[Param, ...]
    documented: tuple[Param, ...]  # the arguments with a description, for the docstring
    body: Body | None
    output_format: str
    outputs: tuple[Output, ...]
    summary: str
    details: str  # the description beyond its first sentence, or ""
    span: Span = NO_SPAN


@dataclass(frozen=True, slots=True)
class Upstream:
    namespace: str
    module: str
    class_name: str
    base_url: str
    base_url_env: str
    auth: Auth | None
    params: tuple[Param, ...]
    operations: tuple[Operation, ...]
    description: str
    span: Span = NO_SPAN


@dataclass(frozen=True, slots=True)
class With:
    key: str
    ref: str | None = None
    value: Any = None


@dataclass(frozen=True, slots=True)
class CallRef:
    """A call of a consumed operation: `<module>.<const>` in the generated code."""

    module: str
    const: str
    with_: tuple[With, ...] = ()


@dataclass(frozen=True, slots=True)
class Step:
    kind: str
    name: str
    call: CallRef | None = None
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
    name: str
    location: str = "argument"  # REST inputs name theirs; MCP tool arguments need none
    value: str | None = None
    type: str = "string"
    required: bool = False
    description: str | None = None


@dataclass(frozen=True, slots=True)
class Endpoint:
    name: str
    inputs: tuple[Input, ...] = ()
    with_: tuple[With, ...] = ()
    call: CallRef | None = None
    steps: tuple[Step, ...] = ()
    mappings: tuple[StepMapping, ...] = ()
    outputs: tuple[Output, ...] = ()
    forward: Forward | None = None
    function: str | None = None  # `aggregates.<CONST>` behind a `ref`
    unavailable: str | None = None  # why it cannot run (a call target the spec does not declare)


@dataclass(frozen=True, slots=True)
class InboundAuth:
    kind: str
    token: str | None = None
    key: str | None = None
    value: str | None = None
    placement: str = "header"
    username: str | None = None
    password: str | None = None
    authorization_server: str | None = None  # oauth2: the issuer whose keys sign tokens
    resource: str | None = None
    audience: str | None = None
    scopes: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class Route:
    const: str
    name: str
    method: str
    path: str
    route: str
    variables: tuple[tuple[str, str], ...]
    endpoint: Endpoint
    summary: str | None
    description: str | None
    span: Span = NO_SPAN


@dataclass(frozen=True, slots=True)
class RestAdapter:
    namespace: str
    module: str
    port: int
    address: str | None
    title: str
    description: str | None
    auth: InboundAuth | None
    routes: tuple[Route, ...]
    imports: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class Tool:
    name: str
    title: str | None
    description: str | None
    inputs: tuple[Input, ...]
    annotations: dict[str, Any] | None
    endpoint: Endpoint
    span: Span = NO_SPAN


@dataclass(frozen=True, slots=True)
class McpResource:
    name: str
    uri: str
    title: str | None
    description: str | None
    mime_type: str | None
    endpoint: Endpoint | None
    location: str | None


@dataclass(frozen=True, slots=True)
class PromptArgument:
    name: str
    title: str | None
    description: str | None
    required: bool


@dataclass(frozen=True, slots=True)
class McpPrompt:
    name: str
    title: str | None
    description: str | None
    arguments: tuple[PromptArgument, ...]
    messages: tuple[tuple[str, str], ...]
    location: str | None


@dataclass(frozen=True, slots=True)
class McpAdapter:
    namespace: str
    module: str
    port: int | None
    address: str | None
    transport: str
    description: str | None
    auth: InboundAuth | None
    tools: tuple[Tool, ...]
    resources: tuple[McpResource, ...]
    prompts: tuple[McpPrompt, ...]
    imports: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class Function:
    """An aggregate function, referenced by `ref`."""

    const: str
    ref: str
    endpoint: Endpoint
    description: str | None


@dataclass(frozen=True, slots=True)
class Package:
    dist_name: str
    module: str
    title: str
    description: str
    spec_name: str
    env_prefix: str
    binds: tuple[Bind, ...]
    upstreams: tuple[Upstream, ...]
    rest: tuple[RestAdapter, ...]
    mcp: tuple[McpAdapter, ...]
    functions: tuple[Function, ...]
    function_imports: tuple[str, ...]
    modules: tuple[str, ...]  # the spec-derived modules, sorted
    runtime_extras: tuple[str, ...] = ()  # capgen-runtime extras the package needs (oauth2)
