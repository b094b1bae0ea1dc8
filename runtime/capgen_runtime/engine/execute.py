"""Execute exposed endpoints: parameters, `with`, calls, steps, mocks and output mapping."""

from __future__ import annotations

from collections.abc import Awaitable, Mapping, Sequence
from typing import Any, Protocol

import httpx

from .. import formats
from ..errors import InvalidRequest, NoHandler, NotSupported
from ..expr import mapping
from ..expr.templating import render
from ..model import Endpoint, Operation, Output, Step, StepMapping, With
from ..upstream.request import find
from ..upstream.stream import OpenStream
from .answer import Answer, from_response, json_answer, maps_whole_body, mock_answer


class Runner(Protocol):
    """What the engine needs of a service: the bound variables, and a way to send each
    consumed operation (`Service.consume`)."""

    @property
    def bind_scope(self) -> dict[str, Any]: ...

    def consume(
        self, operation: Operation, params: Mapping[str, Any], *, stream: bool = False
    ) -> Awaitable[httpx.Response | OpenStream]: ...


async def execute(
    endpoint: Endpoint,
    inputs: Mapping[str, Any],
    service: Runner,
    *,
    stream: bool = False,
) -> Answer:
    """Run `endpoint` with the caller's inputs (SEMANTICS §5.3, §7). With `stream`, an upstream
    stream that is the whole result comes back open (`Outcome.stream`), to be relayed."""
    if endpoint.unavailable:
        raise NotSupported(endpoint.unavailable)
    scope = service.bind_scope
    params = apply_with(dict(inputs), endpoint.with_, scope)
    if endpoint.function is not None:
        return await _aggregate(endpoint, params, service)
    if endpoint.call is not None:
        params = apply_with(params, endpoint.call.with_, scope)
        response = await service.consume(
            endpoint.call.operation,
            params,
            stream=stream and (not endpoint.outputs or maps_whole_body(endpoint.outputs)),
        )
        if isinstance(response, OpenStream):
            status = response.status
            return Answer(status, media_type=response.media_type, stream=response)
        return from_response(response, endpoint.outputs, endpoint.call.operation)
    if endpoint.steps:
        return await _orchestrate(endpoint, params, service)
    if mapping.has_mock_values(endpoint.outputs):
        return mock_answer(endpoint.outputs, params)
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


async def _aggregate(endpoint: Endpoint, params: dict[str, Any], service: Runner) -> Answer:
    function = endpoint.function
    assert function is not None
    outcome = await execute(function, params, service)
    if (
        outcome.value is mapping.NOT_MAPPED
        and endpoint.outputs
        and not outcome.mock
        and function.call
    ):
        response = httpx.Response(outcome.status, content=outcome.content, headers=_media(outcome))
        return from_response(response, endpoint.outputs, function.call.operation)
    return outcome


async def _orchestrate(endpoint: Endpoint, params: dict[str, Any], service: Runner) -> Answer:
    """SEMANTICS §7.7: call and lookup steps, then `mappings`, else the last call's response."""
    runtime = dict(params)
    results: dict[str, Any] = {}
    last: tuple[httpx.Response, Operation] | None = None
    for step in endpoint.steps:
        if step.kind == "call" and step.call is not None:
            step_params = apply_with(dict(runtime), step.call.with_, service.bind_scope)
            operation = step.call.operation
            response = await service.consume(operation, step_params)
            assert isinstance(response, httpx.Response)  # streams only when asked for
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
        return json_answer(200, built)
    if last is not None:
        response, called = last
        return from_response(response, endpoint.outputs, called)
    if mapping.has_mock_values(endpoint.outputs):
        return mock_answer(endpoint.outputs, params)
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


def _media(answer: Answer) -> dict[str, str]:
    return {"content-type": answer.media_type} if answer.media_type else {}
