"""Upstream answers that expand: compressed bombs and self-multiplying documents (issue 21,
findings 5 and 6).

A gzip bomb is inflated a bounded piece at a time, so the size limit stops it before the
memory goes; a YAML alias bomb, an XML entity bomb and a CSV that multiplies its header are
refused against the budget the spec loader uses (values per byte of body), before they are
built.
"""

from __future__ import annotations

import asyncio
import gzip
import json
import time
import zlib
from pathlib import Path

import anyio
import httpx
import pytest

from tests.conftest import INBOUND_TOKEN
from tests.support.fake_upstream import Answer, FakeUpstream
from tests.support.packages import Built
from tests.support.service import RunningService

MODEL = "@cf/meta/llama-3.1-8b-instruct"
GIB = 1 << 30


@pytest.fixture(scope="module")
def gzip_bomb() -> bytes:
    """1 GiB of zeros as about 1 MB of gzip."""
    packer = zlib.compressobj(9, zlib.DEFLATED, 31, 9, zlib.Z_RLE)
    zeros = bytes(1 << 20)
    return b"".join([*(packer.compress(zeros) for _ in range(GIB >> 20)), packer.flush()])


def _status(pid: int, field: str) -> int:
    text = Path(f"/proc/{pid}/status").read_text()
    return int(next(x for x in text.splitlines() if x.startswith(field)).split()[1])


def peak_growth_mib(pid: int, run: object) -> float:
    """How far the process's resident memory rose above where it was while `run()` ran."""
    Path(f"/proc/{pid}/clear_refs").write_text("5")  # resets the peak (VmHWM) to the current
    before = _status(pid, "VmRSS:")
    run()  # type: ignore[operator]
    return (_status(pid, "VmHWM:") - before) / 1024


@pytest.mark.integration
def test_eight_concurrent_gzip_bombs_stay_within_the_size_limit(
    seed_service: RunningService, upstream: FakeUpstream, gzip_bomb: bytes
) -> None:
    assert len(gzip_bomb) < 1_100_000
    upstream.responder = lambda request: Answer(
        200, gzip_bomb, {"content-encoding": "gzip", "content-type": "application/json"}
    )
    answers: list[httpx.Response] = []

    async def eight() -> None:
        async with httpx.AsyncClient(
            timeout=60, headers={"Authorization": f"Bearer {INBOUND_TOKEN}"}
        ) as client:
            url = f"{seed_service.rest_url}/v1/accounts/a/ai/run/{MODEL}"
            answers.extend(
                await asyncio.gather(*(client.post(url, json={"n": i}) for i in range(8)))
            )

    growth = peak_growth_mib(seed_service.process.pid, lambda: asyncio.run(eight()))
    assert [a.status_code for a in answers] == [502] * 8
    assert all("over 16777216 bytes" in a.json()["detail"] for a in answers)
    # each request holds at most the 16 MiB limit and a 64 KiB piece (before: 580 MiB)
    assert growth < 8 * 16 + 64, f"peak RSS rose by {growth:.0f} MiB"


@pytest.mark.integration
def test_a_compressed_answer_within_the_limit_is_decoded(
    seed_service: RunningService, upstream: FakeUpstream
) -> None:
    body = b'{"result": {"response": "' + b"z" * 200_000 + b'"}, "success": true}'
    for encoding, packed in (
        ("gzip", gzip.compress(body)),
        ("deflate", zlib.compress(body)),
        ("gzip, gzip", gzip.compress(gzip.compress(body))),
    ):
        upstream.responder = lambda request, e=encoding, p=packed: Answer(
            200, p, {"content-encoding": e, "content-type": "application/json"}
        )
        response = httpx.post(
            f"{seed_service.rest_url}/v1/accounts/a/ai/run/{MODEL}",
            json={},
            headers={"Authorization": f"Bearer {INBOUND_TOKEN}"},
        )
        assert response.status_code == 200 and response.json() == json.loads(body), encoding
    assert upstream.requests[-1].headers["accept-encoding"] == "gzip, deflate"


