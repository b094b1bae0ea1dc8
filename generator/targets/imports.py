"""The import block of a generated module, grouped and sorted as isort (ruff) does."""

from __future__ import annotations

from collections.abc import Iterable, Mapping

RUNTIME_PACKAGE = "capgen_runtime"
VENDORED_RUNTIME = "._runtime"  # where --vendor-runtime puts the copy, relative to the package


def import_block(
    *,
    stdlib: Iterable[str] = (),
    third_party: Iterable[str] = (),
    local: Iterable[str] = (),
    runtime: Mapping[str, Iterable[str]] | None = None,
    vendored: bool = False,
) -> str:
    """The import statements of a generated module, grouped and sorted as isort (ruff) does.

    `runtime` maps run-time modules to the names imported from them; they are imported from
    capgen_runtime (a third-party package), or from the package's own vendored copy.
    """
    base = VENDORED_RUNTIME if vendored else RUNTIME_PACKAGE
    from_runtime = [
        f"from {base}.{module} import {', '.join(sorted(set(names), key=_member_key))}"
        for module, names in (runtime or {}).items()
        if names
    ]
    third = [*third_party, *([] if vendored else from_runtime)]
    mine = [*local, *(from_runtime if vendored else [])]
    sections = ["from __future__ import annotations", *map(_section, (stdlib, third, mine))]
    return "\n\n".join(section for section in sections if section)


def _section(given: Iterable[str]) -> str:
    lines = list(given)
    plain = sorted((line for line in lines if line.startswith("import ")), key=str.lower)
    froms = sorted((line for line in lines if line.startswith("from ")), key=_module_key)
    return "\n".join([*plain, *froms])


def _module_key(line: str) -> str:
    return line.split(" ", 2)[1].lower()


def _member_key(name: str) -> tuple[int, str]:
    """isort's order by type: CONSTANTS, then Classes, then functions and variables."""
    rank = 0 if name.isupper() and len(name) > 1 else 1 if name[:1].isupper() else 2
    return rank, name.lower()
