"""The runtime's bounds on what upstreams answer, piece by piece (issue 21): decompression,
documents that multiply themselves, Retry-After, path values and redaction forms."""

from __future__ import annotations

import gzip
import json
import tracemalloc
import zlib
from collections.abc import AsyncIterator

import anyio
import httpx
import pytest
from capgen_runtime import formats
from capgen_runtime.engine.answer import gateway_status
from capgen_runtime.errors import InvalidRequest
from capgen_runtime.serve.wire import BODY_TIMEOUT, HEAD_TIMEOUT, MAX_HEAD_BYTES, MAX_HEADERS
from capgen_runtime.settings import Settings, load_settings
from capgen_runtime.upstream import decoding
from capgen_runtime.upstream.client import parse_retry_after
from capgen_runtime.upstream.request import encode_path_value
from capgen_runtime.web.streams import error_marker


async def _chunks(data: bytes, size: int = 65536) -> AsyncIterator[bytes]:
    for start in range(0, len(data), size):
        yield data[start : start + size]


def _decode(data: bytes, encoding: str, size: int = 65536) -> list[bytes]:
    async def run() -> list[bytes]:
        return [piece async for piece in decoding.decoded(_chunks(data, size), encoding)]

    return anyio.run(run)


def test_a_bomb_is_inflated_a_bounded_piece_at_a_time() -> None:
    bomb = gzip.compress(bytes(64 << 20), 9)  # 64 MiB of zeros in about 64 KiB

    async def first_mebibytes() -> int:
        seen = 0
        async for piece in decoding.decoded(_chunks(bomb, len(bomb)), "gzip"):  # one chunk
            assert len(piece) <= decoding.PIECE
            seen += len(piece)
            if seen > 1 << 20:
                return seen
        return seen

    tracemalloc.start()
    seen = anyio.run(first_mebibytes)
    peak = tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()
    assert seen <= (1 << 20) + decoding.PIECE
    assert peak < 4 << 20, peak  # httpx would have held 64 MiB at once


@pytest.mark.parametrize(
    ("encoding", "pack"),
    [
        ("gzip", gzip.compress),
        ("x-gzip", gzip.compress),
        ("deflate", zlib.compress),
        ("deflate", lambda d: zlib.compress(d)[2:-4]),  # raw deflate, as some servers send it
        ("gzip, gzip", lambda d: gzip.compress(gzip.compress(d))),
        ("deflate, gzip", lambda d: gzip.compress(zlib.compress(d))),
        ("identity", lambda d: d),
        ("", lambda d: d),
    ],
)
def test_every_coding_zlib_reads_is_decoded_whole(encoding: str, pack: object) -> None:
    body = bytes(range(256)) * 3000
    for size in (1, 7, 65536):
        packed = pack(body)  # type: ignore[operator]
        assert b"".join(_decode(packed, encoding, size)) == body


@pytest.mark.parametrize("encoding", ["br", "zstd", "compress", "gzip, br"])
def test_a_coding_that_cannot_be_bounded_is_refused(encoding: str) -> None:
    with pytest.raises(decoding.UnboundedEncoding):
        _decode(b"\x00" * 10, encoding)


def test_a_corrupt_body_is_an_error() -> None:
    with pytest.raises(zlib.error):
        _decode(b"not gzip at all", "gzip")


def _alias_bomb(levels: int) -> bytes:
    lines = ['l0: &l0 ["lol","lol","lol","lol","lol","lol","lol","lol","lol"]']
    lines += [f"l{n}: &l{n} [" + ",".join([f"*l{n - 1}"] * 9) + "]" for n in range(1, levels)]
    return "\n".join(lines).encode()


def test_the_issues_yaml_alias_bomb_is_refused_without_expanding() -> None:
    bomb = _alias_bomb(9)  # 426 bytes that expand to 9^9 strings (269 MB)
    assert len(bomb) < 450
    tracemalloc.start()
    with pytest.raises(formats.FormatError, match="expands past"):
        formats.decode(bomb, "yaml")
    peak = tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()
    assert peak < 2 << 20
    # the same shape within the budget is read, aliases expanded as copies
    assert formats.decode(_alias_bomb(3), "yaml")["l2"][0][0] == ["lol"] * 9


