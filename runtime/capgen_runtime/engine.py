"""Execute exposed endpoints: parameters, `with`, calls, steps, mocks and output mapping."""

from __future__ import annotations

import asyncio
import json
import math
from collections.abc import Mapping, Sequence
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from typing import Any

import httpx

from . import formats, mapping
from .errors import (
    InvalidRequest,
    MappingFailed,
    NoHandler,
    NotSupported,
    UpstreamThrottled,
    UpstreamUnavailable,
)
from .model import Endpoint, Operation, Output, Step, StepMapping, Upstream, With
from .observability import Metrics
from .redaction import Redactor
from .request import find
from .settings import Settings
from .templating import render
from .upstream import OpenStream, UpstreamClient, parse_retry_after

MAX_RETRY_AFTER = 3600  # seconds: the longest wait an upstream's Retry-After can ask of callers


@dataclass
class Outcome:
    """What an endpoint produced, before an adapter shapes it for its protocol."""

    status: int
    content: bytes = b""
    media_type: str | None = None
    value: Any = mapping.NOT_MAPPED  # the JSON value when the content was built by capgen
    headers: dict[str, str] = field(default_factory=dict)
    mock: bool = False
    stream: OpenStream | None = None  # a body still arriving (REST relays it as it comes)

    @property
    def is_error(self) -> bool:
        return self.status >= 400

    @property
    def text(self) -> str:
        """The body as text for MCP: compact JSON for built values, the raw body otherwise."""
        if self.value is not mapping.NOT_MAPPED:
            return json.dumps(self.value, separators=(",", ":"), ensure_ascii=False)
        return self.content.decode("utf-8", errors="replace")


class Service:
    """The upstream clients and settings shared by every adapter of one process."""

    def __init__(self, settings: Settings, upstreams: Sequence[Upstream]) -> None:
        self.settings = settings
        self.upstreams = {u.namespace: u for u in upstreams}
        self.clients: dict[str, UpstreamClient] = {}
        self.metrics = Metrics(settings.metrics_dir)
        self.draining = False  # set on SIGTERM: /readyz answers 503 while requests finish
        self._users = 0
        self._flushing: asyncio.Task[None] | None = None
        self.redactor = Redactor(settings.secret_values())

    @property
    def ready(self) -> bool:
        """The connection pools are open (or there is no upstream to open one for)."""
        return bool(self.clients) or not self.upstreams

    def redact(self, text: str) -> str:
        """Known secrets never leave the service, even when an upstream echoes them."""
        return self.redactor.text(text)

    def redact_value(self, value: Any) -> Any:
        """A JSON value with every string (and key) redacted."""
        return self.redactor.value(value)

    def redact_bytes(self, data: bytes) -> bytes:
        return self.redactor.binary(data)

    @asynccontextmanager
    async def running(self) -> Any:
        """Open the connection pools on first use; close them when the last adapter stops."""
        if self._users == 0:
            self.clients = {
                ns: UpstreamClient(u, self.settings, metrics=self.metrics)
                for ns, u in self.upstreams.items()
            }
            if self.metrics.directory is not None:
                self._flushing = asyncio.create_task(self.metrics.flushing())
        self._users += 1
        try:
            yield self
        finally:
            self._users -= 1
            if self._users == 0:
                for client in self.clients.values():
                    await client.aclose()
                self.clients = {}
                if self._flushing is not None:
                    self._flushing.cancel()
                    await asyncio.gather(self._flushing, return_exceptions=True)
                    self._flushing = None

    def client(self, namespace: str) -> UpstreamClient:
        if namespace not in self.clients:
            raise UpstreamUnavailable(f"upstream {namespace} is not running")
        return self.clients[namespace]

    @property
    def bind_scope(self) -> dict[str, Any]:
        return self.settings.binds.scope


