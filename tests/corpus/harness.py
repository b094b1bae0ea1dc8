"""Build, import, serve and exercise real specs: one report line per spec.

For each spec: build the package, start `python -m <package> serve` on free loopback ports
against the recording fake upstream (every bound variable and base URL set), call every REST
operation and MCP tool (stdio adapters too) with sample inputs, and compare what the upstream
received with what the spec implies (`oracle.py`).
"""

from __future__ import annotations

import json
import os
import re
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Iterable
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import parse_qsl

import anyio
import httpx
from capgen_runtime.mock_upstream import merge_shape, output_shapes

from generator import pipeline
from generator.ir import model as ir
from tests.corpus import oracle
from tests.support.certificates import write_certificate
from tests.support.fake_upstream import Answer, FakeUpstream, Recorded
from tests.support.service import free_port

TOKEN = "corpus-inbound-token"
_CANNED = {"result": {"id": "r-1", "name": "sample"}, "success": True, "errors": [], "messages": []}
_RAW = {
    "xml": ("<response><id>r-1</id></response>", "application/xml"),
    "csv": ("id,name\nr-1,sample\n", "text/csv"),
    "tsv": ("id\tname\nr-1\tsample\n", "text/tab-separated-values"),
    "text": ("plain text answer", "text/plain"),
}


@dataclass
class SpecReport:
    spec: str
    provider: str
    built: bool = False
    imported: bool = False
    served: bool = False
    rest: list[int] = field(default_factory=lambda: [0, 0])  # passed, exercised
    mcp: list[int] = field(default_factory=lambda: [0, 0])
    failures: list[str] = field(default_factory=list)
    seconds: float = 0.0
    adapters: int = 0

    @property
    def accepted(self) -> bool:
        return self.built and self.imported and self.served and not self.failures

    def line(self) -> str:
        flags = "  ".join(
            name if ok else name.upper() + "!"
            for name, ok in (
                ("built", self.built),
                ("imported", self.imported),
                ("served", self.served),
            )
        )
        verdict = "ok  " if self.accepted else "FAIL"
        return f"{verdict} {self.spec:<70} {flags}  REST {self.rest[0]}/{self.rest[1]}  MCP {self.mcp[0]}/{self.mcp[1]}  {self.seconds:5.1f}s"


class Responder:
    """Answers the fake upstream per spec prefix, in the format the called operation declares."""

    def __init__(self) -> None:
        self.formats: dict[str, str] = {}
        self.shapes: dict[str, Any] = {}  # what the exposed outputs of the call map
        self.lock = threading.Lock()

    def __call__(self, request: Recorded) -> Answer:
        prefix = "/".join(request.raw_path.split("/")[:2])  # /<spec id>, as _mark keys it
        with self.lock:
            fmt = self.formats.get(prefix, "json")
            shape = self.shapes.get(prefix)
        if fmt in _RAW:
            body, media = _RAW[fmt]
            return Answer(200, body, {"content-type": media})
        return Answer(200, _CANNED if shape is None else merge_shape(shape, _CANNED))


