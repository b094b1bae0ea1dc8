"""Hostile REST bodies get a 4xx before anything is sent upstream (nothing forwarded half-read).

The expected statuses follow HTTP's meaning: 400 for a body that is not the JSON the operation
needs, 415 for an encoding the service does not read, 422 for JSON of the wrong shape.
"""

from __future__ import annotations

import gzip

import pytest
from capgen_runtime.errors import InvalidRequest
from capgen_runtime.model import Body, Operation, Upstream
from capgen_runtime.upstream.request import prepare

from tests.support.packages import TOKEN, Built
from tests.support.problems import problem_detail

SPEC = """
naftiko: 1.0.0-alpha2
info: {label: Bodies, description: required bodies}
capability:
  consumes:
  - type: http
    namespace: api
    baseUri: https://api.example.com
    resources:
    - name: things
      path: /things
      operations:
      - {name: create, method: POST, body: {type: json, data: '{{body}}'}}
      - {name: rename, method: POST, body: {type: json, data: {name: '{{name}}'}}}
  exposes:
  - type: rest
    namespace: rest
    port: 8080
    resources:
    - path: /things
      name: things
      operations:
      - method: POST
        name: create
        call: api.create
        inputParameters: [{name: body, in: body, type: object, required: true}]
    - path: /names
      name: names
      operations:
      - method: POST
        name: rename
        call: api.rename
        inputParameters: [{name: name, in: body, type: string, required: true}]
"""

JSON = {"content-type": "application/json"}


@pytest.fixture
def built(make) -> Built:
    return make(SPEC)


@pytest.mark.parametrize(
    "content,headers,status",
    [
        (b"", JSON, 400),
        (b"   ", JSON, 400),
        (b"null", JSON, 400),
        (b"{", JSON, 400),
        (b'{"a": NaN}', JSON, 400),
        (b'{"a": Infinity}', JSON, 400),
        (b'{"a": 1e999}', JSON, 400),
        (b"[" * 1000 + b"]" * 1000, JSON, 400),
        (b'{"a":' * 1000 + b"1" + b"}" * 1000, JSON, 400),
        (gzip.compress(b'{"a": 1}', mtime=0), {**JSON, "content-encoding": "gzip"}, 415),
        (b"false", JSON, 422),
        (b'"text"', JSON, 422),
        (b"[1, 2]", JSON, 422),
    ],
)
def test_a_required_object_body_is_checked_before_anything_is_sent(
    built: Built, content: bytes, headers: dict[str, str], status: int
) -> None:
    with built.rest() as client:
        response = client.post("/things", content=content, headers=headers)
    assert response.status_code == status, response.text
    assert built.upstream.requests == []


def test_a_good_body_goes_upstream_as_sent(built: Built) -> None:
    with built.rest() as client:
        response = client.post("/things", json={"a": [1, {"b": None}]})
    assert response.status_code == 200
    (seen,) = built.upstream.requests
    assert seen.body == b'{"a":[1,{"b":null}]}'


def test_a_missing_body_field_is_never_replaced_by_the_whole_body(built: Built) -> None:
    with built.rest() as client:
        missing = client.post("/names", json={"other": "x"})
        assert client.post("/names", json={"name": "Nina"}).status_code == 200
    assert problem_detail(missing, 422) == "invalid input: name: is required"
    assert missing.json()["errors"] == ["name: is required"]
    (seen,) = built.upstream.requests
    assert seen.body == b'{"name":"Nina"}'


def test_two_authorization_headers_are_refused(built: Built) -> None:
    with built.rest(token=None) as client:
        response = client.post(
            "/things",
            json={"a": 1},
            headers=[("Authorization", f"Bearer {TOKEN}"), ("Authorization", "Bearer other")],
        )
    assert response.status_code == 400
    assert built.upstream.requests == []


@pytest.mark.parametrize("number", [float("nan"), float("inf"), float("-inf")])
def test_numbers_json_cannot_carry_never_reach_an_upstream(number: float) -> None:
    operation = Operation(
        "api", "create", "POST", "/t", body=Body("json", "application/json", {"n": "{{n}}"})
    )
    with pytest.raises(InvalidRequest, match="not finite"):
        prepare(Upstream("api", "https://x", "X"), operation, {"n": number}, "https://x", {})
