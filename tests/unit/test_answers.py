"""The corpus oracle's readings of the spec text (tests/corpus/answers.py): answers shaped from
the YAML's outputs, callers' credentials and base-URL variables, without capgen's code."""

from __future__ import annotations

import base64

import yaml

from tests.corpus import answers


def outputs(text: str) -> list[object]:
    loaded = yaml.safe_load(text)
    assert isinstance(loaded, list)
    return loaded


def test_an_answer_holds_what_each_output_maps_with_its_type() -> None:
    shaped = answers.shape(outputs("""
- type: object
  properties:
    id: {type: string, mapping: $.data.id}
    size: {type: integer, mapping: "$.data['size']"}
    tags: {type: array, mapping: $.data.tags, items: {type: string}}
    crew:
      type: array
      mapping: $.crew
      items: [{name: fullName, type: string, mapping: $.name}, {name: age, type: number, mapping: $.age}]
- {name: region, type: string, value: $.profile.region}
"""))
    assert shaped == {
        "data": {"id": "sample-text", "size": 7, "tags": ["sample-text"]},
        "crew": [{"name": "sample-text", "age": 1.5}],
        "profile": {"region": "sample-text"},
    }


def test_static_values_and_filters_ask_for_nothing_a_whole_body_for_its_type() -> None:
    nothing = outputs("""
- {name: kind, type: string, value: fixed}
- {type: array, mapping: "$.items[?(@.id)]"}
""")
    assert answers.shape(nothing) is answers.NOTHING
    assert answers.shape(outputs("[{type: object, mapping: $.}]")) == {}
    assert answers.shape(outputs("[{name: tasks, type: array, mapping: $.}]")) == ["sample-text"]
    assert answers.merge(answers.NOTHING, {"a": 1}) == {"a": 1}
    assert answers.merge({"a": {"b": 1}}, {"a": {"c": 2}, "d": 3}) == {
        "a": {"b": 1, "c": 2},
        "d": 3,
    }


def test_credentials_and_base_url_variables_from_the_yaml() -> None:
    binds = {"TOKEN": "t-1", "env": {"TOKEN": "t-1"}, "USER": "ann", "PASS": "pw"}
    assert answers.credentials({"type": "bearer", "token": "{{env.TOKEN}}"}, binds, "own") == {
        "Authorization": "Bearer t-1"
    }
    assert answers.credentials(
        {"type": "apikey", "key": "X-Key", "value": "{{TOKEN}}"}, binds, "own"
    ) == {"X-Key": "t-1"}
    basic = answers.credentials(
        {"type": "basic", "username": "{{USER}}", "password": "{{PASS}}"}, binds, "own"
    )
    assert basic == {"Authorization": "Basic " + base64.b64encode(b"ann:pw").decode()}
    assert answers.credentials(None, binds, "own") == {"Authorization": "Bearer own"}
    assert answers.base_url_env("1factory") == "1FACTORY_BASE_URL"
    assert answers.base_url_env("radar--radar") == "RADAR__RADAR_BASE_URL"
