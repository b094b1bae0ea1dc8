"""How MCP clients start a package's MCP adapters over stdio: the README's ready entries for
Claude Desktop (`claude_desktop_config.json`), Cursor (`.cursor/mcp.json`) and VS Code
(`.vscode/mcp.json`), and the MCPB bundle manifest (`manifest.json`, MCPB manifest 0.4, what
desktop clients install in one click).

Every value that comes from the spec (names, descriptions, environment variables) reaches
these files through `json.dumps`, never through a template.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from typing import Any

from ..ir import model as ir

MCPB_SCHEMA = (
    "https://raw.githubusercontent.com/anthropics/mcpb/main/schemas/mcpb-manifest-v0.4.schema.json"
)
PYTHON = ">=3.11"  # the generated pyproject's requires-python


@dataclass(frozen=True)
class ClientConfig:
    """One client's configuration file: its name, where it lives, and its JSON text."""

    client: str
    path: str
    text: str


def secrets(package: ir.Package) -> list[str]:
    """The environment variables the spec binds (the upstream credentials), in spec order."""
    names = [key for bind in package.binds if not bind.location for _, key in bind.keys]
    return list(dict.fromkeys(names))


def stdio_args(package: ir.Package, adapter: ir.McpAdapter) -> list[str]:
    """`python -m <module> stdio`, naming the adapter where the package has several."""
    args = ["-m", package.module, "stdio"]
    if len(package.mcp) > 1:
        args += ["--adapter", adapter.namespace]
    return args


def _dumps(value: Any) -> str:
    return json.dumps(value, indent=2, ensure_ascii=False)


def _servers(package: ir.Package, value: str, **kind: str) -> dict[str, Any]:
    """Every MCP adapter as a stdio server entry; `value` gives each secret's value, `{name}`
    standing for the environment variable's name."""
    return {
        a.namespace: {
            **kind,
            "command": "python",
            "args": stdio_args(package, a),
            "env": {n: value.format(name=n, id=_input_id(n)) for n in secrets(package)},
        }
        for a in package.mcp
    }


def configs(package: ir.Package) -> list[ClientConfig]:
    """The three clients' files, each starting every MCP adapter of the package."""
    claude = {"mcpServers": _servers(package, "<your {name}>")}
    cursor = {"mcpServers": _servers(package, "${{env:{name}}}")}
    vscode: dict[str, Any] = {"servers": _servers(package, "${{input:{id}}}", type="stdio")}
    inputs = [
        {"type": "promptString", "id": _input_id(n), "description": n, "password": True}
        for n in secrets(package)
    ]
    if inputs:
        vscode["inputs"] = inputs
    return [
        ClientConfig("Claude Desktop", "claude_desktop_config.json", _dumps(claude)),
        ClientConfig("Cursor", ".cursor/mcp.json", _dumps(cursor)),
        ClientConfig("VS Code", ".vscode/mcp.json", _dumps(vscode)),
    ]


def _input_id(name: str) -> str:
    """A user_config / input id for an environment variable: lower case, `_` for the rest."""
    return re.sub(r"[^a-z0-9]+", "_", name.lower()).strip("_") or "value"


def manifest(package: ir.Package) -> str | None:
    """The MCPB manifest of the package's first MCP adapter (what `stdio` serves by default);
    None without one. The bundle carries the package and its dependencies in `lib/`."""
    if not package.mcp:
        return None
    adapter = package.mcp[0]
    names = secrets(package)
    env = {"PYTHONPATH": "${__dirname}/lib"}
    env.update({n: f"${{user_config.{_input_id(n)}}}" for n in names})
    document: dict[str, Any] = {
        "$schema": MCPB_SCHEMA,
        "manifest_version": "0.4",
        "name": package.dist_name,
        "display_name": package.title,
        "version": package.version,
        "description": " ".join(package.description.split()) or package.title,
        "author": {"name": package.title},
        "server": {
            "type": "python",
            "entry_point": f"{package.module}/__main__.py",
            "mcp_config": {"command": "python", "args": stdio_args(package, adapter), "env": env},
        },
        "tools": [
            {"name": t.name, **({"description": t.description} if t.description else {})}
            for t in adapter.tools
        ],
        "compatibility": {"runtimes": {"python": PYTHON}},
    }
    if names:
        document["user_config"] = {
            _input_id(n): {
                "type": "string",
                "title": n,
                "description": f"{n}, which the spec binds (an upstream credential)",
                "sensitive": True,
                "required": True,
            }
            for n in names
        }
    return _dumps(document) + "\n"
