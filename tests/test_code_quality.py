"""The code capgen ships and the code it generates pass the linters and `mypy --strict`.

These run the real tools over the checkout, so `pytest` alone is the whole of CI.
"""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
SOURCES = ["generator", "runtime", "tests", "bench", "noxfile.py", "generated"]


def _run(*command: str) -> None:
    if shutil.which(command[0], path=str(Path(sys.executable).parent)) is None:
        pytest.fail(f"{command[0]} is not installed: pip install -e './runtime' -e '.[test]'")
    tool = str(Path(sys.executable).parent / command[0])
    done = subprocess.run([tool, *command[1:]], cwd=ROOT, capture_output=True, text=True)
    assert done.returncode == 0, done.stdout + done.stderr


def test_ruff() -> None:
    _run("ruff", "check", "--no-cache", *SOURCES)


def test_black() -> None:
    _run("black", "--check", *SOURCES)


def test_mypy_strict() -> None:
    """generator/, runtime/ and the committed generated/ packages ([tool.mypy] files)."""
    _run("mypy", "--no-incremental")
