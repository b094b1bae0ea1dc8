"""General rules of SEMANTICS §10 DEV-22 to DEV-29 (issue 27), each from a small spec written
here: the expected requests and answers come from the spec text and SEMANTICS, never from
capgen's IR."""

from __future__ import annotations

import json
from typing import Any

import anyio

from tests.conformance.test_consumed import _auth_spec, _call_list, last
from tests.support.fake_upstream import Answer, FakeUpstream, Recorded
from tests.support.packages import codes

KEYS = "binds:\n- namespace: env\n  keys: {API_KEY: DD_API, APP_KEY: DD_APP}\n"
KEY_VALUES = {"DD_API": "api-7c1e", "DD_APP": "app-93fd"}


def test_dev27_every_apikey_header_is_sent_each_from_its_own_bind(make, upstream: FakeUpstream) -> None:  # type: ignore[no-untyped-def]
    auth = "{type: apikey, headers: {DD-API-KEY: '{{API_KEY}}', DD-APPLICATION-KEY: '{{APP_KEY}}'}}"
    built = make(_auth_spec(auth, KEYS), env=KEY_VALUES)
    _call_list(built)
    seen = last(upstream).headers
    assert (seen["dd-api-key"], seen["dd-application-key"]) == ("api-7c1e", "app-93fd")
    assert not [c for c in codes(built) if c.startswith("E")]


def test_dev27_a_headers_list_in_the_query(make, upstream: FakeUpstream) -> None:  # type: ignore[no-untyped-def]
    auth = (
        "{type: apikey, placement: query, headers: [{name: org, value: '{{env.API_KEY}}'},"
        " {name: key, value: '{{env.APP_KEY}}'}]}"
    )
    _call_list(make(_auth_spec(auth, KEYS), env=KEY_VALUES))
    assert last(upstream).query == "org=api-7c1e&key=app-93fd"


CATALOGUE = """
naftiko: 1.0.0-alpha2
info: {label: Catalogue, description: written by a catalogue generator}
capability:
  consumes:
  - type: http
    namespace: cat
    baseUri: https://api.example.com
    resources:
    - name: things
      path: /things
      operations:
      - name: list-things
        method: GET
        inputParameters:
        - {name: '', in: query, type: string, required: false}
        - {name: kind, in: query, type: string}
  exposes:
  - type: mcp
    namespace: cat-mcp
    port: 9090
    tools:
    - name: list-things
      description: List things
      call: cat.list-things
      inputParameters:
      - {name: '', type: string, required: false}
      - {name: kind, type: string}
"""


def test_dev28_optional_unnamed_parameters_are_dropped_with_a_warning(make, upstream: FakeUpstream) -> None:  # type: ignore[no-untyped-def]
    built = make(CATALOGUE)
    warned = [d for d in built.result.diagnostics if d.code == "W150"]
    assert [d.span.line for d in warned] == [15, 26]  # each located where it is written

    async def run() -> None:
        async with built.mcp(adapter="mcp_server") as client:
            listed = (await client.list_tools()).tools[0]
            assert list(listed.input_schema["properties"]) == ["kind"]
            result = await client.call_tool("list-things", {"kind": "big"})
            assert not result.is_error, result.content

    anyio.run(run)
    assert last(upstream).query == "kind=big"


ODD_NAMESPACES = """
naftiko: 1.0.0-alpha2
info: {label: Odd namespaces, description: namespaces that start with a digit or hold --}
capability:
  consumes:
  - type: http
    namespace: 1factory
    baseUri: https://one.example.com
    resources: [{name: a, path: /a, operations: [{name: get-a, method: GET}]}]
  - type: http
    namespace: radar--radar
    baseUri: https://radar.example.com
    resources: [{name: b, path: /b, operations: [{name: get-b, method: GET}]}]
  - type: http
    namespace: myApi
    baseUri: https://mine.example.com
    resources: [{name: c, path: /c, operations: [{name: get-c, method: GET}]}]
  exposes:
  - type: mcp
    namespace: odd-mcp
    port: 9090
    tools:
    - {name: a, description: A, call: 1factory.get-a}
    - {name: b, description: B, call: radar--radar.get-b}
    - {name: c, description: C, call: myApi.get-c}
"""
# README: the namespace upper-cased, each character other than an ASCII letter or digit
# replaced by `_`, one for one, then `_BASE_URL`
DOCUMENTED = {"a": "1FACTORY_BASE_URL", "b": "RADAR__RADAR_BASE_URL", "c": "MYAPI_BASE_URL"}


