"""ikanos documents read into the one model: capgen's own beta5 examples (tests/eras/specs)
built and served; binary sizes, declared answers, caching hints, the version, titles, tags,
imports with `as`, standalone documents and the tunnel warning, each checked against what the
spec text says (sizes are worked out here from their units, not read back from capgen)."""

from __future__ import annotations

import importlib
import shutil
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
import yaml
from capgen_runtime import model as rt

from generator import pipeline
from tests.support.fake_upstream import Answer, FakeUpstream
from tests.support.packages import Built

SPECS = Path(__file__).parent / "specs"
EXAMPLES = sorted(p for p in SPECS.rglob("*") if p.suffix in (".yaml", ".yml"))
KiB, MiB = 1024, 1024 * 1024


@pytest.fixture
def examples(tmp_path: Path) -> Path:
    shutil.copytree(SPECS, tmp_path / "specs")
    return tmp_path / "specs"


def _line_of(path: Path, text: str) -> int:
    return next(i for i, line in enumerate(path.read_text().splitlines(), 1) if text in line)


@pytest.mark.parametrize("spec", EXAMPLES, ids=lambda p: str(p.relative_to(SPECS)))
def test_the_examples_follow_the_beta5_schema(spec: Path) -> None:
    result = pipeline.validate(spec, pipeline.Options(strict=True))
    assert yaml.safe_load(spec.read_text())["ikanos"] == "1.0.0-beta5"
    assert not result.diagnostics.has_errors, [d.render() for d in result.diagnostics]


def _descriptors(module: Any, kind: type) -> list[Any]:
    return [value for value in vars(module).values() if isinstance(value, kind)]


def test_binary_sizes_answers_and_resources_reach_the_descriptors(
    make: Callable[..., Built], examples: Path
) -> None:
    built = make(examples / "binary.yaml", env={"DOCS_TOKEN": "t"})
    client = importlib.import_module(f"{built.module.__name__}.client")
    operations = {op.name: op for op in _descriptors(client, rt.Operation)}
    assert operations["get-invoice-pdf"].max_binary_size == 5 * MiB
    assert operations["get-invoice-pdf"].media_type == "application/pdf"
    assert operations["get-invoice-pdf"].output_format == "binary"
    assert operations["get-thumbnail"].max_binary_size == int(1.5 * MiB)
    rest = built.module.rest.ADAPTER
    assert rest.max_binary_size == 512 * KiB
    routes = {route.name: route for route in rest.routes}
    assert routes["download-invoice"].responses == (
        rt.Response("200", "application/pdf", True, None, "The PDF file"),
    )
    schema = {"type": "object", "properties": {"error": {"type": "string"}}}
    assert routes["get-thumbnail"].responses == (
        rt.Response("200", "image/png", True, None, "The thumbnail"),
        rt.Response("404", "application/json", False, schema, "No such image"),
    )
    mcp = built.module.mcp_server.ADAPTER
    assert mcp.max_binary_size == MiB
    assert [(r.name, r.binary, r.mime_type) for r in mcp.resources] == [
        ("latest-invoice", True, "application/pdf")
    ]


def test_an_answer_still_passes_byte_for_byte(
    make: Callable[..., Built], examples: Path, upstream: FakeUpstream
) -> None:
    pdf = b"%PDF-1.7\n\x00\xff binary"
    upstream.responder = lambda request: Answer(200, pdf, {"content-type": "application/pdf"})
    built = make(examples / "binary.yaml", env={"DOCS_TOKEN": "t"})
    with built.rest() as client:
        answer = client.get("/invoices/inv-7")
    assert answer.status_code == 200
    assert answer.content == pdf
    assert upstream.requests[-1].path == "/docs-api/invoices/inv-7/pdf"


def test_version_titles_tags_and_caching_hints(make: Callable[..., Built], examples: Path) -> None:
    built = make(examples / "caching.yaml")
    assert 'version = "2.3.1"' in (built.project / "pyproject.toml").read_text()
    mcp = built.module.mcp_server.ADAPTER
    assert (mcp.version, mcp.ttl_ms, mcp.cache_scope) == ("2.3.1", 60000, "public")
    assert [(t.name, t.title, t.tags) for t in mcp.tools] == [
        ("current-conditions", "Current conditions", ("weather",))
    ]
    assert [(p.title, [a.title for a in p.arguments]) for p in mcp.prompts] == [
        ("Summarise the weather", ["City"])
    ]
    with built.rest() as client:
        document = client.get("/openapi.json").json()
    assert document["info"]["version"] == "2.3.1"
    assert document["info"]["title"] == "Weather Desk"
    operation = document["paths"]["/conditions/{city}"]["get"]
    assert operation["tags"] == ["reads", "live"]
    assert operation["summary"] == "Read conditions"


def test_a_tunnel_is_a_located_warning(examples: Path) -> None:
    spec = examples / "caching.yaml"
    result = pipeline.validate(spec)
    found = [d for d in result.diagnostics if d.code == "W143"]
    assert [(d.span.line, d.span.col) for d in found] == [(_line_of(spec, "tunnel:"), 7)]
    assert "does not open tunnels" in found[0].message


