"""Write a generated package atomically, and compare one with what is on disk.

The new tree is assembled in a temporary folder next to the target (hand-written files of the
old tree are carried over), then swapped in with two renames; files capgen wrote before but
no longer produces are pruned. A folder that capgen did not write is never overwritten.
"""

from __future__ import annotations

import difflib
import hashlib
import json
import os
import shutil
import tempfile
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

MANIFEST = ".capgen-manifest.json"
_SKIPPED = ("__pycache__", ".pytest_cache", ".mypy_cache", ".ruff_cache")


class NotCapgenOutput(Exception):
    """The target folder exists, is not empty, and has no capgen manifest."""


@dataclass
class WriteResult:
    written: list[str] = field(default_factory=list)
    removed: list[str] = field(default_factory=list)

    @property
    def changed(self) -> bool:
        return bool(self.written or self.removed)


def manifest_text(
    files: Mapping[str, bytes], meta: Mapping[str, str], sources: Mapping[str, str]
) -> bytes:
    """`files`: the sha256 of every file capgen owns; `sources`: for Python files, the key of
    what was given to black (see `reusable`)."""
    entries = {path: _sha(data) for path, data in sorted(files.items())}
    manifest = {**meta, "files": entries, "sources": dict(sorted(sources.items()))}
    return (json.dumps(manifest, indent=2) + "\n").encode()


def reusable(target: Path) -> dict[str, str]:
    """source key → formatted text, for files on disk that are exactly what capgen wrote."""
    manifest = read_manifest(target)
    if manifest is None or not isinstance(manifest.get("sources"), dict):
        return {}
    found = {}
    recorded: dict[str, str] = manifest["files"]
    for path, key in manifest["sources"].items():
        data = _read(target / path)
        if data is not None and _sha(data) == recorded.get(path):
            found[str(key)] = data.decode("utf-8")
    return found


def _sha(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def read_manifest(target: Path) -> dict[str, Any] | None:
    try:
        data = json.loads((target / MANIFEST).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    return data if isinstance(data, dict) and isinstance(data.get("files"), dict) else None


def owned_files(target: Path) -> set[str]:
    manifest = read_manifest(target)
    return set(manifest["files"]) if manifest else set()


def check_target(target: Path) -> None:
    if target.exists() and (
        not target.is_dir() or (any(target.iterdir()) and read_manifest(target) is None)
    ):
        raise NotCapgenOutput(str(target))


def write_package(target: Path, files: Mapping[str, bytes]) -> WriteResult:
    """Make `target` hold exactly `files` (manifest included) plus any hand-written files."""
    check_target(target)
    owned = owned_files(target)
    result = WriteResult(
        written=sorted(p for p, data in files.items() if _read(target / p) != data),
        removed=sorted(p for p in owned - set(files) if (target / p).exists()),
    )
    if not result.changed:
        return result
    target.parent.mkdir(parents=True, exist_ok=True)
    staging = Path(
        tempfile.mkdtemp(prefix=f".{target.name}.", suffix=".capgen-tmp", dir=target.parent)
    )
    os.chmod(staging, 0o777 & ~_umask())
    try:
        for path, data in sorted(files.items()):
            destination = staging / path
            destination.parent.mkdir(parents=True, exist_ok=True)
            destination.write_bytes(data)
        if target.exists():
            _carry_hand_written(target, staging, owned | set(files))
        _swap(staging, target)
    finally:
        shutil.rmtree(staging, ignore_errors=True)
    return result


def _carry_hand_written(old: Path, new: Path, managed: set[str]) -> None:
    for path in sorted(old.rglob("*")):
        relative = path.relative_to(old).as_posix()
        if any(part in _SKIPPED for part in path.relative_to(old).parts) or relative in managed:
            continue
        if path.is_dir():
            (new / relative).mkdir(parents=True, exist_ok=True)
        elif path.is_file():
            (new / relative).parent.mkdir(parents=True, exist_ok=True)
            try:
                os.link(path, new / relative)
            except OSError:
                shutil.copy2(path, new / relative)


def _swap(staging: Path, target: Path) -> None:
    if not target.exists():
        os.replace(staging, target)
        return
    backup = staging.with_name(staging.name + ".old")
    os.replace(target, backup)
    try:
        os.replace(staging, target)
    except OSError:
        os.replace(backup, target)
        raise
    shutil.rmtree(backup, ignore_errors=True)


def _umask() -> int:
    current = os.umask(0)
    os.umask(current)
    return current


def _read(path: Path) -> bytes | None:
    try:
        return path.read_bytes()
    except OSError:
        return None


def diff(target: Path, files: Mapping[str, bytes], label: str) -> list[str]:
    """A unified diff from what is on disk to what would be generated (empty when current)."""
    lines: list[str] = []
    owned = owned_files(target)
    for path in sorted(set(files) | owned):
        new = files.get(path)
        old = _read(target / path) if (path in owned or path in files) else None
        if old == new:
            continue
        lines.extend(
            difflib.unified_diff(
                _lines(old),
                _lines(new),
                fromfile=f"{label}/{path}" if old is not None else "/dev/null",
                tofile=f"{label}/{path} (regenerated)" if new is not None else "/dev/null",
            )
        )
    return lines


def _lines(data: bytes | None) -> list[str]:
    if data is None:
        return []
    return data.decode("utf-8", errors="replace").splitlines(keepends=True)
