"""Pydantic mirror of the capability YAML, lenient on purpose.

Unknown keys are kept (and reported as W100 by `parse.py`); numbers are accepted where the
schema wants strings. Polymorphic parts (`consumes`, `exposes`, `body`, `authentication`) are
dispatched by `parse.py`, which validates each element on its own so one bad element does
not hide the problems of the others.
"""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, ConfigDict, Field, model_validator
from pydantic.alias_generators import to_camel

from ..loader import Pointer

# field -> other keys people write for it (operations and tools identified by `id`); the
# key stays among the extras, so the parser can say how it was read
SPELLINGS: dict[str, tuple[str, ...]] = {"name": ("id",)}


class SpecModel(BaseModel):
    model_config = ConfigDict(
        extra="allow",
        frozen=True,
        populate_by_name=True,
        alias_generator=to_camel,
        coerce_numbers_to_str=True,
    )

    @model_validator(mode="before")
    @classmethod
    def _other_spellings(cls, data: Any) -> Any:
        if not isinstance(data, dict):
            return data
        for field_name, spellings in _spelled(cls):
            if data.get(field_name) is None:
                given = next((data[s] for s in spellings if isinstance(data.get(s), str)), None)
                if given is not None:
                    data = {**data, field_name: given}
        return data

    @property
    def pointer(self) -> Pointer:
        """Where the model's mapping is in the normalised document (set by the parser)."""
        private = self.__pydantic_private__
        return private["pointer"] if private else ()

    def set_pointer(self, pointer: Pointer) -> None:
        """Remember `pointer`. Kept in pydantic's private slot without declaring a private
        attribute: a declared one costs every model of a large spec a post-init hook."""
        object.__setattr__(self, "__pydantic_private__", {"pointer": pointer})


_SPELLED: dict[type[BaseModel], list[tuple[str, tuple[str, ...]]]] = {}


def _spelled(cls: type[BaseModel]) -> list[tuple[str, tuple[str, ...]]]:
    """The entries of SPELLINGS whose field `cls` has, worked out once per class."""
    found = _SPELLED.get(cls)
    if found is None:
        found = _SPELLED[cls] = [(f, s) for f, s in SPELLINGS.items() if f in cls.model_fields]
    return found


class Info(SpecModel):
    label: str | None = None
    description: str | None = None
    tags: list[str] = Field(default_factory=list)
    created: str | None = None
    modified: str | None = None
    version: str | None = None  # ikanos beta4: the capability's version


class Bind(SpecModel):
    namespace: str
    description: str | None = None
    location: str | None = None
    keys: dict[str, str] = Field(default_factory=dict)


class InputParameter(SpecModel):
    """Consumed and exposed input parameters share one lenient shape."""

    name: str
    in_: str | None = Field(None, alias="in")
    type: str | None = None
    description: str | None = None
    required: bool | None = None
    value: Any = None
    template: str | None = None
    mapping: Any = None
    pattern: str | None = None
    const: Any = None
    default: Any = None


class OutputParameter(SpecModel):
    name: str | None = None
    type: str | None = None
    description: str | None = None
    mapping: Any = None
    value: Any = None
    const: Any = None
    properties: dict[str, OutputParameter] | list[OutputParameter] | None = None
    items: OutputParameter | list[OutputParameter] | None = None
    values: OutputParameter | None = None
    max_length: int | None = None


class Authentication(SpecModel):
    type: str
    token: str | None = None
    key: str | None = None
    value: str | None = None
    placement: str | None = None
    username: str | None = None
    password: str | None = None
    # spellings seen in real specs
    in_: str | None = Field(None, alias="in")
    name: str | None = None
    header: str | None = None
    # oauth2 (client credentials outbound; resource server inbound)
    token_endpoint: str | None = None
    token_url: str | None = None
    client_id: str | None = None
    client_secret: str | None = None
    scopes: list[str] = Field(default_factory=list)
    audience: str | None = None
    authorization_server_uri: str | None = None
    resource: str | None = None
    token_validation: str | None = None
    # mutual TLS
    cert_path: str | None = None
    cert_password: str | None = None


class ConsumedOperation(SpecModel):
    name: str
    label: str | None = None
    description: str | None = None
    method: str = "GET"
    path: str | None = None
    input_parameters: list[InputParameter] = Field(default_factory=list)
    output_raw_format: str | None = None
    output_schema: Any = None
    output_parameters: list[OutputParameter] = Field(default_factory=list)
    body: Any = None
    tags: list[str] = Field(default_factory=list)
    output_media_type: str | None = None  # ikanos beta1
    max_binary_size: Any = None  # ikanos beta1: `512KiB`


class ConsumedResource(SpecModel):
    name: str | None = None
    label: str | None = None
    description: str | None = None
    path: str = ""
    input_parameters: list[InputParameter] = Field(default_factory=list)
    operations: list[ConsumedOperation] = Field(default_factory=list)
    tags: list[str] = Field(default_factory=list)


