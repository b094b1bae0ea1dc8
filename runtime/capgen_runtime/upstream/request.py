"""Build the upstream HTTP request of a consumed operation (SEMANTICS §3).

Pure functions: parameters in, `PreparedRequest` out. Path values are percent-encoded so
they cannot change the URL's structure; header values cannot carry line breaks.
"""

from __future__ import annotations

import functools
import json
import os
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import quote, quote_plus

from ..errors import InvalidRequest
from ..expr.templating import lookup, render, to_text
from ..jsontext import compact_finite
from ..model import Body, Operation, Parameter, RawBody, Upstream
from ..schemas import HEADER_VALUE, PATH_TAIL, PATH_VALUE

_PLACEHOLDER = re.compile(r"\{([^{}]+)\}")
_SEPARATORS = re.compile(r"[-_.\s]")
_SEGMENT_SAFE = ":@!$&'()*+,=-._~"  # RFC 3986 pchar, without "/" and ";" (matrix parameters)
_PATH_VALUE, _PATH_TAIL = re.compile(PATH_VALUE), re.compile(PATH_TAIL)
_HEADER_VALUE = re.compile(HEADER_VALUE)
_SOLE_PLACEHOLDER = re.compile(r"^\{\{\s*([^{}#^/!&]+?)\s*\}\}$")


@dataclass
class PreparedRequest:
    method: str
    url: str
    headers: dict[str, str] = field(default_factory=dict)
    cookies: dict[str, str] = field(default_factory=dict)
    content: bytes | None = None
    files: list[tuple[str, tuple[str | None, bytes, str | None]]] | None = None
    form: dict[str, str] | None = None


@functools.lru_cache(maxsize=4096)
def normalise(name: str) -> str:
    """`account-id`, `account_id` and `accountId` all normalise to `accountid`."""
    return _SEPARATORS.sub("", name).lower()


def find(values: Mapping[str, Any], name: str) -> Any:
    """A value by exact name, else by normalised name (SEMANTICS §8.2)."""
    if name in values:
        return values[name]
    wanted = normalise(name)
    for key, value in values.items():
        if normalise(key) == wanted:
            return value
    return None


def path_placeholders(path: str) -> tuple[str, ...]:
    return tuple(dict.fromkeys(m.group(1).strip() for m in _PLACEHOLDER.finditer(path)))


def prepare(
    upstream: Upstream,
    operation: Operation,
    params: Mapping[str, Any],
    base_url: str,
    bind_scope: Mapping[str, Any],
) -> PreparedRequest:
    """Everything but authentication, which `auth.py` adds."""
    values = dict(params)
    request = PreparedRequest(operation.method, "")
    query: list[tuple[str, str]] = []
    body_params: dict[str, Any] = {}
    for param in (*upstream.parameters, *operation.parameters):
        value = _parameter_value(param, values, bind_scope)
        if value is None:
            continue
        values[param.name] = value
        if param.location == "header":
            request.headers[param.name] = header_value(param.name, value)
        elif param.location == "query":
            query.extend((param.name, item) for item in _query_items(value))
        elif param.location == "cookie":
            request.cookies[param.name] = header_value(param.name, value)
        elif param.location == "body":
            body_params[param.name] = value
    path = expand_path(operation.path, values, bind_scope)
    request.url = join_url(base_url, path)
    if query:  # after the query the consumed path may already carry (`/items?kind=x`)
        separator = "&" if "?" in request.url else "?"
        request.url += separator + "&".join(f"{quote_plus(k)}={quote_plus(v)}" for k, v in query)
    raw = [v for v in body_params.values() if isinstance(v, RawBody)] if body_params else []
    if raw and operation.body is None:  # a caller's bytes, passed through as they came
        request.content = raw[0].data
        request.headers["Content-Type"] = header_value("Content-Type", raw[0].content_type)
    elif operation.body is not None:
        _apply_body(request, operation.body, values, bind_scope)
    elif body_params:
        request.content = _json(_implicit_body(body_params))
        request.headers.setdefault("Content-Type", "application/json")
    return request


