"""The runtime as a library: generated packages import capgen_runtime, check its version, and
`--vendor-runtime` output carries its own copy and serves in an environment without it."""

from __future__ import annotations

import ast
import os
import shutil
import subprocess
import sys
import sysconfig
import venv
from pathlib import Path

import anyio
import capgen_runtime
import httpx
import pytest

from generator import pipeline
from tests.conftest import INBOUND_TOKEN, ROOT, SEED_SPEC, seed_env
from tests.integration.mcp_client import mcp_client
from tests.support.fake_upstream import FakeUpstream
from tests.support.service import RunningService

pytestmark = pytest.mark.integration
RUNTIME = ROOT / "runtime" / "capgen_runtime"
MODULE = "workers_ai_ai_inference"


@pytest.fixture(scope="module")
def bare_python(tmp_path_factory: pytest.TempPathFactory) -> str:
    """A fresh venv that sees this environment's third-party packages but not capgen_runtime
    (an editable install is a .pth file of the site folder, which a path entry does not run)."""
    where = tmp_path_factory.mktemp("bare-venv")
    venv.create(where, with_pip=True)
    python = str(where / "bin" / "python")
    site = subprocess.run(
        [python, "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"],
        check=True,
        capture_output=True,
        text=True,
    ).stdout.strip()
    Path(site, "outer.pth").write_text(sysconfig.get_paths()["purelib"] + "\n")
    probe = subprocess.run([python, "-c", "import capgen_runtime"], capture_output=True)
    assert probe.returncode != 0, "the bare venv must not see capgen_runtime"
    subprocess.run([python, "-c", "import fastapi, httpx, mcp, uvicorn"], check=True)
    return python


def _build(out: Path, *, vendor: bool) -> Path:
    result, written = pipeline.build(SEED_SPEC, out, pipeline.Options(vendor_runtime=vendor))
    assert written is not None, [d.render() for d in result.diagnostics]
    return out / MODULE


def _imported_modules(project: Path) -> set[str]:
    """Every module the spec-derived files import (the vendored copy left out)."""
    found: set[str] = set()
    for path in (project / MODULE).glob("*.py"):
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.ImportFrom):
                found.add("." * node.level + (node.module or ""))
            elif isinstance(node, ast.Import):
                found.update(alias.name for alias in node.names)
    return found


def test_the_seed_package_holds_only_spec_derived_modules() -> None:
    project = ROOT / "generated" / MODULE
    assert not (project / MODULE / "_runtime").exists()
    names = sorted(p.name for p in (project / MODULE).glob("*.py"))
    assert names == [
        "__init__.py",
        "__main__.py",
        "app.py",
        "capability.py",
        "client.py",
        "mcp_server.py",
        "rest.py",
        "service.py",
        "settings.py",
    ]
    assert any(m.startswith("capgen_runtime") for m in _imported_modules(project))
    assert "capgen-runtime>=0.2,<1" in (project / "pyproject.toml").read_text()


def test_vendored_copy_is_verbatim_and_imported_relatively(tmp_path: Path) -> None:
    project = _build(tmp_path, vendor=True)
    copy = project / MODULE / "_runtime"
    assert {p.relative_to(copy): p.read_bytes() for p in copy.rglob("*.py")} == {
        p.relative_to(RUNTIME): p.read_bytes() for p in RUNTIME.rglob("*.py")
    }
    imported = _imported_modules(project)
    assert not any(m.startswith("capgen_runtime") for m in imported), imported
    assert "._runtime.model" in imported
    pyproject = (project / "pyproject.toml").read_text()
    assert "capgen-runtime" not in pyproject and '"fastapi' in pyproject
    again = _build(tmp_path / "again", vendor=True)
    for path in sorted(project.rglob("*")):
        if path.is_file() and "__pycache__" not in path.parts:
            twin = again / path.relative_to(project)
            assert twin.read_bytes() == path.read_bytes(), path


