"""One port for every adapter, worker processes, and the settings a deployment needs:
`PORT`, `--workers`, the ASGI factory, allowed hosts, metrics protection and the digest
refusal. Real processes, real sockets."""

from __future__ import annotations

import contextlib
import importlib
import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path
from unittest import mock

import anyio
import httpx
import pytest
from prometheus_client import CollectorRegistry
from prometheus_client.multiprocess import MultiProcessCollector
from starlette.testclient import TestClient

from tests.deployment.cluster import (
    INBOUND_TOKEN,
    STREAM_EVENTS,
    Replica,
    WorkersAi,
    build_seed,
    requests_counted,
)
from tests.integration.mcp_client import mcp_client
from tests.support.reaper import running
from tests.support.service import free_port, wait_ready

pytestmark = pytest.mark.integration
CHAT = "/v1/accounts/acct-7/ai/run/@cf/meta/llama-3.1-8b-instruct"
BODY = {"messages": [{"role": "user", "content": "hello"}]}
AUTH = {"Authorization": f"Bearer {INBOUND_TOKEN}"}


async def _tool_call(url: str) -> str:
    async with mcp_client(url, INBOUND_TOKEN) as client:
        arguments = {"account_id": "acct-7", "model": "@cf/x/y", "body": BODY}
        result = await client.call_tool("cloudflare-execute-ai-model", arguments)
        assert not result.is_error, result
        return json.dumps(result.structured_content)


def _wait(url: str, process: subprocess.Popen[bytes], log: Path, timeout: float = 30) -> None:
    wait_ready(f"{url}/readyz", lambda: process.poll() is None, log.read_text, timeout)


def test_port_from_the_environment_serves_rest_mcp_and_health_on_it(tmp_path: Path) -> None:
    """`PORT=... python -m <pkg> serve`, as Cloud Run or Heroku start it: no flag at all."""
    with WorkersAi() as upstream:
        package = build_seed(tmp_path, "seed_port", upstream)
        port = free_port()
        log = tmp_path / "serve.log"
        env = {**os.environ, "PYTHONPATH": str(package.project), **package.env, "PORT": str(port)}
        with open(log, "wb") as out:
            process = subprocess.Popen(
                [sys.executable, "-m", package.module, "serve"], env=env, stdout=out, stderr=out
            )
        url = f"http://127.0.0.1:{port}"
        try:
            _wait(url, process, log)
            rest = httpx.post(f"{url}{CHAT}", json=BODY, headers=AUTH)
            assert (
                rest.status_code == 200 and rest.json()["result"]["response"] == "answer for acct-7"
            )
            assert "answer for acct-7" in anyio.run(_tool_call, f"{url}/mcp")
            assert httpx.get(f"{url}/healthz").json() == {"status": "ok"}
            assert httpx.get(f"{url}/docs").status_code == 200
            assert httpx.get(f"{url}/openapi.json").json()["paths"]
            assert "capgen_requests_total" in httpx.get(f"{url}/metrics", headers=AUTH).text
            for spec_port in (8080, 9090):  # the spec's own ports stay free
                with pytest.raises(httpx.ConnectError):
                    httpx.get(f"http://127.0.0.1:{spec_port}/healthz", timeout=1)
        finally:
            process.terminate()
            process.wait(timeout=30)
        printed = log.read_text()
        assert f"REST workers-ai-ai-inference-rest  http://127.0.0.1:{port}" in printed
        assert f"MCP  workers-ai-ai-inference-mcp  http://127.0.0.1:{port}/mcp" in printed


