"""Serve a package's adapters with uvicorn: one process, or several (`--workers N`) under
uvicorn's own worker supervision, on sockets the first process binds. Every process builds the
same application (`process_app`): each adapter on its port, or all on one, with the embedded
mock upstream and the metrics port beside them when asked for."""

from __future__ import annotations

import functools
import importlib
import os
import shutil
import signal
import socket
import sys
import tempfile
import time
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

import uvicorn
from uvicorn.supervisors.multiprocess import Multiprocess

from ..adapters import App
from ..collector import hold_collector, settle_collector
from ..engine import Service
from ..metrics import MULTIPROCESS_DIR
from ..settings import Settings, load_settings
from ..web.logs import configure_logging
from ..web.observability import metrics_app
from .apps import OnePortApp, PortApp, one_port_app
from .capability import Capability
from .drain import Drain
from .wire import HttpProtocol, raise_descriptor_limit

ONE_PORT = ""  # the socket role of one-port mode
METRICS = "/metrics"  # the socket role of `<PREFIX>_METRICS_PORT`
MOCK = "/mock"  # the socket role of the embedded mock upstream
MOCK_MODULE = "generator.mock"  # capgen's mock upstream, for `--mock`


@dataclass(frozen=True)
class Plan:
    """What every process of one server serves: the role of each bound port (an adapter's
    namespace, or ONE_PORT, METRICS, MOCK) and the knobs the command line set."""

    host: str
    roles: Mapping[int, str]
    workers: int = 1
    mock: bool = False
    auth_disabled: bool = False
    given: Mapping[str, Any] = field(default_factory=dict)  # knobs from the command line


class _Server(uvicorn.Server):
    """uvicorn's server, taking SIGTERM and SIGINT without re-raising them once stopped, so a
    drained server exits with status 0."""

    @contextmanager
    def capture_signals(self) -> Iterator[None]:
        handled = (signal.SIGINT, signal.SIGTERM)
        originals = {sig: signal.signal(sig, self.handle_exit) for sig in handled}
        try:
            yield
        finally:
            for sig, handler in originals.items():
                signal.signal(sig, handler)


class Workers(Multiprocess):
    """uvicorn's supervision of worker processes (a dead worker is replaced); the signal that
    stops the server reaches every worker as it came (SIGTERM drains with the grace, SIGINT
    without, a second one stops at once), and the first process closes its copies of the
    listening sockets at once."""

    def handle_int(self) -> None:
        self._pass_on(signal.SIGINT)

    def handle_term(self) -> None:
        self._pass_on(signal.SIGTERM)

    def _pass_on(self, sig: int) -> None:
        if not self.should_exit.is_set():
            for sock in self.sockets:
                sock.close()
        self.should_exit.set()
        for process in self.processes:
            if process.process.is_alive() and process.pid is not None:
                os.kill(process.pid, sig)

    def terminate_all(self) -> None:
        """The workers were told by `_pass_on`; wait for them, passing further signals on."""
        while any(process.process.is_alive() for process in self.processes):
            time.sleep(0.1)
            self.handle_signals()


def serve(
    capability: Capability, settings: Settings, plan: Plan, sockets: list[socket.socket]
) -> int:
    config = uvicorn.Config(
        functools.partial(process_app, capability, plan),
        factory=True,
        workers=plan.workers,
        log_config=None,
        access_log=False,
        timeout_graceful_shutdown=int(settings.drain_timeout),
        timeout_keep_alive=5,
        server_header=False,
        proxy_headers=True,
        forwarded_allow_ips=settings.trusted_proxies,
        http=HttpProtocol,  # request heads, idle connections and stalled bodies bounded
    )
    raise_descriptor_limit()
    if plan.workers == 1:
        server = _Server(config)
        server.run(sockets=sockets)
        return 0 if server.started else 1
    settle_collector()  # the supervisor builds no application: its workers do
    with _shared_metrics(settings):
        Workers(config, sockets).run()
    return 0


