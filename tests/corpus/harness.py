"""Build, import, serve and exercise real specs: one report line per spec.

For each spec: build the package, start `python -m <package> serve` on free loopback ports
against the recording fake upstream (every bound variable and base URL set), call every REST
operation and MCP tool (stdio adapters too) with sample inputs, and compare what the upstream
received with what the spec text implies (`reading.py`, which reads the YAML itself).
"""

from __future__ import annotations

import base64
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
from urllib.parse import parse_qsl, unquote

import anyio
import httpx
import yaml

from generator import pipeline
from tests.corpus import answers, reading
from tests.support.certificates import write_certificate
from tests.support.fake_upstream import Answer, FakeUpstream, Recorded
from tests.support.service import free_port

TOKEN = "corpus-inbound-token"
DIGEST_REALM, DIGEST_NONCE = "corpus", "0c5b1e6f2d"
_CANNED = {"result": {"id": "r-1", "name": "sample"}, "success": True, "errors": [], "messages": []}
_RAW = {
    "xml": ("<response><id>r-1</id></response>", "application/xml"),
    "csv": ("id,name\nr-1,sample\n", "text/csv"),
    "tsv": ("id\tname\nr-1\tsample\n", "text/tab-separated-values"),
    "text": ("plain text answer", "text/plain"),
    "yaml": ("id: r-1\nname: sample\n", "application/yaml"),
    "binary": (b"\x89PNG\r\n\x1a\n\x00capgen-corpus", "image/png"),
}
# what a decoded answer of each raw format must show the caller (REST text, MCP content)
_DECODED = {"xml": "r-1", "csv": "r-1", "tsv": "r-1", "text": "plain text answer", "yaml": "r-1"}


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
    credentials: int = 0  # declared credentials seen where the spec puts them
    note: str = ""  # why nothing was exercised, where that is right
    formats: dict[str, int] = field(default_factory=dict)  # calls answered in each format
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
        note = f"  ({self.note})" if self.note else ""
        return f"{verdict} {self.spec:<70} {flags}  REST {self.rest[0]}/{self.rest[1]}  MCP {self.mcp[0]}/{self.mcp[1]}  {self.seconds:5.1f}s{note}"


