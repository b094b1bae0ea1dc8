"""The command line of a generated package: `serve` (REST + MCP over HTTP) and `stdio`."""

from __future__ import annotations

import argparse
import asyncio
import logging
import multiprocessing
import os
import secrets
import shutil
import signal
import socket
import sys
import tempfile
import time
from collections.abc import Coroutine, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, replace
from multiprocessing.process import BaseProcess
from typing import Any

import uvicorn

from .asgi import one_port_app
from .binds import BindError
from .engine import Service
from .hosts import LOOPBACK_ADDRESSES
from .mcp import build_app as build_mcp_app
from .mcp import run_stdio
from .mock_upstream import create_mock_upstream
from .model import MCP_PATH, Bind, Endpoint, McpAdapter, Operation, RestAdapter, Upstream, mcp_paths
from .observability import configure_logging, metrics_app
from .rest import build_app as build_rest_app
from .security import AuthConfigError, resolve_guard
from .settings import Settings, SettingsError, conventional, load_settings
from .wire import HttpProtocol, raise_descriptor_limit


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
    """A uvicorn server that leaves signal handling to the `Supervisor` (several share a loop)."""

    @contextmanager
    def capture_signals(self) -> Iterator[None]:
        yield


@dataclass(frozen=True)
class Listen:
    """Where `serve` listens and with how many processes.

    `port` set: one-port mode, every adapter on it (`--one-port`, `--port N`, or `PORT` as
    single-port platforms set it); None: each adapter on its own port."""

    host: str
    port: int | None
    workers: int


ONE_PORT = ""  # the socket key of one-port mode
METRICS = "/metrics"  # the socket key of `<PREFIX>_METRICS_PORT`


def main(capability: Capability, argv: Sequence[str] | None = None) -> int:
    parser = _parser(capability)
    args = parser.parse_args(argv)
    if args.command is None:
        parser.print_help()
        return 2
    prefix = capability.env_prefix
    try:
        listen = _listen(capability, args, os.environ) if args.command == "serve" else None
        settings, level = _configured(capability, args)
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
        os.environ[f"{prefix}_API_TOKEN"] = token  # what worker processes read
        print(f"mock mode: inbound bearer token for this run: {token}", file=sys.stderr)
    configure_logging(settings.secret_values(), level)
    if args.command == "stdio":
        return event_loop(_stdio(capability, settings, args))
    assert listen is not None
    return _serve(capability, settings, args, listen)


LOG_LEVELS = ("debug", "info", "warning", "error")


def event_loop(main: Coroutine[Any, Any, int]) -> int:
    """Run `main` on the production event loop: uvloop where it is installed (as uvicorn
    itself would choose), else asyncio's own."""
    try:
        import uvloop
    except ImportError:
        return asyncio.run(main)
    return uvloop.run(main)


def _configured(capability: Capability, args: argparse.Namespace) -> tuple[Settings, str]:
    """The settings and the log level, from the command line and the environment."""
    prefix = capability.env_prefix
    level = args.log_level or conventional(os.environ, f"{prefix}_LOG_LEVEL", "LOG_LEVEL", "info")
    if level.lower() not in LOG_LEVELS:
        raise SettingsError(f"the log level must be one of {', '.join(LOG_LEVELS)}, got {level!r}")
    settings = load_settings(
        prefix, capability.upstreams, capability.binds, mock=args.mock, auth_disabled=args.no_auth
    )
    return settings, level.lower()


def _parser(capability: Capability) -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog=f"python -m {capability.name}", description=capability.title
    )
    prefix = capability.env_prefix
    commands = parser.add_subparsers(dest="command")
    epilog, raw = _environment(capability), argparse.RawTextHelpFormatter
    serve = commands.add_parser(
        "serve",
        help="serve the REST and MCP (streamable HTTP) adapters",
        epilog=epilog,
        formatter_class=raw,
    )
    serve.add_argument(
        "--host", help=f"interface to bind (default ${prefix}_HOST, $HOST, else 127.0.0.1)"
    )
    serve.add_argument(
        "--rest-port", type=int, help="port of the REST adapter (default: the spec's)"
    )
    serve.add_argument("--mcp-port", type=int, help="port of the MCP adapter (default: the spec's)")
    serve.add_argument(
        "--port",
        action="append",
        default=[],
        metavar="NAMESPACE=PORT|PORT",
        help="port of any adapter, by namespace; a bare PORT serves every adapter on it",
    )
    serve.add_argument(
        "--one-port",
        action="store_true",
        help="serve every adapter on one port (REST at its paths, MCP at /mcp); "
        "on by itself when $PORT is set",
    )
    serve.add_argument(
        "--workers",
        type=int,
        help=f"worker processes (default ${prefix}_WORKERS, $WEB_CONCURRENCY, else 1)",
    )
    stdio = commands.add_parser(
        "stdio",
        help="serve an MCP adapter over standard input/output",
        epilog=epilog,
        formatter_class=raw,
    )
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
            "--log-level",
            choices=LOG_LEVELS,
            help=f"default ${prefix}_LOG_LEVEL, $LOG_LEVEL, else info",
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


