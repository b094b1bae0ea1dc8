"""Plan the files of a generated package from the IR."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from importlib import metadata

import capgen_runtime

from ..format import LINE_LENGTH
from ..ir import model as ir
from ..sources import runtime_dir
from . import clients, deploy
from .descriptors import Renderer, function_refs, named, operation_refs
from .files import FileSpec
from .imports import RUNTIME_PACKAGE, import_block

VENDORED_DIR = "_runtime"


def plan(package: ir.Package, *, vendored: bool = False) -> list[FileSpec]:
    """Every file of the package, paths relative to the package's project folder."""
    planner = _Planner(package, vendored)
    files = [*planner.fixed(), *planner.derived()]
    files.extend(deploy.plan(package, planner.common))
    if vendored:
        files.extend(runtime_files(package.module))
    return files


class _Planner:
    """The files of one package: those every package has, and those its spec derives."""

    def __init__(self, package: ir.Package, vendored: bool) -> None:
        self.package, self.vendored, module = package, vendored, package.module
        self.common: dict[str, object] = {
            "package": package,
            "vendored": vendored,
            "runtime": runtime_requirement(package),
            "requirements": requirements(package, vendored),
            "compatible": capgen_runtime.compatible_version(),
            # what `uvicorn --http` takes to bound request heads and idle reads (serve/wire.py)
            "http_protocol": (
                f"{module}.{VENDORED_DIR}.serve.wire:HttpProtocol"
                if vendored
                else f"{RUNTIME_PACKAGE}.serve.wire:HttpProtocol"
            ),
        }

    def python(self, path: str, template: str, module_: Module, **context: object) -> FileSpec:
        imports = import_block(
            stdlib=module_.stdlib,
            third_party=module_.third_party,
            local=module_.local,
            runtime=module_.runtime,
            vendored=self.vendored,
        )
        definitions = module_.definitions
        context = {**self.common, **context, "imports": imports, "definitions": definitions}
        return FileSpec(f"{self.package.module}/{path}", template, context)

    def fixed(self) -> list[FileSpec]:
        package, common = self.package, self.common
        deployment = deploy.deployment(package) if deploy.serves_http(package) else None
        init = {**common, "imports": _init_imports(package, self.vendored)}
        mcp = {"clients": clients.configs(package), "secrets": clients.secrets(package)}
        capability = Module(
            stdlib=["from collections.abc import Mapping"],
            local=_from_package(sorted({*package.modules, "service"})),
            runtime={"serve": ["Capability"]},
        )
        return [
            FileSpec("pyproject.toml", "pyproject.toml.jinja", common),
            FileSpec("README.md", "README.md.jinja", {**common, "deploy": deployment, **mcp}),
            FileSpec(f"{package.module}/__init__.py", "package/__init__.py.jinja", init),
            self.python("__main__.py", "package/__main__.py.jinja", _entry("serve", "main")),
            self.python("settings.py", "package/settings.py.jinja", _settings(package)),
            self.python("app.py", "package/app.py.jinja", _entry("asgi", "OnePortApp", "factory")),
            self.python("capability.py", "package/capability.py.jinja", capability),
            *_manifest(package),
        ]

    def derived(self) -> list[FileSpec]:
        package = self.package
        files = [
            self.python(f"{u.module}.py", "package/client.py.jinja", _client(u), upstream=u)
            for u in package.upstreams
        ]
        files += [
            self.python(f"{a.module}.py", "package/rest.py.jinja", _rest(package, a), adapter=a)
            for a in package.rest
        ]
        files += [
            self.python(
                f"{a.module}.py", "package/mcp_server.py.jinja", _mcp(package, a), adapter=a
            )
            for a in package.mcp
        ]
        files.append(self.python("service.py", "package/service.py.jinja", _service(package)))
        if package.functions:
            aggregates = _aggregates(package)
            files.append(self.python("aggregates.py", "package/aggregates.py.jinja", aggregates))
        return files


