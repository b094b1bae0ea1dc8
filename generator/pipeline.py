"""The one pipeline: load → validate → build IR → plan → render → format → write.

The CLI, the tests and `nox -s regen` all call `generate`, `build` or `check`.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from pathlib import Path

from . import __version__
from .diagnostics import Diagnostics, Span
from .format import DEFAULT_FORMATTER, Formatter, format_sources, source_key
from .ir.model import Package
from .loader import load_document
from .render import render
from .semantics.build import build_package
from .semantics.selection import ToolSelection
from .spec.eras import ALPHA2, BETA5, Era, readable
from .spec.parse import parse
from .spec.strict import check_schema
from .targets.package import plan
from .writer import (
    MANIFEST,
    NotCapgenOutput,
    WriteResult,
    diff,
    manifest_text,
    reusable,
    write_package,
)

SHARED_ONLY = ("exposes", "aggregates", "binds")  # standalone documents built by importers


def era_note(result: Result) -> None:
    """`capgen validate` says which era a spec is written in, and how to move it."""
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

    @property
    def ok(self) -> bool:
        return self.package is not None and not self.diagnostics.has_errors

    @property
    def folder(self) -> str:
        return self.package.module if self.package else ""


def validate(spec_path: Path, options: Options | None = None) -> Result:
    """Load, validate and build the IR; `result.package` is set when there is no error."""
    options = options or Options()
    result = _validate(spec_path, options)
    if options.warnings_as_errors:
        result.diagnostics.promote()
        result.package = result.package if not result.diagnostics.has_errors else None
    return result


def _validate(spec_path: Path, options: Options) -> Result:
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
    result = validate(spec_path, options)
    package = result.package
    if package is None:
        return result
    options = options or Options()
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
    spec_path: Path, out_dir: Path, options: Options | None = None
) -> tuple[Result, WriteResult | None]:
    result = generate(spec_path, options, out_dir)
    if not result.ok:
        return result, None
    target = out_dir / result.folder
    try:
        return result, write_package(target, result.files)
    except NotCapgenOutput:
        result.diagnostics.error(
            "E050",
            f"{target} exists and was not written by capgen; refusing to overwrite it",
            Span(_display(spec_path), 1, 1),
        )
        return result, None


def check(
    spec_path: Path, out_dir: Path, options: Options | None = None
) -> tuple[Result, list[str]]:
    """Regenerate in memory and diff against `out_dir`; an empty diff means current."""
    result = generate(spec_path, options, out_dir)
    if not result.ok:
        return result, []
    return result, diff(out_dir / result.folder, result.files, str(out_dir / result.folder))


def _normalised(text: str) -> bytes:
    """LF line endings, UTF-8, exactly one final newline."""
    return (text.replace("\r\n", "\n").rstrip("\n") + "\n").encode()


def _display(path: Path) -> str:
    """How diagnostics name the spec: relative to the working directory when inside it."""
    try:
        return str(path.resolve().relative_to(Path.cwd().resolve()))
    except ValueError:
        return str(path)
