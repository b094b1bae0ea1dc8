"""The shape the house rules ask of capgen and its runtime: modules of at most 400 lines,
functions of at most 50, and no import cycle between modules, counting the imports that
`TYPE_CHECKING` blocks and function bodies would hide."""

from __future__ import annotations

import ast
from collections.abc import Iterator
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
PACKAGES = {"generator": ROOT / "generator", "capgen_runtime": ROOT / "runtime" / "capgen_runtime"}
MAX_MODULE, MAX_FUNCTION = 400, 50


def _modules() -> Iterator[tuple[str, Path]]:
    for name, folder in PACKAGES.items():
        for path in sorted(folder.rglob("*.py")):
            parts = path.relative_to(folder).with_suffix("").parts
            if parts[-1] == "__init__":
                parts = parts[:-1]
            yield ".".join((name, *parts)), path


MODULES = dict(_modules())


@pytest.mark.parametrize("module", sorted(MODULES))
def test_modules_and_functions_are_small(module: str) -> None:
    path = MODULES[module]
    lines = path.read_text().count("\n")
    assert lines <= MAX_MODULE, f"{module}: {lines} lines"
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
            length = (node.end_lineno or node.lineno) - node.lineno + 1
            assert length <= MAX_FUNCTION, f"{module}.{node.name}: {length} lines"


def _imports(module: str, path: Path) -> set[str]:
    """Every module `module` imports, wherever the statement is."""
    package = module if path.name == "__init__.py" else module.rpartition(".")[0]
    found: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                anchor = package.split(".")[: len(package.split(".")) - node.level + 1]
                base = ".".join([*anchor, *([base] if base else [])])
            found.add(base)
            found.update(f"{base}.{alias.name}" for alias in node.names)
    return {name for name in found if name in MODULES and name != module}


def test_no_import_cycle() -> None:
    graph = {module: _imports(module, path) for module, path in MODULES.items()}
    cycles = [component for component in _components(graph) if len(component) > 1]
    assert cycles == []


def _components(graph: dict[str, set[str]]) -> list[list[str]]:
    """Tarjan's strongly connected components."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    found: list[list[str]] = []

    def visit(node: str) -> None:
        index[node] = low[node] = len(index)
        stack.append(node)
        for child in sorted(graph[node]):
            if child not in index:
                visit(child)
                low[node] = min(low[node], low[child])
            elif child in stack:
                low[node] = min(low[node], index[child])
        if low[node] == index[node]:
            component = []
            while True:
                top = stack.pop()
                component.append(top)
                if top == node:
                    break
            found.append(sorted(component))

    for node in sorted(graph):
        if node not in index:
            visit(node)
    return found
