"""What the read-ahead helper (`ahead`) runs for a spec: the loader's parse, then the templates
compiled. Both are imported in the helper itself, so the command can fork it before it has
imported either."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING

from . import ahead

if TYPE_CHECKING:
    from .ahead import Loaded
    from .diagnostics import Diagnostics


def command(specs: Sequence[Path]) -> None:
    """One command of the command line (`ahead.allow`): its spec read ahead, from the start,
    when it names one spec file."""
    ahead.allow()
    if len(specs) == 1:
        start(specs[0])


def start(spec_path: Path) -> None:
    """Have the spec read and the templates compiled on another core, when `ahead` may."""
    if spec_path.is_file():
        ahead.start(spec_path, _parse_text, _compile_templates)


def _parse_text(text: str, path: Path, diagnostics: Diagnostics, name: str) -> Loaded | None:
    from .loader import parse_text

    return parse_text(text, path, diagnostics, name)


def _compile_templates() -> dict[str, bytes]:
    from .render import compile_templates

    return compile_templates()
