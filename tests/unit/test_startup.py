"""Start-up of a served process: an application built later (the MCP SDK's, a slow import) waits
until the first request is answered, a grace period passes or a request asks for it; the
cyclic collector is held through start-up and settled (frozen, running again) once everything
is built; an empty input checked against a schema that cannot reject it needs no validator."""

from __future__ import annotations

import gc
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import pytest
import uvicorn
from capgen_runtime.collector import hold_collector, settle_collector
from capgen_runtime.serve.apps import PortApp
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import PlainTextResponse
from starlette.routing import Route


def _app(text: str, calls: list[float] | None = None) -> Starlette:
    async def answer(request: Request) -> PlainTextResponse:
        if calls is not None:
            calls.append(time.monotonic())
        return PlainTextResponse(text)

    return Starlette(routes=[Route("/", answer)])


@dataclass
class Later:
    """A deferred build that records when it ran and whether the collector was running."""

    started: list[float] = field(default_factory=list)
    collector_running: list[bool] = field(default_factory=list)

    def __call__(self) -> Starlette:
        self.started.append(time.monotonic())
        self.collector_running.append(gc.isenabled())
        return _app("later")


def _socket() -> socket.socket:
    sock = socket.socket()
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind(("127.0.0.1", 0))
    return sock


@contextmanager
def _served(
    later: Later, grace: float, calls: list[float] | None = None
) -> Iterator[tuple[str, str, float]]:
    """A PortApp under uvicorn on two loopback ports: one built at once (recording when it is
    called in `calls`), one built later. Yields both URLs and when the server was listening."""
    now, deferred = _socket(), _socket()
    ports = [s.getsockname()[1] for s in (now, deferred)]
    ready = _app("now", calls)
    app = PortApp({ports[0]: ready}, {ports[1]: later}, [ready], None, grace=grace)
    server = uvicorn.Server(uvicorn.Config(app, log_level="error"))
    thread = threading.Thread(target=server.run, kwargs={"sockets": [now, deferred]})
    thread.start()
    try:
        while not server.started:
            time.sleep(0.005)
        yield f"http://127.0.0.1:{ports[0]}/", f"http://127.0.0.1:{ports[1]}/", time.monotonic()
    finally:
        server.should_exit = True
        thread.join(10)
        now.close()
        deferred.close()


def _until(condition: Callable[[], Any], timeout: float = 10) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, "timed out"
        time.sleep(0.01)


def test_a_deferred_application_is_built_once_the_first_answer_is_given() -> None:
    later, calls = Later(), list[float]()
    with _served(later, grace=60, calls=calls) as (now, deferred, _):
        time.sleep(0.3)
        assert later.started == []  # nothing asked yet, and the grace is long
        answered = httpx.get(now)
        assert (answered.status_code, answered.text) == (200, "now")
        _until(lambda: later.started)
        assert calls[0] < later.started[0] < calls[0] + 5  # after the answer, not the grace
        assert httpx.get(deferred).text == "later"


def test_a_request_for_a_deferred_application_builds_it_at_once() -> None:
    later = Later()
    with _served(later, grace=60) as (_, deferred, listening):
        answered = httpx.get(deferred, timeout=10)
        assert (answered.status_code, answered.text) == (200, "later")
        assert later.started[0] - listening < 5  # not the 60 s grace


def test_without_requests_a_deferred_application_is_built_after_the_grace() -> None:
    later = Later()
    with _served(later, grace=0.3) as (_, deferred, listening):
        _until(lambda: later.started)
        assert 0.25 <= later.started[0] - listening < 5
        assert httpx.get(deferred).text == "later"


def test_the_collector_is_held_until_the_deferred_applications_are_built() -> None:
    later = Later()
    frozen_before = gc.get_freeze_count()
    hold_collector()
    try:
        with _served(later, grace=0.05) as (now, _, _):
            _until(lambda: later.started)
            _until(gc.isenabled)
            assert later.collector_running == [False]  # held while building
            assert gc.get_freeze_count() > frozen_before  # what start-up built is frozen
            assert httpx.get(now).text == "now"
    finally:
        gc.unfreeze()
        gc.enable()


def test_a_collector_the_program_stopped_itself_stays_stopped() -> None:
    frozen_before = gc.get_freeze_count()
    gc.disable()
    try:
        hold_collector()
        settle_collector()
        assert not gc.isenabled()
        assert gc.get_freeze_count() == frozen_before  # nothing was held: nothing settles
    finally:
        gc.enable()


def test_a_failed_start_up_starts_the_collector_again_without_freezing() -> None:
    frozen_before = gc.get_freeze_count()
    hold_collector()
    assert not gc.isenabled()
    settle_collector(freeze=False)
    assert gc.isenabled()
    assert gc.get_freeze_count() == frozen_before


PROBE = {
    "__init__.py": "import gc\nfrom capgen_runtime import require\n\nrequire(__name__, '0.2')\n"
    "HELD = not gc.isenabled()\n",
    "__main__.py": "import gc\nfrom . import HELD\n\nprint(HELD, gc.isenabled())\n",
}


@pytest.mark.parametrize(
    ("command", "held"),
    [
        (["-m", "probe"], True),
        (["-mprobe"], True),
        (["-X", "importtime", "-m", "probe"], True),
        (["-c", "import gc, probe; print(probe.HELD, gc.isenabled())"], False),
        (["-m", "other"], False),  # another module run, importing the package
    ],
)
def test_a_package_run_as_main_is_imported_with_the_collector_held(
    tmp_path: Path, command: list[str], held: bool
) -> None:
    """`python -m package` imports the package before its `__main__` runs the command line
    (which settles the collector); importing it any other way leaves the collector alone."""
    (tmp_path / "probe").mkdir()
    for name, text in PROBE.items():
        (tmp_path / "probe" / name).write_text(text)
    (tmp_path / "other.py").write_text("import gc, probe\n\nprint(probe.HELD, gc.isenabled())\n")
    run = subprocess.run(
        [sys.executable, *command], cwd=tmp_path, capture_output=True, text=True, check=True
    )
    assert run.stdout.split() == [str(held), str(not held)]


def test_every_command_but_serve_settles_a_held_collector(
    capsys: pytest.CaptureFixture[str],
) -> None:
    from capgen_runtime.serve import main
    from workers_ai_ai_inference import CAPABILITY

    hold_collector()
    try:
        assert main(CAPABILITY, []) == 2  # no command: the help
        assert gc.isenabled()
    finally:
        gc.enable()
    assert "serve" in capsys.readouterr().out


SCHEMA = {"type": "object", "properties": {"page": {"type": "number"}, "name": {"type": "string"}}}


@pytest.mark.parametrize(
    ("schema", "instance", "rejected"),
    [
        (SCHEMA, {}, False),  # nothing required: an empty object is valid
        (SCHEMA, {"page": "x"}, True),  # a wrong type is still caught
        ({**SCHEMA, "required": ["name"]}, {}, True),
        ({**SCHEMA, "minProperties": 1}, {}, True),
        ({"type": "array"}, {}, True),
    ],
)
def test_an_empty_input_is_judged_as_json_schema_says(
    schema: dict[str, Any], instance: dict[str, Any], rejected: bool
) -> None:
    from capgen_runtime.engine.contract import Checker

    assert bool(Checker(schema).offences(instance)) is rejected


def test_an_empty_input_that_cannot_be_rejected_needs_no_validator() -> None:
    code = (
        "import sys\n"
        "from capgen_runtime.engine.contract import Checker\n"
        f"assert Checker({SCHEMA!r}).offences({{}}) == []\n"
        "print('jsonschema' in sys.modules)\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False"
