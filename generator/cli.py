"""The `capgen` command line: validate, build, check, diff, serve."""

from __future__ import annotations

import atexit
import gc
import os
import sys
import traceback
from collections.abc import Callable
from contextlib import suppress
from pathlib import Path
from typing import Any, NoReturn

import click

from . import __version__, batch, pipeline, readahead
from .format import FORMATTERS, Formatter
from .reporting import Session, migrate_specs, serve_spec
from .spec import eras

OUT_HELP = (
    "Folder receiving one package folder per spec (default: [tool.capgen] out, else generated/)."
)


@click.group(context_settings={"help_option_names": ["-h", "--help"], "max_content_width": 100})
@click.version_option(__version__, prog_name="capgen")
@click.option("--debug", is_flag=True, help="Show Python tracebacks of internal errors.")
def cli(debug: bool) -> None:
    """Generate ready-to-run REST + MCP services from Naftiko capability specs.

    \b
    The usual loop:
      capgen validate specs/            # every problem, file:line:col, exit 1 on errors
      capgen build specs/ -o generated  # one package per spec, written atomically
      capgen serve specs/x.yaml --mock  # try it without credentials
      capgen check specs/               # in CI: exit 1 and a diff when generated/ is stale
      capgen migrate specs/ --to ikanos-1.0.0-beta5   # rewrite specs in another era
    """


def _specs(function: Callable[..., Any]) -> Callable[..., Any]:
    decorator = click.argument("specs", nargs=-1, type=click.Path(exists=True, path_type=Path))
    return decorator(function)


def _strict(function: Callable[..., Any]) -> Callable[..., Any]:
    help_text = (
        "Also validate each spec against the published JSON Schema of its era; unresolved "
        "calls and template names become errors."
    )
    promote = (
        "Every warning is an error: exit 1 on any of them (schema validation stays off "
        'unless --strict); also set by [tool.capgen] warnings = "error".'
    )
    function = click.option("--warnings-as-errors", is_flag=True, help=promote)(function)
    return click.option("--strict", is_flag=True, help=help_text)(function)


def _session(
    strict: bool,
    warnings_as_errors: bool,
    out: Path | None,
    vendor_runtime: bool,
    formatter: Formatter | None,
) -> Session:
    """The session of `build` and `check`, from their common options."""
    return Session(
        strict=strict,
        warnings_as_errors=warnings_as_errors,
        out=out,
        vendor_runtime=vendor_runtime,
        formatter=formatter,
    )


def _vendor(function: Callable[..., Any]) -> Callable[..., Any]:
    help_text = (
        "Copy the run-time library into each package (under _runtime/) instead of depending "
        "on capgen-runtime."
    )
    return click.option("--vendor-runtime", is_flag=True, help=help_text)(function)


def _formatter(function: Callable[..., Any]) -> Callable[..., Any]:
    help_text = (
        "What writes black's layout: ruff's formatter (default, fast) or black itself "
        "(the reference; the same bytes). Default: [tool.capgen] formatter, else ruff."
    )
    return click.option("--formatter", type=click.Choice(FORMATTERS), help=help_text)(function)


def _out(function: Callable[..., Any]) -> Callable[..., Any]:
    return click.option(
        "-o", "--out", type=click.Path(file_okay=False, path_type=Path), help=OUT_HELP
    )(function)


@cli.command()
@_specs
@_strict
@click.option(
    "--format", "fmt", type=click.Choice(["text", "json"]), default="text", help="Output format."
)
def validate(specs: tuple[Path, ...], strict: bool, warnings_as_errors: bool, fmt: str) -> None:
    """Check SPECS (files or folders) and print every diagnostic; exit 1 on errors."""
    session = Session(strict=strict, warnings_as_errors=warnings_as_errors, fmt=fmt)
    for spec in session.specs(specs):
        result = pipeline.validate(spec, session.options(spec))
        pipeline.era_note(result)
        session.report(result.diagnostics)
    sys.exit(session.finish())


