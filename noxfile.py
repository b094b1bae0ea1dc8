"""Developer tasks. `nox -l` lists them; `nox -s tests` is what CI runs (through .ci/run)."""

from __future__ import annotations

import nox

nox.options.sessions = ["lint", "tests"]
nox.options.reuse_existing_virtualenvs = True

PYTHON = "3.11"


@nox.session(python=PYTHON)
def tests(session: nox.Session) -> None:
    """The whole test suite (unit, snapshots, errors, integration, corpus sample)."""
    session.install("-e", "./runtime", "-e", ".[test]")
    session.run("pytest", "-n", "auto", *session.posargs)


@nox.session(python=PYTHON)
def lint(session: nox.Session) -> None:
    """ruff and black on capgen, its runtime, the tests and the committed generated code."""
    session.install("-e", "./runtime", "-e", ".[test]")
    session.run("pytest", "-q", "tests/test_code_quality.py", "-k", "ruff or black")


@nox.session(python=PYTHON)
def typecheck(session: nox.Session) -> None:
    """mypy --strict on generator/, runtime/ and generated/."""
    session.install("-e", "./runtime", "-e", ".[test]")
    session.run("mypy")


@nox.session(python=PYTHON)
def regen(session: nox.Session) -> None:
    """Rebuild generated/ from specs/ and rewrite the snapshot and error goldens."""
    session.install("-e", "./runtime", "-e", ".[test]")
    session.run("capgen", "build", "specs", "-o", "generated")
    session.run(
        "pytest", "tests/test_snapshots.py", "tests/test_errors.py", "--update-goldens", "-q"
    )


@nox.session(python=PYTHON)
def corpus(session: nox.Session) -> None:
    """Build, import, serve and exercise every spec of the shared corpus (about 10 minutes).

    `nox -s corpus -- PATH... [--sample N] [--jobs N] [--report FILE]` narrows it down.
    """
    session.install("-e", "./runtime", "-e", ".[test]")
    args = session.posargs or ["tests/data/shared-corpus", "--report", "corpus-report.json"]
    session.run("python", "-m", "tests.corpus", *args)


@nox.session(python=PYTHON)
def fuzz(session: nox.Session) -> None:
    """Mutation fuzzing through `capgen build`: 1,500 mutated corpus specs (about 4 minutes).

    `nox -s fuzz -- --count N --seed S --folder DIR`; prints mutants, exit code, packages
    built and problems (must be 0).
    """
    session.install("-e", "./runtime", "-e", ".[test]")
    folder = session.create_tmp() + "/fuzz"
    session.run("rm", "-rf", folder, external=True)
    session.run("python", "-m", "tests.security.spec_mutants", "--folder", folder, *session.posargs)


@nox.session(python=PYTHON)
def bench(session: nox.Session) -> None:
    """Benchmarks (generation and its peers, the REST proxy path against its floors, streams,
    MCP against FastMCP, start-up); writes bench/RESULTS.md."""
    session.install(
        "-e", "./runtime", "-e", ".[test]", "fastmcp", "httpx-aiohttp", "openapi-python-client"
    )
    session.run("tests/tools/install", external=True)  # Node 22, for openapi-mcp-generator
    session.run("python", "bench/run.py", *session.posargs)
