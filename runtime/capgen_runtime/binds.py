"""Resolve `binds` into the template context (SEMANTICS §2.1, DEV-2)."""

from __future__ import annotations

import json
import os
import stat
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import unquote, urlparse

from .model import Bind


class BindError(RuntimeError):
    """A bound variable has no value; the service must not start."""


@dataclass(frozen=True)
class BindContext:
    """`{VAR: value}` plus `{namespace: {VAR: value}}`, visible to every template."""

    values: Mapping[str, str] = field(default_factory=dict)
    namespaces: Mapping[str, Mapping[str, str]] = field(default_factory=dict)

    @property
    def scope(self) -> dict[str, Any]:
        return {**self.namespaces, **self.values}

    def secrets(self) -> tuple[str, ...]:
        """Every bound value (redaction.py decides which are long enough to redact)."""
        return tuple(sorted(set(self.values.values()), key=len, reverse=True))


def resolve_binds(
    binds: Sequence[Bind],
    environ: Mapping[str, str] | None = None,
    cwd: Path | None = None,
    placeholder: bool = False,
) -> BindContext:
    """Read every bound variable. With `placeholder`, missing ones get a stand-in value (mock mode)."""
    environ = os.environ if environ is None else environ
    values: dict[str, str] = {}
    namespaces: dict[str, dict[str, str]] = {}
    for bind in binds:
        source = _file_source(bind.location, cwd, placeholder) if bind.location else environ
        scope = namespaces.setdefault(bind.namespace, {})
        for variable, key in bind.keys:
            if key in source:
                value = _text(source[key])
            elif placeholder:
                value = f"mock-{variable.lower()}"
            elif bind.location:
                raise BindError(f"Invalid bind: key '{key}' not found in {bind.location}")
            else:
                raise BindError(
                    f"Invalid bind: context variable '{key}' not found; set the environment variable {key}"
                )
            values[variable] = value
            scope[variable] = value
    return BindContext(values, namespaces)


def _file_source(location: str, cwd: Path | None, placeholder: bool) -> Mapping[str, Any]:
    path = _location_path(location, cwd or Path.cwd())
    try:
        text = _regular_file_text(path)
    except (OSError, ValueError):
        if placeholder:
            return {}
        raise BindError(f"Invalid bind: cannot read {location}") from None
    import yaml  # only for a YAML file of binds: not at every start-up

    try:
        data = yaml.safe_load(text) if path.suffix in (".yaml", ".yml") else json.loads(text)
    except (ValueError, yaml.YAMLError):
        raise BindError(f"Invalid bind: {location} is not valid YAML/JSON") from None
    if not isinstance(data, dict):
        raise BindError(f"Invalid bind: {location} must hold a mapping")
    return data


def _regular_file_text(path: Path) -> str:
    """The text of a regular file; a FIFO or a device is refused before anything waits on it."""
    with open(os.open(path, os.O_RDONLY | os.O_NONBLOCK), "rb") as handle:
        if not stat.S_ISREG(os.fstat(handle.fileno()).st_mode):
            raise ValueError(f"{path} is not a regular file")
        return handle.read().decode("utf-8")


def _location_path(location: str, cwd: Path) -> Path:
    parsed = urlparse(location)
    if parsed.scheme not in ("file", ""):
        raise BindError(
            f"Invalid bind: unsupported location scheme {parsed.scheme!r} in {location}"
        )
    raw = unquote(parsed.path) if parsed.scheme else location
    if raw.startswith("/./") or raw.startswith("./"):
        return cwd / raw.split("./", 1)[1]
    return Path(raw)


def _text(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    return "" if value is None else str(value)
