"""Real processes for deployment tests: seed packages (with the inbound auth a deployment
chooses), replicas of them, a Workers-AI-shaped upstream and HAProxy in front.

The upstream is written from Cloudflare's documentation of the endpoint, not from capgen:
`POST /client/v4/accounts/{account}/ai/run/{model}` with `Authorization: Bearer <key>`,
answering the v4 envelope, or an event stream when the body says `"stream": true`.
"""

from __future__ import annotations

import asyncio
import json
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import yaml
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response, StreamingResponse
from starlette.routing import Route

from generator import pipeline
from tests.support.service import ThreadedServer, free_port, kill_group, wait_ready

ROOT = Path(__file__).resolve().parents[2]
SEED = ROOT / "specs" / "workers-ai-ai-inference.yaml"
UPSTREAM_KEY = "cf-key-5e4d3c2b1a"
INBOUND_TOKEN = "inbound-token-77aa99"
DIGEST_USER, DIGEST_PASSWORD = "operator", "digest-pass-3c1f"
STREAM_EVENTS = 8
STREAM_PAUSE = 0.3
SLOW_SECONDS = 3.0


class WorkersAi:
    """The consumed API on loopback (uvicorn in a thread): JSON, slow JSON (a model named
    `.../slow`), event streams; plus an OAuth authorization server's metadata and keys."""

    def __init__(self, jwks: dict[str, Any] | None = None) -> None:
        self.lock = threading.Lock()
        self.calls = 0
        self.refused = 0
        self.jwks = jwks

        async def run(request: Request) -> Response:
            if request.headers.get("authorization") != f"Bearer {UPSTREAM_KEY}":
                with self.lock:
                    self.refused += 1
                return JSONResponse({"success": False, "errors": [{"code": 10000}]}, 401)
            body = json.loads(await request.body() or b"{}")
            with self.lock:
                self.calls += 1
            if body.get("stream") is True:
                return StreamingResponse(self._events(), media_type="text/event-stream")
            if request.path_params["model"].endswith("/slow"):
                await asyncio.sleep(SLOW_SECONDS)
            result = {"response": f"answer for {request.path_params['account']}"}
            return JSONResponse({"result": result, "success": True, "errors": [], "messages": []})

        async def metadata(_: Request) -> Response:
            issuer = f"{self.url}/as"
            return JSONResponse({"issuer": issuer, "jwks_uri": f"{issuer}/jwks"})

        async def keys(_: Request) -> Response:
            return JSONResponse(self.jwks or {"keys": []})

        routes = [
            Route("/client/v4/accounts/{account}/ai/run/{model:path}", run, methods=["POST"]),
            Route("/as/.well-known/oauth-authorization-server", metadata),
            Route("/as/jwks", keys),
        ]
        self.server = ThreadedServer(Starlette(routes=routes))
        self.port = self.server.port

    @staticmethod
    async def _events() -> AsyncIterator[bytes]:
        for i in range(STREAM_EVENTS):
            yield f'data: {{"response":"w{i} "}}\n\n'.encode()
            await asyncio.sleep(STREAM_PAUSE)
        yield b"data: [DONE]\n\n"

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def __enter__(self) -> WorkersAi:
        self.server.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.server.stop()


@dataclass
class Package:
    project: Path
    module: str
    prefix: str
    env: dict[str, str] = field(default_factory=dict)  # what every replica gets


def build_seed(out: Path, name: str, upstream: WorkersAi, auth: str = "bearer") -> Package:
    """The seed spec as a deployment would expose it: capgen's own bearer token, or the spec's
    digest or oauth2 `authentication` on both adapters."""
    spec = yaml.safe_load(SEED.read_text(encoding="utf-8"))
    keys = spec["binds"][0]["keys"]
    env = {"CLOUDFLARE_API_KEY": UPSTREAM_KEY}
    if auth == "digest":
        keys["INBOUND_PASSWORD"] = "INBOUND_PASSWORD"
        block: dict[str, Any] | None = {
            "type": "digest",
            "username": DIGEST_USER,
            "password": "{{INBOUND_PASSWORD}}",
        }
        env["INBOUND_PASSWORD"] = DIGEST_PASSWORD
    elif auth == "oauth2":
        keys["ISSUER"] = "ISSUER"
        block = {
            "type": "oauth2",
            "authorizationServerUri": "{{ISSUER}}",
            "resource": "https://ai.example.com",
            "scopes": ["ai.run"],
        }
        env["ISSUER"] = f"{upstream.url}/as"
    else:
        block = None
    for adapter in spec["capability"]["exposes"]:
        if block is not None:
            adapter["authentication"] = block
    path = out / f"{name}.yaml"
    path.write_text(yaml.safe_dump(spec, sort_keys=False), encoding="utf-8")
    result, _ = pipeline.build(path, out / "built", pipeline.Options(module=name))
    assert result.ok, [d.render() for d in result.diagnostics]
    prefix = result.package.env_prefix
    (consumed,) = result.package.upstreams
    env.update(
        {
            consumed.base_url_env: f"{upstream.url}/client/v4",
            f"{prefix}_API_TOKEN": INBOUND_TOKEN,
            f"{prefix}_DRAIN_GRACE": "1.5",
        }
    )
    return Package(out / "built" / name, name, prefix, env)


