"""Property test: whatever a caller sends to a generated REST app, it never answers 5xx.

Requests are drawn from each app's own OpenAPI document (paths, query, headers, JSON bodies,
with hostile text: dots, slashes, percent signs, control characters, unicode). The upstream
always answers 200, so any 5xx would be capgen's fault; the upstream must also never see a
path outside the consumed API's base or a dot segment.
"""

from __future__ import annotations

import importlib
import json
import shutil
from collections.abc import Iterator
from typing import Any
from urllib.parse import quote, unquote

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from starlette.testclient import TestClient

from generator import pipeline
from tests.conftest import ROOT, SEED_SPEC
from tests.support.fake_upstream import Answer, FakeUpstream
from tests.support.packages import TOKEN, make_fixture

SPECS = [
    SEED_SPEC,
    *sorted((ROOT / "tests" / "snapshots" / "cases").glob("*/spec.yaml")),
    *sorted((ROOT / "tests" / "data" / "specs").glob("*.yaml")),
]

hostile = st.text(
    alphabet=st.sampled_from(
        [*list("abcXYZ019-_.~/%?#&=+ :@!$'()*,;\\\"<>{}[]|^`"), "\x00", "\x7f", "é", "漢", "\u202e"]
    ),
    max_size=24,
)
json_values = st.recursive(
    st.none()
    | st.booleans()
    | st.integers()
    | st.floats(allow_nan=False, allow_infinity=False)
    | hostile,
    lambda children: (
        st.lists(children, max_size=4) | st.dictionaries(hostile, children, max_size=4)
    ),
    max_leaves=12,
)


@pytest.fixture(scope="module")
def apps(
    tmp_path_factory: pytest.TempPathFactory, fake_upstream_server: FakeUpstream
) -> Iterator[list[tuple[TestClient, list[tuple[str, str, dict[str, Any]]]]]]:
    fake_upstream_server.reset()
    fake_upstream_server.responder = lambda request: Answer(
        200, {"result": {"id": 1}, "success": True}
    )
    clients = []
    contexts = []
    for spec in SPECS:
        folder = tmp_path_factory.mktemp(spec.stem)
        shutil.copy(spec, folder / "source.yaml")
        package = pipeline.validate(folder / "source.yaml").package
        assert package is not None
        env = {key: f"value-of-{key}" for bind in package.binds for _, key in bind.keys}
        built = make_fixture(folder, fake_upstream_server)(spec.read_text(), env=env)
        module = (
            importlib.import_module(f"{built.module.__name__}.rest")
            if (built.project / built.module.__name__ / "rest.py").exists()
            else None
        )
        if module is None:
            continue
        context = built.rest()
        client = context.__enter__()
        contexts.append(context)
        operations = [
            (method.upper(), path, operation)
            for path, methods in client.app.openapi()["paths"].items()
            for method, operation in methods.items()
            if not path.startswith(("/healthz", "/readyz", "/metrics"))
        ]
        clients.append((client, operations))
    yield clients
    for context in contexts:
        context.__exit__(None, None, None)
    fake_upstream_server.responder = None


def fuzz_settings(examples: int) -> Any:
    """Hypothesis settings of the fuzz tests: module-wide apps, no per-example deadline."""
    return settings(
        max_examples=examples,
        deadline=None,
        suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
    )


@fuzz_settings(300)
@given(data=st.data())
def test_no_request_makes_a_generated_app_fail(
    apps, fake_upstream_server: FakeUpstream, data: st.DataObject
) -> None:  # type: ignore[no-untyped-def]
    client, operations = data.draw(st.sampled_from(apps))
    method, path, operation = data.draw(st.sampled_from(operations))
    url = path
    query: dict[str, Any] = {}
    headers = {"Authorization": f"Bearer {TOKEN}"}
    for parameter in operation.get("parameters", []):
        value = data.draw(hostile)
        if parameter["in"] == "path":
            url = url.replace("{" + parameter["name"] + "}", quote(value, safe="") or "x")
        elif parameter["in"] == "query" and data.draw(st.booleans()):
            query[parameter["name"]] = value
        elif (
            parameter["in"] == "header"
            and parameter["name"].lower() != "authorization"
            and data.draw(st.booleans())
        ):
            headers[parameter["name"]] = "".join(ch for ch in value if " " <= ch <= "~").strip()
    body = (
        data.draw(json_values) if "requestBody" in operation and data.draw(st.booleans()) else None
    )
    if body is not None:
        headers["Content-Type"] = "application/json"
    before = len(fake_upstream_server.requests)
    response = client.request(
        method,
        url,
        params=query,
        headers=headers,
        content=json.dumps(body) if body is not None else None,
    )
    assert response.status_code < 500, (
        method,
        url,
        query,
        body,
        response.status_code,
        response.text[:300],
    )
    for request in fake_upstream_server.requests[before:]:
        # as a Java server reads them: decoded, matrix parameters (`;x`) removed
        segments = {segment.split(";")[0] for segment in unquote(request.raw_path).split("/")}
        assert not segments & {".", ".."}, request.raw_path


def test_every_spec_under_test_exposes_rest(apps) -> None:  # type: ignore[no-untyped-def]
    assert len(apps) == len(SPECS)
    assert sum(len(operations) for _, operations in apps) >= 20
