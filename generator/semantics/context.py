"""State shared by the build passes: diagnostics, locations and what was built so far."""

from __future__ import annotations

from dataclasses import dataclass, field

from ..diagnostics import Diagnostics, Span
from ..ir import model as ir
from ..loader import Locations
from ..spec import models as m
from ..spec.parse import Spec


@dataclass(frozen=True)
class ExtraParam:
    """A consumed parameter implied by an exposed input's `mapping` (e.g. `queryParameters.like`)."""

    name: str
    location: str | None  # None: where the consumed method puts data (query for GET, else body)
    type: str = "string"
    description: str | None = None


@dataclass(frozen=True)
class Calls:
    """The consumed operations an endpoint reaches, with the `with` entries applied to each."""

    pairs: tuple[tuple[ir.Operation, tuple[ir.With, ...]], ...] = ()


@dataclass
class Context:
    spec: Spec
    diagnostics: Diagnostics
    bind_names: frozenset[str] = frozenset()
    upstreams: dict[str, ir.Upstream] = field(default_factory=dict)
    operations: dict[tuple[str, str], ir.Operation] = field(default_factory=dict)
    extra_params: dict[tuple[str, str], list[ExtraParam]] = field(default_factory=dict)
    functions: dict[str, ir.Function] = field(default_factory=dict)
    function_calls: dict[str, Calls] = field(default_factory=dict)
    function_inputs: dict[str, tuple[m.InputParameter, ...]] = field(default_factory=dict)
    broken: set[tuple[str, str]] = field(
        default_factory=set
    )  # operations already reported as invalid

    def span(self, model: m.SpecModel, locations: Locations | None = None) -> Span:
        return (locations or self.spec.locations).span(model.pointer)

    def key_span(self, model: m.SpecModel, key: str) -> Span:
        return self.spec.locations.key_span((*model.pointer, key))

    def error(self, code: str, message: str, span: Span, hint: str | None = None) -> None:
        self.diagnostics.error(code, message, span, hint)

    def warning(self, code: str, message: str, span: Span, hint: str | None = None) -> None:
        self.diagnostics.warning(code, message, span, hint)

    def problem(self, error_code: str, warning_code: str, message: str, span: Span) -> None:
        """An error under --strict; otherwise a warning and capgen carries on."""
        if self.diagnostics.strict:
            self.error(error_code, message, span)
        else:
            self.warning(warning_code, message, span)

    def lookup(self, call: str | None, span: Span) -> ir.Operation | None:
        """Resolve `namespace.operation`. An unknown target is W134 (E030-E032 with --strict):
        the exposed unit is still generated and answers 501."""
        if not call or not isinstance(call, str) or call.count(".") != 1:
            self.problem("E030", "W134", f"`call: {call}` must be `<namespace>.<operation>`", span)
            return None
        namespace, name = call.split(".")
        if namespace not in self.upstreams:
            known = ", ".join(sorted(self.upstreams)) or "none"
            message = f"`call: {call}` names namespace {namespace!r}; consumes declares {known}"
            self.problem("E031", "W134", message, span)
            return None
        operation = self.operations.get((namespace, name))
        if operation is None and (namespace, name) not in self.broken:
            message = f"`call: {call}`: namespace {namespace!r} has no operation {name!r}"
            self.problem("E032", "W134", message, span)
        return operation
