"""`capgen migrate`: a spec rewritten in another era (ikanos beta5 or naftiko alpha2).

The document is read twice: by capgen's own reader, for the checks every command makes (a
readable file, YAML limits, the era it says), and by ruamel.yaml, whose nodes keep comments,
key order and quoting; `convert.py` rewrites those nodes and `text.py` writes them back in the
document's own indentation. Nothing is written when anything cannot be expressed (E072).
"""

from __future__ import annotations

import os
import tempfile
from dataclasses import dataclass, field
from pathlib import Path

from ..diagnostics import Diagnostics, Span
from ..loader import load_document, parse_text
from ..spec import eras
from . import text
from .convert import Convert


@dataclass
class Migration:
    spec: Path
    diagnostics: Diagnostics = field(default_factory=Diagnostics)
    text: str | None = None  # the migrated document; None when it cannot be written
    era: eras.Era | None = None  # the era it was written in

    @property
    def changed(self) -> bool:
        return self.text is not None


def migrate(spec: Path, target: eras.Era, name: str | None = None) -> Migration:
    """`spec` rewritten in `target`'s shape (nothing is written here)."""
    display = name or str(spec)
    result = Migration(spec)
    diagnostics = result.diagnostics
    document = load_document(spec, diagnostics, display)
    if document is None:
        return result
    if not isinstance(document.data, dict):
        diagnostics.error("E010", "the spec root must be a mapping", Span(display, 1, 1))
        return result
    if eras.detect(document.data) is None:  # never stamp a version on some other YAML file
        diagnostics.error(
            "E011",
            "the document says neither `naftiko` nor `ikanos`: migrate rewrites only specs "
            "that say their era",
            Span(display, 1, 1),
        )
        return result
    era = eras.check(document.data, document.locations, diagnostics)
    if era is None or diagnostics.has_errors:
        return result
    result.era = era
    try:
        nodes = text.load(document.text)
    except text.Unreadable as exc:  # PyYAML read it: a construct only ruamel.yaml refuses
        diagnostics.error("E003", f"YAML syntax error: {exc}", Span(display, 1, 1))
        return result
    Convert(display, era, target, diagnostics).run(nodes)
    if diagnostics.has_errors:
        return result
    written = text.dump(nodes, document.text)
    check = Diagnostics()
    if parse_text(written, spec, check, display) is None:  # never hand back unreadable YAML
        diagnostics.error("E073", "the migrated text would not read back", Span(display, 1, 1))
        diagnostics.extend(check.items)
        return result
    result.text = written
    return result


def write(path: Path, content: str) -> None:
    """Atomically: a temporary file in the same folder, then a rename."""
    path.parent.mkdir(parents=True, exist_ok=True)
    handle, temporary = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(handle, "w", encoding="utf-8", newline="") as out:
            out.write(content)
        os.chmod(temporary, path.stat().st_mode & 0o7777 if path.exists() else 0o644)
        os.replace(temporary, path)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise


def targets(given: list[Path], out: Path | None) -> list[tuple[Path, Path]]:
    """(spec, where its migration goes): in place, or under `out` keeping each file's path
    below the folder it was found in."""
    found: list[tuple[Path, Path]] = []
    for path in given:
        if path.is_dir():
            for spec in sorted(p for p in path.rglob("*") if p.suffix in (".yaml", ".yml")):
                if spec.is_file():
                    found.append((spec, out / spec.relative_to(path) if out else spec))
        else:
            found.append((path, out / path.name if out else path))
    return found
