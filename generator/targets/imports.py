"""Which run-time names each generated module uses, so imports are exact and sorted."""

from __future__ import annotations

from collections.abc import Iterable

from ..ir import model as ir


def _output_names(outputs: Iterable[ir.Output]) -> set[str]:
    return {"Output"} if any(True for _ in outputs) else set()


def endpoint_names(endpoint: ir.Endpoint) -> set[str]:
    names = {"Endpoint"}
    if endpoint.inputs:
        names.add("Input")
    withs = [*endpoint.with_, *(endpoint.call.with_ if endpoint.call else ())]
    withs += [w for s in endpoint.steps if s.call for w in s.call.with_]
    if withs:
        names.add("With")
    if endpoint.call or any(s.call for s in endpoint.steps):
        names.add("Call")
    if endpoint.steps:
        names.add("Step")
    if endpoint.mappings:
        names.add("StepMapping")
    if endpoint.forward:
        names.add("Forward")
    return names | _output_names(endpoint.outputs)


def client_names(upstream: ir.Upstream) -> list[str]:
    names = {"Upstream", "Operation"}
    if upstream.auth:
        names.add("Auth")
    if upstream.params or any(op.params for op in upstream.operations):
        names.add("Parameter")
    if any(op.body for op in upstream.operations):
        names.add("Body")
    if any(op.outputs for op in upstream.operations):
        names.add("Output")
    if not upstream.operations:
        names.discard("Operation")
    return sorted(names)


def uses_any(upstream: ir.Upstream) -> bool:
    return any("Any" in arg.annotation for op in upstream.operations for arg in op.arguments)


def endpoints_names(endpoints: Iterable[ir.Endpoint]) -> list[str]:
    names: set[str] = set()
    for endpoint in endpoints:
        names |= endpoint_names(endpoint)
    return sorted(names)


def mcp_names(adapter: ir.McpAdapter) -> list[str]:
    names = {"McpAdapter", "Tool"}
    if adapter.resources:
        names.add("Resource")
    if adapter.prompts:
        names.add("Prompt")
        if any(p.arguments for p in adapter.prompts):
            names.add("PromptArgument")
    return sorted(names)


RUNTIME_PACKAGE = "capgen_runtime"
VENDORED_RUNTIME = "._runtime"  # where --vendor-runtime puts the copy, relative to the package


def import_block(
    *,
    stdlib: Iterable[str] = (),
    third_party: Iterable[str] = (),
    local: Iterable[str] = (),
    runtime: dict[str, Iterable[str]] | None = None,
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
