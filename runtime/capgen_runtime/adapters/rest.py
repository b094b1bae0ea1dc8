"""REST adapters (FastAPI, SEMANTICS §5.1, §7): on a shared port, each answers at the paths of
its own operations."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import TYPE_CHECKING, Final, Literal

from ..model import Endpoint, RestAdapter
from .kind import AdapterKind, App

if TYPE_CHECKING:
    from ..engine import Service


def _build(adapter: RestAdapter, service: Service, host: str) -> App:
    from ..rest import build_app

    return build_app(adapter, service, host)


def _endpoints(adapter: RestAdapter) -> Iterator[Endpoint]:
    return (route.endpoint for route in adapter.routes)


def _claims(app: App) -> Callable[[str], bool]:
    allowed: Callable[[str], bool] = app.state.operations.allowed  # its operations' paths
    return allowed


KIND: Final[AdapterKind[Literal["rest"], RestAdapter]] = AdapterKind(
    "rest", RestAdapter, "REST", _build, _endpoints, claims=_claims, note="  (OpenAPI at /docs)"
)
