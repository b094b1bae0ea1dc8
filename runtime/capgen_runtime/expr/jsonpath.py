"""JSONPath as Jayway JsonPath (the reference engine's library) answers it.

`$` and `$.` are the root (so is the start of a path without `$`). A definite path (names,
indexes) gives a value, an indefinite one (`..`, `*`, filters, slices, several indexes) a list,
a union of names ending a path a map of those found. A definite step that finds nothing, a
syntax Jayway refuses or an error give None; after an indefinite step what is missing is
skipped. Dotted names may hold spaces (SEMANTICS §4.4). min(), max(), avg(), stddev(), sum(),
length(), size() and keys() may end a path; filters: jsonpath_filter.py. Each path is compiled
once; a path of names only (`$.a.b`) is a chain of dict lookups.
"""

from __future__ import annotations

import re
import statistics
from collections.abc import Callable, Iterator
from functools import lru_cache
from typing import Any

from .jsonpath_filter import FilterError, Predicate, closing, outside_quotes, parse_filter

# A step: (node, root, strict, require) -> the nodes it selects. `strict`: every step before
# was definite, so a node without what the step needs ends the query with no value;
# `require`: a filter's existence test, where every name must be there.
Select = Callable[[Any, Any, bool, bool], list[Any]]


class JsonPathError(ValueError):
    """A path Jayway refuses to compile."""


class Missing(LookupError):
    """A definite step found nothing (Jayway's PathNotFoundException)."""


_AGGREGATES: dict[str, Callable[[list[float]], float]] = {
    "sum": sum,
    "min": min,
    "max": max,
    "avg": statistics.fmean,
    "stddev": statistics.pstdev,
}
_FUNCTIONS = frozenset(("length", "size", "keys", *_AGGREGATES))


def _apply(function: str, value: Any) -> Any:
    """A function ending a path, on what the path gives (Jayway answers a Double)."""
    if function in ("length", "size"):
        return len(value) if isinstance(value, (list, dict, str)) else None
    if function == "keys":
        return list(value) if isinstance(value, dict) else None
    if not isinstance(value, list) or not value:
        return None
    if not all(isinstance(v, (int, float)) and not isinstance(v, bool) for v in value):
        return None
    return _AGGREGATES[function]([float(v) for v in value])


class Path:
    """A compiled path: its steps (each with whether it is definite, and the key of a name
    step), or the names of a path made of names only, and the function that ends it."""

    __slots__ = ("definite", "function", "keys", "steps")

    def __init__(
        self,
        steps: tuple[tuple[Select, bool, str | None], ...],
        function: str | None,
        keys: tuple[str, ...] | None,
    ) -> None:
        self.steps = steps
        self.function = function
        self.keys = keys
        self.definite = all(single for _, single, _ in steps)

    def evaluate(self, root: Any, require: bool = False) -> Any:
        """The answer, or raises Missing where a definite step finds nothing."""
        if self.keys is not None:
            node = root
            for name in self.keys:
                if type(node) is not dict or name not in node:
                    raise Missing(name)
                node = node[name]
            value = node
        else:
            nodes, strict = [root], True
            for select, single, key in self.steps:
                if len(nodes) == 1:
                    nodes = select(nodes[0], root, strict, require)
                elif key is not None and not require:  # a name after an indefinite step
                    nodes = [n[key] for n in nodes if type(n) is dict and key in n]
                else:
                    nodes = [found for n in nodes for found in select(n, root, strict, require)]
                strict = strict and single
            if self.definite:
                if not nodes:
                    raise Missing()
                value = nodes[0]
            else:
                value = nodes
        return value if self.function is None else _apply(self.function, value)


def query(root: Any, path: str | None) -> Any:
    """Evaluate `path` against `root`: the value, a list for an indefinite path, or None."""
    if path is None:
        return None
    text = path.strip()
    if text in ("$", "$."):
        return root
    if not text:
        return None
    try:
        return compile_path(text).evaluate(root)
    except (JsonPathError, Missing, TypeError, ValueError, re.error, RecursionError):
        return None


@lru_cache(maxsize=4096)
def compile_path(text: str) -> Path:
    """`$...` (or a path without `$`, read from the root); `@...` compiles the same way."""
    if text[:1] in "$@":
        text = text[1:]
    elif not text.startswith((".", "[")):
        text = "." + text
    if text == ".":
        text = ""
    tokens = list(_tokens(text))
    function = tokens.pop()[1] if tokens and tokens[-1][0] == "function" else None
    steps: list[tuple[Select, bool, str | None]] = []
    for place, (kind, value) in enumerate(tokens, 1):
        if kind == "scan":
            steps.append((_scan(value), False, None))
        elif kind == "name" and value == "*":
            steps.append((_wildcard, False, None))
        elif kind == "name":
            steps.append((_name(value), True, value))
        else:  # a bracket's content; a union of names that ends the path is a map
            select, single = _bracket(value, leaf=place == len(tokens) and function is None)
            steps.append((select, single, None))
    keys = _plain_keys(text) if function is None else None
    return Path(tuple(steps), function, keys)


