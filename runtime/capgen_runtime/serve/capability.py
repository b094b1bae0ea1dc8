"""`Capability`: everything a generated package declares, gathered for serving, and the
service class that answers for it (the generated one, or a user's subclass of it)."""

from __future__ import annotations

import importlib
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

from ..adapters import KINDS, AdapterKind
from ..auth.outbound import client_certificate
from ..engine import Service
from ..model import Bind, Endpoint, McpAdapter, Operation, RestAdapter, Upstream
from ..settings import Settings, SettingsError


@dataclass(frozen=True)
class Capability:
    """Everything a generated package declares, gathered for the command line."""

    name: str
    title: str
    env_prefix: str
    binds: tuple[Bind, ...]
    upstreams: tuple[Upstream, ...]
    operations: tuple[Operation, ...]
    rest: tuple[RestAdapter, ...] = ()
    mcp: tuple[McpAdapter, ...] = ()
    service: type[Service] = Service  # the generated service class (descriptor schema 2)
    service_path: str = ""  # `module:Class` served by default instead (`[tool.capgen]`)
    adapters: tuple[Any, ...] = ()  # adapters of any registered kind (`capgen_runtime.adapters`)

    def of(self, kind: AdapterKind[Any, Any]) -> list[Any]:
        """The adapters of `kind`, in the order the package gives them."""
        return [
            a for a in (*self.rest, *self.mcp, *self.adapters) if isinstance(a, kind.descriptor)
        ]

    def served(self) -> list[tuple[AdapterKind[Any, Any], Any]]:
        """Every adapter with its kind, kind by kind in the registry's order."""
        return [(kind, adapter) for kind in KINDS.values() for adapter in self.of(kind)]

    def mounts(self) -> dict[str, str]:
        """Where each adapter of a mounted kind answers on a shared port, by namespace."""
        found: dict[str, str] = {}
        for kind in KINDS.values():
            if kind.mounts is not None:
                found.update(kind.mounts([a for a in self.of(kind) if kind.over_http(a)]))
        return found

    def endpoints(self) -> Iterator[Endpoint]:
        """Every exposed endpoint, and the aggregate function behind each `ref`."""
        found = [e for kind, adapter in self.served() for e in kind.endpoints(adapter)]
        for endpoint in found:
            yield endpoint
            if endpoint.function is not None:
                yield endpoint.function

    def service_class(self, path: str = "") -> type[Service]:
        """The class `path` (`module:Class`, else the settings' or the package's default)
        names, which must extend the generated service; the generated one without a path."""
        path = path or self.service_path
        if not path:
            return self.service
        module_name, _, attribute = path.partition(":")
        try:
            found = getattr(importlib.import_module(module_name), attribute or "Service")
        except (ImportError, AttributeError) as exc:
            raise SettingsError(f"cannot load the service {path!r}: {exc}") from None
        if not (isinstance(found, type) and issubclass(found, self.service)):
            raise SettingsError(
                f"the service {path!r} must be a class extending {self.service.__module__}."
                f"{self.service.__qualname__}"
            )
        return found

    def check_certificates(self, settings: Settings) -> None:
        """Load every client certificate once at start-up: a missing or unreadable one stops
        the service with a message naming the upstream, not the first request."""
        for upstream in self.upstreams:
            try:
                client_certificate(upstream.auth, settings.binds.scope)
            except (OSError, ValueError) as exc:
                reason = getattr(exc, "strerror", None) or type(exc).__name__
                raise SettingsError(
                    f"cannot load the client certificate of {upstream.namespace}: {reason}"
                ) from None

    def create_service(self, settings: Settings) -> Service:
        """The service of `settings` (its class from `<PREFIX>_SERVICE` when set)."""
        return self.service_class(settings.service)(settings, self.upstreams)
