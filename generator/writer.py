"""Write a generated package atomically, and compare one with what is on disk.

The new tree is assembled in a staging folder next to the target (hand-written files and
symlinks of the old tree are carried over as they are), then exchanged with the target in one
atomic `renameat2(RENAME_EXCHANGE)`, so the target is at every instant either the old tree or
the new one (where the call is missing, two renames, and the next run restores a target a
crash left missing). Writers of one output folder take turns under a lock, and clean what a
killed writer left. Files capgen wrote before but no longer produces are pruned only while their
content is what the manifest recorded; a file edited since is kept and reported. A folder that
capgen did not write is never overwritten.
"""

from __future__ import annotations

import difflib
import fcntl
import hashlib
import json
import os
import shutil
import tempfile
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    import ctypes

MANIFEST = ".capgen-manifest.json"
_SKIPPED = ("__pycache__", ".pytest_cache", ".mypy_cache", ".ruff_cache")
_STAGING = ".capgen-tmp"
_BACKUP = ".old"
_RENAME_EXCHANGE = 2  # linux/fs.h


class NotCapgenOutput(Exception):
    """The target folder exists, is not empty, and has no capgen manifest."""


@dataclass
class WriteResult:
    written: list[str] = field(default_factory=list)
    removed: list[str] = field(default_factory=list)
    kept: list[str] = field(default_factory=list)  # no longer generated, but edited: left alone

    @property
    def changed(self) -> bool:
        return bool(self.written or self.removed)


def manifest_text(
    files: Mapping[str, bytes], meta: Mapping[str, str], sources: Mapping[str, str]
) -> bytes:
    """`files`: the sha256 of every file capgen owns; `sources`: for Python files, the key of
    what was given to black (see `reusable`)."""
    entries = {path: sha256(data) for path, data in sorted(files.items())}
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
        data = read_file(target / path)
        if data is not None and sha256(data) == recorded.get(path):
            found[str(key)] = data.decode("utf-8")
    return found


def sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def read_manifest(target: Path) -> dict[str, Any] | None:
    try:
        data = json.loads((target / MANIFEST).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    return data if isinstance(data, dict) and isinstance(data.get("files"), dict) else None


def owned_files(target: Path) -> set[str]:
    return set(_recorded(target))


def check_target(target: Path) -> None:
    if target.exists() and (
        not target.is_dir() or (any(target.iterdir()) and read_manifest(target) is None)
    ):
        raise NotCapgenOutput(str(target))


def write_package(target: Path, files: Mapping[str, bytes]) -> WriteResult:
    """Make `target` hold exactly `files` (manifest included) plus any hand-written files."""
    target.parent.mkdir(parents=True, exist_ok=True)
    with _locked(target.parent):
        _recover(target)
        check_target(target)
        recorded = _recorded(target)
        stale = sorted(p for p in set(recorded) - set(files) if (target / p).is_file())
        kept = [p for p in stale if sha256(read_file(target / p) or b"") != recorded[p]]
        result = WriteResult(
            written=sorted(p for p, data in files.items() if read_file(target / p) != data),
            removed=[p for p in stale if p not in kept],
            kept=kept,
        )
        if not (result.written or result.removed):
            return result
        staging = Path(
            tempfile.mkdtemp(prefix=f".{target.name}.", suffix=_STAGING, dir=target.parent)
        )
        os.chmod(staging, 0o777 & ~_umask())
        try:
            for path, data in sorted(files.items()):
                destination = staging / path
                destination.parent.mkdir(parents=True, exist_ok=True)
                destination.write_bytes(data)
            if target.exists():
                _carry_hand_written(target, staging, set(files) | set(result.removed))
            _swap(staging, target)
        finally:
            shutil.rmtree(staging, ignore_errors=True)
        return result


def confirm(target: Path, manifest_sha: str) -> bool:
    """What `write_package` does when the package is already there: under the writers' lock,
    clean what killed writers left, and say whether `target` holds that output unchanged."""
    if not target.is_dir():
        return False
    with _locked(target.parent):
        _recover(target)
        return holds(target, manifest_sha)


def holds(target: Path, manifest_sha: str) -> bool:
    """True when `target`'s manifest has that sha256 and every file it lists is unchanged."""
    return manifest_holds(manifest_sha, lambda path: read_file(target / path)) is not None


def manifest_holds(manifest_sha: str, read: Callable[[str], bytes | None]) -> set[str] | None:
    """The files a manifest of that sha256 lists, when `read` (a package's file by its path)
    gives the manifest and every file it lists unchanged; None otherwise."""
    data = read(MANIFEST)
    if data is None or sha256(data) != manifest_sha:
        return None
    listed: dict[str, str] = json.loads(data).get("files", {})
    for path, recorded in listed.items():
        found = read(path)
        if found is None or sha256(found) != recorded:
            return None
    return set(listed)


def put_beside(target: Path, name: str, data: bytes) -> None:
    """Write a file capgen keeps beside the package (not one of its files), under the writers'
    lock: a writer carrying the package's other files over never sees it half-written."""
    with _locked(target.parent):
        if target.is_dir() and read_file(target / name) != data:
            replace_file(target / name, data)


def replace_file(path: Path, data: bytes) -> None:
    """Write `path` atomically (a reader sees the old bytes or the new ones)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    temp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    try:
        temp.write_bytes(data)
        temp.replace(path)
    finally:
        temp.unlink(missing_ok=True)


def _recorded(target: Path) -> dict[str, str]:
    manifest = read_manifest(target)
    return {str(k): str(v) for k, v in manifest["files"].items()} if manifest else {}


@contextmanager
def _locked(folder: Path) -> Iterator[None]:
    """One writer at a time per output folder (the others wait), across processes."""
    descriptor = os.open(folder, os.O_RDONLY | os.O_DIRECTORY)
    try:
        fcntl.flock(descriptor, fcntl.LOCK_EX)
        yield
    finally:
        os.close(descriptor)  # releases the lock


def _recover(target: Path) -> None:
    """Under the lock: restore a target a crash between two renames left missing, and remove
    staging folders killed writers left."""
    leftovers = sorted(target.parent.glob(f".{_glob_escape(target.name)}.*{_STAGING}*"))
    backups = [p for p in leftovers if p.name.endswith(_STAGING + _BACKUP) and p.is_dir()]
    if not target.exists() and backups:
        os.replace(backups[-1], target)
    for leftover in leftovers:
        if leftover.exists():
            shutil.rmtree(leftover, ignore_errors=True)


def _glob_escape(name: str) -> str:
    return "".join(f"[{ch}]" if ch in "*?[" else ch for ch in name)


def _carry_hand_written(old: Path, new: Path, managed: set[str]) -> None:
    """Everything of `old` capgen does not manage, as it is: symlinks (dangling ones too) stay
    symlinks and are not followed, files are hard-linked or copied."""
    for folder, dirs, names in os.walk(old, followlinks=False):
        here = Path(folder)
        dirs[:] = [d for d in sorted(dirs) if d not in _SKIPPED]
        for name in [*dirs, *sorted(names)]:
            path = here / name
            relative = path.relative_to(old).as_posix()
            if relative in managed:
                continue
            destination = new / relative
            if path.is_symlink():
                destination.parent.mkdir(parents=True, exist_ok=True)
                if not destination.is_symlink() and not destination.exists():
                    os.symlink(os.readlink(path), destination)
                if name in dirs:
                    dirs.remove(name)  # never descend through a link
            elif path.is_dir():
                destination.mkdir(parents=True, exist_ok=True)
            elif path.is_file() and not destination.exists():
                destination.parent.mkdir(parents=True, exist_ok=True)
                try:
                    os.link(path, destination)
                except OSError:
                    shutil.copy2(path, destination)


def _swap(staging: Path, target: Path) -> None:
    """`target` becomes the staged tree; `staging` then holds the old one (to be removed)."""
    if not target.exists():
        os.replace(staging, target)
        return
    if _exchange(staging, target):
        return
    backup = staging.with_name(staging.name + _BACKUP)  # a crash from here on: see _recover
    os.replace(target, backup)
    try:
        os.replace(staging, target)
    except OSError:
        os.replace(backup, target)
        raise
    shutil.rmtree(backup, ignore_errors=True)


def _exchange(first: Path, second: Path) -> bool:
    """Swap two paths atomically (Linux renameat2); False where the system cannot."""
    libc = _libc()
    renameat2 = getattr(libc, "renameat2", None) if libc is not None else None
    if renameat2 is None:
        return False
    at_fdcwd = -100
    done = renameat2(at_fdcwd, os.fsencode(first), at_fdcwd, os.fsencode(second), _RENAME_EXCHANGE)
    return bool(done == 0)


@lru_cache(maxsize=1)
def _libc() -> ctypes.CDLL | None:
    import ctypes  # slow to import, and needed only when a package changes
    import ctypes.util

    name = ctypes.util.find_library("c")
    try:
        return ctypes.CDLL(name, use_errno=True) if name else None
    except OSError:
        return None


def _umask() -> int:
    current = os.umask(0)
    os.umask(current)
    return current


def read_file(path: Path) -> bytes | None:
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
        old = read_file(target / path) if (path in owned or path in files) else None
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
