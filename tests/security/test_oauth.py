"""Exposes `oauth2`: callers' bearer JWTs are checked against a real (fake) authorization
server's published keys, on REST and MCP alike (SEMANTICS §6.7, §7.10)."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import time
from importlib import metadata
from typing import Any

import anyio
import capgen_runtime
import httpx
import jwt
import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa

from tests.support.fake_upstream import Answer, FakeUpstream, Recorded
from tests.support.packages import Built

SPEC = """
naftiko: 1.0.0-alpha2
info: {label: Guarded, description: oauth2 resource server}
binds:
- namespace: env
  keys: {ISSUER: ISSUER}
capability:
  consumes:
  - type: http
    namespace: api
    baseUri: https://api.example.com
    resources: [{name: items, path: /items, operations: [{name: list, method: GET}]}]
  exposes:
  - type: rest
    namespace: guarded
    port: 8080
    authentication: &oauth
      type: oauth2
      authorizationServerUri: '{{ISSUER}}'
      resource: https://guarded.example.com
      scopes: [items.read]
    resources:
    - path: /items
      operations: [{method: GET, call: api.list}]
  - type: mcp
    namespace: guarded-mcp
    port: 9090
    authentication: *oauth
    tools: [{name: list, call: api.list}]
"""

KEY = rsa.generate_private_key(public_exponent=65537, key_size=2048)
OTHER = rsa.generate_private_key(public_exponent=65537, key_size=2048)


def _jwks() -> dict[str, Any]:
    public = json.loads(jwt.algorithms.RSAAlgorithm.to_jwk(KEY.public_key()))
    return {"keys": [{**public, "kid": "k1", "use": "sig", "alg": "RS256"}]}


@pytest.fixture
def built(make, upstream: FakeUpstream) -> Built:  # type: ignore[no-untyped-def]
    issuer = f"{upstream.url}/as"
    result = make(SPEC, env={"ISSUER": issuer})

    def answer(request: Recorded) -> Answer:
        if request.path == "/as/.well-known/oauth-authorization-server":
            return Answer(200, {"issuer": issuer, "jwks_uri": f"{issuer}/jwks"})
        if request.path == "/as/jwks":
            return Answer(200, _jwks())
        return Answer(200, {"items": []})

    upstream.responder = answer
    return result


def token(built: Built, key: Any = KEY, **claims: Any) -> str:
    now = int(time.time())
    payload = {
        "iss": built.env["ISSUER"],
        "aud": "https://guarded.example.com",
        "exp": now + 60,
        "iat": now,
        "scope": "items.read other",
        **claims,
    }
    return jwt.encode(payload, key, algorithm="RS256", headers={"kid": "k1"})


def test_the_package_requires_pyjwt(built: Built) -> None:
    """Through the runtime's oauth2 extra, whose requirements name PyJWT."""
    major, minor = capgen_runtime.__version__.split(".")[:2]
    wanted = f'"capgen-runtime[oauth2]>={major}.{minor},<{int(major) + 1}",'
    assert wanted in (built.project / "pyproject.toml").read_text()
    requirements = [r.split(";") for r in metadata.requires("capgen-runtime") or []]
    extra = [r[0].strip() for r in requirements if len(r) == 2 and "oauth2" in r[1]]
    assert extra and all(r.startswith("pyjwt[crypto]") for r in extra)


def test_valid_tokens_pass_and_never_reach_the_upstream(built: Built) -> None:
    with built.rest(token=token(built)) as client:
        response = client.get("/items")
    assert response.status_code == 200
    (call,) = [r for r in built.upstream.requests if r.path == "/api/items"]
    assert "authorization" not in call.headers


def test_missing_or_bad_tokens_get_401_with_the_metadata_address(built: Built) -> None:
    bad = {
        "none": None,
        "expired": token(built, exp=int(time.time()) - 10),
        "other audience": token(built, aud="https://elsewhere.example.com"),
        "other issuer": token(built, iss="https://evil.example.com"),
        "other key": token(built, key=OTHER),
        "hs256 signed with the public key": _hs256_with_public_key(built),
        "not a jwt": "abc.def",
    }
    with built.rest(token=None) as client:
        for name, value in bad.items():
            headers = {"Authorization": f"Bearer {value}"} if value else {}
            response = client.get("/items", headers=headers)
            assert response.status_code == 401, name
            challenge = response.headers["www-authenticate"]
            assert 'resource_metadata="http://testserver/.well-known/oauth-protected-resource"' in (
                challenge
            ), name
            assert ('error="invalid_token"' in challenge) == (value is not None), name
        metadata = client.get("/.well-known/oauth-protected-resource").json()
        # RFC 9728 §3.1: the well-known URI of a resource with a path, as MCP clients ask it
        for_path = client.get("/.well-known/oauth-protected-resource/mcp").json()
    assert for_path == metadata
    assert metadata["resource"] == "https://guarded.example.com"
    assert metadata["authorization_servers"] == [built.env["ISSUER"]]


def _hs256_with_public_key(built: Built) -> str:
    """The algorithm-confusion forgery: an HMAC token keyed with the published RSA key."""
    public_pem = KEY.public_key().public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
    )
    claims = jwt.decode(token(built), options={"verify_signature": False})
    parts = [
        base64.urlsafe_b64encode(json.dumps(part).encode()).rstrip(b"=")
        for part in ({"alg": "HS256", "typ": "JWT", "kid": "k1"}, claims)
    ]
    signing_input = b".".join(parts)
    mac = hmac.new(public_pem, signing_input, hashlib.sha256).digest()
    return (signing_input + b"." + base64.urlsafe_b64encode(mac).rstrip(b"=")).decode()


def test_a_missing_scope_is_403(built: Built) -> None:
    with built.rest(token=token(built, scope="other")) as client:
        response = client.get("/items")
    assert response.status_code == 403
    assert 'error="insufficient_scope", scope="items.read"' in response.headers["www-authenticate"]


def test_the_mcp_adapter_checks_tokens_too(built: Built) -> None:
    app = __import__(f"{built.module.__name__}.mcp_server", fromlist=["create_app"]).create_app(
        built.service()
    )

    async def run() -> tuple[int, int]:
        transport = httpx.ASGITransport(app=app)
        async with (
            app.router.lifespan_context(app),
            httpx.AsyncClient(transport=transport, base_url="http://127.0.0.1:9090") as client,
        ):
            body = {"jsonrpc": "2.0", "id": 1, "method": "ping"}
            headers = {"Accept": "application/json, text/event-stream"}
            denied = await client.post("/mcp", json=body, headers=headers)
            signed = {**headers, "Authorization": f"Bearer {token(built)}"}
            allowed = await client.post("/mcp", json=body, headers=signed)
        return denied.status_code, allowed.status_code

    assert anyio.run(run) == (401, 200)