@contextmanager
def _shared_metrics(settings: Settings) -> Iterator[None]:
    """prometheus_client's multiprocess folder for the workers: `<PREFIX>_METRICS_DIR`, else
    one of their own, removed when they stop."""
    if os.environ.get(MULTIPROCESS_DIR):
        yield
        return
    made = None if settings.metrics_dir else tempfile.mkdtemp(prefix="capgen-metrics-")
    os.environ[MULTIPROCESS_DIR] = settings.metrics_dir or str(made)
    try:
        yield
    finally:
        if made is not None:
            shutil.rmtree(made, ignore_errors=True)


def process_app(capability: Capability, plan: Plan) -> OnePortApp | PortApp:
    """The application of one serving process, built in it (workers build their own), with
    the collector held meanwhile: it is settled (`settle_collector`) once built, or once the
    applications the process builds later are (`PortApp`)."""
    hold_collector()
    try:
        app = _process_app(capability, plan)
    except BaseException:
        settle_collector(freeze=False)  # nothing to keep: the process ends
        raise
    if not (isinstance(app, PortApp) and app.later):
        settle_collector()
    return app


def _process_app(capability: Capability, plan: Plan) -> OnePortApp | PortApp:
    settings = load_settings(
        capability.env_prefix,
        capability.upstreams,
        capability.binds,
        mock=plan.mock,
        auth_disabled=plan.auth_disabled,
        **plan.given,
    )
    configure_logging(settings.secret_values(), settings.log_level)
    HttpProtocol.head_timeout, HttpProtocol.body_timeout = (
        settings.head_timeout,
        settings.body_timeout,
    )
    if plan.workers > 1:
        os.setpgrp()  # a terminal's Ctrl-C reaches the first process, which passes it on once
    mock = next((p for p, role in plan.roles.items() if role == MOCK), None)
    if mock is not None:
        settings = mock_settings(settings, mock)
    service = capability.create_service(settings)
    drain = Drain(service, settings.drain_grace, settings.drain_timeout)
    if ONE_PORT in plan.roles.values():
        return _with_extras(
            one_port_app(capability, service, plan.host, drain), capability, plan, service
        )
    return _port_app(capability, plan, service, drain)


def _port_app(capability: Capability, plan: Plan, service: Service, drain: Drain) -> PortApp:
    adapters = {a.namespace: (kind, a) for kind, a in capability.served()}  # unique (E022)
    apps: dict[int, App] = {}
    later: dict[int, Any] = {}
    for port, role in plan.roles.items():
        if role not in adapters:
            apps[port] = _extra(role, capability, service)
            continue
        kind, adapter = adapters[role]
        build = functools.partial(kind.build, adapter, service, plan.host)
        if kind.deferred:  # the MCP SDK loads in a thread after the first answer (PortApp)
            later[port] = build
        else:
            apps[port] = build()
    return PortApp(apps, later, list(apps.values()), drain)


def _with_extras(
    app: OnePortApp, capability: Capability, plan: Plan, service: Service
) -> OnePortApp | PortApp:
    extras = {p: _extra(r, capability, service) for p, r in plan.roles.items() if r != ONE_PORT}
    if not extras:
        return app
    one = next(p for p, r in plan.roles.items() if r == ONE_PORT)
    lifespans = [*app.lifespans.apps, *extras.values()]
    return PortApp({one: app, **extras}, {}, lifespans, app.lifespans.drain)


def _extra(role: str, capability: Capability, service: Service) -> App:
    if role == METRICS:
        return metrics_app(service)
    return mock_app(capability)


def mock_app(capability: Capability) -> App:
    """capgen's mock upstream (`--mock`), which capgen itself ships, not the runtime."""
    try:
        mock = importlib.import_module(MOCK_MODULE)
    except ImportError:
        print("error: --mock needs capgen's mock upstream: pip install capgen", file=sys.stderr)
        raise SystemExit(2) from None
    return mock.create_mock_upstream(capability.operations, capability.endpoints())


def mock_settings(settings: Settings, port: int) -> Settings:
    """Every consumed API pointed at the mock upstream on `port`, one prefix per namespace."""
    url = f"http://127.0.0.1:{port}"
    base_urls = {ns: f"{url}/{ns}" for ns in settings.base_urls}
    return settings.model_copy(update={"base_urls": base_urls})
