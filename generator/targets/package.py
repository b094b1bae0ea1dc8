"""Plan the files of a generated package from the IR."""

from __future__ import annotations

import re
from importlib import metadata
from pathlib import Path

import capgen_runtime

from ..ir import model as ir
from .files import FileSpec
from .imports import (
    RUNTIME_PACKAGE,
    client_names,
    endpoints_names,
    import_block,
    mcp_names,
    uses_any,
)

VENDORED_DIR = "_runtime"


def plan(package: ir.Package, *, vendor_runtime: bool = False) -> list[FileSpec]:
    """Every file of the package, paths relative to the package's project folder."""
    module = package.module
    vendored = vendor_runtime
    common = {
        "package": package,
        "vendored": vendored,
        "runtime": runtime_requirement(package),
        "requirements": requirements(package, vendored),
        "compatible": compatible_version(),
    }

    def imports(**groups: object) -> str:
        return import_block(vendored=vendored, **groups)  # type: ignore[arg-type]

    files = [
        FileSpec("pyproject.toml", "pyproject.toml.jinja", common),
        FileSpec("README.md", "README.md.jinja", common),
        FileSpec(
            f"{module}/__init__.py",
            "package/__init__.py.jinja",
            {**common, "imports": _init_imports(package, vendored)},
        ),
        FileSpec(
            f"{module}/__main__.py",
            "package/__main__.py.jinja",
            {
                **common,
                "imports": imports(
                    local=["from .capability import CAPABILITY"], runtime={"serve": ["main"]}
                ),
            },
        ),
        FileSpec(
            f"{module}/settings.py",
            "package/settings.py.jinja",
            {
                **common,
                "imports": imports(
                    stdlib=["from collections.abc import Mapping"],
                    local=_from_package([u.module for u in package.upstreams]),
                    runtime={"model": ["Bind"], "settings": ["Settings", "load_settings"]},
                ),
            },
        ),
        FileSpec(
            f"{module}/capability.py",
            "package/capability.py.jinja",
            {
                **common,
                "imports": imports(
                    stdlib=["from collections.abc import Mapping"],
                    local=_from_package(package.modules),
                    runtime={"engine": ["Service"], "serve": ["Capability"]},
                ),
            },
        ),
    ]
    for upstream in package.upstreams:
        context = {
            **common,
            "upstream": upstream,
            "imports": imports(
                stdlib=["from typing import Any"] if uses_any(upstream) else [],
                third_party=["import httpx"],
                runtime={
                    "client": ["OperationsClient"],
                    "model": client_names(upstream),
                    "settings": ["Settings"],
                },
            ),
        }
        files.append(FileSpec(f"{module}/{upstream.module}.py", "package/client.py.jinja", context))
    for rest in package.rest:
        names = endpoints_names(r.endpoint for r in rest.routes)
        context = {
            **common,
            "adapter": rest,
            "imports": imports(
                third_party=["from fastapi import FastAPI"],
                local=_from_package(rest.imports),
                runtime={
                    "engine": ["Service"],
                    "model": [
                        *names,
                        "RestAdapter",
                        "Route",
                        *(["InboundAuth"] if rest.auth else []),
                    ],
                    "rest": ["build_app"],
                },
            ),
        }
        files.append(FileSpec(f"{module}/{rest.module}.py", "package/rest.py.jinja", context))
    for mcp in package.mcp:
        endpoints = [t.endpoint for t in mcp.tools] + [
            r.endpoint for r in mcp.resources if r.endpoint
        ]
        used = set(endpoints_names(endpoints)) | set(mcp_names(mcp))
        used |= {"Input"} if any(t.inputs for t in mcp.tools) else set()
        used |= {"InboundAuth"} if mcp.auth else set()
        context = {
            **common,
            "adapter": mcp,
            "imports": imports(
                stdlib=["from typing import TYPE_CHECKING, Any"],
                local=_from_package(mcp.imports),
                runtime={
                    "engine": ["Service"],
                    "mcp": ["build_app", "build_server"],
                    "model": sorted(used),
                },
            ),
        }
        files.append(FileSpec(f"{module}/{mcp.module}.py", "package/mcp_server.py.jinja", context))
    if package.functions:
        names = endpoints_names(f.endpoint for f in package.functions)
        context = {
            **common,
            "imports": imports(
                local=_from_package(package.function_imports), runtime={"model": names}
            ),
        }
        files.append(FileSpec(f"{module}/aggregates.py", "package/aggregates.py.jinja", context))
    if vendored:
        files.extend(runtime_files(module))
    return files


def runtime_requirement(package: ir.Package) -> str:
    """The generated pyproject's requirement: this capgen's X.Y, any patch level."""
    major, minor = capgen_runtime.__version__.split(".")[:2]
    extras = f"[{','.join(package.runtime_extras)}]" if package.runtime_extras else ""
    return f"{capgen_runtime.DISTRIBUTION}{extras}>={major}.{minor},<{major}.{int(minor) + 1}"


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


def compatible_version() -> str:
    """What generated packages ask of the runtime at import time (``X.Y``)."""
    return ".".join(capgen_runtime.__version__.split(".")[:2])


def runtime_dir() -> Path:
    return Path(capgen_runtime.__file__).parent


def runtime_files(module: str) -> list[FileSpec]:
    """The vendored run-time library: copied verbatim, identical in every package."""
    return [
        FileSpec(f"{module}/{VENDORED_DIR}/{source.name}", source=str(source))
        for source in sorted(runtime_dir().glob("*.py"))
    ]


def _from_package(modules: tuple[str, ...] | list[str]) -> list[str]:
    return [f"from . import {', '.join(modules)}"] if modules else []


def _init_imports(package: ir.Package, vendored: bool) -> str:
    local = ["from .capability import CAPABILITY, create_service", "from .settings import load"]
    local += [f"from .{u.module} import {u.class_name}" for u in package.upstreams]
    if vendored:
        return import_block(local=local, vendored=True)
    # after the runtime version check, so a wrong runtime fails there and nowhere else
    return "\n".join(f"{line}  # noqa: E402" for line in import_block(local=local).split("\n")[2:])


__all__ = ["RUNTIME_PACKAGE", "compatible_version", "plan", "runtime_files"]
