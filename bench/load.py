"""A small closed-loop HTTP/1.1 load generator on raw asyncio streams (keep-alive, no client
library overhead to speak of), plus an MCP call-rate driver using the SDK's own client."""

from __future__ import annotations

import asyncio
import statistics
import time
from dataclasses import dataclass


@dataclass
class LoadResult:
    requests: int
    seconds: float
    latencies: list[float]
    errors: int
    cpu_ms: float | None = None  # server CPU time per request, when measured

    @property
    def rps(self) -> float:
        return self.requests / self.seconds

    def percentile(self, p: float) -> float:
        ordered = sorted(self.latencies)
        return ordered[min(len(ordered) - 1, int(p / 100 * len(ordered)))]

    @property
    def p50(self) -> float:
        return statistics.median(self.latencies)


async def _worker(
    host: str, port: int, raw: bytes, count: int, latencies: list[float], errors: list[int]
) -> None:
    reader, writer = await asyncio.open_connection(host, port)
    try:
        for _ in range(count):
            started = time.perf_counter()
            writer.write(raw)
            await writer.drain()
            status_line = await reader.readline()
            length = 0
            while True:
                line = await reader.readline()
                if line in (b"\r\n", b"\n", b""):
                    break
                name, _, value = line.decode("latin-1").partition(":")
                if name.lower() == "content-length":
                    length = int(value.strip())
            await reader.readexactly(length)
            latencies.append(time.perf_counter() - started)
            if not status_line.startswith(b"HTTP/1.1 200"):
                errors.append(1)
    finally:
        writer.close()


def request_bytes(
    host: str, port: int, path: str, body: bytes, headers: dict[str, str] | None = None
) -> bytes:
    lines = [
        f"POST {path} HTTP/1.1",
        f"Host: {host}:{port}",
        "Content-Type: application/json",
        f"Content-Length: {len(body)}",
    ]
    lines += [f"{k}: {v}" for k, v in (headers or {}).items()]
    return ("\r\n".join(lines) + "\r\n\r\n").encode() + body


def run_load(
    port: int,
    path: str,
    body: bytes,
    total: int,
    concurrency: int,
    headers: dict[str, str] | None = None,
) -> LoadResult:
    raw = request_bytes("127.0.0.1", port, path, body, headers)
    latencies: list[float] = []
    errors: list[int] = []

    async def main() -> float:
        started = time.perf_counter()
        per = total // concurrency
        await asyncio.gather(
            *(_worker("127.0.0.1", port, raw, per, latencies, errors) for _ in range(concurrency))
        )
        return time.perf_counter() - started

    seconds = asyncio.run(main())
    return LoadResult(len(latencies), seconds, latencies, len(errors))


def run_mcp_calls(
    url: str, tool: str, arguments: dict, sessions: int, calls: int, token: str | None = None
) -> LoadResult:  # type: ignore[type-arg]
    import anyio
    import httpx2
    from mcp import Client
    from mcp.client.streamable_http import streamable_http_client

    latencies: list[float] = []
    errors: list[int] = []

    async def session() -> None:
        headers = {"Authorization": f"Bearer {token}"} if token else {}
        async with (
            httpx2.AsyncClient(headers=headers, timeout=60) as http,
            Client(streamable_http_client(url, http_client=http), mode="legacy") as client,
        ):
            for _ in range(calls):
                started = time.perf_counter()
                result = await client.call_tool(tool, arguments)
                latencies.append(time.perf_counter() - started)
                if result.is_error:
                    errors.append(1)

    async def main() -> float:
        started = time.perf_counter()
        async with anyio.create_task_group() as group:
            for _ in range(sessions):
                group.start_soon(session)
        return time.perf_counter() - started

    seconds = anyio.run(main)
    return LoadResult(len(latencies), seconds, latencies, len(errors))