def _parameter_value(
    param: Parameter, values: Mapping[str, Any], bind_scope: Mapping[str, Any]
) -> Any:
    if param.value is not None:
        if not isinstance(param.value, str):
            return param.value
        rendered = render(param.value, bind_scope, _as_text(values))
        return None if "{{" in rendered else rendered
    value = find(values, param.name)
    if value is None and param.location == "environment":
        value = os.environ.get(param.name)
    return value


def _query_items(value: Any) -> list[str]:
    if isinstance(value, (list, tuple)):
        return [to_text(item) for item in value if item is not None]
    return [to_text(value)]


def header_value(name: str, value: Any) -> str:
    """The text of a header; surrounding spaces are not part of a field value (RFC 9110)."""
    text = to_text(value).strip(" \t")
    if not _HEADER_VALUE.match(text):
        raise InvalidRequest(
            f"header {name!r} must be printable ASCII text, without control characters or line breaks"
        )
    return text


def expand_path(path: str, values: Mapping[str, Any], bind_scope: Mapping[str, Any]) -> str:
    """Substitute `{name}` placeholders with safely encoded values; a missing one is an error.

    Only a placeholder that ends the path may carry `/` (model ids, object keys, file paths):
    it can add segments under its own prefix but never climb. Elsewhere `/` is encoded as %2F.
    """

    pieces = []
    for text, name, last in _path_template(path):
        pieces.append(text)
        if name is None:
            continue
        value = find(values, name)
        if type(value) is not str or not value:  # text, the common case, is used as it is
            value = _path_text(name, value, values, bind_scope)
        pieces.append(encode_path_value(name, value, slashes=last))
    return "".join(pieces)


def _path_text(name: str, value: Any, values: Mapping[str, Any], scope: Mapping[str, Any]) -> str:
    """The text of a path placeholder's value that is not already non-empty text: looked up
    in the binds too, refused when missing, empty or not a single value."""
    if value is None:
        value = lookup(name, (values, scope))
    if value is None or value == "":
        raise InvalidRequest(f"missing required path parameter {name!r}")
    if isinstance(value, (dict, list, tuple)):
        raise InvalidRequest(f"path parameter {name!r} must be a single value")
    return to_text(value)


@functools.lru_cache(maxsize=4096)
def _path_template(path: str) -> tuple[tuple[str, str | None, bool], ...]:
    """A path as (literal text, placeholder name or None, the placeholder ends the path)."""
    pieces: list[tuple[str, str | None, bool]] = []
    position = 0
    for match in _PLACEHOLDER.finditer(path):
        last = match.end() == len(path)
        pieces.append((path[position : match.start()], match.group(1).strip(), last))
        position = match.end()
    pieces.append((path[position:], None, False))
    return tuple(pieces)


def encode_path_value(name: str, text: str, slashes: bool = False) -> str:
    """`_encode_path_value`, remembered for short values (the same ids and names recur)."""
    if len(text) <= _REMEMBERED_LENGTH:
        return _remembered_path_value(name, text, slashes)
    return _encode_path_value(name, text, slashes)


_REMEMBERED_LENGTH = 256


@functools.lru_cache(maxsize=2048)
def _remembered_path_value(name: str, text: str, slashes: bool) -> str:
    return _encode_path_value(name, text, slashes)


def _encode_path_value(name: str, text: str, slashes: bool = False) -> str:
    """Percent-encode one path value so it cannot change the URL's structure.

    `.` and `..` parts are refused even where `/` is encoded, since some servers decode
    %2F before they route, and so are `.;x` and `..;x`, which Java servers read as `.` and
    `..`; `;` itself is sent encoded.
    """
    if not text or not (_PATH_TAIL if slashes else _PATH_VALUE).match(text):
        raise InvalidRequest(
            f"path parameter {name!r} must not contain control characters, backslashes, "
            "or empty, '.' or '..' segments"
        )
    segments = text.split("/") if slashes else [text]
    return "/".join(quote(segment, safe=_SEGMENT_SAFE) for segment in segments)


def join_url(base_url: str, path: str) -> str:
    if not path:
        return base_url
    return base_url.rstrip("/") + "/" + path.lstrip("/")


def _json(value: Any) -> bytes:
    """JSON as the upstream reads it: NaN and infinities, which JSON has not, are refused."""
    try:
        return compact_finite(value).encode()
    except ValueError:
        raise InvalidRequest("a number in the input is not finite (NaN or Infinity)") from None
    except RecursionError:
        raise InvalidRequest("the input nests too deeply") from None


