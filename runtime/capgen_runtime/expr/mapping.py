"""Output parameters: mapping a decoded response, and building mock results."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from ..expr import jsonpath
from ..expr.templating import render
from ..model import Output

NOT_MAPPED = object()


def select(outputs: Sequence[Output], root: Any, scopes: Sequence[Mapping[str, Any]] = ()) -> Any:
    """The first top-level output whose result is not null, or NOT_MAPPED."""
    for output in outputs:
        value = resolve(output, root, scopes)
        if value is not None:
            return value
    return NOT_MAPPED


def resolve(output: Output, root: Any, scopes: Sequence[Mapping[str, Any]] = ()) -> Any:
    """Apply one output parameter to `root` (SEMANTICS §4.2)."""
    if output.value is not None:
        return render(str(output.value), *scopes)
    return _mapped(output, root)


def _mapped(output: Output, root: Any) -> Any:
    kind = output.type
    if kind == "array":
        node = jsonpath.query(root, output.mapping)
        if not isinstance(node, list):
            return None
        return [_item(output.items, element) for element in node]
    if kind == "object" and output.values is not None and output.mapping:
        node = jsonpath.query(root, output.mapping)
        if not isinstance(node, dict):
            return None
        inner = output.values
        return {key: _mapped(inner, value) for key, value in node.items()}
    if kind == "object" and output.properties:
        return {prop.name or "value": _mapped(prop, root) for prop in output.properties}
    value = jsonpath.query(root, output.mapping)
    if output.max_length is not None and isinstance(value, str):
        value = value[: output.max_length]
    return value


def _item(items: Output | None, element: Any) -> Any:
    if items is None:
        return element
    if items.type == "object" and items.properties:
        return {prop.name or "value": _mapped(prop, element) for prop in items.properties}
    if items.mapping:
        return _mapped(items, element)
    return element


def has_mock_values(outputs: Sequence[Output]) -> bool:
    """True when some output, at any depth, carries a static `value` (SEMANTICS §7.5)."""
    return any(_has_value(output) for output in outputs)


def _has_value(output: Output) -> bool:
    if output.value is not None:
        return True
    children = [*output.properties, *(x for x in (output.items, output.values) if x is not None)]
    return any(_has_value(child) for child in children)


def mock(outputs: Sequence[Output], scopes: Sequence[Mapping[str, Any]]) -> dict[str, Any]:
    """The mock body: each output by name (or `value`), scalars rendered as strings."""
    result: dict[str, Any] = {}
    for output in outputs:
        built = _mock_value(output, scopes)
        if built is not None:
            result[output.name or "value"] = built
    return result


def _mock_value(output: Output, scopes: Sequence[Mapping[str, Any]]) -> Any:
    if output.type == "array":
        item = _mock_value(output.items, scopes) if output.items is not None else None
        return [] if item is None else [item]
    if output.type == "object" and output.properties:
        built = mock(output.properties, scopes)
        return built or None
    if output.value is None:
        return None
    return render(str(output.value), *scopes)