def test_two_workers_are_two_processes_whose_metrics_sum(tmp_path: Path) -> None:
    with WorkersAi() as upstream:
        package = build_seed(tmp_path, "seed_workers", upstream)
        shared = tmp_path / "metrics"
        shared.mkdir()
        replica = Replica(package, **{f"{package.prefix}_METRICS_DIR": str(shared)})
        replica.start("--workers", "2").wait_ready()
        try:
            assert replica.process is not None
            assert len(_children(replica.process.pid)) == 2
            for _ in range(40):  # a new connection each time: the kernel spreads them
                response = httpx.post(f"{replica.url}{CHAT}", json=BODY, headers=AUTH)
                assert response.status_code == 200
            per_worker = [_posts(path, tmp_path) for path in shared.glob("counter_*.db")]
            scrapes = {requests_counted(replica.url, AUTH) for _ in range(8)}
        finally:
            replica.close()
        assert len(per_worker) == 2 and all(n > 0 for n in per_worker), per_worker
        assert sum(per_worker) == 40
        assert scrapes == {40.0}  # whichever worker answers the scrape
        assert upstream.calls == 40


def test_workers_stop_when_their_parent_is_killed(tmp_path: Path) -> None:
    """`serve --workers 2` killed with SIGKILL (no chance to pass a signal on): its workers see
    the parent gone and stop, and the port stops answering."""
    with WorkersAi() as upstream:
        replica = Replica(build_seed(tmp_path, "seed_orphans", upstream))
        replica.start("--workers", "2").wait_ready()
        try:
            assert replica.process is not None
            workers = _children(replica.process.pid)
            assert len(workers) == 2
            replica.process.kill()
            replica.process.wait()
            deadline = time.monotonic() + 20
            while any(map(running, workers)) and time.monotonic() < deadline:
                time.sleep(0.2)
            assert not any(map(running, workers)), replica.output()[-3000:]
            with pytest.raises(httpx.TransportError):
                httpx.get(f"{replica.url}/healthz", timeout=2)
            assert "the parent process is gone: stopping" in replica.output()
        finally:
            replica.close()


def _children(pid: int) -> list[int]:
    """The worker processes (multiprocessing also starts a resource tracker: not a worker)."""
    text = Path(f"/proc/{pid}/task/{pid}/children").read_text()
    return [
        int(p) for p in text.split() if b"spawn_main" in Path(f"/proc/{p}/cmdline").read_bytes()
    ]


def _posts(path: Path, work: Path) -> float:
    """The POSTs one worker counted: its own prometheus_client multiprocess file, read alone."""
    alone = work / f"alone-{path.stem}"
    alone.mkdir()
    shutil.copy(path, alone / path.name)
    registry = CollectorRegistry()
    MultiProcessCollector(registry, path=str(alone))
    return sum(
        sample.value
        for metric in registry.collect()
        for sample in metric.samples
        if sample.name == "capgen_requests_total" and sample.labels.get("method") == "POST"
    )


def test_the_asgi_factory_serves_under_uvicorn(tmp_path: Path) -> None:
    """`uvicorn --factory <pkg>.app:create_app --http capgen_runtime.serve.wire:HttpProtocol`, as
    the package README says: heads bounded and idle connections closed (after the default 5 s)
    where the bytes arrive, as under `serve`."""
    with WorkersAi() as upstream:
        package = build_seed(tmp_path, "seed_factory", upstream)
        port = free_port()
        log = tmp_path / "uvicorn.log"
        env = {**os.environ, "PYTHONPATH": str(package.project), **package.env}
        command = [
            sys.executable, "-m", "uvicorn", "--factory", f"{package.module}.app:create_app",
            "--http", "capgen_runtime.serve.wire:HttpProtocol", "--host", "127.0.0.1", "--port", str(port),
        ]  # fmt: skip
        with open(log, "wb") as out:
            process = subprocess.Popen(command, env=env, stdout=out, stderr=out)
        url = f"http://127.0.0.1:{port}"
        try:
            _wait(url, process, log)
            assert httpx.post(f"{url}{CHAT}", json=BODY, headers=AUTH).status_code == 200
            assert httpx.post(f"{url}{CHAT}", json=BODY).status_code == 401
            assert "answer for acct-7" in anyio.run(_tool_call, f"{url}/mcp")
            huge = b"GET /healthz HTTP/1.1\r\nHost: x\r\nX-Big: " + b"a" * 8_000_000 + b"\r\n\r\n"
            assert _raw(port, huge).startswith(b"HTTP/1.1 431 ")
            started = time.monotonic()
            assert _raw(port, b"") == b""  # an idle connection, closed by the server
            assert 4 <= time.monotonic() - started < 8
        finally:
            process.terminate()
            process.wait(timeout=30)
        # a missing setting is a message and exit status 2, not a traceback
        env.pop("CLOUDFLARE_API_KEY")
        failed = subprocess.run(command, env=env, capture_output=True, text=True, timeout=60)
        assert failed.returncode == 2
        assert "error: " in failed.stderr and "CLOUDFLARE_API_KEY" in failed.stderr
        assert "Traceback" not in failed.stderr


