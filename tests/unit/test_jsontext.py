"""The kept encoders write what `json.dumps` writes (the library is the oracle), and refuse
what it refuses."""

from __future__ import annotations

import json
import math
from typing import Any

import pytest
from capgen_runtime.jsontext import compact, compact_finite, json_text

VALUES: list[Any] = [
    {"result": {"response": "Hello"}, "success": True, "errors": [], "messages": []},
    'a bare string with "quotes", \\ and \u2028 and é and \U0001f600 and \x00',
    [1, -0.0, 1e300, 2.5e-8, 10**40, True, False, None, [], {}],
    {1: "int key", 2.5: "float key", False: "bool key", None: "null key", "": ""},
    {"nested": [[[{"deep": [1, {"x": "y"}]}]]]},
    0.1 + 0.2,
    12345678901234567890,
]


@pytest.mark.parametrize("value", VALUES)
def test_compact_is_json_dumps(value: Any) -> None:
    expected = json.dumps(value, separators=(",", ":"), ensure_ascii=False)
    assert compact(value) == expected
    assert compact_finite(value) == expected


@pytest.mark.parametrize("number", [math.nan, math.inf, -math.inf])
def test_non_finite_numbers(number: float) -> None:
    value = {"n": [number]}
    assert compact(value) == json.dumps(value, separators=(",", ":"), ensure_ascii=False)
    with pytest.raises(ValueError):
        compact_finite(value)


def test_what_json_cannot_write_is_refused_alike() -> None:
    for encode in (compact, compact_finite):
        with pytest.raises(TypeError):
            encode({"set": {1, 2}})
        with pytest.raises(TypeError):
            encode({("tuple", "key"): 1})


def test_nesting_too_deep_and_values_that_contain_themselves() -> None:
    deep: Any = []
    for _ in range(100_000):
        deep = [deep]
    looped: dict[str, Any] = {}
    looped["self"] = looped
    for encode in (compact, compact_finite):
        with pytest.raises(RecursionError):
            encode(deep)
        with pytest.raises(RecursionError):
            encode(looped)
        assert encode({"after": "a failure"}) == '{"after":"a failure"}'


def test_json_text() -> None:
    for text in ("plain", 'q"uote', "line\nbreak", "é\u2028"):
        assert json_text(text) == json.dumps(text, ensure_ascii=False)