class HttpConsumes(SpecModel):
    type: str = "http"
    namespace: str
    base_uri: str
    label: str | None = None
    description: str | None = None
    authentication: Any = None
    input_parameters: list[InputParameter] = Field(default_factory=list)
    resources: list[ConsumedResource] = Field(default_factory=list)
    tunnel: Any = None  # ikanos: an OpenZiti reverse tunnel (not opened by capgen)


class Hints(SpecModel):
    read_only: bool | None = None
    destructive: bool | None = None
    idempotent: bool | None = None
    open_world: bool | None = None


class Step(SpecModel):
    type: str = "call"
    name: str
    description: str | None = None
    call: str | None = None
    with_: dict[str, Any] | None = Field(None, alias="with")
    index: str | None = None
    match: str | None = None
    lookup_value: str | None = None
    output_parameters: list[Any] = Field(default_factory=list)
    language: str | None = None
    file: str | None = None


class StepMapping(SpecModel):
    target_name: str
    value: str


class Forward(SpecModel):
    target_namespace: str
    trusted_headers: list[str] = Field(default_factory=list)


class ExposedOperation(SpecModel):
    """REST operations, MCP tools and aggregate functions share one lenient shape."""

    name: str | None = None
    label: str | None = None
    description: str | None = None
    method: str | None = None
    path: str | None = None
    input_parameters: list[InputParameter] = Field(default_factory=list)
    ref: str | None = None
    call: Any = None
    with_: dict[str, Any] | None = Field(None, alias="with")
    output_parameters: list[OutputParameter] = Field(default_factory=list)
    steps: list[Step] = Field(default_factory=list)
    mappings: list[StepMapping] = Field(default_factory=list)
    hints: Hints | None = None
    semantics: dict[str, Any] | None = None
    tags: list[str] = Field(default_factory=list)
    responses: Any = None  # ikanos beta1: {status: {description, content: {type: ...}}}
    response_binary: Any = None  # ikanos beta1: {status, mediaType, description}
    output_media_type: str | None = None  # ikanos beta1 (aggregate flows)


class ExposedResource(SpecModel):
    path: str
    name: str | None = None
    label: str | None = None
    description: str | None = None
    input_parameters: list[InputParameter] = Field(default_factory=list)
    operations: list[ExposedOperation] = Field(default_factory=list)
    forward: Forward | None = None
    tags: list[str] = Field(default_factory=list)


class RestExposes(SpecModel):
    type: str = "rest"
    namespace: str
    port: int | None = None
    address: str | None = None
    description: str | None = None
    authentication: Any = None
    input_parameters: list[InputParameter] = Field(default_factory=list)
    resources: list[ExposedResource] = Field(default_factory=list)
    max_binary_size: Any = None  # ikanos beta1


class McpResource(SpecModel):
    name: str
    uri: str
    label: str | None = None
    description: str | None = None
    mime_type: str | None = None
    call: Any = None
    with_: dict[str, Any] | None = Field(None, alias="with")
    steps: list[Step] = Field(default_factory=list)
    mappings: list[StepMapping] = Field(default_factory=list)
    output_parameters: list[OutputParameter] = Field(default_factory=list)
    location: str | None = None
    binary: bool | None = None  # ikanos beta1: read as a blob


class PromptArgument(SpecModel):
    name: str
    label: str | None = None
    description: str | None = None
    required: bool | None = None


class PromptMessage(SpecModel):
    role: str = "user"
    content: str


class McpPrompt(SpecModel):
    name: str
    label: str | None = None
    description: str | None = None
    arguments: list[PromptArgument] = Field(default_factory=list)
    template: list[PromptMessage] = Field(default_factory=list)
    location: str | None = None


class McpExposes(SpecModel):
    type: str = "mcp"
    namespace: str
    port: int | None = None
    address: str | None = None
    transport: str = "http"
    description: str | None = None
    authentication: Any = None
    tools: list[ExposedOperation] = Field(default_factory=list)
    resources: list[McpResource] = Field(default_factory=list)
    prompts: list[McpPrompt] = Field(default_factory=list)
    max_binary_size: Any = None  # ikanos beta1
    ttl_ms: int | None = None  # ikanos beta4: MCP caching hints
    cache_scope: str | None = None


class AggregateFunction(ExposedOperation):
    name: str


class Aggregate(SpecModel):
    namespace: str
    label: str | None = None
    functions: list[AggregateFunction] = Field(default_factory=list)


class Document(SpecModel):
    naftiko: str | None = None
    info: Info | None = None
    binds: list[Any] = Field(default_factory=list)
    capability: dict[str, Any] | None = None
    # the sections of a standalone document (alpha2: consumes only)
    consumes: list[Any] | None = None
    exposes: list[Any] | None = None
    aggregates: list[Any] | None = None
