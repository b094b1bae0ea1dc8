"""Plan the files of a generated package from the IR."""

from __future__ import annotations

from ..ir import model as ir
from ..render import templates_dir
from .files import FileSpec
from .imports import client_names, endpoints_names, mcp_names, uses_any

RUNTIME_DIR = "package/_runtime"


def plan(package: ir.Package) -> list[FileSpec]:
    """Every file of the package, paths relative to the package's project folder."""
    module = package.module
    common = {"package": package}
    files = [
        FileSpec("pyproject.toml", "pyproject.toml.jinja", common),
        FileSpec("README.md", "README.md.jinja", common),
        FileSpec(f"{module}/__init__.py", "package/__init__.py.jinja", common),
        FileSpec(f"{module}/__main__.py", "package/__main__.py.jinja", common),
        FileSpec(f"{module}/settings.py", "package/settings.py.jinja", common),
        FileSpec(f"{module}/capability.py", "package/capability.py.jinja", common),
    ]
    for upstream in package.upstreams:
        context = {
            **common,
            "upstream": upstream,
            "names": client_names(upstream),
            "uses_any": uses_any(upstream),
        }
        files.append(FileSpec(f"{module}/{upstream.module}.py", "package/client.py.jinja", context))
    for rest in package.rest:
        context = {
            **common,
            "adapter": rest,
            "names": endpoints_names(r.endpoint for r in rest.routes),
        }
        files.append(FileSpec(f"{module}/{rest.module}.py", "package/rest.py.jinja", context))
    for mcp in package.mcp:
        endpoints = [t.endpoint for t in mcp.tools] + [
            r.endpoint for r in mcp.resources if r.endpoint
        ]
        names = set(endpoints_names(endpoints)) | (
            {"Input"} if any(t.inputs for t in mcp.tools) else set()
        )
        context = {**common, "adapter": mcp, "names": sorted(names), "mcp_names": mcp_names(mcp)}
        files.append(FileSpec(f"{module}/{mcp.module}.py", "package/mcp_server.py.jinja", context))
    if package.functions:
        context = {**common, "names": endpoints_names(f.endpoint for f in package.functions)}
        files.append(FileSpec(f"{module}/aggregates.py", "package/aggregates.py.jinja", context))
    files.extend(runtime_files(module))
    return files


def runtime_files(module: str) -> list[FileSpec]:
    """The vendored run-time library: copied verbatim, identical in every package."""
    root = templates_dir() / RUNTIME_DIR
    return [
        FileSpec(f"{module}/_runtime/{source.name}", source=f"{RUNTIME_DIR}/{source.name}")
        for source in sorted(root.glob("*.py"))
    ]
