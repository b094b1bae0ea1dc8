"""Three replicas of the seed service behind HAProxy (round-robin, no stickiness): every REST
request and every MCP SDK session succeeds whichever replica answers each request, with
capgen's bearer token, digest and oauth2; and a rolling restart under load fails nothing."""

from __future__ import annotations

import json
import signal
import threading
import time
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from pathlib import Path
from typing import Any

import anyio
import httpx
import httpx2
import jwt
import pytest
from cryptography.hazmat.primitives.asymmetric import rsa
from mcp import Client
from mcp.client.streamable_http import streamable_http_client

from tests.deployment.cluster import (
    DIGEST_PASSWORD,
    DIGEST_USER,
    INBOUND_TOKEN,
    SLOW_SECONDS,
    STREAM_EVENTS,
    LoadBalancer,
    Package,
    Replica,
    WorkersAi,
    build_seed,
    posts_counted,
    requests_counted,
)

pytestmark = pytest.mark.integration
REPLICAS = 3
CHAT = "/v1/accounts/acct-7/ai/run/@cf/meta/llama-3.1-8b-instruct"
SLOW = "/v1/accounts/acct-7/ai/run/@cf/test/slow"
BODY = {"messages": [{"role": "user", "content": "hello"}]}
KEY = rsa.generate_private_key(public_exponent=65537, key_size=2048)


def _jwks() -> dict[str, Any]:
    public = json.loads(jwt.algorithms.RSAAlgorithm.to_jwk(KEY.public_key()))
    return {"keys": [{**public, "kid": "k1", "use": "sig", "alg": "RS256"}]}


def _jwt(issuer: str) -> str:
    now = int(time.time())
    claims = {
        "iss": issuer,
        "aud": "https://ai.example.com",
        "exp": now + 600,
        "iat": now,
        "scope": "ai.run",
    }
    return jwt.encode(claims, KEY, algorithm="RS256", headers={"kid": "k1"})


class Caller:
    """How a caller authenticates, for httpx (REST) and httpx2 (the MCP SDK's client)."""

    def __init__(self, kind: str, upstream: WorkersAi) -> None:
        self.kind = kind
        token = _jwt(f"{upstream.url}/as") if kind == "oauth2" else INBOUND_TOKEN
        self.headers = {} if kind == "digest" else {"Authorization": f"Bearer {token}"}

    def rest(self) -> httpx.Client:
        auth = httpx.DigestAuth(DIGEST_USER, DIGEST_PASSWORD) if self.kind == "digest" else None
        return httpx.Client(headers=self.headers, auth=auth, timeout=30)

    def mcp_http(self) -> httpx2.AsyncClient:
        auth = httpx2.DigestAuth(DIGEST_USER, DIGEST_PASSWORD) if self.kind == "digest" else None
        return httpx2.AsyncClient(headers=self.headers, auth=auth, timeout=30)


@contextmanager
def cluster(
    tmp_path: Path, kind: str, forwarded_proto: str | None = None
) -> Iterator[tuple[WorkersAi, Package, list[Replica], LoadBalancer]]:
    with ExitStack() as stack:
        upstream = stack.enter_context(WorkersAi(jwks=_jwks()))
        package = build_seed(tmp_path, f"seed_{kind}", upstream, kind)
        if kind == "digest":  # what makes a nonce from one replica good at the next
            package.env[f"{package.prefix}_DIGEST_SECRET"] = "shared-nonce-secret-0b9e"
        replicas = [Replica(package) for _ in range(REPLICAS)]
        for replica in replicas:
            stack.callback(replica.close)
            replica.start()
        for replica in replicas:
            replica.wait_ready()
        balancer = stack.enter_context(
            LoadBalancer([r.port for r in replicas], tmp_path, forwarded_proto)
        )
        yield upstream, package, replicas, balancer


async def _mcp_session(url: str, caller: Caller) -> str:
    """initialize, tools/list, tools/call: each a separate POST, so a different replica."""
    async with (
        caller.mcp_http() as http,
        Client(streamable_http_client(url, http_client=http), mode="legacy") as client,
    ):
        tools = await client.list_tools()
        (tool,) = tools.tools
        result = await client.call_tool(
            tool.name,
            {
                "account_id": "acct-7",
                "model": "@cf/meta/llama-3.1-8b-instruct",
                "body": BODY,
            },
        )
        assert not result.is_error, result
        return json.dumps(result.structured_content)