def _as_text(values: Mapping[str, Any]) -> Mapping[str, Any]:
    """The values a template reads: a caller's raw body (sent as it came when no template
    uses it) is read as its text there, as a text input would be."""
    if not any(isinstance(v, RawBody) for v in values.values()):
        return values
    return {
        k: v.data.decode("utf-8", errors="replace") if isinstance(v, RawBody) else v
        for k, v in values.items()
    }


def _apply_body(
    request: PreparedRequest, body: Body, values: dict[str, Any], bind_scope: Mapping[str, Any]
) -> None:
    scopes = (bind_scope, _as_text(values))  # binds first: a caller can never shadow them
    request.headers.setdefault("Content-Type", body.content_type)
    if body.kind == "multipart":
        request.headers.pop("Content-Type")  # httpx writes it with the boundary
        request.files = []
        request.form = {}
        for part in body.data or ():
            value = render_value(part.get("value"), scopes)
            if part.get("filename") is not None:
                content = value if isinstance(value, bytes) else to_text(value).encode()
                request.files.append(
                    (part["name"], (part["filename"], content, part.get("contentType")))
                )
            else:  # a field of the multipart form, never a urlencoded body
                request.files.append((part["name"], (None, to_text(value).encode(), None)))
        return
    if body.kind == "form" and isinstance(body.data, dict):
        fields = {k: to_text(render_value(v, scopes)) for k, v in body.data.items()}
        request.content = "&".join(
            f"{quote_plus(k)}={quote_plus(v)}" for k, v in fields.items()
        ).encode()
        return
    if body.kind == "json" and not isinstance(body.data, str):
        request.content = _json(render_value(body.data, scopes))
        return
    text = render(to_text(body.data), *scopes)
    request.content = text.encode()


def render_value(data: Any, scopes: Sequence[Mapping[str, Any]]) -> Any:
    """Render every string of a structure; a string that is one placeholder keeps the value's
    type, and a missing value renders "" as in any template (SEMANTICS §2.2), never null."""
    if isinstance(data, str):
        sole = _SOLE_PLACEHOLDER.match(data)
        if sole and any(scopes):
            value = lookup(sole.group(1), scopes)
            return "" if value is None else value
        return render(data, *scopes)
    if isinstance(data, dict):
        return {render(str(k), *scopes): render_value(v, scopes) for k, v in data.items()}
    if isinstance(data, (list, tuple)):
        return [render_value(item, scopes) for item in data]
    return data


def _implicit_body(body_params: dict[str, Any]) -> Any:
    """DEV-12: one object/array/JSON parameter is the body; otherwise an object of them."""
    if len(body_params) == 1:
        (value,) = body_params.values()
        if isinstance(value, (dict, list)):
            return value
        if isinstance(value, str):
            try:
                parsed = json.loads(value)
            except ValueError:
                parsed = None
            if isinstance(parsed, (dict, list)):
                return parsed
    return body_params


def prepare_forward(
    upstream: Upstream,
    method: str,
    path: str,
    headers: Mapping[str, str],
    body: bytes,
    base_url: str,
    bind_scope: Mapping[str, Any],
) -> PreparedRequest:
    """A forwarded request: the query string is dropped, static adapter parameters applied."""
    segments = path.split("/") if path else []
    encoded = "/".join(encode_path_value("path", segment) for segment in segments if segment)
    request = PreparedRequest(
        method, join_url(base_url, encoded), dict(headers), content=body or None
    )
    query: list[tuple[str, str]] = []
    for param in upstream.parameters:
        if param.value is None:
            continue
        value = render(param.value, bind_scope) if isinstance(param.value, str) else param.value
        if param.location == "header":
            request.headers[param.name] = header_value(param.name, value)
        elif param.location == "query" and "{{" not in to_text(value):
            query.append((param.name, to_text(value)))
    if query:  # after the query the consumed path may already carry (`/items?kind=x`)
        separator = "&" if "?" in request.url else "?"
        request.url += separator + "&".join(f"{quote_plus(k)}={quote_plus(v)}" for k, v in query)
    return request
