"""Round-trip YAML for `capgen migrate` (ruamel.yaml): comments, key order, quoting and the
document's own indentation and line width are kept; only what the migration changes moves.

ruamel.yaml is used here alone: the reader of specs stays PyYAML's C loader (ten times faster),
and only a tool that rewrites a user's file needs a parser that keeps what PyYAML drops.
"""

from __future__ import annotations

import io
import re
from itertools import pairwise
from typing import Any

import yaml
from ruamel.yaml import YAML
from ruamel.yaml.error import YAMLError

_KEY_LINE = re.compile(r"^( *)([^\s#-][^:#]*):\s*(#.*)?$")  # `key:` with its value below
_ITEM = re.compile(r"^( *)- ")
_ANY = re.compile(r"^( *)\S")


_LOADER: type[yaml.SafeLoader] = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


class Unreadable(Exception):
    """The text is not YAML ruamel.yaml can read back (the spec reader reports why)."""


def style(text: str) -> dict[str, int]:
    """The indentation the document uses: mapping indent, sequence indent and dash offset."""
    lines = [
        line for line in text.splitlines() if line.strip() and not line.lstrip().startswith("#")
    ]
    mapping, offset = 0, None
    for here, below in pairwise(lines):
        key = _KEY_LINE.match(here)
        if key is None:
            continue
        depth = len(key.group(1))
        item = _ITEM.match(below)
        found = _ANY.match(below)
        if item is not None and offset is None and len(item.group(1)) >= depth:
            offset = len(item.group(1)) - depth
        elif item is None and found is not None and not mapping and len(found.group(1)) > depth:
            mapping = len(found.group(1)) - depth
    mapping = mapping or 2
    offset = offset if offset is not None else 0
    return {"mapping": mapping, "sequence": max(offset + 2, mapping), "offset": offset}


def width(text: str) -> int:
    """About the width the document was folded at: its longest line a scalar continues below
    (ruamel.yaml and PyYAML fold a little differently; the lines stay about as long)."""
    lines = text.splitlines()
    folded = [
        len(line.rstrip())
        for line, below in pairwise(lines)
        if below.strip()
        and not below.lstrip().startswith(("-", "#"))
        and ":" not in below.split("#")[0]
        and _indent(below) > _indent(line)
        and " " in line.strip()
    ]
    return max([80, *folded])


def _indent(line: str) -> int:
    return len(line) - len(line.lstrip(" "))


def loader() -> YAML:
    handler = YAML()
    handler.preserve_quotes = True
    return handler


def load(text: str) -> Any:
    try:
        return loader().load(text)
    except YAMLError as exc:
        raise Unreadable(str(exc)) from exc


def dump(data: Any, like: str) -> str:
    """`data` written in the style of the text `like`."""
    handler = loader()
    handler.width = width(like)
    handler.indent(**style(like))
    out = io.StringIO()
    handler.dump(data, out)
    written = out.getvalue()
    stripped = "\n".join(line.rstrip(" ") for line in written.split("\n"))
    if stripped != written and _same(stripped, written):  # ruamel leaves spaces at fold points
        written = stripped
    return written


def _same(one: str, other: str) -> bool:
    try:
        return bool(yaml.load(one, Loader=_LOADER) == yaml.load(other, Loader=_LOADER))
    except yaml.YAMLError:
        return False