class Responder:
    """Answers the fake upstream per spec prefix, in the format the called operation declares."""

    def __init__(self) -> None:
        self.formats: dict[str, str] = {}
        self.shapes: dict[str, Any] = {}  # what the unit's outputs map (answers.NOTHING: none)
        self.digest: dict[str, bool] = {}  # answer 401 with a digest challenge first
        self.lock = threading.Lock()

    def __call__(self, request: Recorded) -> Answer:
        prefix = "/".join(request.raw_path.split("/")[:2])  # /<spec id>, as _mark keys it
        with self.lock:
            fmt = self.formats.get(prefix, "json")
            shape = self.shapes.get(prefix, answers.NOTHING)
            digest = self.digest.get(prefix, False)
        if digest and not request.headers.get("authorization", "").startswith("Digest "):
            challenge = f'Digest realm="{DIGEST_REALM}", nonce="{DIGEST_NONCE}", qop="auth"'
            return Answer(401, {"error": "unauthorized"}, {"www-authenticate": challenge})
        if fmt in _RAW:
            body, media = _RAW[fmt]
            return Answer(200, body, {"content-type": media})
        return Answer(200, answers.merge(shape, _CANNED))


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
        self.text: dict[str, Any] = {}
        self.reading = reading.Reading({}, self.binds)

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
        loaded = yaml.safe_load(self.spec.read_text(encoding="utf-8"))
        self.text = loaded if isinstance(loaded, dict) else {}
        self.reading = reading.Reading(self.text, self.binds, self.spec.parent)
        package = result.package  # only how to run it: its import name and variable prefix
        rest, mcp = self._adapters("rest"), self._adapters("mcp")
        self.report.adapters = len(rest) + len(mcp)
        project = self.work / "out" / result.folder
        self._environment(package.env_prefix)
        if not self._imports(project, package.module):
            return
        self.report.imported = True
        for attempt in range(3):
            ports = {str(a.get("namespace")): free_port() for a in rest}
            ports.update({str(a.get("namespace")): free_port() for a in mcp if _http(a)})
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
            self._exercise(ports, project)
        finally:
            process.send_signal(signal.SIGINT)  # SIGTERM would wait out the drain grace
            try:
                process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                process.kill()

    def _adapters(self, kind: str) -> list[dict[str, Any]]:
        return [e for e in self.reading.exposes if e.get("type") == kind]

    def _environment(self, env_prefix: str) -> None:
        """Every bound variable a sample value, from the spec's own `binds` (files written
        with every key of every bind that shares them), plus the variables consumed
        authentication uses without a bind, which the service reads from the environment."""
        files: dict[Path, dict[str, str]] = {}
        for bind in self.text.get("binds") or []:
            if not isinstance(bind, dict):
                continue
            scope = self.binds.setdefault(str(bind.get("namespace", "")), {})
            keys = bind.get("keys") or {}
            for variable, key in (keys.items() if isinstance(keys, dict) else []):
                value = f"bind-{str(key).lower().replace('_', '-')}"
                scope[str(variable)] = self.binds[str(variable)] = value
                if bind.get("location"):
                    location = str(bind["location"]).removeprefix("file://").lstrip("/")
                    files.setdefault(self.work / location, {})[str(key)] = value
                else:
                    self.env[str(key)] = value
        for adapter in self.reading.consumes:
            for name in re.findall(
                r"\{\{\s*([A-Za-z_][\w.]*)\s*\}\}", json.dumps(adapter.get("authentication") or {})
            ):
                if reading.lookup(name, [self.binds]) is None:
                    head, _, variable = name.rpartition(".")  # `env.USER`: USER of bind env
                    value = f"bind-{variable.lower().replace('_', '-')}"
                    self.binds[variable] = self.env[variable] = value
                    if head:
                        self.binds.setdefault(head, {})[variable] = value
        for target, file_values in files.items():
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_text(
                json.dumps(file_values)
                if not target.suffix.startswith(".y")
                else "\n".join(f"{k}: {v}" for k, v in file_values.items())
            )
        for adapter in self.reading.consumes:
            auth = adapter.get("authentication") or {}
            if str(auth.get("type", "")).lower() in ("certificate", "mtls", "tls"):
                path = auth.get("certPath") or auth.get("cert_path") or ""
                password = auth.get("certPassword") or auth.get("cert_password") or ""
                certificate = reading.render(str(path), [self.binds])
                write_certificate(
                    self.work / certificate, reading.render(str(password), [self.binds])
                )
            namespace = str(adapter.get("namespace", ""))
            self.env[answers.base_url_env(namespace)] = (
                f"{self.upstream.url}/{self.id}/{_slug(namespace)}"
            )
        self.env[f"{env_prefix}_API_TOKEN"] = TOKEN
        self.env[f"{env_prefix}_TIMEOUT"] = "10"

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

    def _exercise(self, ports: dict[str, int], project: Path) -> None:
        for adapter in self._adapters("rest"):
            namespace = str(adapter.get("namespace"))
            headers = answers.credentials(adapter.get("authentication"), self.binds, TOKEN)
            hidden = {k.lower() for k in headers}
            base = f"http://127.0.0.1:{ports[namespace]}"
            units = [u for ns, u in self.reading.rest_units(hidden) if ns == namespace]
            with httpx.Client(base_url=base, headers=headers, timeout=30) as client:
                for unit in units:
                    self._rest(client, unit)
        for adapter in self._adapters("mcp"):
            anyio.run(self._mcp, adapter, ports.get(str(adapter.get("namespace"))), project)
        if not self.reading.exposes:
            self.report.note = "exposes nothing: a consumes file other specs import, or a workflow"
        elif self.report.rest[1] + self.report.mcp[1] == 0:
            self.report.failures.append(
                "no operation exercised: every exposed unit is orchestrated, forwarded, an "
                "aggregate or a mock, or calls nothing the spec consumes"
            )

    def _rest(self, client: httpx.Client, unit: reading.Unit) -> None:
        self.report.rest[1] += 1
        before = self._mark(unit)
        kwargs: dict[str, Any] = {"params": unit.query, "headers": unit.headers}
        if unit.body is not None:
            kwargs["json"] = unit.body
        response = client.request(unit.method, unit.path, **kwargs)
        if unit.refused:
            named = unit.refused in response.text and response.status_code >= 400
            self._refusal(
                unit, named, before, f"status {response.status_code}: {response.text[:200]}"
            )
            return
        if response.status_code != 200:
            self.report.failures.append(
                f"{unit.label}: status {response.status_code}: {response.text[:200]}"
            )
            return
        if not self._decoded_answer(unit, response.content):
            return
        if self._verify(unit, before):
            self.report.rest[0] += 1

    def _decoded_answer(self, unit: reading.Unit, answer: bytes) -> bool:
        """An answer in a raw format reaches the caller decoded (or, binary, byte for byte)."""
        fmt = unit.expected.output_format
        if fmt == "binary":
            wanted = _RAW["binary"][0]
            assert isinstance(wanted, bytes)
            ok = wanted in answer or base64.b64encode(wanted) in answer
        elif fmt in _DECODED:
            ok = _DECODED[fmt].encode() in answer
        else:
            return True
        if not ok:
            self.report.failures.append(
                f"{unit.label}: the {fmt} answer was not passed on: {answer[:120]!r}"
            )
        return ok

    async def _mcp(self, adapter: dict[str, Any], port: int | None, project: Path) -> None:
        import httpx2
        from mcp import Client, StdioServerParameters
        from mcp.client.streamable_http import streamable_http_client

        namespace = str(adapter.get("namespace"))
        headers = answers.credentials(adapter.get("authentication"), self.binds, TOKEN)
        if not _http(adapter):
            params = StdioServerParameters(
                command=sys.executable,
                args=["-m", project_module(project), "stdio", "--adapter", namespace],
                env=self._process_env(project),
                cwd=str(self.work),
            )
            async with Client(params) as client:
                await self._mcp_calls(client, namespace)
            return
        async with (
            httpx2.AsyncClient(headers=headers, timeout=30) as http,
            Client(
                streamable_http_client(f"http://127.0.0.1:{port}/mcp", http_client=http),
                mode="legacy",
            ) as client,
        ):
            await self._mcp_calls(client, namespace)

    async def _mcp_calls(self, client: Any, namespace: str) -> None:
        listed = {t.name: t.input_schema for t in (await client.list_tools()).tools}
        for adapter_namespace, unit in self.reading.mcp_units(listed):
            if adapter_namespace != namespace:
                continue
            self.report.mcp[1] += 1
            if unit.tool not in listed:
                self.report.failures.append(f"{unit.label}: not listed")
                continue
            before = self._mark(unit)
            try:
                result = await client.call_tool(unit.tool, unit.arguments)
            except Exception as exc:
                self.report.failures.append(f"{unit.label}: {type(exc).__name__}: {exc}")
                continue
            text = result.content[0].text if result.content else ""
            if unit.refused:
                self._refusal(unit, result.is_error and unit.refused in text, before, text[:200])
                continue
            if result.is_error:
                self.report.failures.append(
                    f"{unit.label}: isError: {result.content[0].text[:200] if result.content else ''}"
                )
                continue
            shown = json.dumps(result.model_dump(mode="json", exclude_none=True)).encode()
            if not self._decoded_answer(unit, shown):
                continue
            if self._verify(unit, before):
                self.report.mcp[0] += 1

    def _refusal(self, unit: reading.Unit, named: bool, before: int, answer: str) -> None:
        """A unit calling what the spec does not consume: an error naming the call, and no
        request to any upstream of the spec."""
        sent = len(self._all()) - before
        if named and sent == 0:
            if unit.tool:
                self.report.mcp[0] += 1
            else:
                self.report.rest[0] += 1
            return
        self.report.failures.append(
            f"{unit.label}: calls {unit.refused}, which the spec does not consume: "
            f"expected an error naming it and nothing sent, got {sent} requests and {answer}"
        )

    def _all(self) -> list[Recorded]:
        with self.upstream.lock:
            return [r for r in self.upstream.requests if r.raw_path.startswith(f"/{self.id}/")]

    def _prefix(self, namespace: str) -> str:
        return f"/{self.id}/{_slug(namespace)}"

    def _mark(self, unit: reading.Unit) -> int:
        """Tell the fake upstream how to answer this unit's call: in the consumed operation's
        declared format, shaped from the YAML so the unit's outputs (and the consumed
        operation's named ones) find values of their types, behind a digest challenge where
        the consumed side declares digest."""
        if unit.refused:
            return len(self._all())
        shape = answers.shape([*unit.outputs[:1], *unit.expected.outputs])
        with self.responder.lock:
            self.responder.formats[f"/{self.id}"] = unit.expected.output_format
            self.responder.shapes[f"/{self.id}"] = shape
            self.responder.digest[f"/{self.id}"] = unit.expected.digest is not None
        return len(self._seen(unit.namespace))

    def _seen(self, namespace: str) -> list[Recorded]:
        prefix = self._prefix(namespace) + "/"
        with self.upstream.lock:
            return [r for r in self.upstream.requests if (r.raw_path + "/").startswith(prefix)]

    def _verify(self, unit: reading.Unit, before: int) -> bool:
        seen = self._seen(unit.namespace)[before:]
        expected = unit.expected
        if expected.digest is not None and len(seen) == 2:
            challenged, seen = seen[0], seen[1:]
            if "authorization" in challenged.headers:
                seen.append(challenged)  # a credential sent before the challenge: wrong
        problems = []
        if len(seen) != 1:
            problems.append(f"{len(seen)} upstream requests")
        else:
            problems = self._compare(seen[0], unit)
        if problems:
            self.report.failures.append(f"{unit.label}: " + "; ".join(problems))
        else:
            self.report.credentials += len(expected.credentials)
            fmt = expected.output_format
            self.report.formats[fmt] = self.report.formats.get(fmt, 0) + 1
        return not problems

    def _compare(self, request: Recorded, unit: reading.Unit) -> list[str]:
        expected = unit.expected
        problems = []
        path = self._prefix(unit.namespace) + "/" + expected.path.lstrip("/")
        if request.method != expected.method:
            problems.append(f"method {request.method} != {expected.method}")
        if unquote(request.raw_path).rstrip("/") != unquote(path).rstrip("/"):
            problems.append(f"path {request.raw_path} != {path}")
        query = parse_qsl(request.query, keep_blank_values=True)
        missing = [pair for pair in expected.query if pair not in query]
        if missing:
            problems.append(f"query {query} lacks {missing}")
        for name, value in expected.headers.items():
            if request.headers.get(name) != value:
                problems.append(f"header {name}: {request.headers.get(name)!r} != {value!r}")
        if expected.digest is not None and not _digest_ok(request, *expected.digest):
            problems.append(f"no valid digest response: {request.headers.get('authorization')!r}")
        sent = dict(parse_qsl(request.headers.get("cookie", "").replace("; ", "&")))
        for name, value in expected.cookies.items():
            if sent.get(name) != value:
                problems.append(f"cookie {name}: {sent.get(name)!r} != {value!r}")
        if expected.body_kind:
            body = _decoded(request, expected.body_kind)
            if body != expected.body:
                problems.append(f"body {body!r} != {expected.body!r}")
        return problems