def _plain_keys(text: str) -> tuple[str, ...] | None:
    """The names of a path made of `.name` steps only, the case most specs write."""
    if not text or "[" in text or ".." in text:
        return None
    keys = tuple(part.strip() for part in text[1:].split("."))
    if any(not k or k == "*" or k[0] in "'\"" for k in keys):
        return None
    return keys


def _tokens(text: str) -> Iterator[tuple[str, str]]:
    """(kind, value): name, bracket (its content), scan (what follows `..`), function."""
    i = 0
    while i < len(text):
        if text.startswith("..", i):
            i += 2
            if i >= len(text) or text[i] == ".":
                raise JsonPathError("`..` must be followed by a name, `*` or `[`")
            if text[i] == "[":
                inner, i = bracket(text, i)
                yield "scan", "[" + inner + "]"
            else:
                name, i = _dotted(text, i)
                yield "scan", name
        elif text[i] == ".":
            if text.startswith(".[", i):
                i += 1
                continue
            name, i = _dotted(text, i + 1)
            if name.endswith("()") and i >= len(text) and name[:-2] in _FUNCTIONS:
                yield "function", name[:-2]
            else:
                yield "name", name
        elif text[i] == "[":
            inner, i = bracket(text, i)
            yield "bracket", inner
        else:
            raise JsonPathError(f"unexpected {text[i]!r}")


def _dotted(text: str, i: int) -> tuple[str, int]:
    end = i
    while end < len(text) and text[end] not in ".[":
        end += 1
    name = text[i:end].strip()
    if not name or name[0] in "'\"" or ("(" in name and not name.endswith("()")):
        raise JsonPathError(f"bad name {name!r}")
    return name, end


def bracket(text: str, i: int) -> tuple[str, int]:
    """The content of the bracket opening at `i` (quotes and nested brackets kept), and the
    position after it."""
    try:
        end = closing(text, i)
    except FilterError:
        raise JsonPathError("unclosed [") from None
    return text[i + 1 : end], end + 1


def split_top(text: str, separator: str = ",") -> list[str]:
    """`text` split at `separator`s outside quotes, brackets and parentheses."""
    parts, depth, start = [], 0, 0
    for j, ch in outside_quotes(text):
        if ch in "[({":
            depth += 1
        elif ch in "])}":
            depth -= 1
        elif ch == separator and depth == 0:
            parts.append(text[start:j].strip())
            start = j + 1
    parts.append(text[start:].strip())
    return parts


def unquote(text: str) -> str | None:
    """The text of a quoted name (`'a\\'b'` → `a'b`), None when it is not one."""
    if len(text) < 2 or text[0] not in "'\"" or text[-1] != text[0]:
        return None
    body = text[1:-1]
    if re.search(r"(?<!\\)(?:\\\\)*" + re.escape(text[0]), body):
        raise JsonPathError(f"unescaped quote in {text!r}")
    return re.sub(r"\\(.)", r"\1", body)


_INDEX = re.compile(r"^-?\d+$")


def _bracket(inner: str, leaf: bool) -> tuple[Select, bool]:
    inner = inner.strip()
    if inner == "*":
        return _wildcard, False
    if inner.startswith("?"):
        return _filter(parse_filter(inner[1:].strip(), compile_path)), False
    parts = split_top(inner)
    names = [unquote(p) for p in parts]
    if all(n is not None for n in names):
        keys = tuple(n for n in names if n is not None)
        if len(keys) == 1:
            return _name(keys[0]), True
        return _names(keys, leaf), leaf  # a map at the end; elsewhere each name goes on
    if all(_INDEX.match(p) for p in parts):
        indexes = tuple(int(p) for p in parts)
        return (_index(indexes[0]), True) if len(indexes) == 1 else (_indexes(indexes), False)
    if len(parts) == 1 and ":" in inner:
        return _slice(inner), False
    raise JsonPathError(f"unsupported bracket [{inner}]")


def _name(key: str) -> Select:
    def name(node: Any, root: Any, strict: bool, require: bool) -> list[Any]:
        if isinstance(node, dict) and key in node:
            return [node[key]]
        if strict or (require and isinstance(node, dict)):
            raise Missing(key)
        return []

    return name