@cli.command()
@_specs
@_out
@_strict
@_vendor
@_formatter
@click.option(
    "--check",
    "check_only",
    is_flag=True,
    help="Only compare with what is on disk, like `capgen check`.",
)
def build(
    specs: tuple[Path, ...],
    out: Path | None,
    strict: bool,
    warnings_as_errors: bool,
    vendor_runtime: bool,
    formatter: Formatter | None,
    check_only: bool,
) -> None:
    """Generate one package per spec into OUT (specs default to [tool.capgen] specs)."""
    readahead.command(specs)
    session = _session(strict, warnings_as_errors, out, vendor_runtime, formatter)
    if check_only:
        sys.exit(session.check(session.specs(specs)))
    for outcome in session.run(batch.build_outcome, session.specs(specs), "building"):
        session.report(outcome.diagnostics)
        if outcome.written is not None:
            state = "updated" if outcome.written.changed else "unchanged"
            for kept in outcome.written.kept:
                click.echo(
                    f"{outcome.spec}: kept {session.out / outcome.folder / kept}: capgen no "
                    "longer generates it, but it was edited since; delete it if it is not yours",
                    err=True,
                )
            session.note(f"{outcome.spec}: {state} {session.out / outcome.folder}")
    sys.exit(session.finish())


@cli.command()
@_specs
@_out
@_strict
@_vendor
@_formatter
def check(
    specs: tuple[Path, ...],
    out: Path | None,
    strict: bool,
    warnings_as_errors: bool,
    vendor_runtime: bool,
    formatter: Formatter | None,
) -> None:
    """Regenerate in memory; exit 1 with a unified diff when OUT is stale."""
    readahead.command(specs)
    session = _session(strict, warnings_as_errors, out, vendor_runtime, formatter)
    sys.exit(session.check(session.specs(specs)))


@cli.command()
@_specs
@_out
def diff(specs: tuple[Path, ...], out: Path | None) -> None:
    """Print what a build would change in OUT, without writing anything."""
    session = Session(out=out)
    session.check(session.specs(specs), advise=False)
    sys.exit(session.finish(summary=False))


@cli.command()
@_specs
@click.option(
    "--to",
    "target",
    required=True,
    type=click.Choice(sorted(eras.TARGETS)),
    help="The era to write: ikanos-1.0.0-beta5 (maps keyed by name) or naftiko-1.0.0-alpha2.",
)
@click.option(
    "-o",
    "--out",
    type=click.Path(file_okay=False, path_type=Path),
    help="Write into this folder (keeping paths below the folders given) instead of in place.",
)
def migrate(specs: tuple[Path, ...], target: str, out: Path | None) -> None:
    """Rewrite SPECS (files or folders) in another spec era, keeping comments and key order.

    Nothing is written for a spec that holds what the target era cannot express (E072).
    """
    if not specs:
        raise click.UsageError("give at least one spec or folder")
    sys.exit(migrate_specs(list(specs), eras.TARGETS[target], out, Session()))


@cli.command(context_settings={"ignore_unknown_options": True})
@click.argument("spec", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option(
    "--mock/--live",
    default=None,
    help="Answer from an embedded mock upstream, or call the real API "
    "(default: mock when a bound environment variable is unset).",
)
@click.option("--reload", is_flag=True, help="Rebuild and restart when the spec changes.")
@click.argument("extra", nargs=-1, type=click.UNPROCESSED)
def serve(spec: Path, mock: bool | None, reload: bool, extra: tuple[str, ...]) -> None:
    """Build SPEC into a temporary folder and serve it.

    Options after SPEC that capgen does not know go to the service
    (--rest-port, --mcp-port, --host, --no-auth, --log-level).
    """
    sys.exit(serve_spec(spec, Session(), mock=mock, reload=reload, extra=list(extra)))


def main() -> None:
    # One command, then exit: capgen's objects live until the end and hold no reference
    # cycles to reclaim, so the cyclic collector would only walk them (see pipeline).
    gc.disable()
    debug = "--debug" in sys.argv[1:]
    try:
        cli(standalone_mode=True)
    except SystemExit as done:
        if done.code is None or isinstance(done.code, int):
            _leave(done.code or 0)
        raise
    except Exception as exc:  # an internal error: one line; the traceback only with --debug
        if debug:
            traceback.print_exc()
        print(f"capgen: internal error: {type(exc).__name__}: {exc}", file=sys.stderr)
        print("  rerun with --debug for the traceback, and please report it", file=sys.stderr)
        sys.exit(3)


def _leave(code: int) -> NoReturn:
    """Exit without tearing the interpreter down: the exit handlers run and the output is
    flushed, but the objects of a large build are not freed one by one (a few percent of a
    run; the process ends, the system takes its memory back at once)."""
    atexit._run_exitfuncs()
    for stream in (sys.stdout, sys.stderr):
        with suppress(Exception):  # a closed pipe: nothing more to say
            stream.flush()
    os._exit(code)