def test_imports_with_as_in_every_section(
    make: Callable[..., Built], examples: Path, upstream: FakeUpstream
) -> None:
    upstream.responder = lambda request: Answer(200, {"temperature": 21})
    built = make(examples / "imports" / "capability.yaml", env={"WEATHER_API_KEY": "k"})
    assert [u.namespace for u in built.package.upstreams] == ["forecasts"]
    assert [a.namespace for a in built.package.rest] == ["forecast-rest"]
    assert [(b.namespace, b.keys) for b in built.package.binds] == [
        ("weather-secrets", (("WEATHER_KEY", "WEATHER_API_KEY"),))
    ]
    with built.rest() as client:
        answer = client.get("/forecasts/paris")
    assert answer.status_code == 200, answer.text
    assert upstream.requests[-1].path == "/forecasts/forecasts/paris"


def test_a_problem_in_an_imported_file_is_located_there(examples: Path) -> None:
    shared = examples / "imports" / "shared" / "weather.exposes.yml"
    shared.write_text(
        shared.read_text().replace("port: 8083", "port: 8083\n    maxBinarySize: 2XB")
    )
    result = pipeline.validate(examples / "imports" / "capability.yaml")
    found = [d for d in result.diagnostics if d.code == "E070"]
    assert [(Path(d.span.file).name, d.span.line) for d in found] == [
        ("weather.exposes.yml", _line_of(shared, "maxBinarySize"))
    ]


def test_standalone_documents_are_read_not_built(examples: Path, tmp_path: Path) -> None:
    for name in ("weather.exposes.yml", "weather.aggregates.yml", "secrets.binds.yml"):
        result, written = pipeline.build(examples / "imports" / "shared" / name, tmp_path / "o")
        assert written is None and not result.diagnostics.has_errors
        assert any("standalone" in d.message for d in result.diagnostics if d.severity == "note")
    assert not (tmp_path / "o").exists() or not any((tmp_path / "o").iterdir())


_ERA_SPEC = """\
{version}
info: {{{title}: Eras, description: one spec in several eras}}
capability:
  consumes:
    - type: http
      namespace: api
      baseUri: https://api.example.com
      resources:
        {resources}
  exposes:
    - type: mcp
      namespace: eras-mcp
      port: 9095
      {hints}
      tools:
        - name: get-item
          description: One item.
          call: api.get-item
"""


def _era(tmp_path: Path, version: str, title: str = "display", hints: str = "") -> Path:
    resources = "items: {path: /items, operations: {get-item: {method: GET}}}"
    if version.startswith("naftiko"):
        resources = "- {name: items, path: /items, operations: [{name: get-item, method: GET}]}"
    path = tmp_path / f"{version.split()[-1]}.yaml"
    path.write_text(
        _ERA_SPEC.format(version=version, title=title, resources=resources, hints=hints)
    )
    return path


def _codes(result: pipeline.Result) -> list[str]:
    return sorted(d.code for d in result.diagnostics if d.severity != "note")


def test_the_other_eras_spellings_are_read_with_a_warning(tmp_path: Path) -> None:
    # an ikanos tool list written alpha2's way, and an alpha2 info titled the ikanos way
    ikanos = pipeline.validate(_era(tmp_path, "ikanos: 1.0.0-beta5"))
    assert ikanos.ok and _codes(ikanos) == ["W141"]
    naftiko = pipeline.validate(_era(tmp_path, "naftiko: 1.0.0-alpha2", title="display"))
    assert naftiko.ok and _codes(naftiko) == ["W142"]
    assert naftiko.package is not None and naftiko.package.title == "Eras"


def test_strict_checks_each_document_against_its_own_eras_schema(tmp_path: Path) -> None:
    hints = "ttlMs: 1000"
    before = _era(tmp_path, "ikanos: 1.0.0-beta3", hints=hints)
    since = _era(tmp_path, "ikanos: 1.0.0-beta4", hints=hints)
    beta3 = pipeline.validate(before, pipeline.Options(strict=True))
    beta4 = pipeline.validate(since, pipeline.Options(strict=True))
    assert "W140" in _codes(beta3) and "W140" not in _codes(beta4)
    schema3 = [d.message for d in beta3.diagnostics if d.code == "E052"]
    schema4 = [d.message for d in beta4.diagnostics if d.code == "E052"]
    assert any("ttlMs" in m for m in schema3) and not any("ttlMs" in m for m in schema4)
    assert not any("const" in m or "was expected" in m for m in schema3 + schema4)


def test_validate_names_the_era_and_the_migration(examples: Path) -> None:
    from click.testing import CliRunner

    from generator.cli import cli

    run = CliRunner().invoke(cli, ["validate", str(examples / "caching.yaml")])
    assert run.exit_code == 0
    assert "note: written in ikanos 1.0.0-beta5; `capgen migrate --to naftiko-1.0.0-alpha2`" in (
        run.stderr
    )


def test_an_import_of_an_import_is_not_followed(examples: Path) -> None:
    shared = examples / "imports" / "shared" / "weather.exposes.yml"
    shared.write_text(
        "ikanos: 1.0.0-beta5\nexposes:\n  - from: ./other.yml\n    import: weather-rest\n"
    )
    spec = examples / "imports" / "capability.yaml"
    result = pipeline.validate(spec)
    found = [d for d in result.diagnostics if d.code == "E025"]
    assert [(Path(d.span.file).name, d.span.line) for d in found] == [
        ("capability.yaml", _line_of(spec, "./shared/weather.exposes.yml"))
    ]
    assert "a source file is a leaf" in found[0].message
