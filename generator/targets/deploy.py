"""Plan what deploys a package: a Dockerfile, a compose file and Kubernetes manifests.

Everything the templates print is decided here: which variables are secrets, which have
defaults, how long Kubernetes must wait for a drain, which command starts the service. The
drain figures come from the run-time library's own defaults, so the manifests and the service
cannot disagree.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass

from capgen_runtime.model import mcp_paths
from capgen_runtime.timing import DRAIN_MARGIN, TOTAL_TIMEOUT

from ..ir import model as ir
from .files import FileSpec

PORT = 8080
UID = 10001
# what the orchestrator grants beyond the service's own grace and drain: the process's exit
TERMINATION_MARGIN = 15
DRAIN_GRACE = 5  # seconds /readyz answers 503 before the listeners close, in the manifests


@dataclass(frozen=True)
class EnvVar:
    name: str
    value: str = ""  # a plain setting's value; empty for a secret
    note: str = ""


@dataclass(frozen=True)
class Deployment:
    """What the deployment templates print."""

    name: str  # the image and Kubernetes object name (the distribution name)
    module: str
    port: int
    uid: int
    secrets: tuple[EnvVar, ...]  # from the environment (compose) or a Secret (Kubernetes)
    settings: tuple[EnvVar, ...]  # plain values
    files: tuple[str, ...]  # binds read from a file: mounted by the user
    drain_grace: int
    drain_timeout: int
    termination_grace: int
    mcp_path: str | None  # where MCP answers in one-port mode, if it is served over HTTP
    command: tuple[str, ...]  # the container's start command


def _http_adapters(package: ir.Package) -> list[ir.RestAdapter | ir.McpAdapter]:
    return [*package.rest, *(m for m in package.mcp if m.transport == "http")]


def serves_http(package: ir.Package) -> bool:
    return bool(_http_adapters(package))


def deployment(package: ir.Package) -> Deployment:
    prefix = package.env_prefix
    name = kubernetes_name(package.dist_name)
    secrets: list[EnvVar] = []
    for bind in package.binds:
        if bind.location is None:
            secrets += [EnvVar(key, note=f"bound as {variable}") for variable, key in bind.keys]
    adapters = _http_adapters(package)
    if any(a.auth is None for a in adapters):
        secrets.append(EnvVar(f"{prefix}_API_TOKEN", note="the bearer token callers present"))
    if any(a.auth is not None and a.auth.kind == "digest" for a in adapters):
        secrets.append(
            EnvVar(f"{prefix}_DIGEST_SECRET", note="signs digest nonces: one value everywhere")
        )
    drain_timeout = math.ceil(TOTAL_TIMEOUT + DRAIN_MARGIN)
    plain = (
        EnvVar("HOST", "0.0.0.0"),
        EnvVar("PORT", str(PORT)),
        EnvVar("WEB_CONCURRENCY", "1", "worker processes per container"),
        EnvVar(f"{prefix}_DRAIN_GRACE", str(DRAIN_GRACE), "seconds /readyz is 503 before closing"),
        EnvVar(
            f"{prefix}_ALLOWED_HOSTS",
            # the Service's cluster names; never `<name>.*`, which `<name>.attacker.example` fits
            f"{name},{name}.*.svc,{name}.*.svc.cluster.local,localhost,127.0.0.1",
            "the Host names callers use (add your public name)",
        ),
    )
    return Deployment(
        name=name,
        module=package.module,
        port=PORT,
        uid=UID,
        secrets=tuple(secrets),
        settings=plain,
        files=tuple(b.location for b in package.binds if b.location is not None),
        drain_grace=DRAIN_GRACE,
        drain_timeout=drain_timeout,
        termination_grace=DRAIN_GRACE + drain_timeout + TERMINATION_MARGIN,
        mcp_path=next(iter(mcp_paths(package.mcp).values()), None),
        command=("python", "-m", package.module, "serve"),
    )


def kubernetes_name(name: str) -> str:
    """An RFC 1123 label: what Kubernetes objects, images and DNS names accept."""
    return re.sub(r"[^a-z0-9-]+", "-", name.lower()).strip("-")[:63].rstrip("-") or "capability"


def plan(package: ir.Package, common: dict[str, object]) -> list[FileSpec]:
    """The deployment files, for a package that serves something over HTTP."""
    if not serves_http(package):
        return []
    context = {**common, "deploy": deployment(package)}
    return [
        FileSpec("Dockerfile", "deploy/Dockerfile.jinja", context),
        FileSpec(".dockerignore", "deploy/dockerignore.jinja", context),
        FileSpec("requirements.txt", "deploy/requirements.txt.jinja", context),
        FileSpec("wheels/README.md", "deploy/wheels.md.jinja", context),
        FileSpec("compose.yaml", "deploy/compose.yaml.jinja", context),
        FileSpec("kubernetes/deployment.yaml", "deploy/deployment.yaml.jinja", context),
        FileSpec("kubernetes/service.yaml", "deploy/service.yaml.jinja", context),
        FileSpec("kubernetes/hpa.yaml", "deploy/hpa.yaml.jinja", context),
    ]
