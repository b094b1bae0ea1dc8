"""State shared by the build passes: diagnostics, locations and what was built so far."""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field

from ..diagnostics import Diagnostics, Span
from ..guess import NAME_GUESS, did_you_mean, typo_of
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
    # operations declared more than once under one name: a call picks one by its context
    duplicates: dict[tuple[str, str], list[ir.Operation]] = field(default_factory=dict)
    extra_params: dict[tuple[str, str], list[ExtraParam]] = field(default_factory=dict)
    functions: dict[str, ir.Function] = field(default_factory=dict)
    function_calls: dict[str, Calls] = field(default_factory=dict)
    function_inputs: dict[str, tuple[m.InputParameter, ...]] = field(default_factory=dict)
    caller_heads: frozenset[str] = frozenset()  # `{{tools.x}}` in a consumed template is input x
    broken: set[tuple[str, str]] = field(
        default_factory=set
    )  # operations already reported as invalid
    service_methods: set[str] = field(default_factory=set)  # names taken in the service class

    def span(self, model: m.SpecModel, locations: Locations | None = None) -> Span:
        return (locations or self.spec.locations).span(model.pointer)

    def key_span(self, model: m.SpecModel, key: str) -> Span:
        return self.spec.locations.key_span((*model.pointer, key))

    def error(self, code: str, message: str, span: Span, hint: str | None = None) -> None:
        self.diagnostics.error(code, message, span, hint)

    def warning(self, code: str, message: str, span: Span, hint: str | None = None) -> None:
        self.diagnostics.warning(code, message, span, hint)

    def _disambiguate(
        self,
        call: str,
        same: list[ir.Operation],
        span: Span,
        context: CallContext | None,
    ) -> ir.Operation | None:
        context = context or CallContext()
        fitting = [op for op in same if context.fits(op)]
        exact = (lambda op: _names(op) == context.keys) if context.keys else context.on_path
        for narrower in (context.on_path, exact):
            if len(fitting) > 1:  # a path like the caller's, then exactly what it feeds
                fitting = [op for op in fitting if narrower(op)] or fitting
        if len(fitting) > 1:  # DEV-22: the caller's description names one of them
            fitting = context.described(fitting) or fitting
        if len(fitting) == 1:
            return fitting[0]
        if context.order and context.order[1] == len(same) == len(fitting):
            return same[context.order[0]]  # as many callers as declarations: in their order
        where = " and ".join(f"{op.method} {op.path}" for op in same)
        self.error(
            "E032",
            f"`call: {call}` is ambiguous: the name is declared for {where}, and the caller's "
            "method, path, inputs and description do not tell which; rename one of them",
            span,
        )
        return None

    def problem(self, error_code: str, warning_code: str, message: str, span: Span) -> None:
        """An error under --strict; otherwise a warning and capgen carries on."""
        if self.diagnostics.strict:
            self.error(error_code, message, span)
        else:
            self.warning(warning_code, message, span)

    def lookup(
        self, call: str | None, span: Span, context: CallContext | None = None
    ) -> ir.Operation | None:
        """Resolve `namespace.operation`. A malformed target, or a near miss of a declared one
        (a typo: `get-bread` for `get-breed`), is an error (E030-E032) with a did-you-mean; one
        naming nothing close to what the spec declares (an operation of another capability) is
        W134 (an error with --strict), and the exposed unit answers 501. A name declared twice
        is resolved by the caller's `context`: the one declaration that fits it, else an error."""
        if not call or not isinstance(call, str) or call.count(".") != 1:
            guess = did_you_mean(call, self._targets())
            message = f"`call: {call}` must be `<namespace>.<operation>`{guess}"
            if guess:  # a misspelt target: an error by default
                self.error("E030", message, span)
            else:  # names nothing at all (SEMANTICS case 39): the unit answers 501
                self.problem("E030", "W134", message, span)
            return None
        namespace, name = call.split(".")
        if namespace not in self.upstreams:
            known = ", ".join(sorted(self.upstreams)) or "none"
            message = f"`call: {call}` names namespace {namespace!r}; consumes declares {known}"
            self._unresolved("E031", message, call, self._targets(), span)
            return None
        same = self.duplicates.get((namespace, name))
        if same:
            return self._disambiguate(call, same, span, context)
        operation = self.operations.get((namespace, name))
        if operation is None and (namespace, name) not in self.broken:
            message = f"`call: {call}`: namespace {namespace!r} has no operation {name!r}"
            self._unresolved("E032", message, call, self._targets(), span)
        return operation

    def _targets(self) -> list[str]:
        """Every declared `namespace.operation` (what a did-you-mean chooses from)."""
        return [f"{ns}.{op}" for ns, op in [*self.operations, *self.duplicates]]

    def _unresolved(
        self, code: str, message: str, call: str, targets: list[str], span: Span
    ) -> None:
        typo = _typo(call, targets)
        if typo is not None:
            self.error(code, f"{message}; did you mean `{typo}`?", span)
        else:
            self.problem(code, "W134", message + did_you_mean(call, targets, NAME_GUESS), span)


