"""What a client can make the served package hold: request heads, idle connections, stalled
bodies; and what the lower layers answer on their own (issue 21, findings 2, 4 and 11).

Raw sockets only: an HTTP client would refuse to send these requests, or send them whole. The
seed package runs as `serve` runs it (uvicorn, uvloop, httptools), with every port open: REST,
MCP and a metrics port of its own.
"""

from __future__ import annotations

import contextlib
import json
import socket
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from tests.conftest import INBOUND_TOKEN, SEED_MODULE, SEED_PROJECT, seed_env
from tests.support.fake_upstream import FakeUpstream
from tests.support.service import RunningService, free_port

pytestmark = pytest.mark.integration

HEAD_TIMEOUT, BODY_TIMEOUT = 1.0, 1.0  # the defaults are 5 and 10 seconds: tests/unit
MODEL = "@cf/meta/llama-3.1-8b-instruct"
CHAT = f"/v1/accounts/a/ai/run/{MODEL}"


class Served(RunningService):
    """The seed's `serve` with short read timeouts and a metrics port of its own."""

    def __init__(self, upstream_url: str) -> None:
        self.metrics_port = free_port()
        env = {
            **seed_env(upstream_url),
            "WORKERS_AI_AI_INFERENCE_HEAD_TIMEOUT": str(HEAD_TIMEOUT),
            "WORKERS_AI_AI_INFERENCE_BODY_TIMEOUT": str(BODY_TIMEOUT),
            "WORKERS_AI_AI_INFERENCE_METRICS_PORT": str(self.metrics_port),
        }
        super().__init__(SEED_PROJECT, SEED_MODULE, env, [])


@pytest.fixture(scope="module")
def served(fake_upstream_server: FakeUpstream) -> Iterator[Served]:
    service = Served(fake_upstream_server.url)
    try:
        service.wait_ready()
        yield service
    finally:
        service.stop()


def ports(service: Served) -> dict[str, int]:
    return {"rest": service.rest_port, "mcp": service.mcp_port, "metrics": service.metrics_port}


def exchange(port: int, data: bytes, *, wait: float = 10.0) -> tuple[bytes, float]:
    """Send `data` (as much as the server reads), then read until the server closes."""
    started = time.monotonic()
    with socket.create_connection(("127.0.0.1", port), timeout=wait) as sock:
        with contextlib.suppress(OSError):  # the server answered and closed before reading all
            sock.sendall(data)
        return _read_all(sock), time.monotonic() - started


def _read_all(sock: socket.socket) -> bytes:
    received = b""
    try:
        while chunk := sock.recv(65536):
            received += chunk
    except ConnectionResetError:
        pass
    return received


def status_and_problem(answer: bytes) -> tuple[int, dict[str, object]]:
    head, _, body = answer.partition(b"\r\n\r\n")
    lines = head.decode("latin-1").split("\r\n")
    headers = {k.lower(): v for k, v in (line.split(": ", 1) for line in lines[1:])}
    assert headers["content-type"] == "application/problem+json", head
    if headers.get("transfer-encoding") == "chunked":
        body = _dechunked(body)
    return int(lines[0].split()[1]), json.loads(body)


def _dechunked(data: bytes) -> bytes:
    out = b""
    while True:
        size, _, data = data.partition(b"\r\n")
        if int(size, 16) == 0:
            return out
        out, data = out + data[: int(size, 16)], data[int(size, 16) + 2 :]


def request(target: str = "/healthz", *headers: str, host: str = "127.0.0.1") -> bytes:
    return "\r\n".join([f"GET {target} HTTP/1.1", f"Host: {host}", *headers, "", ""]).encode()


def post_head(path: str, length: int) -> bytes:
    """The head of an authenticated JSON POST that announces `length` bytes of body."""
    return (
        f"POST {path} HTTP/1.1\r\nHost: 127.0.0.1\r\nAuthorization: Bearer {INBOUND_TOKEN}\r\n"
        "Content-Type: application/json\r\nAccept: application/json, text/event-stream\r\n"
        f"Content-Length: {length}\r\n\r\n"
    ).encode()


