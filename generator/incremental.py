"""Incremental builds: a package whose inputs are unchanged is not generated again.

A build's output is a function of its inputs: the bytes of the spec and of the files it imports,
the options, how diagnostics name the spec, and capgen itself (`sources.fingerprint`). Their
sha256 is the build's key. After generating, capgen records the key with what it produced (the
sha256 of the manifest, the diagnostics, the imported files and their sha256):

- beside the package, in `.capgen-stamp.json` (not a generated file: the manifest does not list
  it and `check` never compares it; version control should ignore it);
- in the cache (`cache.cache_dir("packages")`), with the files themselves.

`build` and `check` look for the key first (a `check` that finds neither a stamp nor the cache
never works it out: it hashes capgen's own sources). When the stamp has it, the imported files
are unchanged and every file on disk still has the bytes the manifest records, the package is
current: nothing is loaded, validated or rendered, and the recorded diagnostics are printed
again. When the cache has the key, its files are written (or compared) as generating would. Any
mismatch - another capgen, a changed import, an edited file, a stamp of other inputs - means the
full pipeline, whose output is compared byte for byte as before; so an upgrade of capgen that
changes nothing in the output reports the package current, and a build then refreshes the stamp.
"""

from __future__ import annotations

import json
import os
from collections.abc import Mapping, Sequence
from contextlib import suppress
from dataclasses import dataclass
from functools import cached_property
from pathlib import Path
from typing import Any

from .cache import cache_dir
from .diagnostics import Diagnostic, Span
from .reading import read_regular_file
from .sources import fingerprint
from .writer import (
    MANIFEST,
    holds,
    manifest_holds,
    put_beside,
    read_file,
    replace_file,
    sha256,
)

STAMP = ".capgen-stamp.json"
_FORMAT = 1


@dataclass(frozen=True)
class Inputs:
    """What a build of one spec depends on, and the key they make."""

    spec: Path
    display: str  # how diagnostics name the spec
    folder: str  # the package folder under the output folder
    spec_sha256: str
    settings: str  # the options, as JSON
    formatter: str

    @cached_property
    def key(self) -> str:
        """Worked out when first asked for: it hashes capgen's own sources, which a check with
        no stamp beside the package and no cache never needs (a clean clone in CI)."""
        material = [_FORMAT, fingerprint(self.formatter), self.display, self.spec_sha256]
        return sha256(json.dumps([*material, json.loads(self.settings)]).encode())


@dataclass(frozen=True)
class Record:
    """What the build of some inputs produced (kept in the stamp and in the cache)."""

    key: str
    folder: str
    manifest: str  # sha256 of the manifest's bytes
    reads: tuple[tuple[str, str], ...]  # imported files (relative to the spec's folder), sha256
    diagnostics: tuple[tuple[Any, ...], ...]

    def as_json(self) -> dict[str, Any]:
        return {
            "format": _FORMAT,
            "key": self.key,
            "folder": self.folder,
            "manifest": self.manifest,
            "reads": [list(r) for r in self.reads],
            "diagnostics": [list(d) for d in self.diagnostics],
        }


def inputs(spec: Path, display: str, folder: str, options: Sequence[object]) -> Inputs | None:
    """The inputs of building `spec`; None when it cannot be read (the pipeline reports why)."""
    try:
        raw = read_regular_file(spec)
    except (OSError, ValueError):
        return None
    return Inputs(spec, display, folder, sha256(raw), json.dumps(list(options)), str(options[-1]))


def record(
    given: Inputs,
    reads: Sequence[tuple[Path, str]],
    diagnostics: Sequence[Diagnostic],
    files: Mapping[str, bytes],
) -> Record:
    base = given.spec.parent.resolve()
    imported = tuple(
        (os.path.relpath(path.resolve(), base), sha) for path, sha in reads if path != given.spec
    )
    shown = tuple(
        (d.severity, d.code, d.message, _file(d.span.file, given), d.span.line, d.span.col, d.hint)
        for d in diagnostics
    )
    return Record(given.key, given.folder, sha256(files[MANIFEST]), imported, shown)


def _file(file: str, given: Inputs) -> str | None:
    """None for the spec itself: diagnostics name it as the run that prints them does."""
    return None if file == given.display else file


def replay(given: Inputs, found: Record) -> list[Diagnostic]:
    """The diagnostics of the recorded build, naming the spec as this run does."""
    return [
        Diagnostic(severity, code, message, Span(file or given.display, line, col), hint)
        for severity, code, message, file, line, col, hint in found.diagnostics
    ]


def stamped(given: Inputs, target: Path) -> Record | None:
    """The record beside the package, when it is of these inputs and still true of the files."""
    found = recorded(given, target)
    if found is None or not holds(target, found.manifest):
        return None
    return found


def recorded(given: Inputs, target: Path) -> Record | None:
    """The record beside the package, when it is of these inputs (its files not yet read)."""
    return _parse(read_file(target / STAMP), given)


def stamp(target: Path, found: Record) -> None:
    put_beside(target, STAMP, (json.dumps(found.as_json(), sort_keys=True) + "\n").encode())


def caching() -> bool:
    """Whether packages are kept in the cache (`CAPGEN_NO_CACHE` unset)."""
    return cache_dir("packages") is not None


def store(found: Record, files: Mapping[str, bytes]) -> None:
    """Keep the package in the cache under its key (when the cache is on)."""
    directory = cache_dir("packages")
    if directory is None:
        return
    names = sorted(files)
    header = {**found.as_json(), "files": [[n, len(files[n])] for n in names]}
    data = json.dumps(header, sort_keys=True).encode() + b"\n"
    data += b"".join(files[n] for n in names)
    with suppress(OSError):  # the cache is an optimisation: a read-only home fails no build
        replace_file(directory / found.key[:2] / found.key, data)


def restore(given: Inputs) -> tuple[Record, dict[str, bytes]] | None:
    """The cached package of these inputs, when every file of it is intact."""
    directory = cache_dir("packages")
    data = read_file(directory / given.key[:2] / given.key) if directory else None
    if data is None:
        return None
    head, _, body = data.partition(b"\n")
    try:
        header = json.loads(head)
        found = _parse(head, given)
        files, offset = {}, 0
        for name, size in header["files"]:
            files[str(name)] = body[offset : offset + int(size)]
            offset += int(size)
    except (ValueError, KeyError, TypeError):
        return None
    if found is None or offset != len(body) or not _intact(files, found.manifest):
        return None
    return found, files


def _parse(data: bytes | None, given: Inputs) -> Record | None:
    """The record in `data` when it is of `given`'s key and its imported files are unchanged."""
    try:
        raw = json.loads(data) if data else None
        if not isinstance(raw, dict) or raw.get("format") != _FORMAT:
            return None
        if raw.get("key") != given.key or raw.get("folder") != given.folder:
            return None
        reads = tuple((str(p), str(s)) for p, s in raw["reads"])
        found = Record(
            given.key,
            given.folder,
            str(raw["manifest"]),
            reads,
            tuple(tuple(d) for d in raw["diagnostics"]),
        )
    except (ValueError, KeyError, TypeError):
        return None
    base = given.spec.parent.resolve()
    return found if all(_filesha256(base / p) == s for p, s in reads) else None


def _intact(files: Mapping[str, bytes], manifest_sha: str) -> bool:
    """The cached files are exactly what their manifest lists, unchanged."""
    return manifest_holds(manifest_sha, files.get) == set(files) - {MANIFEST}


def _filesha256(path: Path) -> str | None:
    try:
        return sha256(read_regular_file(path))
    except (OSError, ValueError):
        return None
