"""Start-up of the 740-operation package, deployed and in the bench's environment, and the
CPU of its `tools/list`."""

from __future__ import annotations

import os
import shutil
import statistics
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import httpx

from bench.harness import (
    LARGEST,
    PYTHON,
    ROOT,
    capgen,
    cpu_seconds,
    free_port,
    peak_rss_mb,
    process,
    wait_http,
)


def startup(work: Path, quick: bool) -> dict[str, Any]:
    """Start-up where the package is deployed (an environment holding the runtime's
    requirements and nothing else, as its Dockerfile installs them), and in the bench's own
    environment, which also holds the peers and their dependencies: FastAPI, httpx and uvicorn
    import some of those (email-validator, rich, watchfiles) whenever they are installed."""
    capgen("build", str(LARGEST), "-o", str(work / "large"))
    project = work / "large" / "cloudflare_accounts"
    # byte-compiled, as `pip install` leaves a deployed package (and the runtime with it)
    runtime_dir = Path(__import__("capgen_runtime").__file__).parent
    subprocess.run([PYTHON, "-m", "compileall", "-q", str(project), str(runtime_dir)], check=True)
    deployed = deployment_python()
    port_upstream = free_port()
    upstream = f"http://127.0.0.1:{port_upstream}"
    with process(
        [PYTHON, str(ROOT / "bench" / "upstream.py"), str(port_upstream)], None, f"{upstream}/"
    ):
        runs = 3 if quick else 5
        result: dict[str, Any] = {"operations": 740, "deployed": deployed is not None}
        if deployed is not None:
            path = f"{project}{os.pathsep}{runtime_dir.parent}"
            result.update(_startup_runs(deployed, path, upstream, runs))
        shared = _startup_runs(PYTHON, str(project), upstream, runs)
        if deployed is None:
            result.update(shared)
        result["bench_env"] = shared
        result["tools_list_cpu_ms"] = _tools_list_cpu(str(project), upstream, 40 if quick else 200)
    return result


def _tools_list_cpu(path: str, upstream: str, requests: int) -> float:
    """Server CPU per `tools/list` of the 740-tool package (one page, every tool), a JSON-RPC
    POST as an SDK client sends it, after a first one."""

    command, env, _, mcp = _large_served(PYTHON, path, upstream)
    body = {"jsonrpc": "2.0", "id": 1, "method": "tools/list"}
    headers = {
        "Accept": "application/json, text/event-stream",
        "MCP-Protocol-Version": "2025-11-25",
    }
    with (
        process(command, env, f"http://127.0.0.1:{mcp}/healthz") as served,
        httpx.Client(base_url=f"http://127.0.0.1:{mcp}", headers=headers, timeout=30) as client,
    ):
        assert len(client.post("/mcp", json=body).json()["result"]["tools"]) == 740
        before = cpu_seconds(served.pid)
        for _ in range(requests):
            client.post("/mcp", json=body).raise_for_status()
        return (cpu_seconds(served.pid) - before) / requests * 1000


def deployment_python() -> str | None:
    """A Python whose environment holds the runtime's requirements and nothing else (the
    runtime itself is put on the path, byte-compiled): made once per set of requirements under
    .cache/bench; None when it cannot be made (no package index reachable)."""
    import hashlib
    import tomllib

    meta = tomllib.loads((ROOT / "runtime" / "pyproject.toml").read_text())["project"]
    requirements = sorted(meta["dependencies"])
    key = hashlib.sha256("\n".join([sys.version, *requirements]).encode()).hexdigest()[:12]
    venv = ROOT / ".cache" / "bench" / f"deployed-{key}"
    python = venv / "bin" / "python"
    if not python.exists():
        try:
            subprocess.run([PYTHON, "-m", "venv", str(venv)], check=True, capture_output=True)
            subprocess.run(
                [str(python), "-m", "pip", "install", "-q", *requirements],
                check=True,
                capture_output=True,
                timeout=900,
            )
        except (subprocess.SubprocessError, OSError):
            shutil.rmtree(venv, ignore_errors=True)
            return None
    return str(python)


def _large_served(
    python: str, path: str, upstream: str
) -> tuple[list[str], dict[str, str], int, int]:
    """How the 740-operation package is served here: its command, environment (beside the
    process's own), REST port and MCP port."""
    rest, mcp = free_port(), free_port()
    env = {"CLOUDFLARE_API_KEY": "bench-key", "CLOUDFLARE_ACCOUNTS_BASE_URL": upstream}
    env["PYTHONPATH"] = path
    command = [python, "-m", "cloudflare_accounts", "serve", "--no-auth", "--log-level"]
    command += ["warning", "--rest-port", str(rest), "--mcp-port", str(mcp)]
    return command, env, rest, mcp


def _startup_runs(python: str, path: str, upstream: str, runs: int) -> dict[str, float]:
    times, peaks, ready, ready_peaks = [], [], [], []
    for _ in range(runs):
        command, env, rest, mcp = _large_served(python, path, upstream)
        started = time.perf_counter()
        proc = subprocess.Popen(
            command, env={**os.environ, **env}, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
        )
        try:
            wait_http(f"http://127.0.0.1:{rest}/v1/accounts", proc, ok_only=True, interval=0.005)
            times.append(time.perf_counter() - started)
            peaks.append(peak_rss_mb(proc.pid))
            # then until the MCP adapter (built once the first answer is out) answers too
            wait_http(f"http://127.0.0.1:{mcp}/healthz", proc, ok_only=True, interval=0.005)
            ready.append(time.perf_counter() - started)
            ready_peaks.append(peak_rss_mb(proc.pid))
        finally:
            proc.terminate()
            proc.wait(timeout=20)
    return {
        "first_answer_s": statistics.median(times),
        "peak_rss_mb": statistics.median(peaks),
        "all_ready_s": statistics.median(ready),
        "all_ready_rss_mb": statistics.median(ready_peaks),
    }
