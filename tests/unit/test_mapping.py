"""Output mapping and mock bodies (SEMANTICS §4, §7.5; conformance cases 27-31, 33, 40)."""

from __future__ import annotations

from capgen_runtime.expr.mapping import NOT_MAPPED, mock, resolve, select
from capgen_runtime.model import Output


def test_array_of_projected_objects() -> None:
    root = {
        "results": [
            {
                "properties": {
                    "Name": {"title": [{"text": {"content": "Alice"}}]},
                    "Company": {"rich_text": [{"text": {"content": "Acme"}}]},
                }
            },
            {
                "properties": {
                    "Name": {"title": [{"text": {"content": "Bob"}}]},
                    "Company": {"rich_text": [{"text": {"content": "BetaCo"}}]},
                }
            },
        ]
    }
    item = Output(
        "object",
        properties=(
            Output("string", name="name", mapping="$.properties.Name.title[0].text.content"),
            Output(
                "string", name="company", mapping="$.properties.Company.rich_text[0].text.content"
            ),
        ),
    )
    out = Output("array", mapping="$.results", items=item)
    assert resolve(out, root) == [
        {"name": "Alice", "company": "Acme"},
        {"name": "Bob", "company": "BetaCo"},
    ]


def test_values_mapping_max_length_and_value_wins() -> None:
    values = Output("object", mapping="$.data", values=Output("number", mapping="$.id"))
    assert resolve(values, {"data": {"a": {"id": 1}, "b": {"id": 2}}}) == {"a": 1, "b": 2}
    assert resolve(Output("string", mapping="$.s", max_length=5), {"s": "abcdefghijkl"}) == "abcde"
    assert resolve(Output("string", mapping="$.s", value="fixed"), {"s": "x"}) == "fixed"


def test_nested_object_without_mapping_uses_the_same_root() -> None:
    out = Output(
        "object",
        properties=(
            Output("string", name="imo", mapping="$.imo"),
            Output(
                "object",
                name="specs",
                properties=(Output("number", name="yearBuilt", mapping="$.year"),),
            ),
        ),
    )
    assert resolve(out, {"imo": "I-1", "year": 2015}) == {
        "imo": "I-1",
        "specs": {"yearBuilt": 2015},
    }


def test_array_mapping_on_a_non_array_and_items_passthrough() -> None:
    assert resolve(Output("array", mapping="$.data"), {"data": {"id": 1}}) is None
    assert resolve(Output("array", mapping="$.data"), {"data": [1, {"a": 2}]}) == [1, {"a": 2}]
    item = Output("object", properties=(Output("string", name="name", mapping="$.name"),))
    assert resolve(Output("array", mapping="$.d", items=item), {"d": [{}]}) == [{"name": None}]


def test_first_non_null_top_level_output_wins() -> None:
    outputs = (Output("string", mapping="$.missing"), Output("string", mapping="$.user.id"))
    assert select(outputs, {"user": {"id": "u-1"}}) == "u-1"
    assert select((Output("string", mapping="$.none"),), {}) is NOT_MAPPED


def test_object_without_properties_returns_the_jsonpath_result() -> None:  # DEV-14
    assert resolve(Output("object", mapping="$."), {"a": 1}) == {"a": 1}


def test_mock_body() -> None:
    outputs = (
        Output("string", name="status", value="ready"),
        Output(
            "object",
            name="payload",
            properties=(
                Output("string", name="id", value="42"),
                Output("array", name="tags", items=Output("string", value="active")),
            ),
        ),
        Output("string", name="dropped"),
        Output("string", value="Hello, {{name}}!"),
    )
    assert mock(outputs, [{"name": "Alice"}]) == {
        "status": "ready",
        "payload": {"id": "42", "tags": ["active"]},
        "value": "Hello, Alice!",
    }
