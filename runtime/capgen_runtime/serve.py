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
from .mcp import build_app as build_mcp_app
from .mcp import run_stdio
from .mock_upstream import create_mock_upstream
from .model import Bind, Endpoint, McpAdapter, Operation, RestAdapter, Upstream
from .observability import configure_logging
from .rest import build_app as build_rest_app
from .security import AuthConfigError, resolve_guard
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

    def endpoints(self) -> Iterator[Endpoint]:
        """Every exposed endpoint, and the aggregate function behind each `ref`."""
        found = [route.endpoint for adapter in self.rest for route in adapter.routes]
        for adapter in self.mcp:
            found += [tool.endpoint for tool in adapter.tools]
            found += [r.endpoint for r in adapter.resources if r.endpoint is not None]
        for endpoint in found:
            yield endpoint
            if endpoint.function is not None:
                yield endpoint.function


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
    if (
        args.command == "serve"
        and args.mock
        and not settings.auth_disabled
        and not settings.inbound_tokens
    ):
        token = secrets.token_urlsafe(24)  # stdio has no inbound authentication: no token there
        settings = _with_token(settings, token)
        print(f"mock mode: inbound bearer token for this run: {token}", file=sys.stderr)
    configure_logging(
        [*settings.binds.secrets(), *settings.inbound_tokens.values()], args.log_level
    )
    if args.command == "stdio":
        return asyncio.run(_stdio(capability, settings, args))
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
    # IPPROTO_TCP explicitly: asyncio only sets TCP_NODELAY on accepted connections of sockets
    # that say so, and without it every keep-alive response waits ~40 ms for a delayed ACK.
    sock = socket.socket(family, socket.SOCK_STREAM, socket.IPPROTO_TCP)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    try:
        sock.bind((host, port))
    except OSError as exc:
        sock.close()
        raise SystemExit(f"error: cannot listen on {host}:{port}: {exc.strerror}") from None
    sock.listen(2048)
    sock.setblocking(False)
    return sock


def _server(app: object, sock: socket.socket) -> _Server:
    config = uvicorn.Config(
        app,  # type: ignore[arg-type]
        log_config=None,
        access_log=False,
        timeout_graceful_shutdown=10,
        timeout_keep_alive=5,
        server_header=False,
    )
    return _Server(config)


async def _serve(capability: Capability, settings: Settings, args: argparse.Namespace) -> int:
    http_mcp = [a for a in capability.mcp if a.transport == "http" and a.port is not None]
    if not capability.rest and not http_mcp:
        stdio = " (its MCP adapter is stdio: run `stdio`)" if capability.mcp else ""
        print(f"error: the spec exposes nothing to serve over HTTP{stdio}", file=sys.stderr)
        return 2
    adapters: list[RestAdapter | McpAdapter] = [*capability.rest, *http_mcp]
    try:  # every credential problem is reported before anything listens
        for adapter in adapters:
            resolve_guard(adapter.auth, settings, adapter.namespace)
    except AuthConfigError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    ports = _ports(capability, args)
    sockets = {a.namespace: _bind(args.host, ports.get(a.namespace, a.port or 0)) for a in adapters}
    supervisor = Supervisor()
    if args.mock:
        settings, mock_app, mock_socket = _mock_upstream(capability, settings)
        supervisor.start(mock_app, mock_socket)
    service = Service(settings, capability.upstreams)
    for rest in capability.rest:
        supervisor.start(build_rest_app(rest, service), sockets[rest.namespace])
        print(
            f"REST {rest.namespace}  http://{_shown(args.host, sockets[rest.namespace])}  (OpenAPI at /docs)",
            file=sys.stderr,
        )
    await supervisor.started()
    for adapter in http_mcp:  # the MCP SDK loads in a thread while REST already answers
        app = await asyncio.to_thread(build_mcp_app, adapter, service, args.host)
        supervisor.start(app, sockets[adapter.namespace])
        print(
            f"MCP  {adapter.namespace}  http://{_shown(args.host, sockets[adapter.namespace])}/mcp",
            file=sys.stderr,
        )
    return await supervisor.wait()


def _mock_upstream(
    capability: Capability, settings: Settings
) -> tuple[Settings, object, socket.socket]:
    """The embedded mock upstream on a free loopback port, and the settings that point the
    upstreams at it (`serve --mock` and `stdio --mock` alike)."""
    mock_socket = _bind("127.0.0.1", 0)
    mock_url = f"http://127.0.0.1:{mock_socket.getsockname()[1]}"
    print(f"mock upstream  {mock_url}", file=sys.stderr)
    app = create_mock_upstream(capability.operations, capability.endpoints())
    return _namespaced(settings.with_base_url(mock_url)), app, mock_socket


def _namespaced(settings: Settings) -> Settings:
    return replace(
        settings, base_urls={ns: f"{url}/{ns}" for ns, url in settings.base_urls.items()}
    )


def _shown(host: str, sock: socket.socket) -> str:
    port = sock.getsockname()[1]
    return f"[{host}]:{port}" if ":" in host else f"{host}:{port}"


class Supervisor:
    """Runs uvicorn servers in one loop until SIGINT/SIGTERM or until one of them stops;
    then shuts every one down gracefully."""

    def __init__(self) -> None:
        self.servers: list[_Server] = []
        self.tasks: list[asyncio.Task[None]] = []
        self.stopped = asyncio.Event()
        loop = asyncio.get_running_loop()
        for sig in (signal.SIGINT, signal.SIGTERM):
            loop.add_signal_handler(sig, self.stop)

    def start(self, app: object, sock: socket.socket) -> None:
        server = _server(app, sock)
        self.servers.append(server)
        task = asyncio.create_task(server.serve(sockets=[sock]))
        task.add_done_callback(lambda _: self.stop())
        self.tasks.append(task)

    async def started(self) -> None:
        """Until every server started so far listens (or one of them has stopped)."""
        while not self.stopped.is_set() and not all(server.started for server in self.servers):
            await asyncio.sleep(0.005)

    def stop(self) -> None:
        self.stopped.set()
        for server in self.servers:
            server.should_exit = True

    async def wait(self) -> int:
        await self.stopped.wait()
        self.stop()
        await asyncio.gather(*self.tasks, return_exceptions=True)
        return 0 if all(server.started for server in self.servers) else 1


async def _stdio(capability: Capability, settings: Settings, args: argparse.Namespace) -> int:
    """MCP over standard input/output; with --mock, against the embedded mock upstream, which
    listens on loopback for as long as standard input is open."""
    adapters = [a for a in capability.mcp if args.adapter in (None, a.namespace)]
    if not adapters:
        print("error: no such MCP adapter", file=sys.stderr)
        return 2
    mock: _Server | None = None
    task: asyncio.Task[None] | None = None
    if args.mock:
        settings, mock_app, mock_socket = _mock_upstream(capability, settings)
        mock = _server(mock_app, mock_socket)
        task = asyncio.create_task(mock.serve(sockets=[mock_socket]))
        while not mock.started and not task.done():
            await asyncio.sleep(0.005)
    try:
        await run_stdio(adapters[0], Service(settings, capability.upstreams))
    finally:
        if mock is not None and task is not None:
            mock.should_exit = True
            await task
    return 0
