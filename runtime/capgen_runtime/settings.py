"""Run-time settings: every knob a field of `Settings`, read once from `<PREFIX>_<NAME>` by
pydantic-settings, its default written once, here.

Besides the knobs, a service's settings hold what comes from its spec: the bound variables
(`binds.py`) and each consumed API's base URL (`<NAMESPACE>_BASE_URL`, else the spec's).
A few knobs also answer to the name platforms set for every process (`PORT`, `HOST`,
`WEB_CONCURRENCY`, `LOG_LEVEL`, `FORWARDED_ALLOW_IPS`) when the prefixed one is not set.
"""

from __future__ import annotations

import os
from collections.abc import Mapping, Sequence
from contextvars import ContextVar
from pathlib import Path
from typing import Annotated, Any, Literal

from pydantic import Field, ValidationError, field_validator, model_validator
from pydantic_settings import BaseSettings, NoDecode, PydanticBaseSettingsSource, SettingsConfigDict
from pydantic_settings.sources import EnvSettingsSource

from .auth.outbound import built_credentials, path_credential
from .binds import BindContext, resolve_binds
from .errors import InvalidRequest
from .expr.templating import lookup, placeholders, render
from .model import Bind, Upstream
from .timing import DRAIN_MARGIN, TOTAL_TIMEOUT

MOCK_OPERATION_HEADER = "X-Capgen-Mock-Operation"  # names the operation, to the mock upstream only
# knob -> the name every process may also carry it under
CONVENTIONAL = {
    "host": "HOST",
    "port": "PORT",
    "workers": "WEB_CONCURRENCY",
    "log_level": "LOG_LEVEL",
    "trusted_proxies": "FORWARDED_ALLOW_IPS",
}
Patterns = Annotated[tuple[str, ...], NoDecode]  # comma-separated in the environment


class SettingsError(RuntimeError):
    """A setting has an unusable value; the message names the variable."""


_ENVIRON: ContextVar[Mapping[str, str] | None] = ContextVar("capgen_environ", default=None)


class Settings(BaseSettings):
    """Everything the adapters need besides the spec itself; `env_prefix` is the package's
    upper-snake name (`<PREFIX>_TIMEOUT` and friends)."""

    model_config = SettingsConfigDict(
        frozen=True, extra="ignore", env_ignore_empty=True, arbitrary_types_allowed=True
    )

    # what the package gives, never read from the environment
    env_prefix: str = Field(exclude=True)
    base_urls: Mapping[str, str] = Field(default_factory=dict, exclude=True)
    binds: BindContext = Field(default_factory=BindContext, exclude=True)
    mock: bool = Field(False, exclude=True)
    credentials: tuple[str, ...] = Field((), exclude=True)  # built from bound values (auth)

    # <PREFIX>_<NAME>
    connect_timeout: float = Field(5.0, ge=0)  # upstream connect timeout, seconds
    timeout: float = Field(30.0, ge=0)  # upstream read timeout, also between stream chunks
    total_timeout: float = Field(TOTAL_TIMEOUT, ge=0)  # overall deadline of an upstream call
    retries: int = Field(2, ge=0)  # retries of idempotent upstream requests
    max_retry_after: float = Field(10.0, ge=0)  # longest upstream Retry-After honoured
    max_request_bytes: int = Field(4 * 1024 * 1024, ge=0)
    max_response_bytes: int = Field(16 * 1024 * 1024, ge=0)
    max_connections: int = Field(100, ge=1)  # upstream connection pool size
    api_token: str = ""  # the bearer token callers send (unless the spec says otherwise)
    api_key: str = ""  # or the X-API-Key they send
    auth_disabled: bool = False  # --no-auth
    cors_origins: Patterns = ()
    docs: bool = True  # /docs, /redoc and /openapi.json, open without credentials
    mcp_tools: Patterns = ()  # MCP tools to offer (name patterns); empty: all
    mcp_exclude_tools: Patterns = ()  # MCP tools not to offer (name patterns)
    mcp_page_size: int = Field(0, ge=0)  # MCP list results per page; 0: one page
    mcp_discovery: bool = False  # MCP: three meta-tools (search, describe, invoke) instead
    allowed_hosts: Patterns = ()  # Host patterns served (REST and MCP); see web/hosts.py
    allowed_origins: Patterns = ()  # Origin patterns; empty: those of the allowed hosts
    trusted_proxies: str = "127.0.0.1"  # whose X-Forwarded-For/-Proto count (uvicorn's list)
    digest_secret: str = ""  # signs digest nonces; one value for every replica and worker
    drain_grace: float = Field(5.0, ge=0)  # after SIGTERM: /readyz 503 while still serving
    drain_timeout: float = Field(-1.0)  # then in-flight requests have this long (see below)
    head_timeout: float = Field(5.0, ge=0)  # seconds a caller has to send a whole request head
    body_timeout: float = Field(10.0, ge=0)  # seconds a request body may pause before it ends
    metrics_dir: str = ""  # where the workers of one server keep their metrics
    metrics_token: str = ""  # a bearer token /metrics requires instead of the adapter's auth
    metrics_port: int = Field(0, ge=0, le=65535)  # /metrics on its own port
    log_level: Literal["debug", "info", "warning", "error"] = "info"
    host: str = "127.0.0.1"
    port: int | None = Field(None, ge=0, le=65535)  # one port for every adapter
    workers: int = Field(1, ge=1)
    service: str = ""  # `module:Class`, the service to serve instead of the generated one

    @field_validator(
        "cors_origins", "mcp_tools", "mcp_exclude_tools", "allowed_hosts", "allowed_origins",
        mode="before",
    )  # fmt: skip
    @classmethod
    def _comma_separated(cls, value: Any) -> Any:
        if isinstance(value, str):
            return tuple(p.strip() for p in value.split(",") if p.strip())
        return value

    @field_validator("log_level", mode="before")
    @classmethod
    def _lower(cls, value: Any) -> Any:
        return value.lower() if isinstance(value, str) else value

    @model_validator(mode="after")
    def _drain_default(self) -> Settings:
        # the default lets the slowest request the upstream deadline allows finish
        if self.drain_timeout < 0:
            object.__setattr__(self, "drain_timeout", self.total_timeout + DRAIN_MARGIN)
        return self

    @classmethod
    def settings_customise_sources(
        cls,
        settings_cls: type[BaseSettings],
        init_settings: PydanticBaseSettingsSource,
        env_settings: PydanticBaseSettingsSource,
        dotenv_settings: PydanticBaseSettingsSource,
        file_secret_settings: PydanticBaseSettingsSource,
    ) -> tuple[PydanticBaseSettingsSource, ...]:
        assert isinstance(env_settings, EnvSettingsSource)  # it holds this call's prefix
        return init_settings, _Environment(settings_cls, env_prefix=env_settings.env_prefix)

    @property
    def inbound_tokens(self) -> dict[str, str]:
        """Caller credentials of capgen's own: a bearer token, an API key, or both."""
        found = {"bearer": self.api_token, "apikey": self.api_key}
        return {kind: value for kind, value in found.items() if value}

    def secret_values(self) -> list[str]:
        """Every value no log line, error or answer may show: bound values, inbound tokens and
        the credentials built from them (engine/redaction.py decides which are long enough)."""
        tokens = [*self.inbound_tokens.values(), self.metrics_token]
        return [*self.binds.secrets(), *tokens, *self.credentials]

    def with_base_url(self, url: str) -> Settings:
        """Every consumed API pointed at `url` (mock mode)."""
        return self.model_copy(update={"base_urls": {name: url for name in self.base_urls}})

    def variable(self, field: str) -> str:
        return f"{self.env_prefix}_{field.upper()}"


