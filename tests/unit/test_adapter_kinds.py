"""The registry of adapter kinds (`capgen_runtime.adapters`): capgen generates exactly the
`exposes[].type`s it registers, in every era, and serving reads nothing else, so a kind
registered in-process (an echo application here) is served on one port beside the others
without a change to `serve/`.

The oracles: the spec's own JSON schemas (which adapter types exist at all), the paths the
test itself mounts, and what the echo application answers over a real loopback socket."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap
from collections.abc import AsyncIterator, Sequence
from contextlib import asynccontextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Final, Literal

import httpx
import pytest
from capgen_runtime.adapters import KINDS, REGISTERED, AdapterKind
from capgen_runtime.model import InboundAuth
from capgen_runtime.serve import Capability
from capgen_runtime.serve.apps import factory
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route

from generator import pipeline
from tests.support.service import ThreadedServer

ROOT = Path(__file__).resolve().parents[2]
SCHEMAS = sorted((ROOT / "generator" / "data").glob("*.schema.json"))
TOKEN = "adapter-kinds-token-5b1e"


def _schema_adapter_types(schema: Path) -> set[str]:
    """The `type` constants of the schema's `Exposes*` definitions."""
    definitions = json.loads(schema.read_text())["$defs"]
    return {
        body["properties"]["type"]["const"]
        for name, body in definitions.items()
        if name.startswith("Exposes") and "const" in body.get("properties", {}).get("type", {})
    }


@pytest.mark.parametrize("schema", SCHEMAS, ids=lambda p: p.name.split(".schema")[0])
def test_registered_kinds_are_adapter_types_of_every_era(schema: Path) -> None:
    assert [kind.kind for kind in REGISTERED] == list(KINDS)
    assert set(KINDS) <= _schema_adapter_types(schema)


@pytest.mark.parametrize("era", ["naftiko: 1.0.0-alpha2", "ikanos: 1.0.0-beta5"])
def test_capgen_generates_exactly_the_registered_kinds(tmp_path: Path, era: str) -> None:
    """Every adapter type of the era's schema in one spec: the registered ones are read (no
    W110), the others are skipped with W110 naming their line, and an entry without a type
    is told the registered ones."""
    types = sorted(_schema_adapter_types(next(s for s in SCHEMAS if era.split(":")[0] in s.name)))
    entries = [
        f"  - {{type: {t}, namespace: n-{t}, port: {8100 + i}}}" for i, t in enumerate(types)
    ]
    spec = tmp_path / "kinds.yaml"
    spec.write_text(
        f"{era}\ninfo: {{description: every adapter type}}\ncapability:\n  exposes:\n"
        + "\n".join([*entries, "  - {namespace: untyped}"])
        + "\n"
    )
    result = pipeline.validate(spec)
    skipped = {d.span.line for d in result.diagnostics if d.code == "W110"}
    line = {t: 5 + i for i, t in enumerate(types)}
    assert {t for t in types if line[t] not in skipped} == set(KINDS)
    (untyped,) = [d for d in result.diagnostics if d.code == "E012"]
    assert untyped.span.line == 5 + len(types)
    assert untyped.message.endswith(f"({' or '.join(KINDS)})")


def test_capgen_reads_the_registry_without_the_adapters_frameworks() -> None:
    """The generator imports the registry's names, never FastAPI, the MCP SDK or httpx."""
    code = textwrap.dedent("""
        import sys
        import capgen_runtime.adapters, generator.cli, generator.spec.parse
        heavy = ("fastapi", "mcp", "httpx", "starlette", "uvicorn")
        print(sorted(name for name in heavy if name in sys.modules))
        """)
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=ROOT)
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "[]"


