"""Orchestration steps and aggregates (SEMANTICS §11 cases 25, 48-54)."""

from __future__ import annotations

import json
import textwrap
from pathlib import Path

import anyio

from generator import pipeline
from tests.support.fake_upstream import Answer, FakeUpstream
from tests.support.packages import codes
from tests.support.problems import problem_detail

HR = """
naftiko: 1.0.0-alpha2
info: {label: HR, description: orchestration}
capability:
  consumes:
  - type: http
    namespace: hr
    baseUri: https://hr.example.com
    resources:
    - name: users
      path: /users
      operations: [{name: list-users, method: GET}]
    - name: profiles
      path: /profiles/{{userId}}
      operations:
      - name: get-profile
        method: GET
        outputParameters: [{name: region, type: string, value: $.profile.region}]
    - name: echo
      path: /echo/{{region}}
      operations: [{name: echo, method: GET}]
    - name: ships
      path: /ships
      operations:
      - name: list-ships
        method: GET
        outputParameters: [{name: imo-number, type: string, value: $.imo_number}]
    - name: voyages
      path: /voyages/{{voyageId}}
      operations: [{name: get-voyage, method: GET}]
  exposes:
  - type: rest
    namespace: shipyard-tools
    port: 8080
    resources:
"""

FLOW = """    - path: /flow
      operations:
      - method: POST
        inputParameters:
        - {name: targetEmail, in: body, type: string, description: e}
        - {name: requestingUserId, in: body, type: string, description: u}
        steps:
        - {type: call, name: fetch-users, call: hr.list-users}
        - {type: lookup, name: find-user, index: fetch-users, match: email, lookupValue: '{{targetEmail}}', outputParameters: [id, email, missing]}
        - {type: call, name: fetch-profile, call: hr.get-profile, with: {userId: '{{requestingUserId}}'}}
        - {type: call, name: echo-region, call: hr.echo, with: {region: '{{fetch-profile.region}}'}}
        mappings:
        - {targetName: user.id, value: $.find-user.id}
        - {targetName: user.missing, value: $.find-user.missing}
        - {targetName: region, value: $.fetch-profile.region}
"""


def test_case_48_call_lookup_call_call_with_step_outputs(make, upstream: FakeUpstream) -> None:
    built = make(HR + FLOW)
    upstream.answer(
        Answer(
            200,
            [{"id": "u-1", "email": "a@example.com"}, {"id": "u-2", "email": "bob@example.com"}],
        ),
        Answer(200, {"profile": {"region": "eu"}}),
        Answer(200, {"echo": True}),
    )
    with built.rest() as client:
        response = client.post(
            "/flow", json={"targetEmail": "bob@example.com", "requestingUserId": "u-1"}
        )
    assert [r.raw_path for r in upstream.requests] == [
        "/hr/users",
        "/hr/profiles/u-1",
        "/hr/echo/eu",
    ]
    assert response.status_code == 200
    assert response.json() == {
        "user": {"id": "u-2"},
        "region": "eu",
    }  # `missing` resolved to null: left out


def test_case_49_lookup_of_an_unknown_step_is_a_400(make, upstream: FakeUpstream) -> None:
    built = make(HR + """    - path: /bad
      operations:
      - method: GET
        steps:
        - {type: lookup, name: find, index: nowhere, match: id, lookupValue: x, outputParameters: [id]}
""")
    with built.rest() as client:
        response = client.get("/bad")
    assert problem_detail(response, 400) == "Lookup step references non-existent step: nowhere"


def test_cases_50_51_array_step_outputs_and_nested_mapping_targets(
    make, upstream: FakeUpstream
) -> None:
    built = make(HR + """    - path: /fleet
      operations:
      - method: GET
        steps:
        - {type: call, name: ships, call: hr.list-ships}
        - {type: call, name: voyage, call: hr.get-voyage, with: {voyageId: V-1}}
        mappings:
        - {targetName: ships, value: $.ships}
        - {targetName: route.from, value: $.voyage.voyage.departurePort}
        - {targetName: route.to, value: $.voyage.voyage.arrivalPort}
""")
    upstream.answer(
        Answer(200, [{"imo_number": "IMO-1", "name": "A"}, {"imo_number": "IMO-2", "name": "B"}]),
        Answer(200, {"voyage": {"departurePort": "Oslo", "arrivalPort": "Rotterdam"}}),
    )
    with built.rest() as client:
        body = client.get("/fleet").json()
    assert body["ships"] == [
        {"imo_number": "IMO-1", "name": "A", "imo-number": "IMO-1"},
        {"imo_number": "IMO-2", "name": "B", "imo-number": "IMO-2"},
    ]
    assert body["route"] == {"from": "Oslo", "to": "Rotterdam"}


