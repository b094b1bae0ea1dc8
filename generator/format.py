"""Format generated Python: black's style, produced by ruff's formatter (default) or black.

capgen's output contract is black 26.10.1's layout (line length 100, Python 3.11). ruff's
formatter writes the same bytes for everything capgen generates, about a hundred times faster,
so builds use it; black stays the reference (`--formatter black`, `formatter = "black"` in
`[tool.capgen]`), and the test suite runs black itself over every package of the shared corpus
to prove the two agree. Both are pinned and run with their own settings only: a project's own
ruff or black configuration never changes what capgen writes.

Each distinct source is formatted once: results are kept in memory, in a small on-disk cache and
in each package's manifest, keyed by sha256(formatter + version + mode + source).
"""

from __future__ import annotations

import hashlib
import subprocess
import tempfile
import threading
from collections.abc import Mapping, Sequence
from contextlib import suppress
from functools import lru_cache
from pathlib import Path
from typing import Literal

from .cache import cache_dir
from .writer import replace_file

Formatter = Literal["ruff", "black"]
FORMATTERS: tuple[Formatter, ...] = ("ruff", "black")
DEFAULT_FORMATTER: Formatter = "ruff"
TARGET_VERSION = "py311"
LINE_LENGTH = 100
_memory: dict[str, str] = {}


class FormatError(Exception):
    """The formatter rejected generated code: an internal error of capgen, with the source."""

    def __init__(self, path: str, source: str, reason: str) -> None:
        numbered = "\n".join(f"{i + 1:5d}  {line}" for i, line in enumerate(source.splitlines()))
        super().__init__(f"internal error: cannot format {path}: {reason}\n{numbered}")
        self.parts = (path, source, reason)

    def __reduce__(self) -> tuple[type[FormatError], tuple[str, str, str]]:
        return FormatError, self.parts  # raised in a worker process, reported by the parent


@lru_cache(maxsize=2)
def _key_prefix(formatter: Formatter) -> bytes:
    from importlib import metadata  # slow to import; not needed when the output is current

    version = metadata.version(formatter)
    return f"{formatter} {version} {TARGET_VERSION} {LINE_LENGTH}".encode()


def source_key(source: str, formatter: Formatter = DEFAULT_FORMATTER) -> str:
    """What the output depends on: the formatter, its version, its mode and the source."""
    return hashlib.sha256(_key_prefix(formatter) + source.encode()).hexdigest()


def format_sources(
    items: Sequence[tuple[str, str]],
    known: Mapping[str, str] | None = None,
    formatter: Formatter = DEFAULT_FORMATTER,
) -> list[str]:
    """Format (path, source) pairs; returns the formatted sources in the same order.

    `known` maps source keys to their formatted text (the files of a package already on disk,
    whose manifest proves it), so regenerating a current package formats nothing.
    """
    keys = [source_key(source, formatter) for _, source in items]
    results: dict[str, str] = {}
    todo: dict[str, tuple[str, str]] = {}
    directory = cache_dir(formatter)
    for key, item in zip(keys, items, strict=True):
        if key in results or key in todo:
            continue
        cached = (known or {}).get(key) or _memory.get(key) or _read(directory, key)
        if cached is not None:
            results[key] = cached
        else:
            todo[key] = item
    if todo:
        run = _ruff if formatter == "ruff" else _black
        for key, formatted in zip(todo, run(list(todo.values())), strict=True):
            results[key] = _memory[key] = formatted
            _write(directory, key, formatted)
    return [results[key] for key in keys]


def _ruff(items: list[tuple[str, str]]) -> list[str]:
    """Every source in one run of ruff's formatter, over a temporary folder."""
    from ruff.__main__ import find_ruff_bin  # type: ignore[import-untyped]

    with tempfile.TemporaryDirectory(prefix="capgen-format-") as folder:
        files = [Path(folder) / f"m{i}.py" for i in range(len(items))]
        for file, (_, source) in zip(files, items, strict=True):
            file.write_text(source, encoding="utf-8")
        command = [find_ruff_bin(), "format", "--isolated", "--no-cache", "--quiet"]
        command += ["--line-length", str(LINE_LENGTH), "--target-version", TARGET_VERSION]
        done = subprocess.run([*command, folder], capture_output=True, text=True, check=False)
        if done.returncode != 0:
            _raise_first(files, items, done.stderr)
        return [file.read_text(encoding="utf-8") for file in files]


def _raise_first(files: list[Path], items: list[tuple[str, str]], stderr: str) -> None:
    for file, (path, source) in zip(files, items, strict=True):
        if file.name in stderr:
            raise FormatError(path, source, stderr.strip().replace(str(file), path))
    path, source = items[0]
    raise FormatError(path, source, stderr.strip() or "ruff failed")


# black is compiled with mypyc: two threads importing it at once can crash the interpreter, so
# it is imported once, under a lock, and only when black is asked for.
_IMPORT_LOCK = threading.Lock()


def _black(items: list[tuple[str, str]]) -> list[str]:
    with _IMPORT_LOCK:
        import black
        from black.mode import Mode, TargetVersion

    mode = Mode(target_versions={TargetVersion[TARGET_VERSION.upper()]}, line_length=LINE_LENGTH)
    formatted = []
    for path, source in items:
        try:
            formatted.append(black.format_str(source, mode=mode))
        except Exception as exc:  # black raises several types; all mean a template is wrong
            raise FormatError(path, source, f"{type(exc).__name__}: {exc}") from None
    return formatted


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
    with suppress(OSError):  # the cache is an optimisation; a read-only home must not fail a build
        replace_file(directory / key[:2] / key, text.encode("utf-8"))
