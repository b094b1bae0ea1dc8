"""The corpus oracle's reading of a spec (tests/corpus/reading.py), on small specs whose
expected requests are written here by hand from SEMANTICS.md."""

from __future__ import annotations

import base64

import yaml

from tests.corpus.reading import Reading

SPEC = """
naftiko: 1.0.0-alpha2
binds:
- namespace: env
  keys: {KEY: KEY, USER: USER, PASS: PASS}
capability:
  consumes:
  - type: http
    namespace: api
    baseUri: https://api.example.com
    authentication: {type: apikey, key: X-Key, value: '{{KEY}}', placement: query}
    resources:
    - path: /items/{item_id}?kind=fixed
      operations:
      - name: get
        method: GET
        inputParameters:
        - {name: item_id, in: path}
        - {name: limit, in: query}
        - {name: X-Trace, in: header, value: 'trace-{{limit}}'}
    - path: /#X-Amz-Target=Svc.Create
      operations:
      - name: create
        method: POST
        inputParameters:
        - {name: body, in: body, type: object}
  - type: http
    namespace: basic
    baseUri: https://basic.example.com
    authentication: {type: basic, username: '{{USER}}', password: '{{PASS}}'}
    resources:
    - path: /ping
      operations: [{name: ping, method: GET}]
  exposes:
  - type: rest
    namespace: rest
    port: 8080
    resources:
    - path: /v1/items/{item-id}
      operations:
      - method: GET
        call: api.get
        with: {limit: rest.limit}
        inputParameters: [{name: limit, in: query, type: integer}]
    - path: /v1/items
      operations:
      - {method: POST, call: api.create, with: {body: rest.body}}
    - path: /v1/ping
      operations:
      - {method: GET, call: basic.ping}
    - path: /v1/nowhere
      operations:
      - {method: GET, call: missing.op}
"""

BINDS = {
    "KEY": "k-1",
    "USER": "ann",
    "PASS": "p-2",
    "env": {"KEY": "k-1", "USER": "ann", "PASS": "p-2"},
}


def _units() -> dict[str, object]:
    reading = Reading(yaml.safe_load(SPEC), dict(BINDS))
    return {unit.label: unit for _, unit in reading.rest_units(set())}


def test_path_query_headers_and_an_api_key_in_the_query() -> None:
    unit = _units()["REST GET /v1/items/{item-id}"]
    assert unit.path == "/v1/items/s-item-id" and unit.query == {"limit": 7}  # type: ignore[attr-defined]
    expected = unit.expected  # type: ignore[attr-defined]
    assert (expected.method, expected.path) == ("GET", "/items/s-item-id")  # normalised name
    assert expected.query == [("kind", "fixed"), ("limit", "7"), ("X-Key", "k-1")]
    assert expected.headers == {"x-trace": "trace-7"}
    assert expected.credentials == ["api key X-Key in query"]


def test_a_body_input_is_the_json_body_and_the_amz_target_fragment_a_header() -> None:
    unit = _units()["REST POST /v1/items"]
    assert unit.body == {"sample": "whole-body"}  # type: ignore[attr-defined]  # derived from the consumed op
    expected = unit.expected  # type: ignore[attr-defined]
    assert expected.path == "/" and expected.headers["x-amz-target"] == "Svc.Create"
    assert (expected.body_kind, expected.body) == ("json", {"sample": "whole-body"})


def test_basic_credentials_from_the_binds() -> None:
    expected = _units()["REST GET /v1/ping"].expected  # type: ignore[attr-defined]
    assert expected.headers["authorization"] == "Basic " + base64.b64encode(b"ann:p-2").decode()


def test_a_call_to_nothing_consumed_is_expected_refused() -> None:
    assert _units()["REST GET /v1/nowhere"].refused == "missing.op"  # type: ignore[attr-defined]