class SpecRun:
    def __init__(
        self,
        spec: Path,
        work: Path,
        upstream: FakeUpstream,
        responder: Responder,
        corpus_root: Path,
    ) -> None:
        self.spec = spec
        self.id = re.sub(r"[^a-z0-9]+", "-", str(spec.relative_to(corpus_root)).lower()).strip("-")
        self.work = work / self.id
        self.upstream = upstream
        self.responder = responder
        parts = spec.relative_to(corpus_root).parts
        provider = parts[1] if parts[0] == "others" and len(parts) > 2 else parts[0]
        self.report = SpecReport(str(spec.relative_to(corpus_root)), provider)
        self.binds: dict[str, Any] = {}
        self.env: dict[str, str] = {}

    def run(self) -> SpecReport:
        started = time.perf_counter()
        try:
            self._run()
        except Exception as exc:  # a harness failure is a failed spec, never a crash of the run
            self.report.failures.append(f"harness: {type(exc).__name__}: {exc}")
        self.report.seconds = time.perf_counter() - started
        return self.report

    def _run(self) -> None:
        result, written = pipeline.build(self.spec, self.work / "out")
        if not result.ok or written is None or result.package is None:
            self.report.failures += [
                d.render() for d in result.diagnostics if d.severity == "error"
            ]
            return
        self.report.built = True
        package = result.package
        self.report.adapters = len(package.rest) + len(package.mcp)
        project = self.work / "out" / result.folder
        self._environment(package)
        if not self._imports(project, package.module):
            return
        self.report.imported = True
        for attempt in range(3):
            ports = {a.namespace: free_port() for a in package.rest}
            ports.update({a.namespace: free_port() for a in package.mcp if a.transport == "http"})
            process = self._start(project, package.module, ports)
            ready = self._ready(process, ports)
            taken = "cannot listen on" in self.log.read_text(errors="replace")
            if ready or not taken or attempt == 2:
                break
            self.report.failures.pop()  # another test took a port before the service bound it
        try:
            if not ready:
                return
            self.report.served = True
            self._exercise(package, ports, project)
        finally:
            process.send_signal(signal.SIGINT)  # SIGTERM would wait out the drain grace
            try:
                process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                process.kill()

    def _environment(self, package: ir.Package) -> None:
        values: dict[str, str] = {}
        for bind in package.binds:
            scope = self.binds.setdefault(bind.namespace, {})
            file_values = {}
            for variable, key in bind.keys:
                value = f"bind-{key.lower().replace('_', '-')}"
                values[variable] = value
                scope[variable] = value
                file_values[key] = value
                if not bind.location:
                    self.env[key] = value
            if bind.location:
                target = self.work / bind.location.removeprefix("file://").lstrip("/")
                target.parent.mkdir(parents=True, exist_ok=True)
                target.write_text(
                    json.dumps(file_values)
                    if not target.suffix.startswith(".y")
                    else "\n".join(f"{k}: {v}" for k, v in file_values.items())
                )
        self.binds.update(values)
        for upstream in package.upstreams:
            if upstream.auth is not None and upstream.auth.kind == "certificate":
                certificate = oracle.render(upstream.auth.certificate or "", [self.binds])
                password = oracle.render(upstream.auth.password or "", [self.binds])
                write_certificate(self.work / certificate, password)
            self.env[upstream.base_url_env] = (
                f"{self.upstream.url}/{self.id}/{_slug(upstream.namespace)}"
            )
        self.env[f"{package.env_prefix}_API_TOKEN"] = TOKEN
        self.env[f"{package.env_prefix}_TIMEOUT"] = "10"

    def _process_env(self, project: Path) -> dict[str, str]:
        inherited = os.environ.get("PYTHONPATH")
        path = f"{project}{os.pathsep}{inherited}" if inherited else str(project)
        return {**os.environ, "PYTHONPATH": path, **self.env}

    def _imports(self, project: Path, module: str) -> bool:
        check = subprocess.run(
            [sys.executable, "-c", f"import {module}.capability"],
            env=self._process_env(project),
            capture_output=True,
            text=True,
            cwd=self.work,
        )
        if check.returncode != 0:
            self.report.failures.append(
                "import: " + check.stderr.strip().splitlines()[-1]
                if check.stderr
                else "import failed"
            )
        return check.returncode == 0

    def _start(self, project: Path, module: str, ports: dict[str, int]) -> subprocess.Popen[bytes]:
        args = [f"--port={ns}={port}" for ns, port in ports.items()]
        self.log = self.work / "service.log"
        return subprocess.Popen(
            [sys.executable, "-m", module, "serve", *args],
            env=self._process_env(project),
            cwd=self.work,
            stdout=self.log.open("wb"),
            stderr=subprocess.STDOUT,
        )

    def _ready(self, process: subprocess.Popen[bytes], ports: dict[str, int]) -> bool:
        deadline = time.monotonic() + 60
        for port in ports.values():
            while True:
                if process.poll() is not None:
                    self.report.failures.append(
                        "serve: exited early: " + self.log.read_text(errors="replace")[-400:]
                    )
                    return False
                try:
                    if httpx.get(f"http://127.0.0.1:{port}/healthz", timeout=2).status_code == 200:
                        break
                except httpx.TransportError:
                    pass
                if time.monotonic() > deadline:
                    self.report.failures.append(f"serve: port {port} not ready")
                    return False
                time.sleep(0.05)
        return True

    def _exercise(self, package: ir.Package, ports: dict[str, int], project: Path) -> None:
        upstreams = {u.namespace: u for u in package.upstreams}
        operations = {(u.module, op.const): op for u in package.upstreams for op in u.operations}
        for adapter in package.rest:
            headers = _credentials(adapter.auth, self.binds)
            hidden = next((k.lower() for k in headers), "authorization")
            base = f"http://127.0.0.1:{ports[adapter.namespace]}"
            with httpx.Client(base_url=base, headers=headers, timeout=30) as client:
                for route in adapter.routes:
                    call = oracle.rest_call(route, upstreams, operations, self.binds, hidden)
                    if call is not None:
                        self._rest(client, route, call, operations)
        for adapter in package.mcp:
            calls = [
                (t, oracle.mcp_call(t, upstreams, operations, self.binds)) for t in adapter.tools
            ]
            calls = [(t, c) for t, c in calls if c is not None]
            if calls:
                anyio.run(
                    self._mcp, adapter, calls, ports.get(adapter.namespace), project, operations
                )

    def _rest(
        self,
        client: httpx.Client,
        route: ir.Route,
        call: oracle.Call,
        operations: oracle.Operations,
    ) -> None:
        self.report.rest[1] += 1
        label = f"REST {route.method} {route.path}"
        before = self._mark(call, route.endpoint, operations)
        kwargs: dict[str, Any] = {"params": call.query, "headers": call.headers}
        if call.body is not None:
            kwargs["json"] = call.body
        response = client.request(route.method, call.path, **kwargs)
        if response.status_code != 200:
            self.report.failures.append(
                f"{label}: status {response.status_code}: {response.text[:200]}"
            )
            return
        if self._verify(label, call, before):
            self.report.rest[0] += 1

    async def _mcp(
        self,
        adapter: ir.McpAdapter,
        calls: list[tuple[ir.Tool, oracle.Call]],
        port: int | None,
        project: Path,
        operations: oracle.Operations,
    ) -> None:
        import httpx2
        from mcp import Client, StdioServerParameters
        from mcp.client.streamable_http import streamable_http_client

        headers = _credentials(adapter.auth, self.binds)
        if adapter.transport == "stdio":
            params = StdioServerParameters(
                command=sys.executable,
                args=["-m", project_module(project), "stdio", "--adapter", adapter.namespace],
                env=self._process_env(project),
                cwd=str(self.work),
            )
            async with Client(params) as client:
                await self._mcp_calls(client, adapter, calls, operations)
            return
        async with (
            httpx2.AsyncClient(headers=headers, timeout=30) as http,
            Client(
                streamable_http_client(f"http://127.0.0.1:{port}/mcp", http_client=http),
                mode="legacy",
            ) as client,
        ):
            await self._mcp_calls(client, adapter, calls, operations)

    async def _mcp_calls(
        self,
        client: Any,
        adapter: ir.McpAdapter,
        calls: list[tuple[ir.Tool, oracle.Call]],
        operations: oracle.Operations,
    ) -> None:
        listed = {t.name for t in (await client.list_tools()).tools}
        for tool, call in calls:
            self.report.mcp[1] += 1
            label = f"MCP {adapter.namespace} {tool.name}"
            if tool.name not in listed:
                self.report.failures.append(f"{label}: not listed")
                continue
            before = self._mark(call, tool.endpoint, operations)
            try:
                result = await client.call_tool(tool.name, call.arguments)
            except Exception as exc:
                self.report.failures.append(f"{label}: {type(exc).__name__}: {exc}")
                continue
            if result.is_error:
                self.report.failures.append(
                    f"{label}: isError: {result.content[0].text[:200] if result.content else ''}"
                )
                continue
            if self._verify(label, call, before):
                self.report.mcp[0] += 1

    def _prefix(self, namespace: str) -> str:
        return f"/{self.id}/{_slug(namespace)}"

    def _mark(self, call: oracle.Call, endpoint: ir.Endpoint, operations: oracle.Operations) -> int:
        assert endpoint.call is not None
        operation = operations[(endpoint.call.operation.module, endpoint.call.operation.const)]  # type: ignore[attr-defined]
        shapes = output_shapes([endpoint])
        with self.responder.lock:
            self.responder.formats[f"/{self.id}"] = operation.output_format
            self.responder.shapes[f"/{self.id}"] = next(iter(shapes.values()), None)
        return len(self._seen(call.namespace))

    def _seen(self, namespace: str) -> list[Recorded]:
        prefix = self._prefix(namespace) + "/"
        with self.upstream.lock:
            return [r for r in self.upstream.requests if (r.raw_path + "/").startswith(prefix)]

    def _verify(self, label: str, call: oracle.Call, before: int) -> bool:
        seen = self._seen(call.namespace)[before:]
        expected = call.expected
        problems = []
        if len(seen) != 1:
            problems.append(f"{len(seen)} upstream requests")
        else:
            request = seen[0]
            path = self._prefix(call.namespace) + "/" + expected.path.lstrip("/")
            if request.method != expected.method:
                problems.append(f"method {request.method} != {expected.method}")
            if request.raw_path.rstrip("/") != path.rstrip("/"):
                problems.append(f"path {request.raw_path} != {path}")
            query = parse_qsl(request.query, keep_blank_values=True)
            missing = [pair for pair in expected.query if pair not in query]
            if missing:
                problems.append(f"query {query} lacks {missing}")
            for name, value in expected.headers.items():
                if request.headers.get(name) != value:
                    problems.append(f"header {name}: {request.headers.get(name)!r} != {value!r}")
            if expected.has_body:
                try:
                    body = json.loads(request.body) if request.body else None
                except ValueError:
                    body = request.body
                if body != expected.body:
                    problems.append(f"body {body!r} != {expected.body!r}")
        if problems:
            self.report.failures.append(f"{label}: " + "; ".join(problems))
        return not problems