MISTYPED = """
from typing import Any, Final, Literal

from capgen_runtime.adapters import REGISTERED, AdapterKind, Kind
from capgen_runtime.adapters.rest import KIND as REST
from capgen_runtime.model import RestAdapter

RIGHT: Final[AdapterKind[Literal["rest"], RestAdapter]] = AdapterKind(
    "rest", RestAdapter, "REST", REST.build, REST.endpoints
)
WRONG: Final[AdapterKind[Literal["rest"], RestAdapter]] = AdapterKind(
    "rset", RestAdapter, "REST", REST.build, REST.endpoints
)
OTHER: Final[AdapterKind[Literal["grpc"], RestAdapter]] = AdapterKind(
    "grpc", RestAdapter, "gRPC", REST.build, REST.endpoints
)
ALL: tuple[AdapterKind[Kind, Any], ...] = (*REGISTERED, RIGHT, OTHER)
"""


def test_mypy_checks_the_literal_kinds(tmp_path: Path) -> None:
    """A kind spelled unlike its `Literal`, and a kind outside `Kind` in the registry, are type
    errors; a kind spelled right is not."""
    module = tmp_path / "kinds_typed.py"
    module.write_text(MISTYPED)
    command = ["-m", "mypy", "--strict", "--no-incremental", "--cache-dir", os.devnull]
    done = subprocess.run([sys.executable, *command, str(module)], capture_output=True, text=True)
    errors = [line for line in done.stdout.splitlines() if ": error:" in line]
    lines = MISTYPED.splitlines()
    wrong = [lines.index('    "rset", RestAdapter, "REST", REST.build, REST.endpoints') + 1]
    wrong.append(next(i for i, line in enumerate(lines, 1) if line.startswith("ALL:")))
    assert [int(line.split(":")[1]) for line in errors] == wrong, done.stdout
    assert "\"Literal['rset']\"; expected \"Literal['rest']\"" in errors[0]
    assert "Literal['grpc']" in errors[1] and "Literal['rest', 'mcp']" in errors[1]


# -- a kind registered in-process: one module's worth of code, no change to serve/


@dataclass(frozen=True)
class EchoAdapter:
    namespace: str
    port: int | None = None
    auth: InboundAuth | None = None


STARTED: list[str] = []  # the echo applications whose lifespan ran


def _echo_app(adapter: EchoAdapter, service: Any, host: str | None) -> Starlette:
    async def echo(request: Request) -> JSONResponse:
        return JSONResponse({"adapter": adapter.namespace, "path": request.url.path})

    @asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        STARTED.append(adapter.namespace)
        yield

    paths = ["/echo", "/.well-known/oauth-protected-resource/echo"]
    return Starlette(routes=[Route(path, echo) for path in paths], lifespan=lifespan)


def _echo_mounts(adapters: Sequence[EchoAdapter]) -> dict[str, str]:
    return {adapter.namespace: f"/{adapter.namespace}/echo" for adapter in adapters}


ECHO: Final[AdapterKind[Literal["echo"], EchoAdapter]] = AdapterKind(
    "echo", EchoAdapter, "ECHO", _echo_app, lambda adapter: (), mounts=_echo_mounts, path="/echo"
)


def test_a_registered_kind_is_served_on_one_port(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(KINDS, "echo", ECHO)
    capability = Capability(
        name="echoes",
        title="Echoes",
        env_prefix="ECHOES",
        binds=(),
        upstreams=(),
        operations=(),
        adapters=(EchoAdapter("alpha"), EchoAdapter("beta")),
    )
    STARTED.clear()
    app = factory(capability, {"ECHOES_API_TOKEN": TOKEN})
    with ThreadedServer(app) as server:
        alpha = httpx.get(f"{server.url}/alpha/echo")
        beta = httpx.get(f"{server.url}/beta/echo")
        metadata = httpx.get(f"{server.url}/.well-known/oauth-protected-resource/beta/echo")
        elsewhere = httpx.get(f"{server.url}/gamma/echo")
    assert STARTED == ["alpha", "beta"]
    assert alpha.json() == {"adapter": "alpha", "path": "/echo"}
    assert beta.json() == {"adapter": "beta", "path": "/echo"}
    assert metadata.json() == {
        "adapter": "beta",
        "path": "/.well-known/oauth-protected-resource/echo",
    }
    assert elsewhere.status_code == 404  # the first adapter answers what nobody claims