def _listen(capability: Capability, args: argparse.Namespace, env: Mapping[str, str]) -> Listen:
    prefix = capability.env_prefix
    host = args.host or conventional(env, f"{prefix}_HOST", "HOST", "127.0.0.1")
    bare = [p for p in args.port if "=" not in p]
    for value in [*bare, *(p.partition("=")[2] for p in args.port if "=" in p)]:
        _port_number(value, "--port takes NAMESPACE=PORT or PORT")
    port: int | None = None
    platform_port = conventional(env, f"{prefix}_PORT", "PORT")
    if bare:
        port = int(bare[-1])
    elif platform_port:
        port = _port_number(platform_port, "PORT must be a port number")
    elif args.one_port:
        adapters: list[RestAdapter | McpAdapter] = [*capability.rest, *capability.mcp]
        first = [a.port for a in adapters if a.port is not None]
        port = first[0] if first else 8080
    workers_text = (
        str(args.workers)
        if args.workers is not None
        else conventional(env, f"{prefix}_WORKERS", "WEB_CONCURRENCY", "1")
    )
    if not workers_text.isdigit() or int(workers_text) < 1:
        raise SettingsError(f"the number of workers must be 1 or more, got {workers_text!r}")
    return Listen(host, port, int(workers_text))


def _port_number(text: str, problem: str) -> int:
    if not text.isdigit() or int(text) > 65535:
        raise SettingsError(f"{problem}, got {text!r}")
    return int(text)


def _with_token(settings: Settings, token: str) -> Settings:
    return replace(settings, inbound_tokens={"bearer": token})


def _ports(capability: Capability, args: argparse.Namespace) -> dict[str, int]:
    ports: dict[str, int] = {}
    for spec in args.port:
        namespace, _, port = spec.partition("=")
        if port:
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


def _server(app: object, settings: Settings | None = None) -> _Server:
    """A uvicorn server for `app`, its request heads, idle connections and stalled bodies
    bounded (wire.py); with `settings`, one that drains for their drain period, times out
    reads as they say and trusts forwarded headers from their proxies only."""
    protocol = (
        HttpProtocol.configured(settings.head_timeout, settings.body_timeout)
        if settings
        else HttpProtocol
    )
    config = uvicorn.Config(
        app,  # type: ignore[arg-type]
        http=protocol,
        log_config=None,
        access_log=False,
        timeout_graceful_shutdown=int(settings.drain_timeout) if settings else 1,
        timeout_keep_alive=5,
        server_header=False,
        proxy_headers=settings is not None,
        forwarded_allow_ips=settings.trusted_proxies if settings else None,
    )
    return _Server(config)


def _serve(
    capability: Capability, settings: Settings, args: argparse.Namespace, listen: Listen
) -> int:
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
    digest = [a.namespace for a in adapters if a.auth is not None and a.auth.kind == "digest"]
    if listen.workers > 1 and digest and not settings.digest_secret and not settings.auth_disabled:
        print(
            f"error: {listen.workers} workers with digest authentication ({', '.join(digest)}) "
            f"need {capability.env_prefix}_DIGEST_SECRET, the same value for every worker and "
            "replica: otherwise a nonce one worker issues is refused by the next",
            file=sys.stderr,
        )
        return 2
    raise_descriptor_limit()
    sockets = _sockets(capability, adapters, settings, args, listen)
    _announce(capability, adapters, sockets, listen, settings)
    if listen.workers == 1:
        return event_loop(_run(capability, settings, args, listen, sockets))
    return Workers(capability, args, listen, sockets, settings).run()


