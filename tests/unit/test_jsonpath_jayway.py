"""capgen's JSONPath answers as Jayway JsonPath does, case by case (tests/unit/jayway_cases.py,
whose answers come from Jayway's documentation and Jayway's own answers, never capgen's)."""

from __future__ import annotations

import json
from typing import Any

import pytest
from capgen_runtime.expr.jsonpath import query

from tests.unit.jayway_cases import CASES


def same(got: Any, expected: Any, ordered: bool) -> bool:
    if ordered or not isinstance(got, list) or not isinstance(expected, list):
        return bool(got == expected and type(got) is type(expected))
    return sorted(map(json.dumps, got)) == sorted(map(json.dumps, expected))


@pytest.mark.parametrize(
    ("selector", "document", "expected", "ordered"), CASES, ids=[c[0] for c in CASES]
)
def test_answers_as_jayway(selector: str, document: Any, expected: Any, ordered: bool) -> None:
    got = query(document, selector)
    assert same(got, expected, ordered), f"{selector}: {got!r} != {expected!r}"