def rss_kib(pid: int) -> int:
    status = Path(f"/proc/{pid}/status").read_text()
    return int(next(x for x in status.splitlines() if x.startswith("VmRSS:")).split()[1])


@pytest.mark.parametrize("port", ["rest", "mcp", "metrics"])
def test_an_oversized_header_is_431_on_every_port(served: Served, port: str) -> None:
    answer, elapsed = exchange(
        ports(served)[port], request("/healthz", "X-Big: " + "a" * 8_000_000)
    )
    status, problem = status_and_problem(answer)
    assert status == 431 and problem["status"] == 431 and elapsed < 5


@pytest.mark.parametrize("port", ["rest", "mcp", "metrics"])
def test_too_many_headers_are_431_on_every_port(served: Served, port: str) -> None:
    many = [f"X-H{i}: 1" for i in range(10_000)]
    assert (
        status_and_problem(exchange(ports(served)[port], request("/healthz", *many))[0])[0] == 431
    )
    # 100 fields (Host and 99 more) are served; 101 are not
    fine = exchange(ports(served)[port], request("/healthz", *many[:98], "Connection: close"))[0]
    assert fine.startswith(b"HTTP/1.1 200 ") or fine.startswith(b"HTTP/1.1 404 "), fine[:80]
    over = exchange(ports(served)[port], request("/healthz", *many[:100]))[0]
    assert status_and_problem(over)[0] == 431


def test_the_head_bound_counts_request_line_and_fields_together(served: Served) -> None:
    """64 KiB in all: a long target and long fields add up, whatever the chunking."""
    target = "/healthz?q=" + "a" * 40_000
    within = exchange(
        served.rest_port, request(target, "X-A: " + "b" * 20_000, "Connection: close")
    )
    assert within[0].startswith(b"HTTP/1.1 200 "), within[0][:80]
    over = exchange(served.rest_port, request(target, "X-A: " + "b" * 30_000))[0]
    assert status_and_problem(over)[0] == 431


def test_a_huge_head_costs_no_memory_and_does_not_stall_other_callers(served: Served) -> None:
    """The issue's attack: one connection sending a 256 MiB header. It is cut off after
    64 KiB, while /healthz on another connection answers as usual."""
    before = rss_kib(served.process.pid)
    timings: list[float] = []

    def probe() -> None:
        for _ in range(10):
            started = time.monotonic()
            assert httpx.get(f"{served.rest_url}/healthz", timeout=5).status_code == 200
            timings.append(time.monotonic() - started)

    prober = threading.Thread(target=probe)
    prober.start()
    with socket.create_connection(("127.0.0.1", served.rest_port), timeout=10) as sock:
        sock.sendall(b"GET /healthz HTTP/1.1\r\nHost: x\r\nX-Big: ")
        sent = 0
        try:
            while sent < 256 * 1024 * 1024:
                sock.sendall(b"a" * 1024 * 1024)
                sent += 1024 * 1024
        except OSError:
            pass
        answer = _read_all(sock)
    prober.join()
    assert status_and_problem(answer)[0] == 431
    assert sent < 16 * 1024 * 1024, f"the server read {sent} bytes of one head"
    assert rss_kib(served.process.pid) - before < 20 * 1024
    assert max(timings) < 1.0, timings


@pytest.mark.parametrize("port", ["rest", "mcp", "metrics"])
def test_an_idle_connection_is_closed_after_the_head_timeout(served: Served, port: str) -> None:
    answer, elapsed = exchange(ports(served)[port], b"", wait=HEAD_TIMEOUT + 10)
    assert answer == b"" and HEAD_TIMEOUT * 0.8 <= elapsed < HEAD_TIMEOUT + 2


def test_a_head_sent_a_byte_at_a_time_is_not_waited_for(served: Served) -> None:
    """Each byte would reset a read timeout; the head has one deadline as a whole."""
    started = time.monotonic()
    with socket.create_connection(("127.0.0.1", served.rest_port), timeout=10) as sock:
        try:
            for byte in request("/healthz", "X-Slow: " + "a" * 50):
                sock.send(bytes([byte]))
                time.sleep(0.1)
        except OSError:
            pass
        answer = _read_all(sock)
    assert status_and_problem(answer)[0] == 408
    assert time.monotonic() - started < HEAD_TIMEOUT + 2