def _raw(port: int, data: bytes) -> bytes:
    with socket.create_connection(("127.0.0.1", port), timeout=20) as sock:
        with contextlib.suppress(OSError):
            sock.sendall(data)
        answer = b""
        with contextlib.suppress(ConnectionResetError):
            while chunk := sock.recv(65536):
                answer += chunk
        return answer


def test_a_server_without_the_protocol_still_refuses_a_large_head(tmp_path: Path) -> None:
    """Under an ASGI server run without `--http capgen_runtime.serve.wire:HttpProtocol`, the
    application itself answers 431 once the server has parsed the head."""
    with WorkersAi() as upstream:
        package = build_seed(tmp_path, "seed_plain", upstream)
        sys.path.insert(0, str(package.project))
        try:
            app_module = importlib.import_module(f"{package.module}.app")
            with mock.patch.dict(os.environ, package.env):
                app = app_module.create_app()
            with TestClient(app) as client:
                many = {f"x-h{i}": "1" for i in range(100)}
                assert client.get("/healthz", headers=many).status_code == 431
                big = {"x-big": "a" * 70_000}
                response = client.get("/healthz", headers=big)
                assert response.status_code == 431
                assert response.headers["content-type"] == "application/problem+json"
                assert client.get("/healthz").status_code == 200
        finally:
            sys.path.remove(str(package.project))


def test_allowed_hosts_keep_the_host_and_origin_checks_behind_a_proxy(tmp_path: Path) -> None:
    with WorkersAi() as upstream:
        package = build_seed(tmp_path, "seed_hosts", upstream)
        default = Replica(package).start().wait_ready()
        allowed = Replica(
            package, **{f"{package.prefix}_ALLOWED_HOSTS": "mcp.example.com,*.internal"}
        ).start()
        try:
            allowed.wait_ready()
            listing = {"jsonrpc": "2.0", "id": 1, "method": "tools/list"}
            mcp = {**AUTH, "Accept": "application/json, text/event-stream"}

            def status(replica: Replica, path: str, **headers: str) -> int:
                if path == "/mcp":
                    return httpx.post(
                        f"{replica.url}/mcp", json=listing, headers={**mcp, **headers}
                    ).status_code
                return httpx.post(
                    f"{replica.url}{path}", json=BODY, headers={**AUTH, **headers}
                ).status_code

            # loopback without the setting: MCP answers loopback names only (DNS rebinding)
            assert status(default, "/mcp") == 200
            assert status(default, "/mcp", Host="mcp.example.com") == 421
            # with the setting, the proxy's names are served, on REST and MCP alike
            for path in ("/mcp", CHAT):
                assert status(allowed, path, Host="mcp.example.com") == 200
                assert status(allowed, path, Host="api.internal:8443") == 200
                assert status(allowed, path, Host="evil.example.net") == 421
                origin = {"Host": "mcp.example.com", "Origin": "https://evil.example.net"}
                assert status(allowed, path, **origin) == 403
                same = {"Host": "mcp.example.com", "Origin": "https://mcp.example.com"}
                assert status(allowed, path, **same) == 200
            refused = httpx.post(f"{allowed.url}/mcp", json=listing, headers={**mcp, "Host": "x.y"})
            assert refused.headers["content-type"] == "application/problem+json"
            # probes come with the pod's address: never refused
            assert (
                httpx.get(f"{allowed.url}/readyz", headers={"Host": "10.0.0.7:8080"}).status_code
                == 200
            )
        finally:
            default.close(), allowed.close()