def test_the_base_url_variable_follows_one_documented_rule(make, upstream: FakeUpstream) -> None:  # type: ignore[no-untyped-def]
    import subprocess
    import sys

    built = make(ODD_NAMESPACES)
    env = {name: f"{upstream.url}/documented-{tool}" for tool, name in DOCUMENTED.items()}
    readme = (built.project / "README.md").read_text()
    shown = subprocess.run(
        [sys.executable, "-m", built.module.__name__, "serve", "--help"],
        capture_output=True,
        text=True,
        cwd=built.project,
        check=True,
    ).stdout
    for name in DOCUMENTED.values():
        assert f"`{name}`" in readme and name in shown

    async def run() -> None:
        async with built.mcp(**env) as client:
            for tool in DOCUMENTED:
                result = await client.call_tool(tool, {})
                assert not result.is_error, result.content

    anyio.run(run)
    paths = [r.raw_path for r in upstream.requests[-3:]]
    assert paths == ["/documented-a/a", "/documented-b/b", "/documented-c/c"]


GENERATED_CATALOGUE = """
naftiko: 1.0.0-alpha2
info: {label: Billing, description: a catalogue naming every operation by its method}
capability:
  consumes:
  - type: http
    namespace: billing
    baseUri: https://billing.example.com
    resources:
    - name: invoices
      path: /invoices
      operations: [{name: get, method: GET, description: List the invoices}]
    - name: customers
      path: /customers
      operations: [{name: get, method: GET, description: List the customers}]
  exposes:
  - type: mcp
    namespace: billing-mcp
    port: 9090
    tools:
    - {name: customers, description: List the customers, call: billing.get}
    - {name: invoices, label: List the  invoices, call: billing.get}
    - {name: anything, description: Something else, call: billing.get}
"""


def test_dev22_a_duplicate_name_is_told_apart_by_the_callers_description(make, upstream: FakeUpstream) -> None:  # type: ignore[no-untyped-def]
    built = make(
        GENERATED_CATALOGUE.replace(
            "    - {name: anything, description: Something else, call: billing.get}\n", ""
        )
    )

    async def run() -> None:
        async with built.mcp() as client:
            for tool in ("customers", "invoices"):
                result = await client.call_tool(tool, {})
                assert not result.is_error, result.content

    anyio.run(run)
    assert [r.raw_path for r in upstream.requests[-2:]] == [
        "/billing/customers",
        "/billing/invoices",
    ]


def test_dev22_a_caller_nothing_tells_apart_is_an_error_naming_the_candidates(make) -> None:  # type: ignore[no-untyped-def]
    built = make(GENERATED_CATALOGUE, expect_ok=False)
    errors = [d for d in built.result.diagnostics if d.severity == "error"]
    assert [d.code for d in errors] == ["E032"]
    assert "GET /invoices" in errors[0].message and "GET /customers" in errors[0].message
    assert errors[0].span.line == 22  # the `anything` tool


SHIPYARD = """
naftiko: 1.0.0-alpha2
info: {label: Shipyard, description: a ship and its crew}
capability:
  consumes:
  - type: http
    namespace: registry
    baseUri: https://registry.example.com
    resources:
    - name: ship
      path: /ships/{{imo}}
      operations: [{name: get-ship, method: GET}]
    - name: crew
      path: /crew
      operations: [{name: list-crew, method: GET}]
    - name: manifest
      path: /manifest
      operations: [{name: manifest, method: GET, outputRawFormat: csv}]
  exposes:
  - type: mcp
    namespace: shipyard
    port: 9090
    tools:
    - name: ship-with-crew
      description: A ship with its crew's names
      inputParameters: [{name: imo, type: string}]
      steps:
      - {name: ship, type: call, call: registry.get-ship, with: {imo: shipyard.imo}}
      - {name: crew, type: call, call: registry.list-crew}
      - {name: named, type: lookup, index: crew, match: crewId, lookupValue: $.ship.crew,
         outputParameters: [fullName, role]}
      mappings:
      - {targetName: name, value: $.ship.name}
      - {targetName: crew, value: $.named}
      outputParameters:
      - {name: name, type: string}
      - name: crew
        type: array
        items:
        - {name: fullName, type: string}
        - {name: role, type: string}
    - name: manifest
      description: The cargo manifest
      call: registry.manifest
      outputParameters: [{type: string, mapping: $.}]
"""


def _shipyard_answers(request: Recorded) -> Answer:
    if request.path.startswith("/registry/ships/"):
        return Answer(200, {"name": "Northern Star", "crew": ["c-1", "c-2"]})
    if request.path == "/registry/crew":
        return Answer(
            200,
            [
                {"crewId": "c-1", "fullName": "Ann Lee", "role": "master"},
                {"crewId": "c-2", "fullName": "Bo Kim", "role": "cook"},
                {"crewId": "c-3", "fullName": "Cy Orr", "role": "mate"},
            ],
        )
    return Answer(200, "item,weight\ncoal,12\nsalt,3\n", {"content-type": "text/csv"})


