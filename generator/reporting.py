"""What the CLI does around the pipeline: inputs, configuration, printing, checking, serving."""

from __future__ import annotations

import json
import os
import shlex
import signal
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator, Sequence
from pathlib import Path

import click

from . import batch, pipeline
from .batch import Outcome
from .config import load_config
from .diagnostics import Diagnostic, Diagnostics
from .format import Formatter
from .spec.eras import Era

SPEC_SUFFIXES = (".yaml", ".yml")


class Session:
    """One CLI invocation: its configuration, its options and what it has reported."""

    def __init__(
        self,
        *,
        strict: bool = False,
        warnings_as_errors: bool = False,
        fmt: str = "text",
        out: Path | None = None,
        vendor_runtime: bool = False,
        formatter: Formatter | None = None,
    ) -> None:
        self.config = load_config()
        self.strict = strict
        self.warnings_as_errors = warnings_as_errors
        self.vendor_runtime = vendor_runtime
        self.formatter: Formatter = formatter or self.config.formatter
        self.fmt = fmt
        self.out = out or self.config.out
        self.items: list[Diagnostic] = []
        self.errors = 0

    def specs(self, given: Sequence[Path]) -> list[Path]:
        """Files as given; folders become their YAML files (recursively, sorted)."""
        if not given:
            given = [self.config.root / p for p in self.config.specs]
            if not given:
                raise click.UsageError(
                    "give at least one spec or folder (or set `specs` in [tool.capgen])"
                )
        found: list[Path] = []
        for spec in given:
            if spec.is_dir():
                inside = sorted(
                    p for p in spec.rglob("*") if p.suffix in SPEC_SUFFIXES and p.is_file()
                )
                if not inside:
                    raise click.UsageError(f"{spec} holds no .yaml or .yml spec")
                found.extend(inside)
            else:
                found.append(spec)
        return found

    def options(self, spec: Path) -> pipeline.Options:
        per_spec = self.config.for_spec(spec)
        strict = self.strict or bool(
            per_spec.strict if per_spec.strict is not None else self.config.strict
        )
        vendor = self.vendor_runtime or bool(
            per_spec.vendor_runtime
            if per_spec.vendor_runtime is not None
            else self.config.vendor_runtime
        )
        promote = self.warnings_as_errors or bool(
            per_spec.warnings_as_errors
            if per_spec.warnings_as_errors is not None
            else self.config.warnings_as_errors
        )
        return pipeline.Options(
            strict=strict,
            warnings_as_errors=promote,
            module=per_spec.module,
            vendor_runtime=vendor,
            selection=per_spec.selection,
            formatter=self.formatter,
        )

    def report(self, diagnostics: Diagnostics) -> None:
        ordered = diagnostics.sorted()
        self.items.extend(ordered)
        self.errors += sum(d.severity == "error" for d in ordered)
        if self.fmt == "text":
            for diagnostic in ordered:
                click.echo(diagnostic.render(), err=True)

    def note(self, text: str) -> None:
        if sys.stderr.isatty():
            click.echo(text, err=True)

    def run(self, task: batch.Task, specs: Sequence[Path], label: str) -> Iterator[Outcome]:
        """`task` over the specs (spread over the cores), with a progress bar on a terminal."""
        outcomes = batch.run_many(task, [(s, self.options(s)) for s in specs], self.out)
        if len(specs) < 2 or not sys.stderr.isatty():
            yield from outcomes
            return
        with click.progressbar(
            outcomes,
            length=len(specs),
            label=label,
            file=sys.stderr,
            item_show_func=lambda o: o and o.spec.name,
        ) as bar:
            yield from bar

    def check(self, specs: Sequence[Path], advise: bool = True) -> int:
        """Diff every spec's regenerated package against `self.out`; 1 when stale (or errors)."""
        stale: list[Path] = []
        for outcome in self.run(batch.check_outcome, specs, "checking"):
            self.report(outcome.diagnostics)
            if outcome.diff:
                stale.append(outcome.spec)
                sys.stdout.writelines(outcome.diff)
        if stale and advise:
            command = shlex.join(["capgen", "build", *map(str, stale), "-o", str(self.out)])
            click.echo(
                f"\ngenerated code is stale for {len(stale)} spec(s); to fix it run:\n  {command}",
                err=True,
            )
            return 1
        return 1 if self.errors else 0

    def finish(self, summary: bool = True) -> int:
        if self.fmt == "json":
            click.echo(json.dumps([d.as_json() for d in self.items], indent=2))
        elif summary and self.items:
            warnings = sum(d.severity == "warning" for d in self.items)
            click.echo(f"{self.errors} error(s), {warnings} warning(s)", err=True)
        return 1 if self.errors else 0


def migrate_specs(given: list[Path], target: Era, out: Path | None, session: Session) -> int:
    """`capgen migrate`: each spec rewritten in `target`, in place or under `out`."""
    from . import migrate as migration  # ruamel.yaml: slow to import, used by this command only

    written = 0
    for spec, destination in migration.targets(given, out):
        result = migration.migrate(spec, target, _shown(spec))
        session.report(result.diagnostics)
        if result.text is None:
            continue
        if out is None and result.text == spec.read_text(encoding="utf-8"):
            click.echo(f"{_shown(spec)}: already {target.name}", err=True)
            continue
        migration.write(destination, result.text)
        written += 1
        click.echo(
            f"{_shown(spec)}: {result.era and result.era.name} -> {target.name}: "
            f"{_shown(destination)}",
            err=True,
        )
    click.echo(f"{written} file(s) written; {session.errors} error(s)", err=True)
    return 1 if session.errors else 0


def _shown(path: Path) -> str:
    try:
        return str(path.resolve().relative_to(Path.cwd().resolve()))
    except ValueError:
        return str(path)


def serve_spec(
    spec: Path, session: Session, *, mock: bool | None, reload: bool, extra: list[str]
) -> int:
    """Build into a temporary folder and run the package's own `serve` (restart on change).

    SIGTERM and Ctrl-C stop the service too: it never outlives this command.
    """
    signal.signal(signal.SIGTERM, _interrupt)
    process: subprocess.Popen[bytes] | None = None
    with tempfile.TemporaryDirectory(prefix="capgen-serve-") as temp:
        try:
            while True:
                seen = _mtime(spec)
                result, _ = pipeline.build(spec, Path(temp), session.options(spec))
                session.report(result.diagnostics)
                if not result.ok:
                    if not reload:
                        return 1
                    _wait_for_change(spec, seen)
                    continue
                process = _start(result, Path(temp), mock, extra)
                if not reload:
                    return process.wait()
                if not _wait_for_change(spec, seen, process):
                    return process.returncode or 0
                _stop(process)
                click.echo(f"{spec} changed; rebuilding", err=True)
        except KeyboardInterrupt:
            return 0
        finally:
            if process is not None:
                _stop(process)


def _interrupt(signum: int, frame: object) -> None:
    raise KeyboardInterrupt


def _start(
    result: pipeline.Result, folder: Path, mock: bool | None, extra: list[str]
) -> subprocess.Popen[bytes]:
    use_mock = _wants_mock(result) if mock is None else mock
    command = [
        sys.executable,
        "-m",
        result.folder,
        "serve",
        *(["--mock"] if use_mock else []),
        *extra,
    ]
    path = os.pathsep.join(
        filter(None, [str(folder / result.folder), os.environ.get("PYTHONPATH")])
    )
    return subprocess.Popen(command, env={**os.environ, "PYTHONPATH": path})


def _stop(process: subprocess.Popen[bytes]) -> None:
    if process.poll() is None:
        process.terminate()
        try:
            process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            process.kill()


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