def test_markdown_front_matter_has_the_same_bound() -> None:
    text = b"---\n" + _alias_bomb(9) + b"\n---\n# Title\n"
    with pytest.raises(formats.FormatError):
        formats.decode(text, "markdown")


def test_recursion_and_depth_are_format_errors() -> None:
    for fmt, body in (
        ("yaml", b"a: &a [*a]"),
        ("yaml", b"[" * 50_000 + b"]" * 50_000),
        ("json", b"[" * 50_000 + b"]" * 50_000),
    ):
        with pytest.raises(formats.FormatError):
            formats.decode(body, fmt)


def test_xml_entities_are_not_read() -> None:
    with pytest.raises(formats.FormatError, match="entities"):
        formats.decode(b'<!DOCTYPE a [<!ENTITY x "y">]><a>&x;</a>', "xml")
    assert formats.decode(b"<a><b>1</b><b>2</b></a>", "xml") == {"b": ["1", "2"]}


def test_a_csv_that_multiplies_its_header_is_refused() -> None:
    header = b",".join(b"c%d" % i for i in range(2000))
    with pytest.raises(formats.FormatError, match="budget"):
        formats.decode(header + b"\n" + b"x\n" * 50_000, "csv")
    duplicate = b"," * 2000  # one key, still 2,000 fields filled per row
    with pytest.raises(formats.FormatError, match="budget"):
        formats.decode(duplicate + b"\n" + b"x\n" * 50_000, "csv")
    assert formats.decode(b"a,b\n1,2\n3\n", "csv") == [{"a": "1", "b": "2"}, {"a": "3", "b": None}]


@pytest.mark.parametrize(
    ("given", "seconds"),
    [("10", 10.0), (" 7 ", 7.0), ("\u00b2", None), ("1.5", None), ("", None), (None, None)],
)
def test_retry_after_reads_delta_seconds_and_dates_only(
    given: str | None, seconds: float | None
) -> None:
    assert parse_retry_after(given) == seconds


@pytest.mark.parametrize(
    ("given", "passed_on"),
    [("100000", "3600"), ("9" * 400, "3600"), ("12", "12"), ("junk", None), ("\u00b2", None)],
)
def test_a_throttled_answer_passes_retry_after_on_capped(given: str, passed_on: str | None) -> None:
    response = httpx.Response(429, headers=[(b"retry-after", given.encode())])
    status, headers = gateway_status(response)
    assert status == 503 and headers.get("Retry-After") == passed_on


@pytest.mark.parametrize("value", ["..;", ".;", "..;x", ".;x", "a/..;/b", "..;jsessionid=1"])
def test_java_dot_segments_are_refused(value: str) -> None:
    for slashes in (False, True):
        with pytest.raises(InvalidRequest):
            encode_path_value("p", value, slashes=slashes)


def test_a_semicolon_is_sent_encoded() -> None:
    assert encode_path_value("p", "a;b") == "a%3Bb"
    assert encode_path_value("p", "x/..a;1", slashes=True) == "x/..a%3B1"


def test_the_wire_bounds_and_their_defaults() -> None:
    assert (MAX_HEAD_BYTES, MAX_HEADERS) == (64 * 1024, 100)
    defaults = Settings(env_prefix="X", base_urls={})
    assert (defaults.head_timeout, defaults.body_timeout) == (HEAD_TIMEOUT, BODY_TIMEOUT) == (5, 10)
    read = load_settings("X", (), (), {"X_HEAD_TIMEOUT": "2", "X_BODY_TIMEOUT": "3"})
    assert (read.head_timeout, read.body_timeout) == (2, 3)


@pytest.mark.parametrize(
    ("media", "prefix", "suffix"),
    [
        ("text/event-stream; charset=utf-8", b"\n\nevent: error\ndata: ", b"\n\n"),
        ("application/x-ndjson", b'\n{"error":', b"}\n"),
        ("application/jsonl", b'\n{"error":', b"}\n"),
    ],
)
def test_a_failed_stream_ends_with_a_marker_in_its_own_syntax(
    media: str, prefix: bytes, suffix: bytes
) -> None:
    marker = error_marker(media, 504, "the upstream stream stalled")
    assert marker.startswith(prefix) and marker.endswith(suffix)
    problem = json.loads(marker[len(prefix) : -len(suffix)])
    assert problem["status"] == 504 and problem["title"] == "Gateway Timeout"
    assert error_marker("application/octet-stream", 502, "x") == b""
