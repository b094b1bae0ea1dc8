"""Build small specs into packages and run them in-process against the recording upstream.

`make(spec_text)` writes the spec, builds it with the real pipeline under a unique import
name, imports the package, and returns handles to run its REST app (Starlette's TestClient,
lifespan included) and its MCP server (the SDK's in-process client).
"""

from __future__ import annotations

import importlib
import itertools
import sys
import textwrap
from collections.abc import AsyncIterator, Callable, Iterator
from contextlib import asynccontextmanager, contextmanager
from dataclasses import dataclass
from pathlib import Path
from types import ModuleType
from typing import Any

from mcp import Client
from starlette.testclient import TestClient

from generator import pipeline
from tests.support.fake_upstream import Answer, FakeUpstream

_counter = itertools.count()
TOKEN = "conformance-token"


@dataclass
class Built:
    module: ModuleType
    package: Any
    project: Path
    upstream: FakeUpstream
    env: dict[str, str]
    result: pipeline.Result

    def service(self, **extra: str) -> Any:
        return self.module.capability.create_service({**self.env, **extra})

    @contextmanager
    def rest(
        self, adapter: str = "rest", token: str | None = TOKEN, **extra: str
    ) -> Iterator[TestClient]:
        app = importlib.import_module(f"{self.module.__name__}.{adapter}").create_app(
            self.service(**extra)
        )
        headers = {"Authorization": f"Bearer {token}"} if token else {}
        with TestClient(app, headers=headers, raise_server_exceptions=False) as client:
            yield client

    @asynccontextmanager
    async def mcp(self, adapter: str = "mcp_server", **extra: str) -> AsyncIterator[Client]:
        service = self.service(**extra)
        server = importlib.import_module(f"{self.module.__name__}.{adapter}").create_server(service)
        async with service.running(), Client(server, mode="legacy") as client:
            yield client


def make_fixture(tmp_path: Path, upstream: FakeUpstream) -> Callable[..., Built]:
    upstream.responder = lambda request: Answer(200, {"ok": True})

    def build(spec: str | Path, env: dict[str, str] | None = None, expect_ok: bool = True) -> Built:
        """A spec text, or a spec file (read where it is, beside the files it imports)."""
        name = f"conf_{next(_counter)}_{tmp_path.name.replace('-', '_')[:20]}"
        path = spec if isinstance(spec, Path) else tmp_path / "spec.yaml"
        if not isinstance(spec, Path):
            path.write_text(textwrap.dedent(spec).lstrip())
        result, _ = pipeline.build(path, tmp_path / "out", pipeline.Options(module=name))
        if not expect_ok:
            return Built(ModuleType(name), result.package, tmp_path, upstream, {}, result)
        assert result.ok, [d.render() for d in result.diagnostics]
        project = tmp_path / "out" / name
        sys.path.insert(0, str(project))
        module = importlib.import_module(name)
        importlib.import_module(f"{name}.capability")
        base = {u.base_url_env: f"{upstream.url}/{u.namespace}" for u in result.package.upstreams}
        full_env = {**base, f"{result.package.env_prefix}_API_TOKEN": TOKEN, **(env or {})}
        return Built(module, result.package, project, upstream, full_env, result)

    return build


def codes(built: Built) -> list[str]:
    return [d.code for d in built.result.diagnostics]


__all__ = ["TOKEN", "Built", "codes"]
