"""The one pipeline: load → validate → build IR → plan → render → format → write.

The CLI, the tests and `nox -s regen` all call `generate`, `build` or `check`.
"""

from __future__ import annotations

import gc
import hashlib
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

from . import __version__, incremental, readahead
from .diagnostics import Diagnostics, Span
from .format import DEFAULT_FORMATTER, Formatter
from .reading import recording_reads
from .semantics.naming import package_module
from .semantics.selection import ToolSelection
from .writer import (
    MANIFEST,
    NotCapgenOutput,
    WriteResult,
    confirm,
    diff,
    manifest_text,
    reusable,
    write_package,
)

if TYPE_CHECKING:
    from .ir.model import Package
    from .spec.eras import Era

# The stages are imported where they run: a build whose output is current (`incremental`)
# needs none of them, and they are most of capgen's start-up time.

SHARED_ONLY = ("exposes", "aggregates", "binds")  # standalone documents built by importers


def era_note(result: Result) -> None:
    """`capgen validate` says which era a spec is written in, and how to move it."""
    from .spec.eras import ALPHA2, BETA5, readable

    era = result.era
    if era is None or not readable(era):
        return
    other = ALPHA2 if era.maps else BETA5
    shown = f"{era.name} (read as {era.read_as})" if era.read_as != era.version else era.name
    span = result.diagnostics.items[0].span if result.diagnostics.items else None
    result.diagnostics.note(
        f"written in {shown}; `capgen migrate --to {other.target}` rewrites it in {other.name}",
        Span(span.file if span else _display(result.spec), 1, 1),
    )


@dataclass
class Options:
    strict: bool = False
    warnings_as_errors: bool = False  # every warning fails the build (not schema validation)
    module: str | None = (
        None  # import name of the generated package (default: from the spec file name)
    )
    vendor_runtime: bool = False  # copy the runtime into the package instead of importing it
    selection: ToolSelection = field(default_factory=ToolSelection)  # which MCP tools to generate
    formatter: Formatter = DEFAULT_FORMATTER  # black's layout, written by ruff or black itself


@dataclass
class Result:
    spec: Path
    diagnostics: Diagnostics
    package: Package | None = None
    files: dict[str, bytes] = field(default_factory=dict)
    spec_sha256: str = ""
    era: Era | None = None  # the era the spec is written in, once read
    module: str = ""  # the package folder, once known
    reads: list[tuple[Path, str]] = field(default_factory=list)  # files read, their sha256

    @property
    def ok(self) -> bool:
        known = self.package is not None or bool(self.module)
        return known and not self.diagnostics.has_errors

    @property
    def folder(self) -> str:
        return self.package.module if self.package else self.module


def validate(spec_path: Path, options: Options | None = None) -> Result:
    """Load, validate and build the IR; `result.package` is set when there is no error."""
    options = options or Options()
    with recording_reads() as reads, _collector_paused():
        result = _validate(spec_path, options)
    result.reads = reads
    if options.warnings_as_errors:
        result.diagnostics.promote()
        result.package = result.package if not result.diagnostics.has_errors else None
    return result


def _validate(spec_path: Path, options: Options) -> Result:
    from .loader import load_document
    from .semantics.build import build_package
    from .spec.parse import parse
    from .spec.strict import check_schema

    diagnostics = Diagnostics(strict=options.strict)
    result = Result(spec_path, diagnostics)
    document = load_document(spec_path, diagnostics, display_name=_display(spec_path))
    if document is None:
        return result
    schema = Diagnostics()
    if options.strict:  # reported with the others, but the semantic checks still run
        check_schema(document, schema)
    spec = parse(document, diagnostics)
    result.era = spec.era if spec is not None else None
    if spec is None or diagnostics.has_errors:
        diagnostics.extend(schema.items)
        return result
    if spec.standalone in SHARED_ONLY:  # read by the capabilities that import it
        diagnostics.note(
            f"a standalone {spec.standalone} document: capgen builds the capabilities that "
            "import it, not the document itself",
            document.locations.key_span((spec.standalone,)),
        )
        diagnostics.extend(schema.items)
        return result
    package = build_package(spec, diagnostics, options.module, options.selection)
    diagnostics.extend(schema.items)
    if not diagnostics.has_errors:
        result.package = package
        result.spec_sha256 = hashlib.sha256(document.text.encode()).hexdigest()
    return result


def generate(
    spec_path: Path, options: Options | None = None, out_dir: Path | None = None
) -> Result:
    """Everything but writing: the planned files, or the diagnostics that prevent them.

    With `out_dir`, Python files the package there already holds unchanged are reused
    instead of being formatted again.
    """
    with _collector_paused():
        return _generate(spec_path, options or Options(), out_dir)


