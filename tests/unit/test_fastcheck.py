"""The compiled check (engine/fastcheck.py) never calls valid what jsonschema rejects.

jsonschema's Draft 2020-12 validator is the oracle: for every schema below and thousands of
generated values, a value the compiled check accepts must be valid for jsonschema, and the
values a well-formed request carries must take the compiled path (or it would save nothing).
"""

from __future__ import annotations

from typing import Any

import pytest
from capgen_runtime.engine.contract import Checker
from capgen_runtime.engine.fastcheck import compile_check
from capgen_runtime.schemas import HEADER_VALUE, PATH_TAIL
from hypothesis import given, settings
from hypothesis import strategies as st
from jsonschema import Draft202012Validator

SCHEMAS: list[dict[str, Any]] = [
    {"type": "object"},
    {
        "type": "object",
        "properties": {
            "account_id": {"type": "string", "pattern": PATH_TAIL, "minLength": 1},
            "model": {"type": "string", "minLength": 1, "description": "x", "x-mcp-header": "M"},
            "body": {"type": "object"},
        },
        "required": ["account_id", "model"],
    },
    {
        "type": "object",
        "properties": {
            "n": {"type": "integer", "minimum": 1, "maximum": 100},
            "x": {"type": "number", "exclusiveMinimum": 0, "exclusiveMaximum": 1.5},
            "flag": {"type": "boolean"},
            "kind": {"type": "string", "enum": ["a", "b", "1"]},
            "level": {"enum": [1, 2, None, True]},
        },
        "additionalProperties": False,
    },
    {
        "type": "object",
        "properties": {
            "tags": {"type": "array", "items": {"type": "string"}, "minItems": 1, "maxItems": 3},
            "h": {"type": "string", "pattern": HEADER_VALUE, "maxLength": 5},
            "either": {"type": ["string", "null"]},
            "both": {"type": "string", "pattern": "^a", "allOf": [{"pattern": "b$"}]},
        },
        "additionalProperties": {"type": "integer"},
    },
    {"type": "array", "items": {"type": "object", "required": ["id"]}},
]
UNSUPPORTED: list[Any] = [
    {"$ref": "#/$defs/a", "$defs": {"a": {}}},
    {"oneOf": [{"type": "string"}]},
    {"type": "object", "properties": {"a": {"const": 1}}},
    {"enum": [[1], {"a": 1}]},
    {"type": "decimal"},
    {"pattern": "("},
    False,
]

_KEYS = st.sampled_from(["account_id", "model", "body", "n", "x", "flag", "kind", "level",
                         "tags", "h", "either", "both", "id", "other"])  # fmt: skip
_TEXT = st.text(alphabet="ab1./\\;\x00\t é", max_size=6)
_SCALARS = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(-3, 200),
    st.floats(allow_nan=False, allow_infinity=False),
    st.sampled_from([0.0, 1.0, 2.0, 1.5, -0.0, 100.0]),
    _TEXT,
)
VALUES = st.recursive(
    _SCALARS,
    lambda inner: st.one_of(
        st.lists(inner, max_size=4), st.dictionaries(_KEYS | _TEXT, inner, max_size=5)
    ),
    max_leaves=12,
)


@pytest.mark.parametrize("schema", SCHEMAS, ids=range(len(SCHEMAS)))
@settings(max_examples=1500, deadline=None)
@given(value=VALUES)
def test_what_the_compiled_check_accepts_jsonschema_accepts(
    schema: dict[str, Any], value: Any
) -> None:
    check = compile_check(schema)
    assert check is not None
    if check(value):
        assert Draft202012Validator(schema).is_valid(value), value


@pytest.mark.parametrize("schema", SCHEMAS, ids=range(len(SCHEMAS)))
@settings(max_examples=300, deadline=None)
@given(value=VALUES)
def test_a_checker_answers_exactly_what_jsonschema_answers(
    schema: dict[str, Any], value: Any
) -> None:
    errors = list(Draft202012Validator(schema).iter_errors(value))
    assert (Checker(schema).offences(value) == []) == (errors == [])


@pytest.mark.parametrize(
    ("schema", "value"),
    [
        (SCHEMAS[1], {"account_id": "bench", "model": "@cf/meta/llama-3.1-8b", "body": {}}),
        (SCHEMAS[2], {"n": 5, "x": 0.5, "flag": False, "kind": "b", "level": None}),
        (SCHEMAS[2], {"level": True}),
        (SCHEMAS[3], {"tags": ["a"], "h": "ok\t", "either": None, "both": "ab", "extra": 3}),
        (SCHEMAS[4], [{"id": 1}, {"id": None}]),
    ],
)
def test_a_valid_request_takes_the_compiled_path(schema: dict[str, Any], value: Any) -> None:
    assert Draft202012Validator(schema).is_valid(value)
    check = compile_check(schema)
    assert check is not None and check(value)


@pytest.mark.parametrize(
    ("schema", "value"),
    [
        (SCHEMAS[2], {"n": True}),  # a boolean is no integer
        (SCHEMAS[2], {"n": 1.5}),
        (SCHEMAS[2], {"level": 1.0}),  # equal in JSON Schema: left to jsonschema, which agrees
        (SCHEMAS[2], {"kind": "c"}),
        (SCHEMAS[2], {"other": 1}),
        (SCHEMAS[1], {"account_id": "..", "model": "m"}),
        (SCHEMAS[1], {"model": "m"}),
        (SCHEMAS[3], {"both": "a"}),
    ],
)
def test_what_the_compiled_check_cannot_prove_goes_to_jsonschema(
    schema: dict[str, Any], value: Any
) -> None:
    check = compile_check(schema)
    assert check is not None and not check(value)
    expected = list(Draft202012Validator(schema).iter_errors(value)) == []
    assert (Checker(schema).offences(value) == []) == expected


@pytest.mark.parametrize("schema", UNSUPPORTED, ids=range(len(UNSUPPORTED)))
def test_a_keyword_it_does_not_judge_leaves_the_schema_to_jsonschema(schema: Any) -> None:
    assert compile_check(schema) is None
