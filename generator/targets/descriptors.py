"""Render run-time descriptors as Python: one generic renderer over `dataclasses.fields()`.

A descriptor comes out as a call of its runtime class (`capgen_runtime.model`, the nearest one
in its MRO, so the IR's subclasses render as what they extend), with the fields of that class:
the required fields positionally when there are at most two and none is a nested descriptor,
every other field as a keyword, and fields equal to their default left out. An object already
bound to a name (`refs`, by identity) is written as that name. Expressions come out on one
line; the formatter breaks them.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Iterable, Mapping
from typing import Any

from capgen_runtime import model as rt

from ..render import py_literal, quoted

_POSITIONAL = 2  # a class with more required fields than this gets keywords only


class Refs:
    """Objects the module binds to names, looked up by identity."""

    def __init__(self, named: Iterable[tuple[object, str]] = ()) -> None:
        self._names: dict[int, str] = {}
        self._keep: list[object] = []  # the ids stay valid while this lives
        for value, name in named:
            self.add(value, name)

    def add(self, value: object, name: str) -> None:
        self._names[id(value)] = name
        self._keep.append(value)

    def get(self, value: object) -> str | None:
        return self._names.get(id(value))


class Renderer:
    """Renders descriptors for one module and remembers which runtime classes it used."""

    def __init__(self, refs: Refs | None = None) -> None:
        self.refs = refs or Refs()
        self.used: set[str] = set()

    def define(self, value: Any) -> str:
        """The expression of `value` itself, even when it is one of the named objects."""
        if _is_descriptor(value):
            return self._call(value)
        if isinstance(value, tuple):
            return self._sequence(value)
        return py_literal(value)

    def expr(self, value: Any) -> str:
        if type(value) is str:  # most values: no name, no call
            return quoted(value)
        if isinstance(value, tuple) or _is_descriptor(value):
            name = self.refs.get(value)
            if name is not None:
                return name
        return self.define(value)

    def _call(self, value: Any) -> str:
        cls, fields, required = _layout(type(value))
        self.used.add(cls.__name__)
        few = len(required) <= _POSITIONAL
        nested = few and any(self._nested(getattr(value, name)) for name in required)
        positional = required if few and not nested else []
        parts = [self.expr(getattr(value, name)) for name in positional]
        for name, default in fields:
            item = getattr(value, name)
            if name in positional or (default is not dataclasses.MISSING and item == default):
                continue
            parts.append(f"{name}={self.expr(item)}")
        return f"{cls.__name__}({', '.join(parts)})"

    def _nested(self, value: Any) -> bool:
        """`value` renders as a constructor call (not a name): worth its keyword."""
        return _is_descriptor(value) and self.refs.get(value) is None

    def _sequence(self, items: tuple[Any, ...]) -> str:
        inner = ", ".join(self.expr(item) for item in items)
        return f"({inner},)" if len(items) == 1 else f"({inner})"


def _is_descriptor(value: Any) -> bool:
    kind = type(value)
    found = _DESCRIPTOR_TYPES.get(kind)
    if found is None:  # worked out once per type
        found = _DESCRIPTOR_TYPES[kind] = hasattr(kind, "__dataclass_fields__") and kind is not type
        found = found and not issubclass(kind, type)
    return found


_DESCRIPTOR_TYPES: dict[type, bool] = {}


_Layout = tuple[type, list[tuple[str, Any]], list[str]]
_LAYOUTS: dict[type, _Layout] = {}


def _layout(kind: type) -> _Layout:
    """The runtime class a descriptor renders as, its fields with their defaults, and the
    names of those without one (worked out once per class)."""
    found = _LAYOUTS.get(kind)
    if found is None:
        cls = _runtime_class(kind)
        fields = [(f.name, _default(f)) for f in dataclasses.fields(cls)]
        required = [name for name, default in fields if default is dataclasses.MISSING]
        found = _LAYOUTS[kind] = (cls, fields, required)
    return found


def _runtime_class(cls: type) -> type:
    for base in cls.__mro__:
        if base.__module__ == rt.__name__:
            return base
    raise TypeError(f"{cls.__name__} is not a capgen_runtime.model descriptor")


def _default(field: dataclasses.Field[Any]) -> Any:
    if field.default is not dataclasses.MISSING:
        return field.default
    if field.default_factory is not dataclasses.MISSING:
        return field.default_factory()
    return dataclasses.MISSING


def operation_refs(upstreams: Iterable[Any], *, local: str | None = None) -> Refs:
    """Each consumed operation as `<module>.<CONST>` (bare `CONST` inside its own module), and
    each upstream as `<module>.UPSTREAM`."""
    refs = Refs()
    for upstream in upstreams:
        prefix = "" if upstream.module == local else f"{upstream.module}."
        refs.add(upstream, f"{prefix}UPSTREAM")
        for operation in upstream.operations:
            refs.add(operation, f"{prefix}{operation.const}")
    return refs


def function_refs(refs: Refs, functions: Iterable[Any], *, local: bool = False) -> Refs:
    for function in functions:
        refs.add(function.endpoint, function.const if local else f"aggregates.{function.const}")
    return refs


def named(refs: Refs, pairs: Mapping[str, Any]) -> Refs:
    for name, value in pairs.items():
        if not isinstance(value, tuple) or value:  # the empty tuple is one shared object
            refs.add(value, name)
    return refs
