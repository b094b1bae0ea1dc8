"""What the CLI prints and how it walks inputs: diagnostics, progress, checks, serving."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator, Sequence
from pathlib import Path

import click

from . import pipeline
from .config import load_config
from .diagnostics import Diagnostic, Diagnostics

SPEC_SUFFIXES = (".yaml", ".yml")


def expand_specs(specs: Sequence[Path]) -> list[Path]:
    """Files as given; folders become their YAML files (recursively, sorted)."""
    if not specs:
        configured = load_config().specs
        if not configured:
            raise click.UsageError("give at least one spec (or set `specs` in [tool.capgen])")
        specs = configured
    found: list[Path] = []
    for spec in specs:
        if spec.is_dir():
            found.extend(
                sorted(p for p in spec.rglob("*") if p.suffix in SPEC_SUFFIXES and p.is_file())
            )
        else:
            found.append(spec)
    return found


class Reporter:
    """Collects diagnostics of several specs; prints them and decides the exit code."""

    def __init__(self, fmt: str = "text") -> None:
        self.fmt = fmt
        self.items: list[Diagnostic] = []
        self.errors = 0

    def out_dir(self, out: Path | None) -> Path:
        return out or load_config().out

    def add(self, diagnostics: Diagnostics) -> None:
        ordered = diagnostics.sorted()
        self.items.extend(ordered)
        self.errors += sum(d.severity == "error" for d in ordered)
        if self.fmt == "text":
            for diagnostic in ordered:
                click.echo(diagnostic.render(), err=True)

    def note(self, text: str) -> None:
        if sys.stderr.isatty():
            click.echo(text, err=True)

    def progress(self, specs: Sequence[Path], label: str) -> Iterator[Path]:
        """A progress bar on a terminal for several specs; silent otherwise."""
        if len(specs) < 2 or not sys.stderr.isatty():
            yield from specs
            return
        with click.progressbar(
            specs, label=label, file=sys.stderr, item_show_func=lambda p: p and p.name
        ) as bar:
            yield from bar

    def check(
        self, specs: Sequence[Path], out_dir: Path, options: pipeline.Options, advise: bool = True
    ) -> int:
        stale: list[Path] = []
        for spec in self.progress(specs, "checking"):
            result, lines = pipeline.check(spec, out_dir, options)
            self.add(result.diagnostics)
            if lines:
                stale.append(spec)
                sys.stdout.writelines(lines)
        if stale and advise:
            command = " ".join(["capgen build", *map(str, stale), "-o", str(out_dir)])
            click.echo(
                f"\ngenerated code is stale for {len(stale)} spec(s); to fix it run:\n  {command}",
                err=True,
            )
        if self.errors:
            return 1
        return 1 if stale and advise else 0

    def finish(self) -> int:
        if self.fmt == "json":
            click.echo(json.dumps([d.as_json() for d in self.items], indent=2))
        else:
            warnings = len(self.items) - self.errors
            if self.items:
                click.echo(f"{self.errors} error(s), {warnings} warning(s)", err=True)
        return 1 if self.errors else 0


def serve_spec(spec: Path, *, mock: bool | None, reload: bool, extra: list[str]) -> int:
    """Build into a temporary folder and run the package's own `serve` (restart on change)."""
    with tempfile.TemporaryDirectory(prefix="capgen-serve-") as temp:
        while True:
            result, _ = pipeline.build(spec, Path(temp))
            Reporter().add(result.diagnostics)
            if not result.ok:
                if not reload:
                    return 1
                _wait_for_change(spec, _mtime(spec))
                continue
            use_mock = _wants_mock(result) if mock is None else mock
            command = [
                sys.executable,
                "-m",
                result.folder,
                "serve",
                *(["--mock"] if use_mock else []),
                *extra,
            ]
            env = {
                **os.environ,
                "PYTHONPATH": os.pathsep.join(
                    filter(None, [str(Path(temp) / result.folder), os.environ.get("PYTHONPATH")])
                ),
            }
            process = subprocess.Popen(command, env=env)
            if not reload:
                return _wait(process)
            changed = _wait_for_change(spec, _mtime(spec), process)
            if not changed:
                return process.returncode or 0
            process.terminate()
            process.wait(timeout=15)
            click.echo(f"{spec} changed; rebuilding", err=True)


def _wants_mock(result: pipeline.Result) -> bool:
    """Mock when a variable bound from the environment is missing (a newcomer has no key)."""
    assert result.package is not None
    missing = [
        key
        for bind in result.package.binds
        if not bind.location
        for _, key in bind.keys
        if key not in os.environ
    ]
    if missing:
        click.echo(
            f"{', '.join(missing)} not set: serving against the embedded mock upstream (--live to refuse)",
            err=True,
        )
    return bool(missing)


def _wait(process: subprocess.Popen[bytes]) -> int:
    try:
        return process.wait()
    except KeyboardInterrupt:
        process.terminate()
        return process.wait(timeout=15)


def _mtime(path: Path) -> float:
    try:
        return path.stat().st_mtime
    except OSError:
        return 0.0


def _wait_for_change(
    spec: Path, seen: float, process: subprocess.Popen[bytes] | None = None
) -> bool:
    """True when the spec changed; False when the served process ended first."""
    while True:
        time.sleep(0.5)
        if _mtime(spec) != seen:
            return True
        if process is not None and process.poll() is not None:
            return False
