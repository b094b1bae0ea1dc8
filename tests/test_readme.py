"""The README's quick start runs as written: its curl commands (in bash) and its MCP Python
snippet (with the `mcp` SDK capgen installs), against `capgen serve` of the seed spec with the
embedded mock, only the ports and the printed token put in. The expectations come from the
protocols (JSON, an SSE stream, PNG's signature), not from capgen."""

from __future__ import annotations

import json
import os
import re
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.conftest import ROOT
from tests.support.service import free_port

README = (ROOT / "README.md").read_text(encoding="utf-8")
QUICK_START = README[README.index("## Quick start") : README.index("## Run the tests")]
PNG = b"\x89PNG\r\n\x1a\n"


class Served:
    def __init__(self, rest: int, mcp: int, token: str) -> None:
        self.rest, self.mcp, self.token = rest, mcp, token

    def written(self, text: str) -> str:
        """The README's text with this run's ports and token."""
        text = text.replace("127.0.0.1:8080", f"127.0.0.1:{self.rest}")
        text = text.replace("127.0.0.1:9090", f"127.0.0.1:{self.mcp}")
        return text.replace("export TOKEN=...", f"export TOKEN={self.token}")


@pytest.fixture(scope="module")
def served() -> Iterator[Served]:
    rest, mcp = free_port(), free_port()
    env = {k: v for k, v in os.environ.items() if k != "CLOUDFLARE_API_KEY"}
    command = [sys.executable, "-m", "generator", "serve", "specs/workers-ai-ai-inference.yaml"]
    command += ["--mock", "--rest-port", str(rest), "--mcp-port", str(mcp)]
    process = subprocess.Popen(
        command,
        cwd=ROOT,
        env={**env, "PYTHONUNBUFFERED": "1"},
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,  # the addresses and token are printed on stderr
        text=True,
        start_new_session=True,  # its own process group: stopped whole below
    )
    try:
        token = _token(process)
        threading.Thread(target=process.stdout.read, daemon=True).start()  # type: ignore[union-attr]
        yield Served(rest, mcp, token)
    finally:
        _stop(process)


def _token(process: subprocess.Popen[str]) -> str:
    assert process.stdout is not None
    token = None
    for line in process.stdout:  # the tests' timeout bounds a server that never says it
        found = re.search(r"bearer token for this run: (\S+)", line)
        token = found[1] if found else token
        if line.startswith("MCP"):
            break
    assert token, "capgen serve printed no token"
    time.sleep(0.5)
    return token


def _stop(process: subprocess.Popen[str]) -> None:
    os.killpg(process.pid, signal.SIGINT)
    try:
        process.wait(timeout=30)
    except subprocess.TimeoutExpired:
        os.killpg(process.pid, signal.SIGKILL)
        process.wait()


def _blocks(text: str, language: str) -> list[str]:
    return re.findall(rf"```{language}\n(.*?)```", text, re.DOTALL)


def _bash(script: str, folder: Path) -> bytes:
    done = subprocess.run(
        ["bash", "-euo", "pipefail", "-c", script], cwd=folder, capture_output=True, timeout=60
    )
    assert done.returncode == 0, done.stderr
    return done.stdout


def test_the_quick_start_curl_commands_run_as_written(served: Served, tmp_path: Path) -> None:
    first, second = [b for b in _blocks(QUICK_START, "sh") if "curl" in b]
    token_line = first.splitlines()[0]
    answer = json.loads(_bash(served.written(first), tmp_path))
    assert answer["success"] is True and answer["result"]["response"]
    streamed = _bash(served.written(token_line + "\n" + second), tmp_path).decode()
    events = [line for line in streamed.splitlines() if line.startswith("data:")]
    assert len(events) > 2 and events[-1].strip() == "data: [DONE]"
    assert all(json.loads(e[5:])["response"] is not None for e in events[:-1])
    assert (tmp_path / "image.png").read_bytes().startswith(PNG)


def test_the_mcp_python_snippet_runs_as_written(served: Served, tmp_path: Path) -> None:
    (snippet,) = [b for b in _blocks(README, "python") if "from mcp import Client" in b]
    script = tmp_path / "stream.py"
    script.write_text(served.written(snippet), encoding="utf-8")
    done = subprocess.run(
        [sys.executable, str(script)],
        env={**os.environ, "TOKEN": served.token},
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode == 0 and done.stderr == "", done.stderr
    pieces, _, result = done.stdout.partition("\n---\n")
    assert pieces and result.strip()  # the streamed text as it came, then the whole of it
    assert pieces.strip() in result or result.strip() in pieces


def test_the_configuration_example_builds_the_seed(tmp_path: Path) -> None:
    """The README's `[tool.capgen]` example, as written, passes for the seed; with `strict` the
    schema errors' hint names the setting, not a flag nobody gave."""
    (toml,) = _blocks(README, "toml")
    (tmp_path / "specs").mkdir()
    seed = (ROOT / "specs" / "workers-ai-ai-inference.yaml").read_text(encoding="utf-8")
    (tmp_path / "specs" / "workers-ai-ai-inference.yaml").write_text(seed, encoding="utf-8")
    (tmp_path / "pyproject.toml").write_text(toml, encoding="utf-8")
    command = [sys.executable, "-m", "generator", "validate"]
    done = subprocess.run(command, cwd=tmp_path, capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    (tmp_path / "pyproject.toml").write_text(toml + "strict = true\n", encoding="utf-8")
    done = subprocess.run(command, cwd=tmp_path, capture_output=True, text=True, timeout=120)
    assert done.returncode == 1 and "error[E052]" in done.stderr
    assert "drop --strict" not in done.stderr and "`strict` in [tool.capgen]" in done.stderr
