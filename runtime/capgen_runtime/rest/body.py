"""Caller requests: decoded once, strictly, before anything is sent upstream.

Path and query text must be UTF-8 once percent-decoded (400: a server would otherwise pass on
U+FFFD for what it could not read). A body must arrive without a content encoding (415), and
a JSON body with a JSON content type (415: a browser can send `text/plain` across sites
without asking, never `application/json`). A required body must be present, not null,
valid JSON of finite numbers, nesting at most `MAX_DEPTH` deep (400 otherwise), never forwarded
as an empty body. A body nobody requires that is not such JSON reads as no body: inputs from the
path, query and headers are still collected (SEMANTICS §11 case 23).
"""

from __future__ import annotations

import json
import math
from collections.abc import Mapping
from typing import Any
from urllib.parse import unquote_to_bytes

from ..errors import InvalidRequest, UnsupportedMediaType
from ..formats import media_type

MAX_DEPTH = 100
_RAW_MEDIA = ("application/octet-stream", "application/pdf", "audio/", "image/", "video/")


def raw_media(content_type: str | None) -> bool:
    media = media_type(content_type)
    return bool(media) and media.startswith(_RAW_MEDIA)


def check_encoding(scope: Mapping[str, Any]) -> None:
    """Raise InvalidRequest when the path or the query is not UTF-8 once percent-decoded."""
    if "\ufffd" in scope.get("path", ""):  # what the server could not decode, or a real U+FFFD
        _utf8(scope.get("raw_path") or b"", "path")
    query = scope.get("query_string", b"")
    if b"%" in query:
        _utf8(query.replace(b"+", b" "), "query")


def _utf8(raw: bytes, where: str) -> None:
    try:
        unquote_to_bytes(raw).decode("utf-8")
    except UnicodeDecodeError:
        raise InvalidRequest(f"the {where} is not UTF-8 once percent-decoded") from None


def decode_json(raw: bytes, headers: Mapping[str, str], required: bool) -> Any:
    """The decoded body, or None when there is none (and none is required)."""
    content_encoding = headers.get("content-encoding")
    if content_encoding and content_encoding.strip().lower() not in ("", "identity"):
        raise UnsupportedMediaType("compressed request bodies are not accepted")
    if not raw.strip():
        if required:
            raise InvalidRequest("request body is required")
        return None
    media = media_type(headers.get("content-type"))
    if media != "application/json" and not media.endswith("+json"):
        raise UnsupportedMediaType("a JSON request body needs the content type application/json")
    try:
        value = _DECODER.decode(raw.decode(_encoding(raw), "surrogatepass"))
        # each level takes two bytes at least (`[` and `]`): a short body cannot nest deeper
        if len(raw) > 2 * MAX_DEPTH and depth(value) > MAX_DEPTH:
            raise RecursionError
    except RecursionError:  # a body that was sent is read, required or not (DEV-21)
        raise InvalidRequest(f"request body nests deeper than {MAX_DEPTH} levels") from None
    except (ValueError, UnicodeDecodeError):
        raise InvalidRequest("request body is not valid JSON") from None
    if value is None and required:
        raise InvalidRequest("request body is required (got null)")
    return value


def _encoding(raw: bytes) -> str:
    """`json.detect_encoding`, which says UTF-8 at once for a text whose first two bytes are
    ASCII and not NUL (UTF-16 and UTF-32 put a NUL in one of them, a BOM is not ASCII)."""
    if len(raw) >= 2 and 0 < raw[0] < 0x80 and raw[1]:
        return "utf-8"
    return json.detect_encoding(raw)


def _no_constant(text: str) -> Any:
    raise ValueError(f"{text} is not JSON")


def _finite(text: str) -> float:
    value = float(text)
    if not math.isfinite(value):
        raise ValueError(f"{text} is out of range")
    return value


# what `json.loads(raw, parse_constant=..., parse_float=...)` would build on every call
_DECODER = json.JSONDecoder(parse_constant=_no_constant, parse_float=_finite)


def depth(value: Any) -> int:
    """How deep containers nest (counted up to one past MAX_DEPTH), without recursion."""
    deepest, stack = 0, [(value, 1)]
    while stack:
        item, depth = stack.pop()
        if isinstance(item, (dict, list)):
            deepest = max(deepest, depth)
            if depth > MAX_DEPTH:
                return depth
            children = item.values() if isinstance(item, dict) else item
            stack.extend((child, depth + 1) for child in children)
    return deepest