def test_vendored_package_installs_and_serves_without_the_runtime(
    tmp_path: Path, bare_python: str, fake_upstream_server: FakeUpstream
) -> None:
    project = _build(tmp_path, vendor=True)
    install = [bare_python, "-m", "pip", "install", "--quiet", "--no-deps", str(project)]
    subprocess.run(install, check=True, capture_output=True, cwd=tmp_path)
    env = seed_env(fake_upstream_server.url)
    service = RunningService(None, MODULE, env, [], python=bare_python)
    try:
        service.wait_ready()
        fake_upstream_server.reset()
        response = httpx.post(
            f"{service.rest_url}/v1/accounts/acct-1/ai/run/@cf/meta/llama-3.1-8b-instruct",
            json={"prompt": "hi"},
            headers={"Authorization": f"Bearer {INBOUND_TOKEN}"},
            timeout=10,
        )
        assert response.status_code == 200, response.text
        (seen,) = fake_upstream_server.requests
        assert seen.raw_path.endswith("/accounts/acct-1/ai/run/@cf/meta/llama-3.1-8b-instruct")

        async def tools() -> list[str]:
            async with mcp_client(service.mcp_url, INBOUND_TOKEN) as client:
                return [tool.name for tool in (await client.list_tools()).tools]

        assert anyio.run(tools) == ["cloudflare-execute-ai-model"]
    finally:
        service.stop()
    # the protocol the README gives uvicorn (`--http module:Class`) is the vendored copy's
    readme = (project / "README.md").read_text()
    target = readme.split("--http ", 1)[1].split()[0]
    module, _, name = target.partition(":")
    program = f"import importlib; print(importlib.import_module({module!r}).{name}.__name__)"
    done = subprocess.run(
        [bare_python, "-c", program], capture_output=True, text=True, cwd=tmp_path
    )
    assert done.returncode == 0 and done.stdout.strip() == "HttpProtocol", done.stderr
    assert module.startswith(f"{MODULE}._runtime.")


def test_a_package_without_its_runtime_says_how_to_install_it(
    tmp_path: Path, bare_python: str
) -> None:
    project = _build(tmp_path, vendor=False)
    done = subprocess.run(
        [bare_python, "-c", f"import {MODULE}"],
        cwd=project,
        capture_output=True,
        text=True,
        env={**os.environ, "PYTHONPATH": str(project)},
    )
    assert done.returncode != 0
    last = done.stderr.strip().splitlines()[-1]
    assert last == (
        f"ImportError: {MODULE} needs its run-time library: pip install 'capgen-runtime>=0.2,<1'"
    )


@pytest.mark.parametrize(
    ("version", "accepted"), [("0.1.9", False), ("0.2.7", True), ("0.5.0", True), ("1.0.0", False)]
)
def test_any_later_minor_runtime_serves_and_another_fails_naming_the_one_needed(
    tmp_path: Path, version: str, accepted: bool
) -> None:
    """The contract: a package generated for X.Y imports on X.Z for every Z >= Y."""
    project = _build(tmp_path / "out", vendor=False)
    other = tmp_path / "other-runtime" / "capgen_runtime"
    shutil.copytree(RUNTIME, other)
    init = other / "__init__.py"
    mine = capgen_runtime.__version__
    init.write_text(
        init.read_text().replace(f'__version__ = "{mine}"', f'__version__ = "{version}"')
    )
    done = subprocess.run(
        [sys.executable, "-c", f"import {MODULE}.rest"],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        env={**os.environ, "PYTHONPATH": f"{other.parent}{os.pathsep}{project}"},
    )
    if accepted:
        assert done.returncode == 0, done.stderr
        return
    last = done.stderr.strip().splitlines()[-1]
    assert last.startswith("capgen_runtime.RuntimeVersionError: ")
    assert f"{MODULE} was generated for capgen-runtime 0.2 (or a later 0.x), but {version}" in last
    assert "pip install 'capgen-runtime>=0.2,<1'" in last