def test_dev26_items_written_as_named_fields_and_a_csv_body_are_never_refused(make, upstream: FakeUpstream) -> None:  # type: ignore[no-untyped-def]
    built = make(SHIPYARD)
    upstream.responder = _shipyard_answers

    async def run() -> tuple[Any, Any, Any]:
        async with built.mcp() as client:
            tools = {t.name: t for t in (await client.list_tools()).tools}
            crew = await client.call_tool("ship-with-crew", {"imo": "IMO-1"})
            manifest = await client.call_tool("manifest", {})
            return tools, crew, manifest

    tools, crew, manifest = anyio.run(run)
    item = tools["ship-with-crew"].output_schema["properties"]["crew"]["items"]
    assert item["type"] == ["object", "null"]
    assert set(item["properties"]) == {"fullName", "role"}
    assert not crew.is_error, crew.content
    assert crew.structured_content == {
        "name": "Northern Star",
        "crew": [{"fullName": "Ann Lee", "role": "master"}, {"fullName": "Bo Kim", "role": "cook"}],
    }
    rows = [{"item": "coal", "weight": "12"}, {"item": "salt", "weight": "3"}]
    assert not manifest.is_error, manifest.content
    assert json.loads(manifest.content[0].text) == rows  # SEMANTICS §3.7: rows of strings


FLEET = """
naftiko: 1.0.0-alpha2
info: {label: Fleet, description: errors keep their bodies}
binds:
- namespace: env
  keys: {TOKEN: FLEET_TOKEN}
capability:
  consumes:
  - type: http
    namespace: fleet
    baseUri: https://fleet.example.com
    authentication: {type: bearer, token: '{{TOKEN}}'}
    resources:
    - name: ship
      path: /ships/{{imo}}
      operations: [{name: get-ship, method: GET}]
    - name: manifest
      path: /manifest
      operations: [{name: manifest, method: GET, outputRawFormat: csv}]
    - name: telemetry
      path: /telemetry
      operations: [{name: telemetry, method: GET, outputRawFormat: avro, outputSchema: t.avsc}]
  exposes:
  - type: rest
    namespace: fleet-rest
    port: 8080
    resources:
    - path: /ships/{imo}
      operations:
      - method: GET
        call: fleet.get-ship
        outputParameters:
        - type: object
          properties:
            imo: {type: string, mapping: $.imo}
            name: {type: string, mapping: $.name}
    - path: /manifest
      operations:
      - {method: GET, call: fleet.manifest, outputParameters: [{type: array, mapping: $.}]}
    - path: /telemetry
      operations:
      - {method: GET, call: fleet.telemetry, outputParameters: [{type: object, mapping: $.}]}
  - type: mcp
    namespace: fleet-mcp
    port: 9090
    tools:
    - name: get-ship
      description: One ship
      inputParameters: [{name: imo, type: string}]
      call: fleet.get-ship
      with: {imo: fleet-mcp.imo}
      outputParameters:
      - type: object
        properties:
          imo: {type: string, mapping: $.imo}
    - {name: manifest, description: The manifest, call: fleet.manifest,
       outputParameters: [{type: array, mapping: $.}]}
"""
SECRET = "fleet-s3cret-token"


def test_dev25_an_upstream_error_keeps_its_body_redacted(make, upstream: FakeUpstream) -> None:  # type: ignore[no-untyped-def]
    built = make(FLEET, env={"FLEET_TOKEN": SECRET})
    missing = {"error": "no ship IMO-9", "token": SECRET}  # an upstream that echoes the token
    upstream.responder = lambda request: (
        Answer(404, missing)
        if "/ships/" in request.path
        else Answer(400, "bad request for " + SECRET, {"content-type": "text/plain"})
    )
    redacted = json.dumps({"error": "no ship IMO-9", "token": "***"}, separators=(",", ":"))
    with built.rest(adapter="rest") as client:
        ship = client.get("/ships/IMO-9")
        manifest = client.get("/manifest")
        telemetry = client.get("/telemetry")
    assert ship.status_code == 404 and ship.headers["content-type"] == "application/json"
    assert json.loads(ship.content) == json.loads(redacted)  # not {"imo": null, "name": null}
    for answer in (manifest, telemetry):  # CSV not read as rows, avro not "unsupported"
        assert answer.status_code == 400, answer.text
        assert answer.headers["content-type"].startswith("text/plain")
        assert answer.text == "bad request for ***"

    async def run() -> tuple[Any, Any]:
        async with built.mcp() as client:
            return (
                await client.call_tool("get-ship", {"imo": "IMO-9"}),
                await client.call_tool("manifest", {}),
            )

    ship_tool, manifest_tool = anyio.run(run)
    assert ship_tool.is_error and json.loads(ship_tool.content[0].text) == json.loads(redacted)
    assert manifest_tool.is_error and manifest_tool.content[0].text == "bad request for ***"


