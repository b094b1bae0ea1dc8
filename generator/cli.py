"""The `capgen` command line: validate, build, check, diff, serve."""

from __future__ import annotations

import sys
import traceback
from pathlib import Path

import click

from . import __version__, pipeline
from .reporting import Reporter, expand_specs, serve_spec

OUT_HELP = (
    "Folder that receives one package folder per spec (default: generated/, or [tool.capgen] out)."
)


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="capgen")
@click.option("--debug", is_flag=True, help="Show Python tracebacks of internal errors.")
@click.pass_context
def cli(ctx: click.Context, debug: bool) -> None:
    """Generate ready-to-run REST + MCP services from Naftiko capability specs."""
    ctx.obj = {"debug": debug}


def _specs_argument(function):  # type: ignore[no-untyped-def]
    return click.argument("specs", nargs=-1, type=click.Path(path_type=Path))(function)


@cli.command()
@_specs_argument
@click.option(
    "--strict", is_flag=True, help="Also validate against the published alpha2 JSON Schema."
)
@click.option(
    "--format", "fmt", type=click.Choice(["text", "json"]), default="text", help="Output format."
)
def validate(specs: tuple[Path, ...], strict: bool, fmt: str) -> None:
    """Check specs and print every diagnostic (exit 1 on errors)."""
    reporter = Reporter(fmt=fmt)
    for spec in expand_specs(specs):
        result = pipeline.validate(spec, pipeline.Options(strict=strict))
        reporter.add(result.diagnostics)
    sys.exit(reporter.finish())


@cli.command()
@_specs_argument
@click.option("-o", "--out", type=click.Path(path_type=Path), help=OUT_HELP)
@click.option(
    "--strict", is_flag=True, help="Refuse specs that do not follow the published schema."
)
@click.option(
    "--check",
    "check_only",
    is_flag=True,
    help="Only compare with what is on disk (like `capgen check`).",
)
def build(specs: tuple[Path, ...], out: Path | None, strict: bool, check_only: bool) -> None:
    """Generate one package per spec (a folder of specs works too)."""
    reporter = Reporter()
    options = pipeline.Options(strict=strict)
    resolved = expand_specs(specs)
    out_dir = reporter.out_dir(out)
    if check_only:
        sys.exit(reporter.check(resolved, out_dir, options))
    for spec in reporter.progress(resolved, "building"):
        result, written = pipeline.build(spec, out_dir, options)
        reporter.add(result.diagnostics)
        if written is not None:
            state = "updated" if written.changed else "unchanged"
            reporter.note(f"{spec}: {state} {out_dir / result.folder}")
    sys.exit(reporter.finish())


@cli.command()
@_specs_argument
@click.option("-o", "--out", type=click.Path(path_type=Path), help=OUT_HELP)
@click.option("--strict", is_flag=True, help="Validate against the published schema too.")
def check(specs: tuple[Path, ...], out: Path | None, strict: bool) -> None:
    """Exit 1 with a diff when the generated code on disk is stale."""
    reporter = Reporter()
    sys.exit(
        reporter.check(expand_specs(specs), reporter.out_dir(out), pipeline.Options(strict=strict))
    )


@cli.command()
@_specs_argument
@click.option("-o", "--out", type=click.Path(path_type=Path), help=OUT_HELP)
def diff(specs: tuple[Path, ...], out: Path | None) -> None:
    """Print what a build would change, without writing (exit 0)."""
    reporter = Reporter()
    reporter.check(expand_specs(specs), reporter.out_dir(out), pipeline.Options(), advise=False)
    sys.exit(1 if reporter.errors else 0)


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
    """Build SPEC into a temporary folder and serve it (extra options go to the service)."""
    sys.exit(serve_spec(spec, mock=mock, reload=reload, extra=list(extra)))


def main() -> None:
    debug = "--debug" in sys.argv[1:]
    try:
        cli(standalone_mode=True)
    except SystemExit:
        raise
    except Exception as exc:  # an internal error: one line, the traceback only with --debug
        if debug:
            traceback.print_exc()
        print(f"capgen: internal error: {type(exc).__name__}: {exc}", file=sys.stderr)
        print("  rerun with --debug for the traceback, and please report it", file=sys.stderr)
        sys.exit(3)
