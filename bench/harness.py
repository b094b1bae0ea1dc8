"""What every part of the bench shares: where things are, the token the generated service
wants, and how servers are started, waited for and measured."""

from __future__ import annotations

import os
import socket
import statistics
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import httpx

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


def cpu_seconds(pid: int) -> float:
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def peak_rss_mb(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    return float("nan")