def _names(keys: tuple[str, ...], leaf: bool) -> Select:
    def names(node: Any, root: Any, strict: bool, require: bool) -> list[Any]:
        if not isinstance(node, dict):
            if strict:
                raise Missing(keys[0])
            return []
        if leaf:
            return [{k: node[k] for k in keys if k in node}]
        return [node[k] for k in keys if k in node]

    return names


def _index(index: int) -> Select:
    def select(node: Any, root: Any, strict: bool, require: bool) -> list[Any]:
        if isinstance(node, list) and -len(node) <= index < len(node):
            return [node[index]]
        if strict:
            raise Missing(str(index))
        return []

    return select


def _indexes(indexes: tuple[int, ...]) -> Select:
    def select(node: Any, root: Any, strict: bool, require: bool) -> list[Any]:
        if not isinstance(node, list):
            if strict:
                raise Missing(str(indexes[0]))
            return []
        return [node[i] for i in indexes if -len(node) <= i < len(node)]

    return select


def _slice(inner: str) -> Select:
    """`[start:end]`; Jayway reads no step (`[0:3:2]` is `[0:3]`) and refuses `[:]`."""
    bounds = [p.strip() for p in inner.split(":")]
    if len(bounds) > 3 or not (bounds[0] or bounds[1]):
        raise JsonPathError(f"unsupported slice [{inner}]")
    if not all(not b or _INDEX.match(b) for b in bounds):
        raise JsonPathError(f"unsupported slice [{inner}]")
    window = slice(int(bounds[0]) if bounds[0] else None, int(bounds[1]) if bounds[1] else None)

    def select(node: Any, root: Any, strict: bool, require: bool) -> list[Any]:
        if isinstance(node, list):
            return node[window]
        if strict:
            raise Missing(inner)
        return []

    return select


def _wildcard(node: Any, root: Any, strict: bool, require: bool) -> list[Any]:
    if isinstance(node, dict):
        return list(node.values())
    if isinstance(node, list):
        return list(node)
    return []


def _filter(predicate: Predicate) -> Select:
    """An array's items that match; an object is itself tested (Jayway)."""

    def select(node: Any, root: Any, strict: bool, require: bool) -> list[Any]:
        if isinstance(node, list):
            return [item for item in node if predicate(item, root)]
        if isinstance(node, dict) and predicate(node, root):
            return [node]
        return []

    return select


def _containers(node: Any) -> Iterator[Any]:
    """`node` and every object and array under it, parents first."""
    stack = [node]
    while stack:
        current = stack.pop()
        if isinstance(current, (dict, list)):
            yield current
            children = current.values() if isinstance(current, dict) else current
            stack.extend(reversed([c for c in children if isinstance(c, (dict, list))]))


def _scan(what: str) -> Select:
    """`..name`, `..*`, `..[...]`: the step applied at every level below and at the node."""
    if what == "*":

        def every(node: Any, root: Any, strict: bool, require: bool) -> list[Any]:
            return [child for c in _containers(node) for child in _wildcard(c, root, False, False)]

        return every
    if what.startswith("[?"):
        predicate = parse_filter(what[2:-1].strip(), compile_path)

        def matching(node: Any, root: Any, strict: bool, require: bool) -> list[Any]:
            found = []
            for c in _containers(node):  # each container is tested, then an array's items
                if predicate(c, root):
                    found.extend(
                        [i for i in c if predicate(i, root)] if isinstance(c, list) else [c]
                    )
            return found

        return matching
    inner, _ = _bracket(what[1:-1], leaf=False) if what.startswith("[") else (_name(what), True)

    def scan(node: Any, root: Any, strict: bool, require: bool) -> list[Any]:
        return [found for c in _containers(node) for found in inner(c, root, False, False)]

    return scan


def steps(path: str | None) -> tuple[str | int | None, ...] | None:
    """The steps of a path made of names, indexes and wildcards (None), from the root; None
    for any other path (descendants, filters, unions, slices, functions)."""
    text = (path or "$").strip()
    text = text[1:] if text.startswith("$") else "." + text
    found: list[str | int | None] = []
    try:
        for kind, value in _tokens("" if text == "." else text):
            if kind == "name":
                found.append(None if value == "*" else value)
            elif kind == "bracket" and value.strip() == "*":
                found.append(None)
            elif kind == "bracket" and unquote(value.strip()) is not None:
                found.append(unquote(value.strip()))
            elif kind == "bracket" and value.strip().isdigit():
                found.append(int(value))
            else:
                return None
    except JsonPathError:
        return None
    return tuple(found)