def _manifest(package: ir.Package) -> list[FileSpec]:
    """The MCPB bundle manifest, for a package with an MCP adapter."""
    text = clients.manifest(package)
    return (
        [] if text is None else [FileSpec("manifest.json", "manifest.json.jinja", {"text": text})]
    )


def _entry(runtime_module: str, *names: str) -> Module:
    """A module that hands CAPABILITY to the runtime (`__main__`, `app`)."""
    return Module(
        local=["from .capability import CAPABILITY"], runtime={runtime_module: list(names)}
    )


@dataclass
class Module:
    """What a generated module imports, and its data statements (name, expression, comment)."""

    stdlib: list[str] = field(default_factory=list)
    third_party: list[str] = field(default_factory=list)
    local: list[str] = field(default_factory=list)
    runtime: dict[str, list[str]] = field(default_factory=dict)
    definitions: list[tuple[str, str, str]] = field(default_factory=list)

    def define(self, renderer: Renderer, items: list[tuple[str, object, str]]) -> None:
        self.definitions = [(name, renderer.define(value), note) for name, value, note in items]
        self.runtime.setdefault("model", []).extend(sorted(renderer.used))


def _settings(package: ir.Package) -> Module:
    renderer = Renderer(operation_refs(package.upstreams))
    module = Module(
        stdlib=["from collections.abc import Mapping"],
        local=_from_package([u.module for u in package.upstreams]),
        runtime={"settings": ["Settings", "load_settings"]},
    )
    binds = ("BINDS", package.binds, "")
    upstreams = ("UPSTREAMS", package.upstreams, "")
    module.define(renderer, [binds, upstreams])
    return module


def _client(upstream: ir.Upstream) -> Module:
    renderer = Renderer(operation_refs([upstream], local=upstream.module))
    typing = [
        name
        for name, used in (("Any", _uses_any(upstream)), ("TypedDict", _has_results(upstream)))
        if used
    ]
    module = Module(
        stdlib=[f"from typing import {', '.join(typing)}"] if typing else [],
        third_party=["import httpx"],
        runtime={"client": ["OperationsClient", "Result"], "settings": ["Settings"]},
    )
    items: list[tuple[str, object, str]] = [("UPSTREAM", upstream, "")]
    items += [(op.const, op, "") for op in upstream.operations]
    items.append(("OPERATIONS", upstream.operations, ""))
    module.define(renderer, items)
    return module


def _rest(package: ir.Package, rest: ir.RestAdapter) -> Module:
    refs = function_refs(operation_refs(package.upstreams), package.functions)
    renderer = Renderer(named(refs, {route.const: route for route in rest.routes}))
    module = Module(
        stdlib=["from collections.abc import Sequence"],
        third_party=["from fastapi import FastAPI", "from fastapi.params import Depends"],
        local=_from_package(rest.imports),
        runtime={"engine": ["Service"], "rest": ["build_app"]},
    )
    items: list[tuple[str, object, str]] = [(r.const, r, "") for r in rest.routes]
    module.define(renderer, [*items, ("ADAPTER", rest, "")])
    return module


def _mcp(package: ir.Package, mcp: ir.McpAdapter) -> Module:
    units: list[ir.Tool | ir.Resource | ir.Prompt] = [*mcp.tools, *mcp.resources, *mcp.prompts]
    parts = {"TOOLS": mcp.tools, "RESOURCES": mcp.resources, "PROMPTS": mcp.prompts}
    refs = function_refs(operation_refs(package.upstreams), package.functions)
    renderer = Renderer(named(refs, {**{u.const: u for u in units}, **parts}))
    module = Module(
        stdlib=["from typing import TYPE_CHECKING, Any"],
        local=_from_package(mcp.imports),
        runtime={"engine": ["Service"], "mcp": ["build_app", "build_server"]},
    )
    items: list[tuple[str, object, str]] = [(u.const, u, "") for u in units]
    items += [(k, v, "") for k, v in parts.items() if v or k == "TOOLS"]
    module.define(renderer, [*items, ("ADAPTER", mcp, "")])
    return module


