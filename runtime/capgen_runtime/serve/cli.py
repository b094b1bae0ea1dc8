"""The command line of a generated package: `serve` (REST + MCP over HTTP) and `stdio`."""

from __future__ import annotations

import argparse
import asyncio
import os
import secrets
import socket
import sys
from collections.abc import Coroutine, Mapping, Sequence
from contextlib import nullcontext
from typing import Any

import uvicorn

from ..adapters import KINDS, Adapter, AdapterKind
from ..auth.inbound import AuthConfigError, resolve_guard
from ..binds import BindError
from ..collector import settle_collector
from ..settings import Settings, SettingsError, load_settings
from ..web.hosts import LOOPBACK_ADDRESSES
from ..web.logs import configure_logging
from .capability import Capability
from .run import METRICS, MOCK, ONE_PORT, Plan, mock_app, mock_settings, serve

LOG_LEVELS = ("debug", "info", "warning", "error")
Served = list[tuple[AdapterKind[Any, Any], Any]]  # adapters with their kinds


def main(capability: Capability, argv: Sequence[str] | None = None) -> int:
    parser = _parser(capability)
    args = parser.parse_args(argv)
    if args.command != "serve":  # only serving builds what lives as long as the process
        settle_collector(freeze=False)
    if args.command is None:
        parser.print_help()
        return 2
    try:
        settings = _configured(capability, args)
        if args.command == "stdio":
            configure_logging(settings.secret_values(), settings.log_level)
            return event_loop(_stdio(capability, settings, args))
        settings = _with_mock_token(capability, settings, args)
        configure_logging(settings.secret_values(), settings.log_level)
        return _serve(capability, settings, args)
    except (BindError, SettingsError, AuthConfigError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2


def event_loop(main: Coroutine[Any, Any, int]) -> int:
    """Run `main` on the production event loop: uvloop where it is installed (as uvicorn
    itself would choose), else asyncio's own."""
    try:
        import uvloop
    except ImportError:
        return asyncio.run(main)
    return uvloop.run(main)


def _configured(capability: Capability, args: argparse.Namespace) -> Settings:
    """The settings, from the command line and the environment."""
    settings = load_settings(
        capability.env_prefix,
        capability.upstreams,
        capability.binds,
        mock=args.mock,
        auth_disabled=args.no_auth,
        **_given(args),
    )
    if not args.mock:
        capability.check_certificates(settings)
    capability.service_class(settings.service)  # a wrong --service stops here, not in a worker
    return settings


def _given(args: argparse.Namespace) -> dict[str, Any]:
    """The knobs the command line sets, by their settings' names."""
    names = ("log_level", "service", "host", "workers")
    return {name: getattr(args, name) for name in names if getattr(args, name, None) is not None}


def _with_mock_token(
    capability: Capability, settings: Settings, args: argparse.Namespace
) -> Settings:
    """`serve --mock` without credentials: a bearer token for this run, printed."""
    if not args.mock or settings.auth_disabled or settings.inbound_tokens:
        return settings
    token = secrets.token_urlsafe(24)
    os.environ[settings.variable("api_token")] = token  # what worker processes read
    print(f"mock mode: inbound bearer token for this run: {token}", file=sys.stderr)
    return settings.model_copy(update={"api_token": token})


def _parser(capability: Capability) -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog=f"python -m {capability.name}", description=capability.title
    )
    prefix = capability.env_prefix
    commands = parser.add_subparsers(dest="command")
    epilog, raw = _environment(capability), argparse.RawTextHelpFormatter
    serve_ = commands.add_parser(
        "serve",
        help="serve the REST and MCP (streamable HTTP) adapters",
        epilog=epilog,
        formatter_class=raw,
    )
    _listening(serve_, prefix)
    stdio = commands.add_parser(
        "stdio",
        help="serve an MCP adapter over standard input/output",
        epilog=epilog,
        formatter_class=raw,
    )
    stdio.add_argument("--adapter", help="namespace of the MCP adapter (default: the first)")
    for sub in (serve_, stdio):
        sub.add_argument(
            "--mock",
            action="store_true",
            help="answer from an embedded mock upstream; no credentials",
        )
        sub.add_argument(
            "--no-auth",
            action="store_true",
            help="disable inbound authentication (development only)",
        )
        sub.add_argument(
            "--log-level",
            choices=LOG_LEVELS,
            help=f"default ${prefix}_LOG_LEVEL, $LOG_LEVEL, else info",
        )
        sub.add_argument(
            "--service",
            metavar="MODULE:CLASS",
            help=f"serve this subclass of the package's service (default ${prefix}_SERVICE)",
        )
    return parser


