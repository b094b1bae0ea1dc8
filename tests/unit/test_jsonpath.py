"""JSONPath with Jayway's conventions (SEMANTICS §4.4, conformance case 32)."""

from __future__ import annotations

import pytest
from capgen_runtime.expr.jsonpath import query

DOC = {
    "user": {"id": "u-1", "tags": ["a", "b"]},
    "user details": {"email": "x@example.com"},
    "items": [{"id": 1, "price": 5}, {"id": 2, "price": 15}, {"id": 3}],
}


@pytest.mark.parametrize("path", ["$", "$."])
def test_root(path: str) -> None:
    assert query(DOC, path) is DOC


@pytest.mark.parametrize(
    "path", ["", None, "$.nope", "$.user.id.deeper", "$.items[9]", "$[", "$.items[?(@.x ~ 1)]"]
)
def test_missing_or_broken_paths_give_none(path: str | None) -> None:
    assert query(DOC, path) is None


def test_definite_paths() -> None:
    assert query(DOC, "$.user.id") == "u-1"
    assert query(DOC, "$.user details.email") == "x@example.com"
    assert query(DOC, "$['user details'].email") == "x@example.com"
    assert query(DOC, "$.items[-1].id") == 3
    assert query(DOC, "user.tags[0]") == "a"


def test_indefinite_paths_give_lists() -> None:
    assert query(DOC, "$.items[*].id") == [1, 2, 3]
    assert query(DOC, "$..id") == ["u-1", 1, 2, 3]
    assert query(DOC, "$.items[0:2].id") == [1, 2]
    assert query(DOC, "$.items[0,2].id") == [1, 3]
    assert query(DOC, "$.items[?(@.price > 10)].id") == [2]
    assert query(DOC, "$.items[?(@.price)].id") == [1, 2]
    assert query(DOC, "$.items[?(@.id == 1 || @.id == 3)].id") == [1, 3]
    assert query(DOC, "$.user.tags[*]") == ["a", "b"]


def test_functions() -> None:
    assert query(DOC, "$.items.length()") == 3
    assert query(DOC, "$.items[*].id.max()") == 3
    assert query(DOC, "$.user.keys()") == ["id", "tags"]
    assert query(DOC, "$.length") is None  # a key named "length", as Jayway reads it