def _service(package: ir.Package) -> Module:
    methods = package.service.methods
    kinds = {method.kind for method in methods}
    annotations = [a.annotation for m in methods for a in m.arguments] + [
        m.returns for m in methods
    ]
    runtime: dict[str, list[str]] = {"engine": ["Service", "from_spec"]}
    if kinds & {"rest", "tool", "resource"}:
        runtime["engine"].append("Answer")
    if "operation" in kinds:
        runtime["client"] = ["Result"]
    if "prompt" in kinds:
        runtime["engine.prompts"] = ["Messages", "fill_messages"]
    used = sorted({m.target.split(".")[0] for m in methods} | {u.module for u in package.upstreams})
    return Module(
        stdlib=["from typing import Any"] if any("Any" in a for a in annotations) else [],
        local=_from_package(used),
        runtime=runtime,
    )


def _aggregates(package: ir.Package) -> Module:
    refs = function_refs(operation_refs(package.upstreams), package.functions, local=True)
    renderer = Renderer(refs)
    module = Module(local=_from_package(package.function_imports))
    module.define(renderer, [(f.const, f.endpoint, f.ref) for f in package.functions])
    return module


def _has_results(upstream: ir.Upstream) -> bool:
    return any(op.result for op in upstream.operations)


def _uses_any(upstream: ir.Upstream) -> bool:
    annotations = [arg.annotation for op in upstream.operations for arg in op.arguments]
    annotations += [op.data_annotation for op in upstream.operations]
    annotations += [a for op in upstream.operations if op.result for _, a in op.result.fields]
    return any("Any" in annotation for annotation in annotations)


def runtime_requirement(package: ir.Package) -> str:
    """The generated pyproject's requirement: this capgen's X.Y, any patch level."""
    extras = f"[{','.join(package.runtime_extras)}]" if package.runtime_extras else ""
    return f"{capgen_runtime.DISTRIBUTION}{extras}{capgen_runtime.compatible_range()}"


def requirements(package: ir.Package, vendored: bool) -> list[str]:
    """The generated pyproject's dependencies: the runtime, or what a vendored copy needs."""
    if not vendored:
        return [runtime_requirement(package)]
    extras = set(package.runtime_extras)
    found = []
    for line in metadata.requires(capgen_runtime.DISTRIBUTION) or []:
        requirement, _, marker = line.partition(";")
        extra = re.search(r"extra\s*==\s*['\"]([^'\"]+)['\"]", marker)
        if extra is None or extra.group(1) in extras:
            found.append(requirement.strip())
    return sorted(found, key=str.lower)


def runtime_files(module: str) -> list[FileSpec]:
    """The vendored run-time library: copied verbatim, identical in every package."""
    root = runtime_dir()
    return [
        FileSpec(
            f"{module}/{VENDORED_DIR}/{source.relative_to(root).as_posix()}", source=str(source)
        )
        for source in sorted(root.rglob("*.py"))
    ]


def _from_package(modules: tuple[str, ...] | list[str]) -> list[str]:
    return [f"from . import {', '.join(modules)}"] if modules else []


def _init_imports(package: ir.Package, vendored: bool) -> str:
    local = ["from .capability import CAPABILITY, create_service", "from .settings import load"]
    local += [f"from .{u.module} import {u.class_name}" for u in package.upstreams]
    local.append(f"from .service import {package.service.name}")
    if vendored:
        return import_block(local=local, vendored=True)
    # after the runtime version check, so a wrong runtime fails there and nowhere else
    return "\n".join(_after_check(line) for line in import_block(local=local).split("\n")[2:])


def _after_check(line: str) -> str:
    """An import line with its E402 pragma, split as black splits a line too long with it (ruff
    does not count pragma comments, black does)."""
    pragma = "  # noqa: E402"
    if len(line) + len(pragma) <= LINE_LENGTH or " import " not in line:
        return line + pragma
    head, names = line.split(" import ", 1)
    inner = "".join(f"    {name.strip()},\n" for name in names.split(","))
    return f"{head} import (\n{inner}){pragma}"


__all__ = ["RUNTIME_PACKAGE", "plan", "runtime_files"]
