"""The `capgen` console script. A `build` or `check` of one spec file has its spec read ahead
(`ahead`) before anything else is imported: the command line's own imports (click, the stages)
then overlap the parse instead of preceding it. The command itself is `cli.main`."""

from __future__ import annotations

import sys
from pathlib import Path

_COMMANDS = frozenset({"build", "check"})
_VALUED = frozenset({"-o", "--out", "--formatter"})  # their options that take a value


def main() -> None:
    spec = lone_spec(sys.argv[1:])
    if spec is not None:
        from . import readahead

        readahead.command([spec])
    from .cli import main as run

    run()


def lone_spec(args: list[str]) -> Path | None:
    """The one spec file a `build` or `check` names, as far as its words tell without the
    command line's parser (a wrong guess costs the other core only: the command takes the
    helper's document only when it read the same text)."""
    words = iter(args)
    command = next((word for word in words if not word.startswith("-")), None)
    if command not in _COMMANDS:
        return None
    found, skip = [], False
    for word in words:
        if skip or word in _VALUED:
            skip = not skip
            continue
        if not word.startswith("-"):
            found.append(word)
    return Path(found[0]) if len(found) == 1 else None
