"""Format generated Python with black, in-process, pinned, cached by content hash.

Formatting dominates build time on large specs, so each distinct input is formatted once:
results are kept in memory and in a small on-disk cache keyed by sha256(black version +
mode + source). Several uncached files are formatted in parallel processes.
"""

from __future__ import annotations

import hashlib
import os
import threading
from collections.abc import Mapping, Sequence
from functools import lru_cache
from importlib import metadata
from pathlib import Path
from typing import TYPE_CHECKING

from .cache import cache_dir
from .layout import prelayout
from .workers import default_workers, worker_pool

if TYPE_CHECKING:
    from black import Mode

# black is imported only when something is left to format: builds and checks of current
# output never pay for its import.
TARGET_VERSION = "PY311"
LINE_LENGTH = 100
_KEY_PREFIX = f"black {metadata.version('black')} {TARGET_VERSION} {LINE_LENGTH}".encode()
_memory: dict[str, str] = {}


# black is compiled with mypyc: two threads importing it at once can crash the interpreter (a
# plain two-thread `import black` reproduces it), so it is imported once, under a lock.
_IMPORT_LOCK = threading.Lock()


@lru_cache(maxsize=1)
def _import_black() -> None:
    with _IMPORT_LOCK:
        import black
        import black.mode
        import black.strings  # noqa: F401


def black_mode() -> Mode:
    _import_black()
    return _mode()


@lru_cache(maxsize=1)
def _mode() -> Mode:
    from black.mode import Mode, TargetVersion

    return Mode(target_versions={TargetVersion[TARGET_VERSION]}, line_length=LINE_LENGTH)


class FormatError(Exception):
    """black rejected generated code: an internal error of capgen, reported with the source."""

    def __init__(self, path: str, source: str, reason: str) -> None:
        numbered = "\n".join(f"{i + 1:5d}  {line}" for i, line in enumerate(source.splitlines()))
        super().__init__(f"internal error: black cannot format {path}: {reason}\n{numbered}")
        self.parts = (path, source, reason)

    def __reduce__(self) -> tuple[type[FormatError], tuple[str, str, str]]:
        return FormatError, self.parts  # raised in a worker process, reported by the parent


def source_key(source: str) -> str:
    """What black's output depends on: its version, its mode (target, line length) and the source."""
    return hashlib.sha256(_KEY_PREFIX + source.encode()).hexdigest()


def laid_out(source: str) -> str:
    """`source` with its data statements already in black's layout (see `layout`)."""
    _import_black()
    from black.strings import normalize_string_quotes, str_width

    return prelayout(source, str_width, normalize_string_quotes)


def _format_one(source: str) -> str:
    _import_black()
    import black

    # black runs a second pass whenever its first one changed something: hand it its own
    # layout so that one pass is all it needs.
    return black.format_str(laid_out(source), mode=black_mode())


def format_sources(
    items: Sequence[tuple[str, str]],
    known: Mapping[str, str] | None = None,
    workers: int | None = None,
) -> list[str]:
    """Format (path, source) pairs; returns the formatted sources in the same order.

    `known` maps source keys to their formatted text (the files of a package already on disk,
    whose manifest proves it), so regenerating a current package never runs black.
    """
    keys = [source_key(source) for _, source in items]
    results: dict[str, str] = {}
    todo: dict[str, tuple[str, str]] = {}
    directory = cache_dir("black")
    for key, item in zip(keys, items, strict=True):
        if key in results:
            continue
        cached = (known or {}).get(key) or _memory.get(key) or _read(directory, key)
        if cached is not None:
            results[key] = cached
        else:
            todo[key] = item
    for key, formatted in _format_all(todo, workers).items():
        results[key] = formatted
        _memory[key] = formatted
        _write(directory, key, formatted)
    return [results[key] for key in keys]


def _format_all(todo: dict[str, tuple[str, str]], workers: int | None) -> dict[str, str]:
    if not todo:
        return {}
    count = workers if workers is not None else default_workers()
    large = sum(len(source) for _, source in todo.values()) > 200_000
    if count > 1 and len(todo) > 1 and large:
        keys = sorted(todo, key=lambda k: -len(todo[k][1]))
        with worker_pool(count) as pool:
            outputs = list(pool.map(_safe_format, [todo[k] for k in keys]))
    else:
        keys = list(todo)
        outputs = [_safe_format(todo[k]) for k in keys]
    done = {}
    for key, (ok, text) in zip(keys, outputs, strict=True):
        if not ok:
            path, source = todo[key]
            raise FormatError(path, source, text)
        done[key] = text
    return done


def _safe_format(item: tuple[str, str]) -> tuple[bool, str]:
    _, source = item
    try:
        return True, _format_one(source)
    except Exception as exc:  # black raises several types; all mean the template produced bad code
        return False, f"{type(exc).__name__}: {exc}"


def _read(directory: Path | None, key: str) -> str | None:
    if directory is None:
        return None
    try:
        return (directory / key[:2] / key).read_text(encoding="utf-8")
    except OSError:
        return None


def _write(directory: Path | None, key: str, text: str) -> None:
    if directory is None:
        return
    target = directory / key[:2] / key
    try:
        target.parent.mkdir(parents=True, exist_ok=True)
        temp = target.with_suffix(f".{os.getpid()}.tmp")
        temp.write_text(text, encoding="utf-8")
        temp.replace(target)
    except OSError:
        pass  # the cache is an optimisation; a read-only home must not fail a build
