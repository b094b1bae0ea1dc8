"""`python -m tests.corpus [PATH...] [--sample N] [--jobs N] [--report FILE]`.

Builds every spec under PATH (default tests/data/shared-corpus, a copy of the shared corpus), serves it and exercises each REST
operation and MCP tool against a recording fake upstream. Prints one line per spec and a
summary; exits 1 when any spec is not accepted.
"""

from __future__ import annotations

import os
import sys
import tempfile
from concurrent.futures import ThreadPoolExecutor, as_completed
from pathlib import Path

import click

from tests.corpus.harness import Responder, SpecRun, as_json, select
from tests.support.fake_upstream import FakeUpstream


@click.command()
@click.argument("paths", nargs=-1, type=click.Path(exists=True, path_type=Path))
@click.option("--sample", type=int, help="Exercise a deterministic sample of this many specs.")
@click.option(
    "--max-bytes", type=int, default=10**9, help="Skip specs larger than this (sampling only)."
)
@click.option("--jobs", type=int, default=4, help="Specs handled at once.")
@click.option(
    "--report", type=click.Path(path_type=Path), help="Write the per-spec results as JSON."
)
@click.option("--work", type=click.Path(path_type=Path), help="Keep builds and logs here.")
def main(
    paths: tuple[Path, ...],
    sample: int | None,
    max_bytes: int,
    jobs: int,
    report: Path | None,
    work: Path | None,
) -> None:
    roots = paths or (Path("tests/data/shared-corpus"),)
    specs, root = _specs(roots)
    if sample:
        specs = select(specs, root, sample, max_bytes)
    sys.exit(run(specs, root, jobs, report, work))


def _specs(roots: tuple[Path, ...]) -> tuple[list[Path], Path]:
    files: list[Path] = []
    for root in roots:
        files += (
            [root]
            if root.is_file()
            else sorted(p for p in root.rglob("*") if p.suffix in (".yaml", ".yml"))
        )
    resolved = [f.resolve() for f in files]
    common = Path(os.path.commonpath(resolved)) if resolved else Path.cwd()
    return resolved, common if common.is_dir() else common.parent


def run(specs: list[Path], root: Path, jobs: int, report: Path | None, work: Path | None) -> int:
    upstream = FakeUpstream()
    responder = Responder()
    upstream.responder = responder
    upstream.start()
    reports = []
    with tempfile.TemporaryDirectory(prefix="capgen-corpus-") as temp:
        base = work or Path(temp)
        with ThreadPoolExecutor(max_workers=jobs) as pool:
            futures = [
                pool.submit(SpecRun(spec, base, upstream, responder, root).run) for spec in specs
            ]
            done = as_completed(futures)
            if sys.stderr.isatty():
                with click.progressbar(
                    done, length=len(futures), label="specs", file=sys.stderr
                ) as bar:
                    reports = [f.result() for f in bar]
            else:
                reports = [f.result() for f in done]
    upstream.stop()
    reports.sort(key=lambda r: r.spec)
    for entry in reports:
        click.echo(entry.line())
        for failure in entry.failures[:5]:
            click.echo(f"      {failure}")
    _summary(reports)
    if report:
        report.write_text(as_json(reports))
    return 0 if all(r.accepted for r in reports) else 1


def _summary(reports: list) -> None:  # type: ignore[type-arg]
    def count(attr: str) -> int:
        return sum(bool(getattr(r, attr)) for r in reports)

    total = len(reports)
    rest = [sum(r.rest[i] for r in reports) for i in (0, 1)]
    mcp = [sum(r.mcp[i] for r in reports) for i in (0, 1)]
    providers = len({r.provider for r in reports})
    click.echo(
        f"\n{total} specs from {providers} providers: built {count('built')}/{total}, imported {count('imported')}/{total}, "
        f"served {count('served')}/{total}, accepted {count('accepted')}/{total}; "
        f"REST operations {rest[0]}/{rest[1]}, MCP tools {mcp[0]}/{mcp[1]}"
    )
    formats: dict[str, int] = {}
    for r in reports:
        for name, n in r.formats.items():
            formats[name] = formats.get(name, 0) + n
    credentials = sum(r.credentials for r in reports)
    click.echo(
        f"declared credentials seen where the spec puts them: {credentials}; answers decoded by "
        "format: " + ", ".join(f"{k} {v}" for k, v in sorted(formats.items()))
    )


if __name__ == "__main__":
    main()
