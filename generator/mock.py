"""An embedded stand-in for the consumed APIs, so a service can run without credentials.

Each consumed namespace is served under `/<namespace>` and answers every declared operation
with a Cloudflare-style envelope `{result, success, errors, messages}` (or the operation's
declared raw format). Requests with `prompt` or `messages` get a `response` text, as an
inference API would.
"""

from __future__ import annotations

import functools
import json
import re
from collections.abc import Iterable, Sequence
from typing import Any

from capgen_runtime.expr.jsonpath import steps
from capgen_runtime.model import Endpoint, Operation, Output
from capgen_runtime.settings import MOCK_OPERATION_HEADER
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response, StreamingResponse
from starlette.routing import Route

from .mock_workers_ai import RUN_PATH, WORDS, WorkersAi, envelope, events, failure, mock_png

_PLACEHOLDER = re.compile(r"\{([^{}]+)\}")
_PNG = mock_png()


def _pattern(namespace: str, path: str) -> re.Pattern[str]:
    parts = _PLACEHOLDER.split(path)
    regex = "".join(
        (
            re.escape(part)
            if i % 2 == 0
            else ("(?P<v%d>.+)" if i == len(parts) - 2 else "(?P<v%d>[^/]+)") % i
        )
        for i, part in enumerate(parts)
    )
    return re.compile(f"^/{re.escape(namespace)}/?{regex.lstrip('/')}$")


def create_mock_upstream(
    operations: Sequence[Operation], endpoints: Iterable[Endpoint] = ()
) -> Starlette:
    """The mock of every consumed operation; a JSON answer also holds what the `endpoints`
    that call it map (their outputs, of the declared types)."""
    table = [(op, _pattern(op.namespace, op.path)) for op in operations]
    shapes = output_shapes(endpoints)
    workers_ai = WorkersAi()
    deleted: set[str] = set()  # like a real API: what was deleted is gone until put again

    async def answer(request: Request) -> Response:
        path = request.url.path
        if path in deleted and request.method not in ("POST", "PUT"):
            return _not_found()
        deleted.discard(path)
        if request.method == "DELETE":
            deleted.add(path)
        named = request.headers.get(MOCK_OPERATION_HEADER)
        for operation, pattern in sorted(table, key=lambda entry: entry[0].name != named):
            if operation.method == request.method and pattern.match(path):
                shape = shapes.get((operation.namespace, operation.name), _NOTHING)
                values = _values(operation, pattern.match(path))
                run = RUN_PATH.search(operation.path)
                body = _body(await request.body())
                if run is not None:
                    shaped = functools.partial(merge_shape, shape)
                    return workers_ai.answer(values[run.group(1)], request, body, shaped)
                return _respond(operation, request, values, body, shape)
        return _not_found()

    methods = ["GET", "POST", "PUT", "PATCH", "DELETE", "HEAD", "OPTIONS"]
    return Starlette(routes=[Route("/{rest:path}", answer, methods=methods)])


def _not_found() -> Response:
    return failure(404, 7003, "No route for that URI")


def _values(operation: Operation, match: Any) -> dict[str, str]:
    """The path variables of a request, by name."""
    groups = [v for _, v in sorted(match.groupdict().items(), key=lambda kv: int(kv[0][1:]))]
    return dict(zip(_PLACEHOLDER.findall(operation.path), groups, strict=False))


def _body(raw: bytes) -> Any:
    try:
        return json.loads(raw) if raw else None
    except ValueError:
        return raw.decode("utf-8", errors="replace")