def test_case_25_step_with_a_namespace_reference(make, upstream: FakeUpstream) -> None:
    built = make(HR + """    - path: /voyage
      operations:
      - method: GET
        inputParameters: [{name: voyageId, in: query, type: string, description: v}]
        steps:
        - {type: call, name: get, call: hr.get-voyage, with: {voyageId: shipyard-tools.voyageId}}
""")
    with built.rest() as client:
        assert client.get("/voyage", params={"voyageId": "VOY-2026-042"}).status_code == 200
    assert upstream.requests[-1].raw_path == "/hr/voyages/VOY-2026-042"


def test_case_52_a_step_without_a_known_call_builds_and_answers_501(
    make, upstream: FakeUpstream
) -> None:
    built = make(HR + """    - path: /broken
      operations:
      - method: GET
        steps: [{type: call, name: s, call: bad.call}]
""")
    assert "W134" in codes(built)
    with built.rest() as client:
        response = client.get("/broken")
    assert "bad.call" in problem_detail(response, 501)
    assert upstream.requests == []


AGGREGATE = """
naftiko: 1.0.0-alpha2
info: {label: Greeting, description: aggregates}
capability:
  aggregates:
  - label: Greeting
    namespace: greeting
    functions:
    - name: hello
      description: Say hello.
      semantics: {safe: true, idempotent: true}
      inputParameters: [{name: name, type: string, description: who}]
      outputParameters:
      - {name: message, type: string, value: 'Hello, {{name}}!'}
      - {name: source, type: string, value: aggregate-mock}
  exposes:
  - type: rest
    namespace: greet-rest
    port: 8080
    resources:
    - path: /hello
      operations: [{method: GET, ref: greeting.hello, inputParameters: [{name: name, in: query, type: string, description: who}]}]
  - type: mcp
    namespace: greet-mcp
    port: 9090
    tools:
    - {ref: greeting.hello}
    - {name: hello-open, ref: greeting.hello, hints: {openWorld: true}}
"""


def test_cases_53_54_aggregate_mock_and_derived_hints(make) -> None:
    built = make(AGGREGATE)
    with built.rest() as client:
        assert client.get("/hello", params={"name": "Nina"}).json() == {
            "message": "Hello, Nina!",
            "source": "aggregate-mock",
        }

    async def run() -> tuple[str, dict, dict, dict]:
        async with built.mcp() as client:
            result = await client.call_tool("hello", {"name": "Nina"})
            tools = {t.name: t for t in (await client.list_tools()).tools}
        hints = {
            n: t.annotations.model_dump(by_alias=True, exclude_none=True) for n, t in tools.items()
        }
        return (
            result.content[0].text,
            hints["hello"],
            hints["hello-open"],
            tools["hello"].input_schema,
        )

    text, hello, hello_open, schema = anyio.run(run)
    assert json.loads(text) == {"message": "Hello, Nina!", "source": "aggregate-mock"}
    assert hello == {"readOnlyHint": True, "destructiveHint": False, "idempotentHint": True}
    assert hello_open == {**hello, "openWorldHint": True}
    assert schema == {
        "type": "object",
        "properties": {"name": {"type": "string", "description": "who"}},
        "required": ["name"],
    }


def test_a_rest_ref_without_inputs_takes_its_functions_inputs(make) -> None:
    declared = ", inputParameters: [{name: name, in: query, type: string, description: who}]"
    built = make(AGGREGATE.replace(declared, ""))
    with built.rest() as client:
        assert client.get("/hello", params={"name": "Nina"}).json()["message"] == "Hello, Nina!"
        (parameter,) = client.get("/openapi.json").json()["paths"]["/hello"]["get"]["parameters"]
    assert parameter["name"] == "name" and parameter["in"] == "query"


def test_case_54_an_unknown_ref_fails_the_build(make, tmp_path: Path) -> None:
    """§7.8: unknown refs are fatal, so the build fails, with or without --strict."""
    spec = AGGREGATE.replace("- {ref: greeting.hello}", "- {ref: greeting.nope}")
    built = make(spec, expect_ok=False)
    assert "E034" in codes(built) and not built.result.ok
    path = tmp_path / "strict.yaml"
    path.write_text(textwrap.dedent(spec).lstrip())
    strict = pipeline.validate(path, pipeline.Options(strict=True))
    assert "E034" in [d.code for d in strict.diagnostics]