def project_module(project: Path) -> str:
    return next(p.name for p in project.iterdir() if p.is_dir() and (p / "__init__.py").exists())


def _slug(text: str) -> str:
    return re.sub(r"[^a-z0-9]+", "-", text.lower()).strip("-")


def _credentials(auth: ir.InboundAuth | None, binds: dict[str, Any]) -> dict[str, str]:
    if auth is None:
        return {"Authorization": f"Bearer {TOKEN}"}
    if auth.kind == "apikey":
        return {
            oracle.render(auth.key or "X-API-Key", [binds]): oracle.render(
                auth.value or "", [binds]
            )
        }
    if auth.kind == "basic":
        import base64

        pair = f"{oracle.render(auth.username or '', [binds])}:{oracle.render(auth.password or '', [binds])}"
        return {"Authorization": "Basic " + base64.b64encode(pair.encode()).decode()}
    return {"Authorization": "Bearer " + oracle.render(auth.token or "", [binds])}


def select(specs: Iterable[Path], corpus_root: Path, count: int, max_bytes: int) -> list[Path]:
    """A deterministic sample: providers in turn, smallest specs first, shared files skipped."""
    by_provider: dict[str, list[Path]] = {}
    for spec in sorted(specs):
        if spec.stat().st_size > max_bytes or "shared" in spec.relative_to(corpus_root).parts:
            continue
        parts = spec.relative_to(corpus_root).parts
        provider = parts[1] if parts[0] == "others" and len(parts) > 2 else parts[0]
        by_provider.setdefault(provider, []).append(spec)
    for group in by_provider.values():
        group.sort(key=lambda p: (p.stat().st_size, str(p)))
    chosen: list[Path] = []
    while len(chosen) < count and any(by_provider.values()):
        for provider in sorted(by_provider):
            if by_provider[provider] and len(chosen) < count:
                chosen.append(by_provider[provider].pop(0))
    return sorted(chosen)


def as_json(reports: list[SpecReport]) -> str:
    return json.dumps([asdict(r) | {"accepted": r.accepted} for r in reports], indent=2)
