"""A compiled check that a value is valid against a JSON Schema, for the schemas capgen writes.

`compile_check(schema)` turns a schema made only of the keywords below into one predicate.
The predicate answers True only for a value that Draft 2020-12 accepts; False means "not
proven valid", and the caller then runs jsonschema itself, which also words the problems. A
schema with any other keyword (`$ref`, `oneOf`, `const`, ...) compiles to None: jsonschema
alone judges it. The cheap predicate is what a valid request pays; jsonschema's descent, per
request, cost as much as the rest of the handler.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from typing import Any

Check = Callable[[Any], bool]

_ANNOTATIONS = frozenset(  # `format` too: Checker's validator asserts no format
    (
        *("title", "description", "default", "examples", "format", "deprecated", "$schema"),
        *("readOnly", "writeOnly", "$comment", "contentMediaType", "contentEncoding"),
    )
)
_SCALARS = (str, int, float, bool, type(None))
_TYPES: dict[str, Check] = {
    "string": lambda v: isinstance(v, str),
    "integer": lambda v: type(v) is int or (type(v) is float and v.is_integer()),
    "number": lambda v: type(v) in (int, float),
    "boolean": lambda v: type(v) is bool,
    "null": lambda v: v is None,
    "object": lambda v: isinstance(v, dict),
    "array": lambda v: isinstance(v, list),
}
_BOUNDS: dict[str, Callable[[Any, Any], bool]] = {
    "minimum": lambda v, b: v >= b,
    "maximum": lambda v, b: v <= b,
    "exclusiveMinimum": lambda v, b: v > b,
    "exclusiveMaximum": lambda v, b: v < b,
}
_LENGTHS: dict[str, tuple[type[str] | type[list[Any]], Callable[[int, int], bool]]] = {
    "minLength": (str, lambda n, b: n >= b),
    "maxLength": (str, lambda n, b: n <= b),
    "minItems": (list, lambda n, b: n >= b),
    "maxItems": (list, lambda n, b: n <= b),
}


class _Unsupported(Exception):
    """A keyword (or a value of one) this module does not judge."""


def compile_check(schema: Any) -> Check | None:
    """The predicate of `schema`, or None when jsonschema alone must judge it."""
    try:
        return _compile(schema)
    except (_Unsupported, re.error, TypeError, KeyError, AttributeError, ValueError):
        return None


def _compile(schema: Any) -> Check:
    if schema is True:
        return _always
    if not isinstance(schema, Mapping):
        raise _Unsupported
    checks: list[Check] = []
    for keyword, value in schema.items():
        if keyword in _ANNOTATIONS or keyword.startswith("x-"):
            continue
        checks.append(_keyword(keyword, value, schema))
    return _all(checks)


def _keyword(keyword: str, value: Any, schema: Mapping[str, Any]) -> Check:
    if keyword == "type":
        return _type(value)
    if keyword == "properties":
        return _properties(value)
    if keyword == "required":
        names = tuple(value)
        return lambda v: not isinstance(v, dict) or all(n in v for n in names)
    if keyword == "additionalProperties":
        return _additional(value, frozenset(schema.get("properties", ())))
    if keyword == "items":
        item = _compile(value)
        return lambda v: not isinstance(v, list) or all(item(i) for i in v)
    if keyword == "allOf":
        return _all([_compile(part) for part in value])
    if keyword == "enum":
        return _enum(value)
    if keyword == "pattern":
        search = re.compile(value).search
        return lambda v: not isinstance(v, str) or search(v) is not None
    if keyword in _BOUNDS and type(value) in (int, float):
        holds = _BOUNDS[keyword]
        return lambda v: type(v) not in (int, float) or holds(v, value)
    if keyword in _LENGTHS and type(value) is int:
        kind, fits = _LENGTHS[keyword]
        return lambda v: not isinstance(v, kind) or fits(len(v), value)
    raise _Unsupported(keyword)


def _type(value: Any) -> Check:
    names = [value] if isinstance(value, str) else list(value)
    tests = tuple(_TYPES[name] for name in names)  # KeyError: an unknown type name
    return lambda v: any(test(v) for test in tests)


def _properties(value: Mapping[str, Any]) -> Check:
    compiled = tuple((name, _compile(sub)) for name, sub in value.items())
    return lambda v: not isinstance(v, dict) or all(c(v[n]) for n, c in compiled if n in v)


def _additional(value: Any, declared: frozenset[str]) -> Check:
    if value is False:
        return lambda v: not isinstance(v, dict) or all(k in declared for k in v)
    extra = _compile(value)
    return lambda v: not isinstance(v, dict) or all(
        extra(item) for k, item in v.items() if k not in declared
    )


def _enum(value: Any) -> Check:
    if not all(type(option) in _SCALARS for option in value):
        raise _Unsupported("enum")  # containers compare loosely in JSON Schema
    options = tuple((type(option), option) for option in value)
    return lambda v: any(type(v) is kind and v == option for kind, option in options)


def _all(checks: list[Check]) -> Check:
    if not checks:
        return _always
    if len(checks) == 1:
        return checks[0]
    together = tuple(checks)
    return lambda v: all(check(v) for check in together)


def _always(_: Any) -> bool:
    return True
