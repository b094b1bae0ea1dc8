"""`[tool.capgen]` in pyproject.toml, so CI and humans run the same thing.

    [tool.capgen]
    out = "generated"                 # where `build`/`check` write and compare
    specs = ["specs"]                 # what `capgen build` (no arguments) builds
    strict = false                    # --strict for every spec: the published JSON Schema too
    warnings = "error"                # --warnings-as-errors for every spec ("warn": the default)
    vendor_runtime = false            # --vendor-runtime for every spec
    formatter = "ruff"                # or "black", the reference (same bytes, slower)

    [tool.capgen.options."workers-ai-ai-inference.yaml"]
    module = "workers_ai"             # the generated package's import name
    warnings = "warn"                 # per-spec options: strict, warnings, vendor_runtime
    tools = ["list-*", "get-*"]       # the MCP tools to generate (name patterns; default all)
    exclude_tools = ["*-delete"]      # and those not to
    read_only_tools = true            # only tools whose hints say read-only

Spec keys are file names or paths relative to the pyproject's folder.
"""

from __future__ import annotations

import keyword
import tomllib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import click

from .format import DEFAULT_FORMATTER, FORMATTERS, Formatter
from .semantics.selection import ToolSelection


@dataclass(frozen=True)
class SpecOptions:
    module: str | None = None
    strict: bool | None = None
    warnings_as_errors: bool | None = None
    vendor_runtime: bool | None = None
    selection: ToolSelection = field(default_factory=ToolSelection)


@dataclass(frozen=True)
class Config:
    root: Path = field(default_factory=Path.cwd)
    out: Path = Path("generated")
    specs: tuple[Path, ...] = ()
    strict: bool = False
    warnings_as_errors: bool = False
    vendor_runtime: bool = False
    formatter: Formatter = DEFAULT_FORMATTER
    per_spec: dict[str, SpecOptions] = field(default_factory=dict)

    def for_spec(self, spec: Path) -> SpecOptions:
        try:
            relative = spec.resolve().relative_to(self.root.resolve()).as_posix()
        except ValueError:
            relative = None
        return self.per_spec.get(relative or "", None) or self.per_spec.get(
            spec.name, SpecOptions()
        )


def load_config(directory: Path | None = None) -> Config:
    root = directory or Path.cwd()
    path = root / "pyproject.toml"
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        return Config(root=root)
    except (OSError, tomllib.TOMLDecodeError) as exc:
        raise click.UsageError(f"cannot read {path}: {exc}") from None
    section = data.get("tool", {}).get("capgen", {})
    if not isinstance(section, dict):
        raise click.UsageError(f"{path}: [tool.capgen] must be a table")
    try:
        return Config(
            root=root,
            out=Path(_typed(section, "out", str, "generated")),
            specs=tuple(Path(p) for p in _typed(section, "specs", list, [])),
            strict=_typed(section, "strict", bool, False),
            warnings_as_errors=_warnings(section.get("warnings", "warn")) or False,
            vendor_runtime=_typed(section, "vendor_runtime", bool, False),
            formatter=_formatter(_typed(section, "formatter", str, DEFAULT_FORMATTER)),
            per_spec={
                str(k): _spec_options(k, v) for k, v in _typed(section, "options", dict, {}).items()
            },
        )
    except (TypeError, ValueError) as exc:
        raise click.UsageError(f"{path}: invalid [tool.capgen]: {exc}") from None


def _warnings(value: Any) -> bool | None:
    """`warnings = "error"` (every warning fails the build) or "warn" (the default)."""
    if value is None:
        return None
    if value not in ("warn", "error"):
        raise ValueError(f'`warnings` must be "warn" or "error", got {value!r}')
    return bool(value == "error")


def _formatter(name: str) -> Formatter:
    for known in FORMATTERS:
        if name == known:
            return known
    raise ValueError(f"`formatter` must be one of {', '.join(FORMATTERS)}, got {name!r}")


def _typed(section: dict[str, Any], key: str, kind: type, default: Any) -> Any:
    value = section.get(key, default)
    if not isinstance(value, kind):
        raise TypeError(f"`{key}` must be a {kind.__name__}")
    return value


def _spec_options(name: str, value: Any) -> SpecOptions:
    if not isinstance(value, dict):
        raise TypeError(f"options of {name!r} must be a table")
    module = value.get("module")
    if module is not None and (not str(module).isidentifier() or keyword.iskeyword(str(module))):
        raise ValueError(f"module {module!r} of {name!r} is not a Python identifier")
    flags = {key: value.get(key) for key in ("strict", "vendor_runtime", "read_only_tools")}
    for key, flag in flags.items():
        if flag is not None and not isinstance(flag, bool):
            raise TypeError(f"`{key}` of {name!r} must be a boolean")
    patterns = {key: value.get(key, []) for key in ("tools", "exclude_tools")}
    for key, listed in patterns.items():
        if not isinstance(listed, list) or not all(isinstance(p, str) for p in listed):
            raise TypeError(f"`{key}` of {name!r} must be a list of name patterns")
    selection = ToolSelection(
        tuple(patterns["tools"]), tuple(patterns["exclude_tools"]), bool(flags["read_only_tools"])
    )
    return SpecOptions(
        module=module,
        strict=flags["strict"],
        warnings_as_errors=_warnings(value.get("warnings")),
        vendor_runtime=flags["vendor_runtime"],
        selection=selection,
    )
