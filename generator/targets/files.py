"""What the targets plan: one `FileSpec` per emitted file."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any


@dataclass(frozen=True)
class FileSpec:
    """`path` is relative to the package folder; `template`, or `source` (a file copied verbatim)."""

    path: str
    template: str | None = None
    context: dict[str, Any] = field(default_factory=dict, hash=False, compare=False)
    source: str | None = None

    @property
    def is_python(self) -> bool:
        """Generated Python, which is formatted (a copied file stays as it is)."""
        return self.path.endswith(".py") and self.source is None