class _Environment(EnvSettingsSource):
    """`<PREFIX>_<NAME>` from the mapping being loaded (the process environment by default),
    with the conventional names standing in for prefixed ones that are not set."""

    def _load_env_vars(self) -> Mapping[str, str | None]:
        env = _ENVIRON.get() or os.environ
        prefix = self.env_prefix
        found: dict[str, str | None] = {
            k.lower(): v for k, v in env.items() if k.startswith(prefix)
        }
        for field, common in CONVENTIONAL.items():
            if not found.get(f"{prefix}{field}".lower()) and env.get(common):
                found[f"{prefix}{field}".lower()] = env[common]
        return found


def load_settings(
    env_prefix: str,
    upstreams: Sequence[Upstream],
    binds: Sequence[Bind],
    environ: Mapping[str, str] | None = None,
    *,
    mock: bool = False,
    auth_disabled: bool = False,
    cwd: Path | None = None,
    **given: Any,
) -> Settings:
    """Read settings; raises BindError/SettingsError naming the variable that is missing or bad.
    `given` are knobs set by the command line, which win over the environment."""
    env = os.environ if environ is None else environ
    context = resolve_binds(binds, env, cwd, placeholder=mock)
    base_urls = {u.namespace: _base_url(u, env, context, mock) for u in upstreams}
    token = _ENVIRON.set(env)
    try:
        settings = Settings(
            _env_prefix=f"{env_prefix}_",
            env_prefix=env_prefix,
            base_urls=base_urls,
            binds=context,
            mock=mock,
            credentials=tuple(
                c for u in upstreams for c in built_credentials(u.auth, context.scope)
            ),
            **given,
        )
    except ValidationError as exc:
        raise SettingsError(_explained(exc, env_prefix)) from None
    finally:
        _ENVIRON.reset(token)
    if auth_disabled:
        settings = settings.model_copy(update={"auth_disabled": True})
    return settings


def _explained(exc: ValidationError, prefix: str) -> str:
    error = exc.errors()[0]
    name = f"{prefix}_{str(error['loc'][0]).upper()}" if error["loc"] else prefix
    return f"{name}: {error['msg']}, got {error.get('input')!r}"


def conventional(env: Mapping[str, str], prefixed: str, common: str, default: str = "") -> str:
    """A setting under the package's own name, else under the name platforms set for every
    process (`PORT`, `HOST`, `WEB_CONCURRENCY`...), else `default`."""
    return env.get(prefixed) or env.get(common) or default


def _base_url(upstream: Upstream, env: Mapping[str, str], binds: BindContext, mock: bool) -> str:
    """The override variable, else the spec's baseUri with placeholders from the API key placed
    in the path, binds or the environment."""
    override = env.get(upstream.base_url_env)
    if override:
        return override.rstrip("/")
    template = upstream.base_url
    try:  # an API key placed in the path: `https://api.telegram.org/bot{{token}}`
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