def _typo(call: str, targets: list[str]) -> str | None:
    """The declared target `call` misspells: the same namespace and a misspelt operation, or
    the same operation in a misspelt namespace."""
    namespace, name = call.split(".")
    pairs = [t.split(".", 1) for t in targets]
    found = typo_of(name, [op for ns, op in pairs if ns == namespace])
    if found is not None:
        return f"{namespace}.{found}"
    found = typo_of(namespace, [ns for ns, op in pairs if op == name])
    return f"{found}.{name}" if found is not None else None


@dataclass(frozen=True)
class CallContext:
    """What tells apart two consumed operations of one name: the exposed method and path
    (REST), and the parameters the caller's `with` feeds."""

    method: str | None = None
    path: str | None = None
    keys: frozenset[str] = frozenset()
    order: tuple[int, int] | None = None  # this caller's place among the adapter's callers
    texts: tuple[str, ...] = ()  # the caller's description, then its label

    def described(self, candidates: list[ir.Operation]) -> list[ir.Operation]:
        """The one candidate whose description equals the caller's (or, failing that, its
        label), spaces collapsed and case ignored; [] when none or several do."""
        for text in self.texts:
            wanted = " ".join(text.split()).casefold()
            same = [op for op in candidates if wanted and op.described.casefold() == wanted]
            if len(same) == 1:
                return same
        return []

    def fits(self, operation: ir.Operation) -> bool:
        """The caller's method, and a parameter for each key its `with` feeds."""
        if self.method is not None and operation.method != self.method:
            return False
        return self.keys <= _names(operation)

    def on_path(self, operation: ir.Operation) -> bool:
        """A path that ends like the operation's: placeholders match any placeholder, names
        compare without punctuation, and the exposed path may add a prefix such as /v1."""
        if self.path is None:
            return False
        mine = [_shape(part) for part in operation.path.strip("/").split("/") if part]
        theirs = [_shape(part) for part in self.path.strip("/").split("/") if part]
        return bool(mine) and theirs[-len(mine) :] == mine


def caller_texts(op: m.ExposedOperation) -> tuple[str, ...]:
    """What a caller says it does: its description, then its label."""
    return tuple(t for t in (op.description, op.label) if isinstance(t, str) and t.strip())


def caller_order(calls: Sequence[object]) -> list[tuple[int, int]]:
    """For each caller of an adapter, its place among the callers of the same `call`, and
    how many there are."""
    totals = Counter(repr(call) for call in calls)
    seen: Counter[str] = Counter()
    order = []
    for call in calls:
        order.append((seen[repr(call)], totals[repr(call)]))
        seen[repr(call)] += 1
    return order


def _names(operation: ir.Operation) -> frozenset[str]:
    return frozenset(p.name for p in operation.arguments)


def _shape(segment: str) -> str:
    if segment.startswith("{") and segment.endswith("}"):
        return "{}"
    return re.sub(r"[^a-z0-9]", "", segment.lower())