def _respond(
    operation: Operation, request: Request, values: dict[str, str], body: Any, shape: Any
) -> Response:
    result: dict[str, Any] = {
        "operation": operation.name,
        "path": values,
        "query": dict(request.query_params),
        "echo": body,
    }
    if isinstance(body, dict) and body.get("stream") is True:
        return StreamingResponse(events(list(WORDS)), media_type="text/event-stream")
    if isinstance(body, dict) and ("prompt" in body or "messages" in body):
        result["response"] = "".join(WORDS)
    fmt = operation.output_format.lower()
    if fmt == "xml":
        return Response(
            f"<response><operation>{operation.name}</operation><success>true</success></response>",
            media_type="application/xml",
        )
    if fmt in ("csv", "tsv", "psv"):
        sep = {"csv": ",", "tsv": "\t", "psv": "|"}[fmt]
        return Response(
            f"operation{sep}success\n{operation.name}{sep}true\n", media_type="text/csv"
        )
    if fmt in ("yaml", "yml"):
        return Response(
            f"operation: {operation.name}\nsuccess: true\n", media_type="application/yaml"
        )
    if fmt in ("text", "plain", "markdown", "html"):
        return Response(f"mock response from {operation.name}\n", media_type="text/plain")
    if fmt in ("binary", "octet-stream"):
        return Response(_PNG, media_type="image/png")
    return JSONResponse(merge_shape(shape, envelope(result)))


# Shaped answers: the mock's JSON has what the exposed outputs map, of the declared types, so a
# mapped result (and its published schema) can be tried without the real API.
_SAMPLES: dict[str, Any] = {"string": "mock", "integer": 1, "number": 1.5, "boolean": True}
_NOTHING: Any = object()


def output_shapes(endpoints: Iterable[Endpoint]) -> dict[tuple[str, str], Any]:
    """For each consumed operation an endpoint calls, a JSON tree its outputs map."""
    shapes: dict[tuple[str, str], Any] = {}
    for endpoint in endpoints:
        calls = [endpoint.call] if endpoint.call else []
        calls += [s.call for s in endpoint.steps if s.call is not None]
        for call in calls:
            operation = call.operation
            outputs = (*(endpoint.outputs[:1] if endpoint.call else ()), *operation.outputs)
            key = (operation.namespace, operation.name)
            for output in outputs:
                shapes[key] = merge_shape(shapes.get(key, _NOTHING), _tree(output))
    return {key: tree for key, tree in shapes.items() if tree is not _NOTHING}


def _tree(output: Output) -> Any:
    """A JSON tree on which `output` finds a value of its type (mapping.resolve's reading)."""
    if output.value is not None:
        return _NOTHING
    if output.type == "object" and output.properties:
        return _merged(output.properties)
    return _at(output.mapping, _node(output))


def _merged(outputs: Iterable[Output]) -> Any:
    tree = _NOTHING
    for output in outputs:
        tree = merge_shape(tree, _tree(output))
    return {} if tree is _NOTHING else tree


def _node(output: Output) -> Any:
    if output.type == "array":
        return [_element(output.items)]
    if output.type == "object":
        return {} if output.values is None else {"key": _element(output.values)}
    return _SAMPLES.get(output.type, "mock")


def _element(items: Output | None) -> Any:
    """An array element (or an object value), on which the item outputs are mapped."""
    if items is None:
        return "mock"
    if items.type == "object" and items.properties:
        return _merged(items.properties)
    return _tree(items) if items.mapping else _node(items)


def _at(mapping: str | None, node: Any) -> Any:
    found = steps(mapping)
    if found is None or node is _NOTHING:
        return _NOTHING
    for step in reversed(found):
        if isinstance(step, int):
            node = [node] * (step + 1)
        elif step is None:
            node = [node]
        else:
            node = {step: node}
    return node


def merge_shape(first: Any, second: Any) -> Any:
    """`first` and `second` together; where both have a value that is not a container, the
    first wins."""
    if first is _NOTHING:
        return second
    if second is _NOTHING:
        return first
    if isinstance(first, dict) and isinstance(second, dict):
        merged = dict(first)
        for key, value in second.items():
            merged[key] = merge_shape(merged[key], value) if key in merged else value
        return merged
    if isinstance(first, list) and isinstance(second, list):
        longer = first if len(first) >= len(second) else second
        return [
            merge_shape(first[i], second[i]) if i < len(first) and i < len(second) else longer[i]
            for i in range(len(longer))
        ]
    return first