ALARM = """
naftiko: 1.0.0-alpha2
info: {label: Alarm, description: caller references inside templates}
binds:
- namespace: env
  keys: {SITE: ALARM_SITE}
capability:
  consumes:
  - type: http
    namespace: alarm
    baseUri: https://alarm.example.com
    resources:
    - name: mode
      path: /sites/{{env.SITE}}/mode
      operations:
      - name: set-mode
        method: PUT
        body: {type: json, data: {mode: '{{tools.mode}}', by: '{{alarm-rest.who}}'}}
    - name: images
      path: /images
      operations:
      - {name: tag-image, method: POST, inputParameters: [{name: body, in: body, type: object}]}
  exposes:
  - type: mcp
    namespace: alarm-mcp
    port: 9090
    tools:
    - {name: arm-away, description: Arm the alarm, call: alarm.set-mode, with: {mode: away, who: agent}}
    - name: tag-image
      description: Tag an image
      call: alarm.tag-image
      with: {body: '{"image_id": "{{tools.image_id}}", "value": {{tools.value}}}'}
    - name: typo
      description: Says who
      inputParameters: [{name: who, type: string}]
      call: alarm.set-mode
      with: {mode: '{{tools.mood}}'}
  - type: rest
    namespace: alarm-rest
    port: 8080
    resources:
    - path: /mode
      operations:
      - {method: POST, call: alarm.set-mode, inputParameters: [{name: mode, in: query}, {name: who, in: query}]}
"""


def test_dev24_caller_references_inside_templates_read_the_callers_inputs(make, upstream: FakeUpstream) -> None:  # type: ignore[no-untyped-def]
    built = make(ALARM, env={"ALARM_SITE": "home"})

    async def run() -> dict[str, Any]:
        async with built.mcp() as client:
            listed = {t.name: t for t in (await client.list_tools()).tools}
            for tool, arguments in (
                ("arm-away", {}),
                ("tag-image", {"image_id": "i-7", "value": "3"}),
            ):
                result = await client.call_tool(tool, arguments)
                assert not result.is_error, result.content
            return listed

    listed = anyio.run(run)
    assert set(listed["tag-image"].input_schema["properties"]) == {"image_id", "value"}
    armed, tagged = upstream.requests[-2:]
    assert (armed.method, armed.path, armed.json()) == (
        "PUT",
        "/alarm/sites/home/mode",
        {"mode": "away", "by": "agent"},
    )
    assert tagged.json() == {"image_id": "i-7", "value": 3}
    with built.rest() as client:
        assert client.post("/mode", params={"mode": "home", "who": "ann"}).status_code == 200
    assert last(upstream).json() == {"mode": "home", "by": "ann"}


def test_dev24_a_template_name_nothing_supplies_is_reported_where_it_is(make) -> None:  # type: ignore[no-untyped-def]
    built = make(ALARM, env={"ALARM_SITE": "home"})
    (found,) = [d for d in built.result.diagnostics if d.code == "W151"]
    assert found.span.line == 32  # the `typo` tool, whose `with` reads `{{tools.mood}}`
    assert "tool 'typo'" in found.message and "`{{mood}}`" in found.message


def test_dev24_a_raw_body_read_by_a_template_is_its_text(make, upstream: FakeUpstream) -> None:  # type: ignore[no-untyped-def]
    spec = """
naftiko: 1.0.0-alpha2
info: {label: Notes, description: a body input read by the upstream body template}
capability:
  consumes:
  - type: http
    namespace: notes
    baseUri: https://notes.example.com
    resources:
    - name: notes
      path: /notes
      operations: [{name: add, method: POST, body: {type: json, data: {text: '{{tools.text}}'}}}]
  exposes:
  - type: rest
    namespace: notes-rest
    port: 8080
    resources:
    - path: /notes
      operations:
      - {method: POST, call: notes.add, inputParameters: [{name: text, in: body, type: string}]}
"""
    with make(spec).rest() as client:
        raw = client.post(
            "/notes", content=b"plain words", headers={"content-type": "application/octet-stream"}
        )
        fields = client.post("/notes", json={"text": "as JSON"})
    assert raw.status_code == fields.status_code == 200
    assert [r.json() for r in upstream.requests[-2:]] == [
        {"text": "plain words"},
        {"text": "as JSON"},
    ]