def test_metrics_behind_their_own_token_or_on_their_own_port(tmp_path: Path) -> None:
    with WorkersAi() as upstream:
        package = build_seed(tmp_path, "seed_metrics", upstream)
        metrics_port = free_port()
        token = Replica(package, **{f"{package.prefix}_METRICS_TOKEN": "scrape-token-1a2b"})
        port = Replica(package, **{f"{package.prefix}_METRICS_PORT": str(metrics_port)})
        token.start(), port.start()
        try:
            token.wait_ready(), port.wait_ready()
            scraper = {"Authorization": "Bearer scrape-token-1a2b"}
            assert httpx.get(f"{token.url}/metrics", headers=scraper).status_code == 200
            refused = httpx.get(f"{token.url}/metrics", headers=AUTH)  # callers' token: no
            assert refused.status_code == 401
            assert "scrape-token" not in refused.text and INBOUND_TOKEN not in refused.text
            assert httpx.get(f"{token.url}/metrics").status_code == 401
            assert httpx.post(f"{token.url}{CHAT}", json=BODY, headers=scraper).status_code == 401
            # on its own port: open there, absent from the service's port
            assert httpx.post(f"{port.url}{CHAT}", json=BODY, headers=AUTH).status_code == 200
            own = httpx.get(f"http://127.0.0.1:{metrics_port}/metrics")
            assert own.status_code == 200 and "capgen_requests_total" in own.text
            assert httpx.get(f"{port.url}/metrics", headers=AUTH).status_code == 404
        finally:
            token.close(), port.close()


def test_several_workers_with_digest_and_no_shared_secret_refuse_to_start(tmp_path: Path) -> None:
    with WorkersAi() as upstream:
        package = build_seed(tmp_path, "seed_digest_workers", upstream, "digest")
        env = {**os.environ, "PYTHONPATH": str(package.project), **package.env}
        command = [sys.executable, "-m", package.module, "serve", "--port", str(free_port())]
        run = subprocess.run(
            [*command, "--workers", "2"], env=env, capture_output=True, text=True, timeout=60
        )
        assert run.returncode == 2
        assert f"{package.prefix}_DIGEST_SECRET" in run.stderr and "Traceback" not in run.stderr
        concurrency = subprocess.run(
            command, env={**env, "WEB_CONCURRENCY": "3"}, capture_output=True, text=True, timeout=60
        )
        assert concurrency.returncode == 2 and "3 workers" in concurrency.stderr


def test_with_a_port_per_adapter_a_drained_adapter_does_not_cut_the_other_short(
    tmp_path: Path,
) -> None:
    """REST and MCP on their own ports: SIGTERM with a stream in flight on REST. The idle MCP
    server finishes its drain at once; the REST stream still runs to its last event."""
    with WorkersAi() as upstream:
        package = build_seed(tmp_path, "seed_two_ports", upstream)
        rest, mcp = free_port(), free_port()
        log = tmp_path / "serve.log"
        env = {**os.environ, "PYTHONPATH": str(package.project), **package.env}
        env[f"{package.prefix}_DRAIN_GRACE"] = "0.5"
        command = [sys.executable, "-m", package.module, "serve", "--rest-port", str(rest)]
        with open(log, "wb") as out:
            process = subprocess.Popen(
                [*command, "--mcp-port", str(mcp)], env=env, stdout=out, stderr=out
            )
        try:
            _wait(f"http://127.0.0.1:{mcp}", process, log)
            body = {**BODY, "stream": True}
            events = 0
            url = f"http://127.0.0.1:{rest}{CHAT}"
            with httpx.stream("POST", url, json=body, headers=AUTH, timeout=30) as response:
                lines = response.iter_lines()
                events += next(lines).startswith("data: {")
                process.send_signal(signal.SIGTERM)  # the stream has STREAM_EVENTS x 0.3 s to go
                for line in lines:
                    events += line.startswith("data: {")
            assert response.status_code == 200 and events == STREAM_EVENTS
            assert process.wait(timeout=30) == 0
        finally:
            if process.poll() is None:
                process.kill()
