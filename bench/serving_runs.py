"""The served package under load: the REST proxy path against the floors, streams, MCP calls."""

from __future__ import annotations

import json
import shutil
import statistics
import time
from collections.abc import Iterator
from importlib import metadata
from pathlib import Path
from typing import Any

import httpx

from bench.harness import (
    AUTHORIZATION,
    MODEL_PATH,
    PYTHON,
    ROOT,
    SEED,
    TOKEN,
    capgen,
    cpu_seconds,
    free_port,
    process,
)


def services(work: Path) -> Iterator[dict[str, Any]]:
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
            before = cpu_seconds(pid) if pid else 0.0
            sample = run_load(port, path, body, total, concurrency, headers=headers.get(name))
            assert sample.errors == 0, f"{name}: errors under load"
            sample.cpu_ms = (cpu_seconds(pid) - before) / sample.requests * 1000 if pid else None
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
            before = cpu_seconds(pid)
            sample = run_mcp_calls(url, tool, arguments, sessions, calls, token=TOKEN)
            assert sample.errors == 0, f"{name}: tool errors"
            sample.cpu_ms = (cpu_seconds(pid) - before) / sample.requests * 1000
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