def _decoded(request: Recorded, kind: str) -> Any:
    if kind == "form":
        return dict(parse_qsl(request.body.decode("utf-8", "replace"), keep_blank_values=True))
    if kind == "text":
        return request.body.decode("utf-8", "replace")
    try:
        return json.loads(request.body) if request.body else None
    except ValueError:
        return request.body.decode("utf-8", "replace")


def _digest_ok(request: Recorded, username: str, password: str) -> bool:
    """RFC 7616 with qop=auth, computed here from the challenge the responder sent."""
    import hashlib

    header = request.headers.get("authorization", "")
    if not header.startswith("Digest "):
        return False
    fields = dict(re.findall(r'(\w+)="?([^",]*)"?', header[7:]))
    algorithm = fields.get("algorithm", "MD5").upper().replace("-SESS", "")
    digest = {"MD5": hashlib.md5, "SHA-256": hashlib.sha256}.get(algorithm)
    if digest is None or fields.get("username") != username:
        return False

    def h(value: str) -> str:
        return digest(value.encode()).hexdigest()

    ha1 = h(f"{username}:{DIGEST_REALM}:{password}")
    ha2 = h(f"{request.method}:{fields.get('uri', '')}")
    answer = h(f"{ha1}:{fields.get('nonce')}:{fields.get('nc')}:{fields.get('cnonce')}:auth:{ha2}")
    return fields.get("response") == answer and fields.get("nonce") == DIGEST_NONCE


def project_module(project: Path) -> str:
    return next(p.name for p in project.iterdir() if p.is_dir() and (p / "__init__.py").exists())


def _slug(text: str) -> str:
    return re.sub(r"[^a-z0-9]+", "-", text.lower()).strip("-")


def _http(adapter: dict[str, Any]) -> bool:
    return str(adapter.get("transport") or "http").lower() != "stdio"


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
