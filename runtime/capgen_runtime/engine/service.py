"""`Service`: what a capability does, shared by every adapter of one process.

It holds the settings, the upstream connection pools, the metrics and what must be redacted,
and it does the work: `run` answers an exposed unit as its spec says, `call` sends one consumed
operation. A generated package subclasses it with one typed method per consumed operation and
per exposed unit (`<package>/service.py`), each marked `@from_spec`; a user subclasses that
and replaces any of them. Adapters call a unit's method only when it was replaced, and run the
unit directly otherwise (the method would do just that), so an unchanged service pays nothing
for the indirection.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable, Coroutine, Mapping, Sequence
from contextlib import asynccontextmanager
from contextvars import ContextVar
from dataclasses import dataclass
from typing import Any, Protocol, TypeVar

import httpx

from ..errors import UpstreamUnavailable
from ..metrics import Metrics
from ..model import Endpoint, Operation, Prompt, Signature, Upstream
from ..settings import Settings
from ..upstream.client import UpstreamClient
from ..upstream.request import find
from ..upstream.result import Result
from ..upstream.stream import OpenStream
from .answer import Answer, as_answer
from .execute import execute
from .prompts import Messages, fill_messages
from .redaction import Redactor

F = TypeVar("F", bound=Callable[..., Coroutine[Any, Any, Any]])
_SPEC = "__capgen_from_spec__"


def from_spec(method: F) -> F:
    """Marks a generated method: it does what the spec says, and adapters may do the same
    without calling it, until a subclass replaces it."""
    setattr(method, _SPEC, True)
    return method


@dataclass(frozen=True, slots=True)
class Exchange:
    """What an adapter knows of the request a unit is answering: the caller's Authorization
    to pass on (no inbound authentication), and whether a streamed answer may stay open."""

    authorization: str | None = None
    stream: bool = False


NOTHING_KNOWN = Exchange()  # outside any adapter's request
EXCHANGE: ContextVar[Exchange] = ContextVar("capgen_exchange", default=NOTHING_KNOWN)


class Unit(Protocol):
    """An exposed unit an adapter answers: a REST route, an MCP tool or resource."""

    @property
    def name(self) -> str: ...

    @property
    def endpoint(self) -> Endpoint | None: ...

    @property
    def handler(self) -> str | None: ...

    @property
    def signature(self) -> Signature: ...


class Service:
    """The upstream clients and settings shared by every adapter of one process, and the
    capability's work (`run`, `call`)."""

    UPSTREAMS: tuple[Upstream, ...] = ()  # the consumed APIs, set by a generated subclass

    def __init__(self, settings: Settings, upstreams: Sequence[Upstream] | None = None) -> None:
        self.settings = settings
        self.upstreams = {u.namespace: u for u in (upstreams or self.UPSTREAMS)}
        self.clients: dict[str, UpstreamClient] = {}
        self.metrics = Metrics()
        self.redactor = Redactor(settings.secret_values())
        self.draining = False  # set on SIGTERM: /readyz answers 503 while requests finish
        self.replaced = replaced_methods(type(self))
        self._users = 0
        self._bind_scope = settings.binds.scope

    @property
    def ready(self) -> bool:
        """The connection pools are open (or there is no upstream to open one for)."""
        return bool(self.clients) or not self.upstreams

    @property
    def bind_scope(self) -> dict[str, Any]:
        """The bound variables as templates read them (built once; read, never written)."""
        return self._bind_scope

    @asynccontextmanager
    async def running(self) -> AsyncIterator[Service]:
        """Open the connection pools on first use; close them when the last adapter stops."""
        if self._users == 0:
            self.clients = {
                ns: UpstreamClient(u, self.settings, metrics=self.metrics)
                for ns, u in self.upstreams.items()
            }
        self._users += 1
        try:
            yield self
        finally:
            self._users -= 1
            if self._users == 0:
                for client in self.clients.values():
                    await client.aclose()
                self.clients = {}

    def client(self, namespace: str) -> UpstreamClient:
        if namespace not in self.clients:
            raise UpstreamUnavailable(f"upstream {namespace} is not running")
        return self.clients[namespace]

    async def answer(self, unit: Unit, inputs: Mapping[str, Any], exchange: Exchange) -> Answer:
        """An exposed unit's answer to an adapter's request: from its method when a subclass
        replaced it, as the spec says otherwise."""
        token = EXCHANGE.set(exchange)
        try:
            if unit.handler is not None and unit.handler in self.replaced:
                arguments = {arg: inputs.get(name) for arg, name in unit.signature}
                return as_answer(await getattr(self, unit.handler)(**arguments))
            return await self.run(unit.endpoint or Endpoint(unit.name), inputs)
        finally:
            EXCHANGE.reset(token)

    async def messages(self, prompt: Prompt, arguments: Mapping[str, str]) -> Messages:
        """A prompt's messages: from its method when a subclass replaced it, its templates
        filled with the arguments otherwise."""
        if prompt.handler is not None and prompt.handler in self.replaced:
            given = {arg: arguments.get(name) for arg, name in prompt.signature}
            return list(await getattr(self, prompt.handler)(**given))
        return fill_messages(prompt, arguments)

    def run(self, endpoint: Endpoint, inputs: Mapping[str, Any]) -> Coroutine[Any, Any, Answer]:
        """Answer an exposed unit as its spec says (SEMANTICS §5-§7), with the caller's inputs
        by their names in the spec. (`await service.run(...)`: the engine's own coroutine is
        handed back, not wrapped in another: each layer is a frame more on every request.)"""
        return execute(endpoint, inputs, self, stream=EXCHANGE.get().stream)

    async def call(self, operation: Operation, params: Mapping[str, Any]) -> Result[Any]:
        """Send one consumed operation with `params` (by their names in the spec); the answer
        whatever its status."""
        response = await self._send(operation, params, stream=False)
        assert isinstance(response, httpx.Response)
        return Result(operation, response)

    def consume(
        self, operation: Operation, params: Mapping[str, Any], *, stream: bool = False
    ) -> Coroutine[Any, Any, httpx.Response | OpenStream]:
        """Each consumed operation an exposed unit calls: through the operation's method when
        a subclass replaced it, straight to the upstream otherwise (the client's coroutine,
        as `run` hands back the engine's)."""
        if operation.handler is not None and operation.handler in self.replaced:
            return self._replaced(operation, params)
        return self._send(operation, params, stream=stream)

    async def _replaced(
        self, operation: Operation, params: Mapping[str, Any]
    ) -> httpx.Response | OpenStream:
        assert operation.handler is not None
        method = getattr(self, operation.handler)
        arguments = {arg: find(params, name) for arg, name in operation.signature}
        result = await method(**arguments)
        return result.response if isinstance(result, Result) else _response(result)

    def _send(
        self, operation: Operation, params: Mapping[str, Any], *, stream: bool
    ) -> Coroutine[Any, Any, httpx.Response | OpenStream]:
        client = self.client(operation.namespace)
        authorization = EXCHANGE.get().authorization
        return client.call(operation, params, inbound_authorization=authorization, stream=stream)


def _response(value: Any) -> httpx.Response:
    """A replaced operation method that answered something else than a `Result`: its value
    as a JSON 200."""
    return httpx.Response(200, json=value)


def replaced_methods(cls: type) -> frozenset[str]:
    """The names of `@from_spec` methods that `cls` (a user's subclass) replaced."""
    marked = {
        name
        for base in cls.__mro__
        for name, value in vars(base).items()
        if getattr(value, _SPEC, False)
    }
    return frozenset(name for name in marked if not getattr(getattr(cls, name), _SPEC, False))