def test_a_kept_alive_connection_gets_the_same_deadline_for_its_next_head(served: Served) -> None:
    with socket.create_connection(("127.0.0.1", served.rest_port), timeout=10) as sock:
        sock.sendall(request("/healthz"))
        first = sock.recv(65536)
        assert first.startswith(b"HTTP/1.1 200 ")
        started = time.monotonic()
        sock.sendall(b"GET /healthz HTTP/1.1\r\n")  # half a head, then nothing
        answer = _read_all(sock)
    assert status_and_problem(answer)[0] == 408
    assert time.monotonic() - started < HEAD_TIMEOUT + 2


def test_many_idle_connections_are_all_closed(served: Served) -> None:
    """The issue's 1,007 idle connections exhausted 1,024 descriptors: they no longer last."""
    sockets = [socket.create_connection(("127.0.0.1", served.rest_port)) for _ in range(300)]
    try:
        time.sleep(HEAD_TIMEOUT + 1)
        for sock in sockets:
            sock.settimeout(5)
            assert _read_all(sock) == b""
        assert httpx.get(f"{served.rest_url}/healthz", timeout=5).status_code == 200
    finally:
        for sock in sockets:
            sock.close()


@pytest.mark.parametrize(("port", "path"), [("rest", CHAT), ("mcp", "/mcp")])
def test_a_stalled_body_is_ended(
    served: Served, upstream: FakeUpstream, port: str, path: str
) -> None:
    head = post_head(path, 100)
    answer, elapsed = exchange(ports(served)[port], head + b'{"prompt": "', wait=30)
    assert status_and_problem(answer)[0] == 408
    assert BODY_TIMEOUT * 0.8 <= elapsed < BODY_TIMEOUT + 3
    assert upstream.requests == []


@pytest.mark.parametrize(("port", "path"), [("rest", CHAT), ("mcp", "/mcp")])
def test_a_declared_body_over_the_limit_is_413_at_once(
    served: Served, upstream: FakeUpstream, port: str, path: str
) -> None:
    with socket.create_connection(("127.0.0.1", ports(served)[port]), timeout=10) as sock:
        started = time.monotonic()
        sock.sendall(post_head(path, 10_000_000_000))
        answer = sock.recv(65536)
        elapsed = time.monotonic() - started
        answer += _read_all(sock)
    status, problem = status_and_problem(answer)
    assert status == 413 and "larger than" in str(problem["detail"]) and elapsed < 1
    assert upstream.requests == []


@pytest.mark.parametrize("port", ["rest", "mcp", "metrics"])
def test_what_is_not_http_gets_a_problem(served: Served, port: str) -> None:
    answer, _ = exchange(ports(served)[port], b"NOT HTTP AT ALL\r\n\r\n")
    assert status_and_problem(answer)[0] == 400


@pytest.mark.parametrize(
    ("port", "method", "path", "status"),
    [
        ("mcp", "GET", "/nowhere", 404),
        ("mcp", "GET", "/mcp", 405),
        ("metrics", "GET", "/nowhere", 404),
        ("metrics", "POST", "/metrics", 405),
        ("rest", "GET", "/nowhere", 404),
    ],
)
def test_the_frameworks_own_answers_are_problems(
    served: Served, port: str, method: str, path: str, status: int
) -> None:
    response = httpx.request(
        method,
        f"http://127.0.0.1:{ports(served)[port]}{path}",
        headers={"Authorization": f"Bearer {INBOUND_TOKEN}"},
    )
    assert response.status_code == status
    assert response.headers["content-type"] == "application/problem+json"
    assert response.json()["status"] == status


def test_the_limits_raise_the_descriptor_limit_it_can(served: Served) -> None:
    """Idle connections are closed early; the descriptors they may hold meanwhile are as many
    as the hard limit allows, not the usual soft 1,024."""
    limits = Path(f"/proc/{served.process.pid}/limits").read_text()
    line = next(x for x in limits.splitlines() if x.startswith("Max open files"))
    soft, hard = line.split()[3:5]
    assert soft == hard or int(soft) >= 65536, line
