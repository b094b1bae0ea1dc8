"""What every adapter kind provides: an `AdapterKind` descriptor (its registry entry) saying how
its adapters are served: the ASGI application of one, where it answers on a shared port, and
whether it also runs over standard input/output. Only names and descriptors are imported here;
a kind's framework (FastAPI, the MCP SDK) is imported by its functions when they are called."""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Generic, Protocol, TypeVar

from ..model import Endpoint, InboundAuth

if TYPE_CHECKING:
    from ..engine import Service

App = Any  # an ASGI application with a Starlette lifespan (`app.router.lifespan_context`)
K = TypeVar("K", bound=str, covariant=True)
A = TypeVar("A")


class Adapter(Protocol):
    """What serving reads of every adapter descriptor."""

    @property
    def namespace(self) -> str: ...

    @property
    def port(self) -> int | None: ...

    @property
    def auth(self) -> InboundAuth | None: ...


def _always(adapter: Any) -> bool:
    return True


@dataclass(frozen=True, slots=True)
class AdapterKind(Generic[K, A]):
    """`kind` as `exposes[].type` writes it, and the descriptor class of its adapters.

    In one-port mode an adapter answers either at the path `mounts` gives it (its application
    sees `path` instead), or at the paths its application `claims` (its own operations)."""

    kind: K
    descriptor: type[A]
    label: str  # how start-up names it ("REST", "MCP")
    build: Callable[[A, Service, str], App]  # its application, for the host it is bound to
    endpoints: Callable[[A], Iterable[Endpoint]]  # what it answers (the mock upstream serves them)
    over_http: Callable[[A], bool] = _always  # else it runs over standard input/output only
    mounts: Callable[[Sequence[A]], Mapping[str, str]] | None = None  # path by namespace
    path: str = ""  # where its application answers what is sent to its mount
    claims: Callable[[App], Callable[[str], bool]] | None = None  # an application's path test
    stdio: Callable[[A, Service], Awaitable[None]] | None = None
    deferred: bool = False  # built in a thread after the first answer (slow import: MCP SDK)
    note: str = ""  # what start-up prints after its address
