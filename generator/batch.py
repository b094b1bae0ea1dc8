"""Several specs at once: the pipeline's `build` or `check` for each, spread over the cores."""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from .diagnostics import Diagnostics
from .pipeline import Options, build, check
from .workers import default_workers, worker_pool
from .writer import WriteResult


@dataclass
class Outcome:
    """What building or checking one spec reports: small enough to come back from a worker."""

    spec: Path
    diagnostics: Diagnostics
    folder: str = ""
    written: WriteResult | None = None
    diff: list[str] = field(default_factory=list)


def build_outcome(spec_path: Path, out_dir: Path, options: Options) -> Outcome:
    result, written = build(spec_path, out_dir, options, reuse=True)
    return Outcome(spec_path, result.diagnostics, result.folder, written=written)


def check_outcome(spec_path: Path, out_dir: Path, options: Options) -> Outcome:
    result, lines = check(spec_path, out_dir, options, reuse=True)
    return Outcome(spec_path, result.diagnostics, result.folder, diff=lines)


Task = Callable[[Path, Path, Options], Outcome]


def run_many(task: Task, jobs: Sequence[tuple[Path, Options]], out_dir: Path) -> Iterator[Outcome]:
    """`task` (`build_outcome` or `check_outcome`) for each spec, outcomes in the given order.

    Several specs are spread over the cores, one worker process per core, largest spec first;
    each worker formats its own files serially, so the cores are never oversubscribed.
    """
    workers = min(default_workers(), len(jobs))
    if workers < 2:
        for spec, options in jobs:
            yield task(spec, out_dir, options)
        return
    order = sorted(range(len(jobs)), key=lambda i: -_size(jobs[i][0]))
    with worker_pool(workers) as pool:
        futures = {i: pool.submit(task, jobs[i][0], out_dir, jobs[i][1]) for i in order}
        for i in range(len(jobs)):
            yield futures[i].result()


def _size(path: Path) -> int:
    try:
        return path.stat().st_size
    except OSError:
        return 0
