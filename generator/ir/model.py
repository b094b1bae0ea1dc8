"""The intermediate representation: what will be generated, with final names.

The descriptors are the runtime's own classes (`capgen_runtime.model`), defined once: the IR
uses them as they are, or subclasses them to add what only the generator needs (constant and
module names, typed-method arguments, spans). `targets.descriptors` renders any of them as
the constructor call of its runtime class, so a field added there is rendered with no change
here. Frozen dataclasses and tuples only; built once by `semantics`, read by `targets`.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from typing import Any, TypeVar

from capgen_runtime import model as rt
from capgen_runtime.model import (
    Auth,
    Bind,
    Body,
    Call,
    Endpoint,
    Forward,
    InboundAuth,
    Input,
    Output,
    PromptArgument,
    Response,
    Step,
    StepMapping,
    With,
)

from ..diagnostics import Span

NO_SPAN = Span("", 0, 0)


@dataclass(frozen=True, slots=True, kw_only=True)
class Param(rt.Parameter):
    """A consumed-operation parameter, and its argument in the typed client method."""

    identifier: str
    annotation: str
    description: str | None = None
    constraints: dict[str, Any] | None = None  # JSON Schema keywords given in the spec


@dataclass(frozen=True, slots=True)
class ResultType:
    """The TypedDict of a consumed operation's `.data`: one key per named output."""

    name: str
    fields: tuple[tuple[str, str], ...]  # (output name, annotation)
    functional: bool  # a name that is not an identifier: `TypedDict("Name", {...})`


@dataclass(frozen=True, slots=True, kw_only=True)
class Operation(rt.Operation):
    """A consumed operation; `<module>.<const>` in the generated code."""

    parameters: tuple[Param, ...] = ()
    module: str
    const: str
    method_name: str
    arguments: tuple[Param, ...]
    documented: tuple[Param, ...]  # the arguments with a description, for the docstring
    summary: str
    details: str  # the description beyond its first sentence, or ""
    described: str = ""  # the spec's `description`, spaces collapsed: tells a duplicate apart
    result: ResultType | None = None
    data_annotation: str = "Any"  # what `.data` of its Result is
    span: Span = NO_SPAN


@dataclass(frozen=True, slots=True, kw_only=True)
class Upstream(rt.Upstream):
    parameters: tuple[Param, ...] = ()
    module: str
    class_name: str
    operations: tuple[Operation, ...]
    description: str
    span: Span = NO_SPAN


@dataclass(frozen=True, slots=True, kw_only=True)
class Route(rt.Route):
    const: str
    span: Span = NO_SPAN


@dataclass(frozen=True, slots=True, kw_only=True)
class RestAdapter(rt.RestAdapter):
    routes: tuple[Route, ...]
    module: str
    imports: tuple[str, ...]


@dataclass(frozen=True, slots=True, kw_only=True)
class Tool(rt.Tool):
    const: str = ""
    span: Span = NO_SPAN


@dataclass(frozen=True, slots=True, kw_only=True)
class Resource(rt.Resource):
    const: str = ""


@dataclass(frozen=True, slots=True, kw_only=True)
class Prompt(rt.Prompt):
    const: str = ""


@dataclass(frozen=True, slots=True)
class Argument:
    """A keyword argument of a service method."""

    identifier: str
    name: str  # in the spec
    annotation: str
    required: bool
    description: str | None = None


@dataclass(frozen=True, slots=True)
class Method:
    """One method of the generated service: a consumed operation (`call`), an exposed unit
    (`run`) or a prompt (`messages`); `target` is the descriptor it serves."""

    name: str
    kind: str  # operation | rest | tool | resource | prompt
    arguments: tuple[Argument, ...]
    returns: str
    target: str
    summary: str
    invoke: str  # what its default body awaits or calls: self.call, self.run, fill_messages


@dataclass(frozen=True, slots=True)
class ServiceClass:
    name: str
    methods: tuple[Method, ...]


@dataclass(frozen=True, slots=True, kw_only=True)
class McpAdapter(rt.McpAdapter):
    tools: tuple[Tool, ...]
    resources: tuple[Resource, ...] = ()
    prompts: tuple[Prompt, ...] = ()
    module: str
    imports: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class Function:
    """An aggregate function, referenced by `ref`: `aggregates.<const>`."""

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
    service: ServiceClass = ServiceClass("Service", ())
    version: str = "0.1.0"  # the distribution's version: the spec's `info.version`


__all__ = [
    "NO_SPAN",
    "Argument",
    "Auth",
    "Bind",
    "Body",
    "Call",
    "Endpoint",
    "Forward",
    "Function",
    "InboundAuth",
    "Input",
    "McpAdapter",
    "Method",
    "Operation",
    "Output",
    "Package",
    "Param",
    "Prompt",
    "PromptArgument",
    "Resource",
    "Response",
    "RestAdapter",
    "Route",
    "ServiceClass",
    "Step",
    "StepMapping",
    "Tool",
    "Upstream",
    "With",
]


_D = TypeVar("_D")
_INIT_FIELDS: dict[type, frozenset[str]] = {}


def replace(node: _D, **changes: Any) -> _D:
    """`dataclasses.replace`, with the fields it copies worked out once per class (the IR of a
    large spec replaces thousands of nodes). A change that names no field of `__init__` goes
    to `dataclasses.replace` itself, which says why it cannot be made."""
    kind = type(node)
    names = _INIT_FIELDS.get(kind)
    if names is None:
        fields = dataclasses.fields(kind)  # type: ignore[arg-type]
        names = _INIT_FIELDS[kind] = frozenset(f.name for f in fields if f.init)
    if not names.issuperset(changes):
        return dataclasses.replace(node, **changes)  # type: ignore[type-var]
    given = {name: getattr(node, name) for name in names if name not in changes}
    return kind(**given, **changes)