def _sockets(
    capability: Capability,
    adapters: Sequence[RestAdapter | McpAdapter],
    settings: Settings,
    args: argparse.Namespace,
    listen: Listen,
) -> dict[str, socket.socket]:
    if listen.port is not None:
        sockets = {ONE_PORT: _bind(listen.host, listen.port)}
    else:
        ports = _ports(capability, args)
        sockets = {
            a.namespace: _bind(listen.host, ports.get(a.namespace, a.port or 0)) for a in adapters
        }
    if settings.metrics_port:
        sockets[METRICS] = _bind(listen.host, settings.metrics_port)
    return sockets


def _announce(
    capability: Capability,
    adapters: Sequence[RestAdapter | McpAdapter],
    sockets: Mapping[str, socket.socket],
    listen: Listen,
    settings: Settings,
) -> None:
    """What listens where, printed once whatever the number of workers."""
    host = listen.host
    one_port = mcp_paths(capability.mcp) if ONE_PORT in sockets else {}
    for adapter in adapters:
        base = f"http://{_shown(host, sockets.get(ONE_PORT) or sockets[adapter.namespace])}"
        if isinstance(adapter, RestAdapter):
            print(f"REST {adapter.namespace}  {base}  (OpenAPI at /docs)", file=sys.stderr)
        else:
            path = one_port.get(adapter.namespace, MCP_PATH)
            print(f"MCP  {adapter.namespace}  {base}{path}", file=sys.stderr)
    if METRICS in sockets:
        print(f"metrics  http://{_shown(host, sockets[METRICS])}/metrics", file=sys.stderr)
    if listen.workers > 1:
        print(f"{listen.workers} worker processes", file=sys.stderr)
    if host not in LOOPBACK_ADDRESSES and not settings.allowed_hosts:
        print(
            f"warning: listening on {host} without {capability.env_prefix}_ALLOWED_HOSTS: "
            "Host and Origin are not checked (DNS rebinding); set it to the names callers use",
            file=sys.stderr,
        )


async def _run(
    capability: Capability,
    settings: Settings,
    args: argparse.Namespace,
    listen: Listen,
    sockets: Mapping[str, socket.socket],
) -> int:
    """Serve on `sockets` in this process until a signal: the whole of a single-process
    server, or one worker of several."""
    supervisor = Supervisor(settings)
    if args.mock:
        settings, mock_app, mock_socket = _mock_upstream(capability, settings)
        supervisor.start(mock_app, mock_socket, last=True)
    service = Service(settings, capability.upstreams)
    supervisor.service = service
    if ONE_PORT in sockets:
        app = await asyncio.to_thread(one_port_app, capability, service, listen.host)
        supervisor.start(app, sockets[ONE_PORT])
    else:
        for rest in capability.rest:
            supervisor.start(build_rest_app(rest, service, listen.host), sockets[rest.namespace])
        await supervisor.started()
        for adapter in capability.mcp:  # the MCP SDK loads in a thread while REST already answers
            if adapter.namespace in sockets:
                mcp_app = await asyncio.to_thread(build_mcp_app, adapter, service, listen.host)
                supervisor.start(mcp_app, sockets[adapter.namespace])
    if METRICS in sockets:
        supervisor.start(metrics_app(service), sockets[METRICS])
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
    """Runs uvicorn servers in one loop until a signal or until one of them stops.

    SIGTERM drains, as orchestrators expect: `/readyz` answers 503 at once, the listeners stay
    open for `<PREFIX>_DRAIN_GRACE` seconds (load balancers see the 503 and stop sending), then
    close, and requests in flight (streams included) have `<PREFIX>_DRAIN_TIMEOUT` seconds to
    complete. SIGINT (Ctrl-C) drains without the grace; a second signal stops at once."""

    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self.service: Service | None = None
        self.servers: list[_Server] = []
        self.tasks: list[asyncio.Task[None]] = []
        self.last: list[tuple[_Server, asyncio.Task[None]]] = []  # stopped after the rest
        self.stopped = asyncio.Event()
        self.stopping = False
        self.log = logging.getLogger("capgen.serve")
        loop = asyncio.get_running_loop()
        loop.add_signal_handler(signal.SIGTERM, self._signalled, settings.drain_grace)
        loop.add_signal_handler(signal.SIGINT, self._signalled, 0.0)

    def start(self, app: object, sock: socket.socket, *, last: bool = False) -> None:
        server = _server(app, None if last else self.settings)
        task = asyncio.create_task(server.serve(sockets=[sock]))
        if last:
            self.last.append((server, task))
            return
        self.servers.append(server)
        task.add_done_callback(lambda _: self.stop(0.0))  # one stopping by itself stops all
        self.tasks.append(task)

    async def started(self) -> None:
        """Until every server started so far listens (or one of them has stopped)."""
        while not self.stopped.is_set() and not all(server.started for server in self.servers):
            await asyncio.sleep(0.005)

    def _signalled(self, grace: float) -> None:
        if self.stopping:  # a second signal: stop now, in-flight requests or not
            for server in self.servers:
                server.force_exit = True
            self._close()
            return
        self.stop(grace)

    def stop(self, grace: float = 0.0) -> None:
        """Drain: /readyz 503 now, the listeners close after `grace` seconds. Once a stop has
        begun, another one changes nothing (a server that finished draining first must not
        cut the others short)."""
        if self.stopping:
            return
        self.stopping = True
        if self.service is not None:
            self.service.draining = True
        if grace:
            self.log.warning(
                "draining: /readyz answers 503; listeners close in %gs, then requests in flight "
                "have %gs to complete",
                grace,
                self.settings.drain_timeout,
            )
            asyncio.get_running_loop().call_later(grace, self._close)
        else:
            self._close()

    def _close(self) -> None:
        self.stopped.set()
        for server in self.servers:
            server.should_exit = True

    async def wait(self) -> int:
        await self.stopped.wait()
        await asyncio.gather(*self.tasks, return_exceptions=True)
        for server, task in self.last:
            server.should_exit = True
            await asyncio.gather(task, return_exceptions=True)
        return 0 if all(server.started for server in self.servers) else 1


