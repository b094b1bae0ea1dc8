"""Run-time settings, read once from the environment at start-up."""

from __future__ import annotations

import os
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

from .auth import built_credentials, client_certificate, path_credential
from .binds import BindContext, resolve_binds
from .errors import InvalidRequest
from .model import Bind, Upstream
from .templating import lookup, placeholders, render

TOTAL_TIMEOUT = 60.0  # the default overall upstream deadline, seconds
DRAIN_MARGIN = 5.0  # the default drain period exceeds the total upstream deadline by this much


class SettingsError(RuntimeError):
    """A setting has an unusable value; the message names the variable."""


@dataclass(frozen=True)
class Settings:
    """Everything the adapters need besides the spec itself.

    `env_prefix` is the package's upper-snake name: `<PREFIX>_TIMEOUT` and friends.
    """

    env_prefix: str
    base_urls: Mapping[str, str]
    binds: BindContext = field(default_factory=BindContext)
    connect_timeout: float = 5.0
    read_timeout: float = 30.0
    total_timeout: float = TOTAL_TIMEOUT
    retries: int = 2
    max_retry_after: float = 10.0
    max_request_bytes: int = 4 * 1024 * 1024
    max_response_bytes: int = 16 * 1024 * 1024
    max_connections: int = 100
    inbound_tokens: Mapping[str, str] = field(default_factory=dict)
    auth_disabled: bool = False
    cors_origins: tuple[str, ...] = ()
    mock: bool = False
    docs: bool = True  # /docs, /redoc and /openapi.json, open without credentials
    tools: tuple[str, ...] = ()  # MCP tools to offer (name patterns); empty: all
    exclude_tools: tuple[str, ...] = ()  # MCP tools not to offer (name patterns)
    page_size: int = 0  # MCP list results per page (a cursor for the rest); 0: one page
    discovery: bool = False  # MCP: three meta-tools (search, describe, invoke) instead
    allowed_hosts: tuple[str, ...] = ()  # Host patterns served (REST and MCP); empty: see hosts.py
    allowed_origins: tuple[str, ...] = ()  # Origin patterns; empty: those of the allowed hosts
    trusted_proxies: str = "127.0.0.1"  # whose X-Forwarded-For/-Proto count (uvicorn's list)
    digest_secret: str = ""  # signs digest nonces; one value for every replica and worker
    drain_grace: float = 5.0  # after SIGTERM: /readyz answers 503 while still serving
    drain_timeout: float = TOTAL_TIMEOUT + DRAIN_MARGIN  # then in-flight requests have this long
    metrics_dir: str = ""  # where the workers of one server share their metrics
    metrics_token: str = ""  # a bearer token /metrics requires instead of the adapter's auth
    metrics_port: int = 0  # /metrics on its own port (open there, absent from the adapters)
    credentials: tuple[str, ...] = ()  # what the service builds from bound values (auth.py)
    head_timeout: float = 5.0  # seconds a caller has to send a whole request head (wire.py)
    body_timeout: float = 10.0  # seconds a request body may pause before the request is ended

    def secret_values(self) -> list[str]:
        """Every value no log line, error or answer may show: bound values, inbound tokens and
        the credentials built from them (redaction.py decides which are long enough)."""
        return [*self.binds.secrets(), *self.inbound_tokens.values(), *self.credentials]

    def with_base_url(self, url: str) -> Settings:
        """Every consumed API pointed at `url` (mock mode)."""
        return replace(self, base_urls={name: url for name in self.base_urls})


MOCK_OPERATION_HEADER = "X-Capgen-Mock-Operation"  # names the operation, to the mock upstream only


# Numeric settings: field -> (variable after the prefix, default); counts are whole numbers
_SECONDS = {
    "connect_timeout": ("CONNECT_TIMEOUT", 5.0),
    "read_timeout": ("TIMEOUT", 30.0),
    "max_retry_after": ("MAX_RETRY_AFTER", 10.0),
    "drain_grace": ("DRAIN_GRACE", 5.0),
    "head_timeout": ("HEAD_TIMEOUT", 5.0),
    "body_timeout": ("BODY_TIMEOUT", 10.0),
}
_COUNTS = {
    "retries": ("RETRIES", 2),
    "max_request_bytes": ("MAX_REQUEST_BYTES", 4 * 1024 * 1024),
    "max_response_bytes": ("MAX_RESPONSE_BYTES", 16 * 1024 * 1024),
    "max_connections": ("MAX_CONNECTIONS", 100),
    "page_size": ("MCP_PAGE_SIZE", 0),
    "metrics_port": ("METRICS_PORT", 0),
}