@pytest.mark.parametrize("kind", ["bearer", "digest", "oauth2"])
def test_every_call_succeeds_whichever_replica_answers(tmp_path: Path, kind: str) -> None:
    with cluster(tmp_path, kind) as (upstream, _, replicas, balancer):
        caller = Caller(kind, upstream)
        statuses = []
        with caller.rest() as client:
            for _ in range(30):
                response = client.post(f"{balancer.url}{CHAT}", json=BODY)
                statuses.append(response.status_code)
                assert response.json()["result"]["response"] == "answer for acct-7", response.text
        assert statuses == [200] * 30
        for _ in range(4):
            assert "answer for acct-7" in anyio.run(_mcp_session, f"{balancer.url}/mcp", caller)
        # round-robin really spread the calls: each replica counted some of them itself
        scrape = caller.headers if kind != "digest" else None
        with caller.rest() as client:
            counts = [_counted(client, r, scrape) for r in replicas]
        assert all(count > 0 for count in counts), counts
        assert sum(counts) == 30
        assert upstream.refused == 0 and upstream.calls == 30 + 4


def _counted(client: httpx.Client, replica: Replica, headers: dict[str, str] | None) -> float:
    if headers is not None:
        return requests_counted(replica.url, headers)
    return posts_counted(client.get(f"{replica.url}/metrics").text)  # digest: the client answers


def test_digest_nonces_from_one_replica_are_refused_by_another_without_the_shared_secret(
    tmp_path: Path,
) -> None:
    """Why the digest cluster above needs `_DIGEST_SECRET`: a challenge from A answered at B."""
    with WorkersAi() as upstream:
        package = build_seed(tmp_path, "seed_digest_alone", upstream, "digest")
        results = {}
        for shared in (False, True):
            extra = {f"{package.prefix}_DIGEST_SECRET": "s3cr3t-nonce-key"} if shared else {}
            a, b = Replica(package, **extra).start(), Replica(package, **extra).start()
            try:
                a.wait_ready(), b.wait_ready()
                results[shared] = _answer_challenge_elsewhere(a, b)
            finally:
                a.close(), b.close()
        assert results == {False: 401, True: 200}


def _answer_challenge_elsewhere(a: Replica, b: Replica) -> int:
    challenge = httpx.post(f"{a.url}{CHAT}", json=BODY)
    assert challenge.status_code == 401
    request = httpx.Request("POST", f"{b.url}{CHAT}", json=BODY)
    flow = httpx.DigestAuth(DIGEST_USER, DIGEST_PASSWORD).auth_flow(request)
    next(flow)
    signed = flow.send(challenge)  # what httpx sends after A's challenge, sent to B instead
    return httpx.Client().send(signed).status_code


def test_forwarded_proto_counts_from_the_trusted_balancer_only(tmp_path: Path) -> None:
    """HAProxy terminates TLS in production and says so in X-Forwarded-Proto; the oauth2
    challenge then names the https metadata address. From an untrusted peer it does not."""
    with cluster(tmp_path, "oauth2", forwarded_proto="https") as (_, package, replicas, lb):
        through = httpx.post(f"{lb.url}{CHAT}", json=BODY)
        direct = httpx.post(
            f"{replicas[0].url}{CHAT}", json=BODY, headers={"X-Forwarded-Proto": "https"}
        )
        untrusted = Replica(package, **{f"{package.prefix}_TRUSTED_PROXIES": "10.1.2.3"}).start()
        try:
            untrusted.wait_ready()
            refused = httpx.post(
                f"{untrusted.url}{CHAT}", json=BODY, headers={"X-Forwarded-Proto": "https"}
            )
        finally:
            untrusted.close()
    for response in (through, direct):  # the balancer and a local peer are trusted (127.0.0.1)
        assert response.status_code == 401
        assert 'resource_metadata="https://' in response.headers["www-authenticate"]
    assert refused.status_code == 401
    assert 'resource_metadata="http://127.0.0.1' in refused.headers["www-authenticate"]


class Load:
    """Callers through the balancer until stopped: REST in two threads, MCP sessions in one."""

    def __init__(self, url: str, caller: Caller) -> None:
        self.url, self.caller = url, caller
        self.ok = 0
        self.failures: list[str] = []
        self.lock = threading.Lock()
        self.stopping = threading.Event()
        self.threads = [threading.Thread(target=self._rest) for _ in range(2)]
        self.threads.append(threading.Thread(target=self._mcp))

    def _count(self, failure: str | None) -> None:
        with self.lock:
            if failure is None:
                self.ok += 1
            else:
                self.failures.append(failure)

    def _rest(self) -> None:
        with self.caller.rest() as client:
            while not self.stopping.is_set():
                try:
                    response = client.post(f"{self.url}{CHAT}", json=BODY)
                    ok = response.status_code == 200 and "answer" in response.text
                    self._count(None if ok else f"REST {response.status_code} {response.text[:80]}")
                except httpx.HTTPError as exc:
                    self._count(f"REST {type(exc).__name__}")

    def _mcp(self) -> None:
        while not self.stopping.is_set():
            try:
                anyio.run(_mcp_session, f"{self.url}/mcp", self.caller)
                self._count(None)
            except Exception as exc:  # every failure is counted and reported
                self._count(f"MCP {type(exc).__name__}: {exc}")

    def __enter__(self) -> Load:
        for thread in self.threads:
            thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.stopping.set()
        for thread in self.threads:
            thread.join(60)


