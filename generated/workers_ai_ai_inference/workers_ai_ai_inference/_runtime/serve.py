"""The command line of a generated package: `serve` (REST + MCP over HTTP) and `stdio`."""

from __future__ import annotations

import argparse
import asyncio
import secrets
import signal
import socket
import sys
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, replace

import uvicorn

from .binds import BindError
from .engine import Service
from .mcp import McpAdapter, run_stdio
from .mcp import create_app as create_mcp_app
from .mock_upstream import create_mock_upstream
from .model import Bind, Operation, Upstream
from .observability import configure_logging
from .rest import RestAdapter
from .rest import create_app as create_rest_app
from .security import AuthConfigError
from .settings import Settings, SettingsError, load_settings


@dataclass(frozen=True)
class Capability:
    """Everything a generated package declares, gathered for the command line."""

    name: str
    title: str
    env_prefix: str
    binds: tuple[Bind, ...]
    upstreams: tuple[Upstream, ...]
    operations: tuple[Operation, ...]
    rest: tuple[RestAdapter, ...]
    mcp: tuple[McpAdapter, ...]


class _Server(uvicorn.Server):
    """A uvicorn server that leaves signal handling to `run_servers` (several share a loop)."""

    @contextmanager
    def capture_signals(self) -> Iterator[None]:
        yield


def main(capability: Capability, argv: Sequence[str] | None = None) -> int:
    parser = _parser(capability)
    args = parser.parse_args(argv)
    if args.command is None:
        parser.print_help()
        return 2
    try:
        settings = load_settings(
            capability.env_prefix,
            capability.upstreams,
            capability.binds,
            mock=args.mock,
            auth_disabled=args.no_auth,
        )
    except (BindError, SettingsError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    if args.mock and not settings.auth_disabled and not settings.inbound_tokens:
        token = secrets.token_urlsafe(24)
        settings = _with_token(settings, token)
        print(f"mock mode: inbound bearer token for this run: {token}", file=sys.stderr)
    configure_logging(
        [*settings.binds.secrets(), *settings.inbound_tokens.values()], args.log_level
    )
    if args.command == "stdio":
        return _stdio(capability, settings, args)
    return asyncio.run(_serve(capability, settings, args))


def _parser(capability: Capability) -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog=f"python -m {capability.name}", description=capability.title
    )
    commands = parser.add_subparsers(dest="command")
    serve = commands.add_parser("serve", help="serve the REST and MCP (streamable HTTP) adapters")
    serve.add_argument("--host", default="127.0.0.1", help="interface to bind (default 127.0.0.1)")
    serve.add_argument(
        "--rest-port", type=int, help="port of the REST adapter (default: the spec's)"
    )
    serve.add_argument("--mcp-port", type=int, help="port of the MCP adapter (default: the spec's)")
    serve.add_argument(
        "--port",
        action="append",
        default=[],
        metavar="NAMESPACE=PORT",
        help="port of any adapter, by namespace",
    )
    stdio = commands.add_parser("stdio", help="serve an MCP adapter over standard input/output")
    stdio.add_argument("--adapter", help="namespace of the MCP adapter (default: the first)")
    for sub in (serve, stdio):
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
            "--log-level", default="info", choices=["debug", "info", "warning", "error"]
        )
    return parser


def _with_token(settings: Settings, token: str) -> Settings:
    return replace(settings, inbound_tokens={"bearer": token})


def _ports(capability: Capability, args: argparse.Namespace) -> dict[str, int]:
    ports: dict[str, int] = {}
    for spec in args.port:
        namespace, _, port = spec.partition("=")
        ports[namespace] = int(port)
    if capability.rest and args.rest_port is not None:
        ports.setdefault(capability.rest[0].namespace, args.rest_port)
    http_mcp = [a for a in capability.mcp if a.transport == "http"]
    if http_mcp and args.mcp_port is not None:
        ports.setdefault(http_mcp[0].namespace, args.mcp_port)
    return ports


def _bind(host: str, port: int) -> socket.socket:
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    sock = socket.socket(family, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    try:
        sock.bind((host, port))
    except OSError as exc:
        sock.close()
        raise SystemExit(f"error: cannot listen on {host}:{port}: {exc.strerror}") from None
    sock.listen(2048)
    sock.setblocking(False)
    return sock


def _server(app: object, sock: socket.socket) -> tuple[_Server, socket.socket]:
    config = uvicorn.Config(
        app,  # type: ignore[arg-type]
        log_config=None,
        access_log=False,
        timeout_graceful_shutdown=10,
        timeout_keep_alive=5,
        server_header=False,
    )
    return _Server(config), sock


async def _serve(capability: Capability, settings: Settings, args: argparse.Namespace) -> int:
    servers: list[tuple[_Server, socket.socket]] = []
    lines: list[str] = []
    if args.mock:
        mock_socket = _bind("127.0.0.1", 0)
        mock_url = f"http://127.0.0.1:{mock_socket.getsockname()[1]}"
        settings = settings.with_base_url(mock_url)
        settings = _namespaced(settings)
        servers.append(_server(create_mock_upstream(capability.operations), mock_socket))
        lines.append(f"mock upstream  {mock_url}")
    service = Service(settings, capability.upstreams)
    ports = _ports(capability, args)
    try:
        for rest in capability.rest:
            sock = _bind(args.host, ports.get(rest.namespace, rest.port))
            servers.append(_server(create_rest_app(rest, service), sock))
            lines.append(
                f"REST {rest.namespace}  http://{_shown(args.host, sock)}  (OpenAPI at /docs)"
            )
        for adapter in capability.mcp:
            if adapter.transport != "http" or adapter.port is None:
                continue
            sock = _bind(args.host, ports.get(adapter.namespace, adapter.port))
            servers.append(_server(create_mcp_app(adapter, service, args.host), sock))
            lines.append(f"MCP  {adapter.namespace}  http://{_shown(args.host, sock)}/mcp")
    except AuthConfigError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    if not capability.rest and not capability.mcp:
        print("note: the spec exposes no adapter; nothing to serve", file=sys.stderr)
        return 0
    for line in lines:
        print(line, file=sys.stderr)
    return await run_servers(servers)


def _namespaced(settings: Settings) -> Settings:
    return replace(
        settings, base_urls={ns: f"{url}/{ns}" for ns, url in settings.base_urls.items()}
    )


def _shown(host: str, sock: socket.socket) -> str:
    port = sock.getsockname()[1]
    return f"[{host}]:{port}" if ":" in host else f"{host}:{port}"


async def run_servers(servers: Sequence[tuple[_Server, socket.socket]]) -> int:
    """Serve until SIGINT/SIGTERM, then shut every server down gracefully."""
    loop = asyncio.get_running_loop()

    def stop() -> None:
        for server, _ in servers:
            server.should_exit = True

    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, stop)
    tasks = [asyncio.create_task(server.serve(sockets=[sock])) for server, sock in servers]
    await asyncio.wait(tasks, return_when=asyncio.FIRST_COMPLETED)
    stop()
    await asyncio.gather(*tasks, return_exceptions=True)
    return 0 if all(server.started for server, _ in servers) else 1


def _stdio(capability: Capability, settings: Settings, args: argparse.Namespace) -> int:
    adapters = [a for a in capability.mcp if args.adapter in (None, a.namespace)]
    if not adapters:
        print("error: no such MCP adapter", file=sys.stderr)
        return 2
    service = Service(settings, capability.upstreams)
    asyncio.run(run_stdio(adapters[0], service))
    return 0