def _environment(capability: Capability) -> str:
    """The base-URL variables by their exact names: the namespace upper-cased, each character
    other than a letter or digit replaced by `_`, then `_BASE_URL`."""
    lines = [
        f"  {u.base_url_env}  base URL of {u.namespace} (default {u.base_url or 'none'})"
        for u in capability.upstreams
    ]
    return "environment:\n" + "\n".join(lines) if lines else ""


def _listening(serve_: argparse.ArgumentParser, prefix: str) -> None:
    serve_.add_argument(
        "--host", help=f"interface to bind (default ${prefix}_HOST, $HOST, else 127.0.0.1)"
    )
    for kind in KINDS.values():
        serve_.add_argument(
            f"--{kind.kind}-port",
            type=int,
            dest=f"port_{kind.kind}",
            help=f"port of the {kind.label} adapter (default: the spec's)",
        )
    serve_.add_argument(
        "--port",
        action="append",
        default=[],
        metavar="NAMESPACE=PORT|PORT",
        help="port of any adapter, by namespace; a bare PORT serves every adapter on it",
    )
    serve_.add_argument(
        "--one-port",
        action="store_true",
        help="serve every adapter on one port (REST at its paths, MCP at /mcp); "
        "on by itself when $PORT is set",
    )
    serve_.add_argument(
        "--workers",
        type=int,
        help=f"worker processes (default ${prefix}_WORKERS, $WEB_CONCURRENCY, else 1)",
    )


def _serve(capability: Capability, settings: Settings, args: argparse.Namespace) -> int:
    served = [(k, a) for k, a in capability.served() if k.over_http(a) and a.port is not None]
    if not served:
        stdio = [k.label for k, _ in capability.served() if k.stdio is not None]
        why = f" (its {stdio[0]} adapter is stdio: run `stdio`)" if stdio else ""
        print(f"error: the spec exposes nothing to serve over HTTP{why}", file=sys.stderr)
        return 2
    adapters: list[Adapter] = [adapter for _, adapter in served]
    for adapter in adapters:  # every credential problem is reported before anything listens
        resolve_guard(adapter.auth, settings, adapter.namespace)
    _refuse_unsigned_digest(capability, adapters, settings)
    sockets = _sockets(capability, adapters, settings, args)
    plan = Plan(
        settings.host,
        {sock.getsockname()[1]: role for role, sock in sockets.items()},
        settings.workers,
        mock=args.mock,
        auth_disabled=settings.auth_disabled,
        given=_given(args),
    )
    _announce(capability, served, sockets, settings)
    return serve(capability, settings, plan, list(sockets.values()))


def _refuse_unsigned_digest(
    capability: Capability, adapters: list[Adapter], settings: Settings
) -> None:
    digest = [a.namespace for a in adapters if a.auth is not None and a.auth.kind == "digest"]
    if (
        settings.workers > 1
        and digest
        and not settings.digest_secret
        and not settings.auth_disabled
    ):
        raise SettingsError(
            f"{settings.workers} workers with digest authentication ({', '.join(digest)}) "
            f"need {capability.env_prefix}_DIGEST_SECRET, the same value for every worker and "
            "replica: otherwise a nonce one worker issues is refused by the next"
        )


def _sockets(
    capability: Capability, adapters: list[Adapter], settings: Settings, args: argparse.Namespace
) -> dict[str, socket.socket]:
    """Every socket the server listens on, bound here, by its role."""
    one_port = _one_port(capability, settings, args)
    if one_port is not None:
        sockets = {ONE_PORT: _bind(settings.host, one_port)}
    else:
        ports = _ports(capability, args)
        sockets = {
            a.namespace: _bind(settings.host, ports.get(a.namespace, a.port or 0)) for a in adapters
        }
    if settings.metrics_port:
        sockets[METRICS] = _bind(settings.host, settings.metrics_port)
    if args.mock:
        sockets[MOCK] = _bind("127.0.0.1", 0)
    return sockets


