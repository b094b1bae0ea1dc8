"""capgen's own sources, and a fingerprint of everything besides a spec that its output depends on.

The fingerprint covers capgen's version, the bytes of the generator's modules and data, of the
templates and of the run-time library (vendored packages copy it), the Python version, and the
versions of the libraries that shape the output (the formatter, Jinja, PyYAML, pydantic, the
runtime's declared requirements). It is computed once per process, without importing any of
them, so a build that finds its output current stays cheap.
"""

from __future__ import annotations

import hashlib
import sys
from functools import lru_cache
from pathlib import Path

import capgen_runtime

_GENERATOR = Path(__file__).resolve().parent
_LIBRARIES = ("jinja2", "PyYAML", "pydantic", "capgen-runtime")
_SKIPPED = ("__pycache__",)


def templates_dir() -> Path:
    """`templates/` of a checkout, or the copy packaged inside the wheel."""
    packaged = _GENERATOR / "_templates"
    if packaged.is_dir():
        return packaged
    return _GENERATOR.parent / "templates"


def runtime_dir() -> Path:
    return Path(capgen_runtime.__file__).parent


@lru_cache(maxsize=2)
def fingerprint(formatter: str) -> str:
    """sha256 of what, besides the spec and the options, decides capgen's output."""
    digest = hashlib.sha256()
    for part in _versions(formatter):
        digest.update(part.encode() + b"\0")
    for name, root in (
        ("generator", _GENERATOR),
        ("templates", templates_dir()),
        ("runtime", runtime_dir()),
    ):
        for path in _tree(root):
            digest.update(f"{name}/{path.relative_to(root).as_posix()}\0".encode())
            digest.update(hashlib.sha256(path.read_bytes()).digest())
    return digest.hexdigest()


def _versions(formatter: str) -> list[str]:
    from importlib import metadata  # only once the output is in question: it is slow to import

    found = [f"capgen {capgen_runtime.__version__}", f"python {sys.version}"]
    for library in (*_LIBRARIES, formatter):
        try:
            found.append(f"{library} {metadata.version(library)}")
        except metadata.PackageNotFoundError:
            found.append(f"{library} -")
    found += sorted(metadata.requires("capgen-runtime") or [])
    return found


def _tree(root: Path) -> list[Path]:
    """Every file under `root` (caches left out), in a stable order."""
    return sorted(p for p in root.rglob("*") if p.is_file() and not set(p.parts) & set(_SKIPPED))