@pytest.mark.integration
def test_an_encoding_that_cannot_be_bounded_is_refused(
    seed_service: RunningService, upstream: FakeUpstream
) -> None:
    upstream.responder = lambda request: Answer(
        200, b"\x1b\x00\x00", {"content-encoding": "br", "content-type": "application/json"}
    )
    response = httpx.post(
        f"{seed_service.rest_url}/v1/accounts/a/ai/run/{MODEL}",
        json={},
        headers={"Authorization": f"Bearer {INBOUND_TOKEN}"},
    )
    assert response.status_code == 502 and "content encoding" in response.json()["detail"]


YAML_SPEC = """
naftiko: 1.0.0-alpha2
info: {label: Documents, description: upstream documents of other formats}
capability:
  consumes:
  - type: http
    namespace: api
    baseUri: https://api.example.com
    resources:
    - name: docs
      path: /docs
      operations:
      - name: get
        method: GET
        outputRawFormat: FORMAT
        outputParameters: [{name: items, type: array, mapping: $.a}]
  exposes:
  - type: rest
    namespace: rest
    port: 8080
    resources:
    - path: /things
      operations:
      - method: GET
        call: api.get
        outputParameters: [{name: items, type: array, mapping: $.a}]
"""


def _alias_bomb(levels: int = 9) -> bytes:
    lines = ['l0: &l0 ["lol","lol","lol","lol","lol","lol","lol","lol","lol"]']
    for n in range(1, levels):
        lines.append(f"l{n}: &l{n} [" + ",".join([f"*l{n - 1}"] * 9) + "]")
    lines.append(f"a: [*l{levels - 1}]")
    return "\n".join(lines).encode()


def _laughs(levels: int = 9) -> bytes:
    entities = ['<!ENTITY l0 "lol">']
    entities += [f'<!ENTITY l{n} "{f"&l{n - 1};" * 10}">' for n in range(1, levels)]
    return f"<!DOCTYPE r [{''.join(entities)}]><r><a>&l{levels - 1};</a></r>".encode()


@pytest.mark.parametrize(
    ("fmt", "body"),
    [
        ("yaml", _alias_bomb()),
        ("yaml", b"a: &a [*a]"),
        ("xml", b"<?xml version='1.0'?>" + _laughs()),
        ("csv", b",".join(b"c%d" % i for i in range(5000)) + b"\n" + b"x\n" * 200_000),
    ],
)
def test_a_self_multiplying_document_is_refused_before_it_is_built(
    make, fmt: str, body: bytes
) -> None:  # type: ignore[no-untyped-def]
    built: Built = make(YAML_SPEC.replace("FORMAT", fmt))
    built.upstream.responder = lambda request: Answer(200, body, {"content-type": "text/plain"})
    started = time.perf_counter()
    with built.rest() as client:
        response = client.get("/things")
    assert response.status_code == 502 and f"not valid {fmt}" in response.json()["detail"]
    assert time.perf_counter() - started < 5


def test_an_ordinary_yaml_document_is_still_read(make) -> None:  # type: ignore[no-untyped-def]
    built: Built = make(YAML_SPEC.replace("FORMAT", "yaml"))
    body = b"shared: &s {k: v}\na: [*s, *s, {k: w}]\n"
    built.upstream.responder = lambda request: Answer(200, body, {"content-type": "text/yaml"})
    with built.rest() as client:
        response = client.get("/things")
    assert response.status_code == 200
    assert response.json() == [{"k": "v"}, {"k": "v"}, {"k": "w"}]


@pytest.mark.parametrize("levels", [150, 300, 990, 100_000])
def test_an_upstream_answer_nested_past_what_can_be_followed_is_no_crash(
    make, levels: int
) -> None:  # type: ignore[no-untyped-def]
    from tests.security.test_faults import SPEC

    built: Built = make(SPEC)
    body = b"[" * levels + b"]" * levels
    built.upstream.responder = lambda request: Answer(
        200, body, {"content-type": "application/json"}
    )
    with built.rest() as client:
        assert client.get("/items").status_code == 200  # the body itself, as the upstream sent it

    async def call() -> tuple[bool, str]:
        async with built.mcp() as client:
            result = await client.call_tool("list", {})
            return bool(result.is_error), result.content[0].text  # type: ignore[union-attr]

    is_error, text = anyio.run(call)
    assert text.startswith("[[[") or (is_error and "nests deeper than 100" in text)