class Workers:
    """`--workers N`: N processes serving the sockets this one bound, like a pre-fork server.

    Signals are passed on to every worker (each drains as a single process does); a worker
    that dies otherwise is replaced. The workers share their metrics through a directory,
    so a scrape of any of them counts the whole server's requests."""

    def __init__(
        self,
        capability: Capability,
        args: argparse.Namespace,
        listen: Listen,
        sockets: Mapping[str, socket.socket],
        settings: Settings,
    ) -> None:
        self.capability, self.args, self.listen, self.sockets = capability, args, listen, sockets
        self.settings = settings
        self.processes: list[BaseProcess] = []
        self.stopping = False
        self.context = multiprocessing.get_context("spawn")

    def run(self) -> int:
        prefix = self.capability.env_prefix
        made = None
        if not self.settings.metrics_dir:
            made = tempfile.mkdtemp(prefix=f"{self.capability.name}-metrics-")
            os.environ[f"{prefix}_METRICS_DIR"] = made
        for sig in (signal.SIGTERM, signal.SIGINT):
            signal.signal(sig, self._signal)
        try:
            self.processes = [self._spawn() for _ in range(self.listen.workers)]
            while any(p.is_alive() for p in self.processes):
                time.sleep(0.1)
                if not self.stopping:
                    self._replace_dead()
        finally:
            if made is not None:
                shutil.rmtree(made, ignore_errors=True)
        return 0 if all(p.exitcode == 0 for p in self.processes) else 1

    def _spawn(self) -> BaseProcess:
        process = self.context.Process(
            target=_worker,
            args=(self.capability, self.args, self.listen, dict(self.sockets)),
            daemon=False,
        )
        process.start()
        return process

    def _replace_dead(self) -> None:
        for i, process in enumerate(self.processes):
            if not process.is_alive() and process.exitcode not in (0, None):
                print(
                    f"worker {process.pid} exited ({process.exitcode}): replacing it",
                    file=sys.stderr,
                )
                self.processes[i] = self._spawn()

    def _signal(self, signum: int, _frame: object) -> None:
        if not self.stopping:
            self.stopping = True
            for sock in self.sockets.values():  # the workers' copies close after their grace
                sock.close()
        for process in self.processes:
            if process.is_alive() and process.pid is not None:
                os.kill(process.pid, signum)


def _worker(
    capability: Capability,
    args: argparse.Namespace,
    listen: Listen,
    sockets: dict[str, socket.socket],
) -> None:
    """One worker process: its own settings (from the environment the server passed on), its
    own pools, the shared sockets."""
    os.setpgrp()  # a terminal's Ctrl-C reaches the server, which passes it on once
    try:
        settings, level = _configured(capability, args)
    except (BindError, SettingsError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        raise SystemExit(2) from None
    configure_logging(settings.secret_values(), level)
    raise SystemExit(event_loop(_run(capability, settings, args, listen, sockets)))


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
        mock = _server(mock_app)
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