async def execute(
    endpoint: Endpoint,
    inputs: Mapping[str, Any],
    service: Service,
    *,
    inbound_authorization: str | None = None,
    stream: bool = False,
) -> Outcome:
    """Run `endpoint` with the caller's inputs (SEMANTICS §5.3, §7). With `stream`, an upstream
    stream that is the whole result comes back open (`Outcome.stream`), to be relayed."""
    if endpoint.unavailable:
        raise NotSupported(endpoint.unavailable)
    scope = service.bind_scope
    params = apply_with(dict(inputs), endpoint.with_, scope)
    if endpoint.function is not None:
        return await _aggregate(endpoint, params, service, inbound_authorization)
    if endpoint.call is not None:
        params = apply_with(params, endpoint.call.with_, scope)
        client = service.client(endpoint.call.operation.namespace)
        response = await client.call(
            endpoint.call.operation,
            params,
            inbound_authorization=inbound_authorization,
            stream=stream and (not endpoint.outputs or maps_whole_body(endpoint.outputs)),
        )
        if isinstance(response, OpenStream):
            status = response.status
            return Outcome(status, media_type=response.media_type, stream=response)
        return from_response(response, endpoint.outputs, endpoint.call.operation)
    if endpoint.steps:
        return await _orchestrate(endpoint, params, service)
    if mapping.has_mock_values(endpoint.outputs):
        return mock_outcome(endpoint.outputs, params)
    raise NoHandler()


def apply_with(
    params: dict[str, Any], entries: Sequence[With], bind_scope: Mapping[str, Any]
) -> dict[str, Any]:
    """SEMANTICS §2.4 with DEV-5: references copy caller inputs, strings are templates."""
    if not entries:
        return params
    result = dict(params)
    for entry in entries:
        if entry.ref is not None:
            value = find(params, entry.ref)
            if value is not None:
                result[entry.key] = value
        elif isinstance(entry.value, str):
            result[entry.key] = render(entry.value, bind_scope, params)
        else:
            result[entry.key] = entry.value
    return result


def from_response(
    response: httpx.Response, outputs: Sequence[Output], operation: Operation
) -> Outcome:
    """SEMANTICS §7.4: the upstream status, with the mapped JSON or the raw body; an error
    status (≥ 400) always with the raw body, whatever the declared format (DEV-25).

    Where the outputs take the whole body (`$.`) and it is not of the declared format (a PNG,
    audio, a server-sent-event stream), it goes to the caller byte for byte with its media
    type; mapped outputs of such a body are a 502, as they cannot be applied."""
    output_format = operation.output_format
    status, headers = gateway_status(response)
    media_type = response.headers.get("content-type")
    raw = Outcome(status, response.content, media_type, headers=headers)
    if not outputs or output_format.lower() in formats.PASSTHROUGH or status >= 400:
        return raw  # DEV-25: an error answer is the upstream's own, never decoded nor mapped
    try:
        tree = formats.decode(response.content, output_format, operation.output_selector)
    except formats.UnsupportedFormat as exc:
        raise MappingFailed(f"Failed to map output parameters: {exc}") from None
    except formats.FormatError:
        if maps_whole_body(outputs):
            return raw  # the body is the product (an image, audio, an event stream): as sent
        raise UpstreamUnavailable(
            f"upstream answered with a body that is not valid {output_format}"
        ) from None
    value = mapping.select(outputs, tree)
    if value is mapping.NOT_MAPPED:
        return raw
    return json_outcome(status, value, headers)


def maps_whole_body(outputs: Sequence[Output]) -> bool:
    """Every output is the whole upstream body (`$.`), untransformed."""
    return bool(outputs) and all(
        (o.mapping or "").strip() in ("$", "$.") and not o.properties and o.value is None
        for o in outputs
    )


def gateway_status(response: httpx.Response) -> tuple[int, dict[str, str]]:
    """Upstream 4xx keep their status; throttling and upstream failures become gateway statuses
    (429 and 503 → 503 with Retry-After, 504 → 504, other 5xx → 502). The upstream body is
    kept either way, and X-Upstream-Status says what the upstream answered. Retry-After is
    passed on as whole seconds up to `MAX_RETRY_AFTER`; one that does not parse is dropped."""
    status = response.status_code
    if status != 429 and status < 500:
        return status, {}
    headers = {"X-Upstream-Status": str(status)}
    if status in (429, 503):
        retry_after = parse_retry_after(response.headers.get("retry-after"))
        if retry_after is not None:  # whole seconds, at most an hour; a date becomes a delay
            headers["Retry-After"] = str(math.ceil(min(retry_after, MAX_RETRY_AFTER)))
        return UpstreamThrottled.status, headers
    return (504 if status == 504 else 502), headers


def json_outcome(status: int, value: Any, headers: dict[str, str] | None = None) -> Outcome:
    content = json.dumps(value, separators=(",", ":"), ensure_ascii=False).encode()
    return Outcome(status, content, "application/json", value=value, headers=headers or {})


def mock_outcome(outputs: Sequence[Output], params: Mapping[str, Any]) -> Outcome:
    value = mapping.mock(outputs, [params])
    if not value:
        return Outcome(204, mock=True)
    content = json.dumps(value, indent=2, ensure_ascii=False).encode()
    return Outcome(200, content, "application/json", value=value, mock=True)