def load_settings(
    env_prefix: str,
    upstreams: Sequence[Upstream],
    binds: Sequence[Bind],
    environ: Mapping[str, str] | None = None,
    *,
    mock: bool = False,
    auth_disabled: bool = False,
    cwd: Path | None = None,
) -> Settings:
    """Read settings; raises BindError/SettingsError naming the variable that is missing or bad."""
    env = os.environ if environ is None else environ
    total_timeout = _number(env, f"{env_prefix}_TOTAL_TIMEOUT", TOTAL_TIMEOUT)
    binds_context = resolve_binds(binds, env, cwd, placeholder=mock)
    base_urls = {u.namespace: _base_url(u, env, binds_context, mock) for u in upstreams}
    if not mock:
        _check_certificates(upstreams, binds_context)
    numbers: dict[str, Any] = {
        field: _number(env, f"{env_prefix}_{name}", default)
        for field, (name, default) in _SECONDS.items()
    }
    numbers |= {f: int(_number(env, f"{env_prefix}_{n}", d)) for f, (n, d) in _COUNTS.items()}
    settings = Settings(
        env_prefix=env_prefix,
        base_urls=base_urls,
        binds=binds_context,
        total_timeout=total_timeout,
        inbound_tokens=_inbound(env, env_prefix),
        auth_disabled=auth_disabled or _flag(env, f"{env_prefix}_AUTH_DISABLED"),
        cors_origins=tuple(o for o in env.get(f"{env_prefix}_CORS_ORIGINS", "").split(",") if o),
        mock=mock,
        docs=_flag(env, f"{env_prefix}_DOCS", default=True),
        tools=_patterns(env.get(f"{env_prefix}_MCP_TOOLS", "")),
        exclude_tools=_patterns(env.get(f"{env_prefix}_MCP_EXCLUDE_TOOLS", "")),
        discovery=_flag(env, f"{env_prefix}_MCP_DISCOVERY"),
        allowed_hosts=_patterns(env.get(f"{env_prefix}_ALLOWED_HOSTS", "")),
        allowed_origins=_patterns(env.get(f"{env_prefix}_ALLOWED_ORIGINS", "")),
        trusted_proxies=conventional(
            env, f"{env_prefix}_TRUSTED_PROXIES", "FORWARDED_ALLOW_IPS", "127.0.0.1"
        ),
        digest_secret=env.get(f"{env_prefix}_DIGEST_SECRET", ""),
        # the default lets the slowest request the upstream deadline allows finish
        drain_timeout=_number(env, f"{env_prefix}_DRAIN_TIMEOUT", total_timeout + DRAIN_MARGIN),
        metrics_dir=env.get(f"{env_prefix}_METRICS_DIR", ""),
        metrics_token=env.get(f"{env_prefix}_METRICS_TOKEN", ""),
        credentials=tuple(
            c for u in upstreams for c in built_credentials(u.auth, binds_context.scope)
        ),
    )
    return replace(settings, **numbers)


def conventional(env: Mapping[str, str], prefixed: str, common: str, default: str = "") -> str:
    """A setting under the package's own name, else under the name platforms set for every
    process (`PORT`, `HOST`, `WEB_CONCURRENCY`...), else `default`."""
    return env.get(prefixed) or env.get(common) or default


def _patterns(text: str) -> tuple[str, ...]:
    """Comma-separated shell-style name patterns (`list-*,get-user`)."""
    return tuple(p.strip() for p in text.split(",") if p.strip())


def _number(env: Mapping[str, str], name: str, default: float) -> float:
    raw = env.get(name)
    if raw is None or raw == "":
        return default
    try:
        value = float(raw)
    except ValueError:
        raise SettingsError(f"{name} must be a number, got {raw!r}") from None
    if value < 0:
        raise SettingsError(f"{name} must not be negative")
    return value


def _flag(env: Mapping[str, str], name: str, default: bool = False) -> bool:
    raw = env.get(name, "").strip().lower()
    if not raw:
        return default
    if raw not in ("1", "true", "yes", "on", "0", "false", "no", "off"):
        raise SettingsError(f"{name} must be true or false, got {raw!r}")
    return raw in ("1", "true", "yes", "on")


def _base_url(upstream: Upstream, env: Mapping[str, str], binds: BindContext, mock: bool) -> str:
    """The override variable, else the spec's baseUri with placeholders from the API key placed
    in the path (`https://api.telegram.org/bot{{token}}`), binds or the environment."""
    override = env.get(upstream.base_url_env)
    if override:
        return override.rstrip("/")
    template = upstream.base_url
    try:
        credential = path_credential(upstream.auth, binds.scope)
    except InvalidRequest:
        raise SettingsError(
            f"the API key of {upstream.namespace} cannot be placed in a URL path"
        ) from None
    scopes = [credential, binds.scope, env]
    missing = [n for n in placeholders(template) if lookup(n, scopes) in (None, "")]
    if mock:
        return template
    if not template or missing:
        needs = f" (needs {', '.join(missing)})" if missing else ""
        raise SettingsError(
            f"no base URL for {upstream.namespace}{needs}: set {upstream.base_url_env}"
        )
    return render(template, *scopes).rstrip("/")


def _check_certificates(upstreams: Sequence[Upstream], binds: BindContext) -> None:
    for upstream in upstreams:
        try:
            client_certificate(upstream.auth, binds.scope)
        except (OSError, ValueError) as exc:
            reason = getattr(exc, "strerror", None) or type(exc).__name__
            raise SettingsError(
                f"cannot load the client certificate of {upstream.namespace}: {reason}"
            ) from None


def _inbound(env: Mapping[str, str], prefix: str) -> dict[str, str]:
    """Caller credentials: a bearer token, an API key (X-API-Key header), or both."""
    found = {
        "bearer": env.get(f"{prefix}_API_TOKEN", ""),
        "apikey": env.get(f"{prefix}_API_KEY", ""),
    }
    return {kind: value for kind, value in found.items() if value}
