"""Run a generated package's `serve` command as a real process on free loopback ports."""

from __future__ import annotations

import contextlib
import os
import signal
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Self

import httpx


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


class RunningService:
    def __init__(
        self,
        project: Path | None,
        module: str,
        env: dict[str, str],
        args: list[str],
        python: str = sys.executable,
    ) -> None:
        """`project` goes on PYTHONPATH; None when the package is installed in `python`'s env."""
        self.rest_port = free_port()
        self.mcp_port = free_port()
        handle, name = tempfile.mkstemp(prefix=f"{module}-", suffix=".log")
        os.close(handle)
        self.log_path = Path(name)  # outside the project: tests never write into generated/
        command = [
            python,
            "-m",
            module,
            "serve",
            "--rest-port",
            str(self.rest_port),
            "--mcp-port",
            str(self.mcp_port),
            *args,
        ]
        full_env = {**os.environ, **({"PYTHONPATH": str(project)} if project else {}), **env}
        self.log = open(self.log_path, "wb")  # noqa: SIM115 - closed in stop()
        self.process = subprocess.Popen(  # its own process group: ended as one in stop()
            command, env=full_env, stdout=self.log, stderr=subprocess.STDOUT, start_new_session=True
        )

    @property
    def rest_url(self) -> str:
        return f"http://127.0.0.1:{self.rest_port}"

    @property
    def mcp_url(self) -> str:
        return f"http://127.0.0.1:{self.mcp_port}/mcp"

    def wait_ready(self, timeout: float = 20.0, rest: bool = True) -> None:
        """Until the adapters answer /healthz (MCP only, when the spec exposes no REST)."""
        deadline = time.monotonic() + timeout
        urls = [f"{self.rest_url}/healthz"] if rest else []
        for url in (*urls, f"http://127.0.0.1:{self.mcp_port}/healthz"):
            left = max(deadline - time.monotonic(), 0.1)
            wait_ready(url, lambda: self.process.poll() is None, self.output, left)

    def output(self) -> str:
        self.log.flush()
        return self.log_path.read_text(errors="replace")

    def stop(self) -> int:
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGINT)  # SIGTERM would wait out the drain grace
            try:
                self.process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                kill_group(self.process)
        self.log.close()
        self.log_path.unlink(missing_ok=True)
        return self.process.returncode


def kill_group(process: subprocess.Popen[bytes]) -> None:
    """SIGKILL to the process group `process` leads (started with `start_new_session`)."""
    with contextlib.suppress(ProcessLookupError):
        os.killpg(process.pid, signal.SIGKILL)
    process.wait()


def raw_request(
    port: int, method: str, target: str, body: bytes = b"", headers: dict[str, str] | None = None
) -> tuple[int, str]:
    """Send a request exactly as written (clients normalise `..`); returns (status, body text)."""
    lines = [
        f"{method} {target} HTTP/1.1",
        f"Host: 127.0.0.1:{port}",
        "Connection: close",
        f"Content-Length: {len(body)}",
    ]
    given = headers or {"Authorization": "Bearer test-inbound-token-7f3a"}
    if body and not any(k.lower() == "content-type" for k in given):
        lines.append("Content-Type: application/json")
    lines += [f"{k}: {v}" for k, v in given.items()]
    with socket.create_connection(("127.0.0.1", port), timeout=10) as sock:
        sock.sendall(("\r\n".join(lines) + "\r\n\r\n").encode() + body)
        data = b""
        while chunk := sock.recv(65536):
            data += chunk
    head, _, rest = data.partition(b"\r\n\r\n")
    status = int(head.split(b" ", 2)[1])
    return status, rest.decode("utf-8", errors="replace")


class ThreadedServer:
    """An ASGI app under uvicorn on a free loopback port, in a background thread."""

    def __init__(self, app: object) -> None:
        import threading

        import uvicorn

        self.port = free_port()
        config = uvicorn.Config(app, port=self.port, log_level="error")  # type: ignore[arg-type]
        self.server = uvicorn.Server(config)
        self.thread = threading.Thread(target=self.server.run, daemon=True)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self) -> None:
        self.thread.start()
        while not self.server.started:
            time.sleep(0.01)

    def stop(self) -> None:
        self.server.should_exit = True
        self.thread.join(5)

    def __enter__(self) -> Self:
        self.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()


def wait_ready(
    url: str, alive: Callable[[], bool], describe: Callable[[], str], timeout: float = 30
) -> None:
    """Until `url` answers 200; fails with `describe()` if `alive()` turns false or time runs out."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if not alive():
            raise RuntimeError(f"exited early:\n{describe()}")
        try:
            if httpx.get(url, timeout=1).status_code == 200:
                return
        except httpx.TransportError:
            pass
        time.sleep(0.05)
    raise RuntimeError(f"not ready:\n{describe()}")
