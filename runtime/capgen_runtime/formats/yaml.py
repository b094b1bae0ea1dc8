"""YAML, read safely (no tags that build objects)."""

from __future__ import annotations

from typing import Any, Final, Literal

from .bounds import load_yaml
from .scheme import Format


def _decode(text: str, selector: str | None) -> Any:
    return load_yaml(text)


FORMAT: Final[Format[Literal["yaml"]]] = Format("yaml", _decode, ("yml",), (ValueError,))