def _generate(spec_path: Path, options: Options, out_dir: Path | None) -> Result:
    readahead.start(spec_path)  # unless the command line started it already
    from .format import format_sources, source_key
    from .render import render
    from .targets.package import plan

    result = validate(spec_path, options)
    package = result.package
    if package is None:
        return result
    planned = plan(package, vendored=options.vendor_runtime)
    texts = [render(file) for file in planned]
    python = [(i, f.path) for i, f in enumerate(planned) if f.is_python]
    sources = {path: source_key(texts[i], options.formatter) for i, path in python}
    known = reusable(out_dir / package.module) if out_dir is not None else {}
    items = [(path, texts[i]) for i, path in python]
    formatted = format_sources(items, known, options.formatter)
    for (i, _), text in zip(python, formatted, strict=True):
        texts[i] = text
    files = {f.path: _normalised(text) for f, text in zip(planned, texts, strict=True)}
    meta = {
        "generator": "capgen",
        "capgen_version": __version__,
        "spec": package.spec_name,
        "spec_sha256": result.spec_sha256,
    }
    files[MANIFEST] = manifest_text(files, meta, sources)
    result.files = files
    return result


def build(
    spec_path: Path, out_dir: Path, options: Options | None = None, *, reuse: bool = False
) -> tuple[Result, WriteResult | None]:
    """Generate and write; with `reuse`, a package whose inputs are unchanged is left as it is
    or restored from the cache (`incremental`; the result then has no IR)."""
    options = options or Options()
    given = _inputs(spec_path, options) if reuse else None
    if given is not None:
        reused = _reused(given, out_dir, options)
        if reused is not None:
            return reused
    result = generate(spec_path, options, out_dir)
    if not result.ok:
        return result, None
    target = out_dir / result.folder
    try:
        written = write_package(target, result.files)
    except NotCapgenOutput:
        result.diagnostics.error(
            "E050",
            f"{target} exists and was not written by capgen; refusing to overwrite it",
            Span(_display(spec_path), 1, 1),
        )
        return result, None
    if given is not None:
        _remember(given, result, target)
    return result, written


def check(
    spec_path: Path, out_dir: Path, options: Options | None = None, *, reuse: bool = False
) -> tuple[Result, list[str]]:
    """Regenerate in memory and diff against `out_dir`; an empty diff means current. With
    `reuse`, a package stamped with the same inputs and unchanged since is current at once."""
    options = options or Options()
    given = _inputs(spec_path, options) if reuse else None
    if given is not None:
        target = out_dir / given.folder
        found = incremental.stamped(given, target)
        if found is not None:
            return _replayed(given, found, options), []
        cached = incremental.restore(given)
        if cached is not None:
            result = _replayed(given, cached[0], options)
            return result, diff(target, cached[1], str(target))
    result = generate(spec_path, options, out_dir)
    if not result.ok:
        return result, []
    target = out_dir / result.folder
    if given is not None and incremental.caching():
        incremental.store(_record(given, result), result.files)
    return result, diff(target, result.files, str(target))


def _inputs(spec_path: Path, options: Options) -> incremental.Inputs | None:
    stem = spec_path.name.split(".")[0]
    folder, _ = package_module(options.module or stem, given=options.module is not None)
    selection = options.selection
    settings: list[object] = [options.strict, options.warnings_as_errors, options.module]
    settings += [options.vendor_runtime, list(selection.include), list(selection.exclude)]
    settings += [selection.read_only, options.formatter]  # the formatter last
    return incremental.inputs(spec_path, _display(spec_path), folder, settings)


def _reused(
    given: incremental.Inputs, out_dir: Path, options: Options
) -> tuple[Result, WriteResult | None] | None:
    """The build of unchanged inputs: the package as it is, or as the cache holds it."""
    target = out_dir / given.folder
    found = incremental.recorded(given, target)  # its files read once, by `confirm`
    if found is not None and confirm(target, found.manifest):
        return _replayed(given, found, options), WriteResult()
    cached = incremental.restore(given)
    if cached is None:
        return None
    found, files = cached
    try:
        written = write_package(target, files)
    except NotCapgenOutput:
        return None  # the full pipeline reports it
    incremental.stamp(target, found)
    return _replayed(given, found, options), written


def _replayed(given: incremental.Inputs, found: incremental.Record, options: Options) -> Result:
    diagnostics = Diagnostics(incremental.replay(given, found), strict=options.strict)
    return Result(given.spec, diagnostics, module=given.folder)


def _record(given: incremental.Inputs, result: Result) -> incremental.Record:
    return incremental.record(given, result.reads, result.diagnostics.items, result.files)


def _remember(given: incremental.Inputs, result: Result, target: Path) -> None:
    """Stamp the package with its inputs, and keep it in the cache."""
    found = _record(given, result)
    incremental.stamp(target, found)
    incremental.store(found, result.files)


@contextmanager
def _collector_paused() -> Iterator[None]:
    """No cyclic garbage collection while a spec is built: the stages allocate a great many
    objects that all live until the end, so each collection would only walk them again (a
    fifth of a large build's time). What they leave is reclaimed once the collector runs again."""
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was_enabled:
            gc.enable()


def _normalised(text: str) -> bytes:
    """LF line endings, UTF-8, exactly one final newline."""
    return (text.replace("\r\n", "\n").rstrip("\n") + "\n").encode()


def _display(path: Path) -> str:
    """How diagnostics name the spec: relative to the working directory when inside it."""
    try:
        return str(path.resolve().relative_to(Path.cwd().resolve()))
    except ValueError:
        return str(path)