async def _aggregate(
    endpoint: Endpoint, params: dict[str, Any], service: Service, inbound: str | None
) -> Outcome:
    function = endpoint.function
    assert function is not None
    outcome = await execute(function, params, service, inbound_authorization=inbound)
    if (
        outcome.value is mapping.NOT_MAPPED
        and endpoint.outputs
        and not outcome.mock
        and function.call
    ):
        response = httpx.Response(outcome.status, content=outcome.content, headers=_media(outcome))
        return from_response(response, endpoint.outputs, function.call.operation)
    return outcome


def _media(outcome: Outcome) -> dict[str, str]:
    return {"content-type": outcome.media_type} if outcome.media_type else {}


async def _orchestrate(endpoint: Endpoint, params: dict[str, Any], service: Service) -> Outcome:
    """SEMANTICS §7.7: call and lookup steps, then `mappings`, else the last call's response."""
    runtime = dict(params)
    results: dict[str, Any] = {}
    last: tuple[httpx.Response, Operation] | None = None
    for step in endpoint.steps:
        if step.kind == "call" and step.call is not None:
            step_params = apply_with(dict(runtime), step.call.with_, service.bind_scope)
            operation = step.call.operation
            response = await service.client(operation.namespace).call(operation, step_params)
            last = (response, operation)
            try:
                tree = formats.decode(
                    response.content, operation.output_format, operation.output_selector
                )
            except formats.FormatError:
                continue
            results[step.name] = runtime[step.name] = step_output(tree, operation.outputs)
        elif step.kind == "lookup":
            found = _lookup(step, runtime, results)
            if found is not None:
                results[step.name] = found
        else:
            raise NotSupported(
                f"step {step.name!r}: {step.kind} steps are not supported by this service"
            )
    built = _mappings(endpoint.mappings, results)
    if built is not None:
        return json_outcome(200, built)
    if last is not None:
        response, called = last
        return from_response(response, endpoint.outputs, called)
    if mapping.has_mock_values(endpoint.outputs):
        return mock_outcome(endpoint.outputs, params)
    raise NoHandler()


def step_output(tree: Any, outputs: Sequence[Output]) -> Any:
    named = [o for o in outputs if o.name]
    if named:
        if isinstance(tree, list):
            return [
                (
                    {**item, **{o.name: mapping.resolve(o, item) for o in named}}
                    if isinstance(item, dict)
                    else item
                )
                for item in tree
            ]
        return {o.name: mapping.resolve(o, tree) for o in named}
    if outputs:
        value = mapping.select(outputs, tree)
        if value is not mapping.NOT_MAPPED:
            return value
    return tree


def _lookup(step: Step, runtime: Mapping[str, Any], results: Mapping[str, Any]) -> Any:
    if step.index is None or step.index not in results:
        raise InvalidRequest(f"Lookup step references non-existent step: {step.index}")
    wanted = _step_reference(step.lookup_value or "", results)
    if wanted is None:
        wanted = render(step.lookup_value or "", runtime)
    table = results[step.index]
    rows = table if isinstance(table, list) else [table]
    if isinstance(wanted, list):
        matches = [_match(rows, step, value) for value in wanted]
        return [m for m in matches if m is not None] or None
    return _match(rows, step, wanted)


def _match(rows: Sequence[Any], step: Step, wanted: Any) -> Any:
    for row in rows:
        if isinstance(row, dict) and step.match and str(row.get(step.match)) == str(wanted):
            return {name: row.get(name) for name in step.fields}
    return None


def _step_reference(value: str, results: Mapping[str, Any]) -> Any:
    """`$.<step>.<a>.<b>` read from step results (dot segments only)."""
    if not value.startswith("$."):
        return None
    parts = value[2:].split(".")
    current: Any = results
    for part in parts:
        if isinstance(current, dict) and part in current:
            current = current[part]
        else:
            return None
    return current


def _mappings(mappings: Sequence[StepMapping], results: Mapping[str, Any]) -> dict[str, Any] | None:
    built: dict[str, Any] = {}
    resolved = False
    for entry in mappings:
        value = _step_reference(entry.value, results)
        if value is None:
            continue
        resolved = True
        target = built
        *parents, leaf = entry.target.split(".")
        for parent in parents:
            target = target.setdefault(parent, {})
        target[leaf] = value
    return built if resolved else None