class Replica:
    """`python -m <package> serve --port P` (one-port mode) as its own process."""

    def __init__(self, package: Package, port: int | None = None, **env: str) -> None:
        self.package = package
        self.port = port or free_port()
        self.env = env
        self.process: subprocess.Popen[bytes] | None = None
        handle, name = tempfile.mkstemp(prefix=f"{package.module}-", suffix=".log")
        os.close(handle)
        self.log_path = Path(name)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self, *args: str) -> Replica:
        env = {
            **os.environ,
            "PYTHONPATH": str(self.package.project),
            **self.package.env,
            **self.env,
        }
        command = [sys.executable, "-m", self.package.module, "serve", "--port", str(self.port)]
        with open(self.log_path, "ab") as log:
            self.process = subprocess.Popen(  # its own process group: ended as one in stop()
                [*command, *args],
                env=env,
                stdout=log,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )
        return self

    def wait_ready(self, timeout: float = 30.0) -> Replica:
        process = self.process
        assert process is not None
        wait_ready(f"{self.url}/readyz", lambda: process.poll() is None, self.output, timeout)
        return self

    def signal(self, signum: int) -> None:
        assert self.process is not None
        self.process.send_signal(signum)

    def wait(self, timeout: float = 30.0) -> int:
        assert self.process is not None
        return self.process.wait(timeout=timeout)

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.send_signal(signal.SIGINT)
            try:
                self.process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                kill_group(self.process)

    def output(self) -> str:
        return self.log_path.read_text(errors="replace")

    def close(self) -> None:
        self.stop()
        self.log_path.unlink(missing_ok=True)


def haproxy() -> str:
    found = shutil.which("haproxy") or (
        "/usr/sbin/haproxy" if Path("/usr/sbin/haproxy").exists() else None
    )
    if found is None:
        raise RuntimeError("haproxy is missing: run tests/tools/install")
    return found


class LoadBalancer:
    """HAProxy on loopback: round-robin, no stickiness, health checks on /readyz every 200 ms.
    No layer-7 retries: a request a draining replica dropped would be a failure."""

    def __init__(
        self, backends: list[int], workdir: Path, forwarded_proto: str | None = None
    ) -> None:
        self.port = free_port()
        servers = "\n".join(
            f"    server r{i} 127.0.0.1:{port} check" for i, port in enumerate(backends)
        )
        proto = (
            f"    http-request set-header X-Forwarded-Proto {forwarded_proto}\n"
            if forwarded_proto
            else ""
        )
        self.config = workdir / "haproxy.cfg"
        self.config.write_text(
            f"""global
    maxconn 2000
defaults
    mode http
    timeout connect 2s
    timeout client 60s
    timeout server 60s
    option http-keep-alive
frontend front
    bind 127.0.0.1:{self.port}
{proto}    default_backend replicas
backend replicas
    balance roundrobin
    option httpchk GET /readyz
    http-check expect status 200
    default-server inter 200ms fall 1 rise 2
{servers}
""",
            encoding="utf-8",
        )
        self.log = workdir / "haproxy.log"
        self.process: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def __enter__(self) -> LoadBalancer:
        with open(self.log, "wb") as log:
            self.process = subprocess.Popen(
                [haproxy(), "-db", "-f", str(self.config)], stdout=log, stderr=subprocess.STDOUT
            )
        process = self.process
        alive = lambda: process.poll() is None  # noqa: E731
        wait_ready(f"{self.url}/readyz", alive, lambda: self.log.read_text(errors="replace"), 10)
        return self

    def __exit__(self, *exc: object) -> None:
        if self.process is not None:
            self.process.terminate()
            self.process.wait(timeout=10)


def requests_counted(url: str, headers: dict[str, str] | None = None) -> float:
    """The REST requests one process counted (its own /metrics), by the metric's text."""
    return posts_counted(httpx.get(f"{url}/metrics", headers=headers or {}, timeout=5).text)


def posts_counted(text: str) -> float:
    """The seed operation's calls in a Prometheus exposition."""
    return sum(
        float(line.rsplit(" ", 1)[1])
        for line in text.splitlines()
        if line.startswith("capgen_requests_total{")
        and 'method="POST"' in line
        and "/ai/run/" in line
    )