class InFlight:
    """A slow request and a stream sent straight to one replica, timed."""

    def __init__(self, replica: Replica, caller: Caller) -> None:
        self.results: dict[str, Any] = {}
        self.started = threading.Barrier(3)
        self.threads = [
            threading.Thread(target=self._slow, args=(replica, caller)),
            threading.Thread(target=self._stream, args=(replica, caller)),
        ]
        for thread in self.threads:
            thread.start()
        self.started.wait()
        time.sleep(0.3)  # both are at the upstream now

    def _slow(self, replica: Replica, caller: Caller) -> None:
        with caller.rest() as client:
            self.started.wait()
            response = client.post(f"{replica.url}{SLOW}", json=BODY)
            self.results["slow"] = (response.status_code, time.monotonic())

    def _stream(self, replica: Replica, caller: Caller) -> None:
        events = 0
        with caller.rest() as client:
            self.started.wait()
            body = {**BODY, "stream": True}
            with client.stream("POST", f"{replica.url}{CHAT}", json=body) as response:
                for line in response.iter_lines():
                    events += line.startswith("data: {")
                self.results["stream"] = (response.status_code, events, time.monotonic())

    def join(self) -> None:
        for thread in self.threads:
            thread.join(60)


def test_rolling_restart_under_load_fails_no_request(tmp_path: Path) -> None:
    with cluster(tmp_path, "bearer") as (upstream, package, replicas, balancer):
        caller = Caller("bearer", upstream)
        timelines = []
        with Load(balancer.url, caller) as load:
            time.sleep(1.0)
            for index, replica in enumerate(replicas):
                inflight = InFlight(replica, caller)
                stopped_at = time.monotonic()
                replica.signal(signal.SIGTERM)
                timeline = _watch_drain(replica, stopped_at)
                assert replica.wait(timeout=30) == 0, replica.output()
                timeline["exited"] = time.monotonic() - stopped_at
                inflight.join()
                slow_status, slow_done = inflight.results["slow"]
                stream_status, events, stream_done = inflight.results["stream"]
                assert slow_status == 200 and stream_status == 200
                assert events == STREAM_EVENTS  # every event of the stream arrived
                timeline["slow request done"] = slow_done - stopped_at
                timeline["stream done"] = stream_done - stopped_at
                timelines.append(timeline)
                replicas[index] = Replica(package, replica.port).start().wait_ready()
                replica.close()
                time.sleep(1.0)  # the balancer's checks see it up again (rise 2 x 200 ms)
        print(f"rolling restart: {load.ok} calls, {len(load.failures)} failed, {REPLICAS} replicas")
        for timeline in timelines:
            print(
                "  drain (s after SIGTERM): "
                + ", ".join(f"{k} {v:.2f}" for k, v in timeline.items())
            )
        assert load.failures == [], load.failures[:5]
        assert load.ok > 50
        for timeline in timelines:
            # 503 first, then the listener closed, then the in-flight calls finished, then exit
            assert timeline["readyz 503"] < 0.5
            assert timeline["readyz 503"] < timeline["refusing connections"]
            assert timeline["refusing connections"] >= 1.4  # the grace (1.5 s) was kept
            assert timeline["slow request done"] >= SLOW_SECONDS - 0.5
            assert timeline["exited"] >= max(timeline["slow request done"], timeline["stream done"])


def _watch_drain(replica: Replica, stopped_at: float) -> dict[str, float]:
    """When /readyz turned 503, and when the port began refusing connections."""
    timeline: dict[str, float] = {}
    while "refusing connections" not in timeline and time.monotonic() - stopped_at < 20:
        try:
            status = httpx.get(f"{replica.url}/readyz", timeout=1).status_code
            if status == 503:
                timeline.setdefault("readyz 503", time.monotonic() - stopped_at)
            else:
                assert "readyz 503" not in timeline, "ready again while draining"
        except (httpx.ConnectError, httpx.RemoteProtocolError):
            # refused, or accepted just as the listener closed and then closed with the other
            # connections that had sent nothing yet: either way the port has stopped serving
            # (a close during the grace would be recorded too early and fail below)
            timeline["refusing connections"] = time.monotonic() - stopped_at
        time.sleep(0.02)
    assert set(timeline) == {"readyz 503", "refusing connections"}, timeline
    return timeline
