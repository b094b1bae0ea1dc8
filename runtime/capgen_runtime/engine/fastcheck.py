"""A compiled check that a value is valid against a JSON Schema, for the schemas capgen writes.

`compile_check(schema)` turns a schema made only of the keywords below into one predicate.
The predicate answers True only for a value that Draft 2020-12 accepts; False means "not
proven valid", and the caller then runs jsonschema itself, which also words the problems. A
schema with any other keyword (`$ref`, `oneOf`, `const`, ...) compiles to None: jsonschema
alone judges it. The cheap predicate is what a valid request pays; jsonschema's descent, per
request, cost as much as the rest of the handler.

The predicate is one Python expression, compiled once: a valid value costs one call, not a
call per keyword and level. The schema's own text (property names, patterns, enum values,
bounds) never enters the expression's source: each is a constant the expression reads from
a table (`K[i]`). A schema nested too deep for Python's compiler compiles to None.
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
_MAX_SOURCE = 200_000  # characters of one predicate's expression
# each type's test of the value `{v}`
_TYPES = {
    "string": "isinstance({v}, str)",
    "integer": "(type({v}) is int or (type({v}) is float and {v}.is_integer()))",
    "number": "type({v}) in (int, float)",
    "boolean": "type({v}) is bool",
    "null": "{v} is None",
    "object": "isinstance({v}, dict)",
    "array": "isinstance({v}, list)",
}
_BOUNDS = {"minimum": ">=", "maximum": "<=", "exclusiveMinimum": ">", "exclusiveMaximum": "<"}
_LENGTHS = {
    "minLength": ("str", ">="),
    "maxLength": ("str", "<="),
    "minItems": ("list", ">="),
    "maxItems": ("list", "<="),
}


class _Unsupported(Exception):
    """A keyword (or a value of one) this module does not judge."""


def compile_check(schema: Any) -> Check | None:
    """The predicate of `schema`, or None when jsonschema alone must judge it."""
    constants: list[Any] = []
    try:
        expression = _Writer(constants).schema(schema, "v", 0)
        if len(expression) > _MAX_SOURCE:
            return None
        code = compile(f"lambda v: {expression}", "<fastcheck>", "eval")
        check: Check = eval(code, {"__builtins__": _BUILTINS, "K": tuple(constants)})
    except (_Unsupported, re.error, TypeError, KeyError, AttributeError, ValueError):
        return None
    except (RecursionError, SyntaxError, MemoryError):  # nested deeper than Python compiles
        return None
    return check


# what the expressions call: nothing else is reachable from them
_BUILTINS = {
    "all": all,
    "bool": bool,
    "dict": dict,
    "float": float,
    "int": int,
    "isinstance": isinstance,
    "len": len,
    "list": list,
    "str": str,
    "type": type,
}


class _Writer:
    """Writes the expression of a schema; its text goes in as constants (`K[i]`)."""

    def __init__(self, constants: list[Any]) -> None:
        self.constants = constants

    def constant(self, value: Any) -> str:
        self.constants.append(value)
        return f"K[{len(self.constants) - 1}]"

    def schema(self, schema: Any, v: str, depth: int) -> str:
        if schema is True:
            return "True"
        if not isinstance(schema, Mapping):
            raise _Unsupported
        tests = [
            self.keyword(keyword, value, schema, v, depth)
            for keyword, value in schema.items()
            if keyword not in _ANNOTATIONS and not keyword.startswith("x-")
        ]
        return _conjunction(tests)

    def keyword(
        self, keyword: str, value: Any, schema: Mapping[str, Any], v: str, depth: int
    ) -> str:
        if keyword == "type":
            names = [value] if isinstance(value, str) else list(value)
            return "(" + " or ".join(_TYPES[name].format(v=v) for name in names) + ")"
        if keyword == "properties":
            return self.properties(value, v, depth)
        if keyword == "required":
            present = " and ".join(f"{self.constant(n)} in {v}" for n in value)
            return f"(not isinstance({v}, dict) or ({present or 'True'}))"
        if keyword == "additionalProperties":
            return self.additional(value, frozenset(schema.get("properties", ())), v, depth)
        if keyword == "items":
            x = f"x{depth}"
            return f"(not isinstance({v}, list) or all({self.schema(value, x, depth + 1)} for {x} in {v}))"
        if keyword == "allOf":
            return _conjunction([self.schema(part, v, depth) for part in value])
        if keyword == "enum":
            return self.enum(value, v)
        if keyword == "pattern":
            search = self.constant(re.compile(value).search)
            return f"(not isinstance({v}, str) or {search}({v}) is not None)"
        if keyword in _BOUNDS and type(value) in (int, float):
            bound = self.constant(value)
            return f"(type({v}) not in (int, float) or {v} {_BOUNDS[keyword]} {bound})"
        if keyword in _LENGTHS and type(value) is int:
            kind, holds = _LENGTHS[keyword]
            return f"(not isinstance({v}, {kind}) or len({v}) {holds} {self.constant(value)})"
        raise _Unsupported(keyword)

    def properties(self, value: Mapping[str, Any], v: str, depth: int) -> str:
        tests = []
        for name, sub in value.items():
            key = self.constant(name)
            test = self.schema(sub, f"{v}[{key}]", depth)
            if test != "True":
                tests.append(f"({key} not in {v} or {test})")
        return f"(not isinstance({v}, dict) or {_conjunction(tests)})"

    def additional(self, value: Any, declared: frozenset[str], v: str, depth: int) -> str:
        names = self.constant(declared)
        if value is False:
            return f"(not isinstance({v}, dict) or {names}.issuperset({v}))"
        k, x = f"k{depth}", f"x{depth}"
        test = self.schema(value, x, depth + 1)
        return (
            f"(not isinstance({v}, dict) or "
            f"all({test} for {k}, {x} in {v}.items() if {k} not in {names}))"
        )

    def enum(self, value: Any, v: str) -> str:
        if not all(type(option) in _SCALARS for option in value):
            raise _Unsupported("enum")  # containers compare loosely in JSON Schema
        options = [
            f"(type({v}) is {self.constant(type(option))} and {v} == {self.constant(option)})"
            for option in value
        ]
        return "(" + (" or ".join(options) or "False") + ")"


def _conjunction(tests: list[str]) -> str:
    tests = [test for test in tests if test != "True"]
    if not tests:
        return "True"
    return tests[0] if len(tests) == 1 else "(" + " and ".join(tests) + ")"