def _one_port(capability: Capability, settings: Settings, args: argparse.Namespace) -> int | None:
    bare = [p for p in args.port if "=" not in p]
    for value in [*bare, *(p.partition("=")[2] for p in args.port if "=" in p)]:
        if not value.isdigit() or int(value) > 65535:
            raise SettingsError(f"--port takes NAMESPACE=PORT or PORT, got {value!r}")
    if bare:
        return int(bare[-1])
    if settings.port is not None:
        return settings.port
    if args.one_port:
        first = [a.port for _, a in capability.served() if a.port is not None]
        return first[0] if first else 8080
    return None


def _ports(capability: Capability, args: argparse.Namespace) -> dict[str, int]:
    ports: dict[str, int] = {}
    for spec in args.port:
        namespace, _, port = spec.partition("=")
        if port:
            ports[namespace] = int(port)
    for kind in KINDS.values():  # --rest-port, --mcp-port: the first adapter of the kind
        given = getattr(args, f"port_{kind.kind}")
        http = [a for a in capability.of(kind) if kind.over_http(a)]
        if http and given is not None:
            ports.setdefault(http[0].namespace, given)
    return ports


def _bind(host: str, port: int) -> socket.socket:
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    # IPPROTO_TCP explicitly: asyncio only sets TCP_NODELAY on accepted connections of sockets
    # that say so, and without it every keep-alive response waits ~40 ms for a delayed ACK.
    sock = socket.socket(family, socket.SOCK_STREAM, socket.IPPROTO_TCP)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    try:
        sock.bind((host, port))
    except OSError as exc:
        sock.close()
        raise SettingsError(f"cannot listen on {host}:{port}: {exc.strerror}") from None
    sock.listen(2048)
    sock.setblocking(False)
    return sock


def _announce(
    capability: Capability,
    served: Served,
    sockets: Mapping[str, socket.socket],
    settings: Settings,
) -> None:
    """What listens where, printed once whatever the number of workers."""
    host = settings.host
    mounts = capability.mounts() if ONE_PORT in sockets else {}
    for kind, adapter in served:
        base = f"http://{_shown(host, sockets.get(ONE_PORT) or sockets[adapter.namespace])}"
        path = mounts.get(adapter.namespace, kind.path)
        print(f"{kind.label:<4} {adapter.namespace}  {base}{path}{kind.note}", file=sys.stderr)
    if METRICS in sockets:
        print(f"metrics  http://{_shown(host, sockets[METRICS])}/metrics", file=sys.stderr)
    if MOCK in sockets:
        print(f"mock upstream  http://{_shown('127.0.0.1', sockets[MOCK])}", file=sys.stderr)
    if settings.workers > 1:
        print(f"{settings.workers} worker processes", file=sys.stderr)
    if host not in LOOPBACK_ADDRESSES and not settings.allowed_hosts:
        print(
            f"warning: listening on {host} without {capability.env_prefix}_ALLOWED_HOSTS: "
            "Host and Origin are not checked (DNS rebinding); set it to the names callers use",
            file=sys.stderr,
        )


def _shown(host: str, sock: socket.socket) -> str:
    port = sock.getsockname()[1]
    return f"[{host}]:{port}" if ":" in host else f"{host}:{port}"


async def _stdio(capability: Capability, settings: Settings, args: argparse.Namespace) -> int:
    """MCP over standard input/output; with --mock, against the embedded mock upstream, which
    listens on loopback for as long as standard input is open."""
    adapters = [
        (k.stdio, a)
        for k, a in capability.served()
        if k.stdio is not None and args.adapter in (None, a.namespace)
    ]
    if not adapters:
        print("error: no such MCP adapter", file=sys.stderr)
        return 2
    mock: uvicorn.Server | None = None
    task: asyncio.Task[None] | None = None
    if args.mock:
        sock = _bind("127.0.0.1", 0)
        print(f"mock upstream  http://{_shown('127.0.0.1', sock)}", file=sys.stderr)
        settings = mock_settings(settings, sock.getsockname()[1])
        mock = uvicorn.Server(
            uvicorn.Config(mock_app(capability), log_config=None, access_log=False)
        )
        mock.capture_signals = nullcontext  # type: ignore[method-assign,assignment]
        task = asyncio.create_task(mock.serve(sockets=[sock]))
        while not mock.started and not task.done():
            await asyncio.sleep(0.005)
    try:
        run, adapter = adapters[0]
        await run(adapter, capability.create_service(settings))
    finally:
        if mock is not None and task is not None:
            mock.should_exit = True
            await task
    return 0
