"""A small JSONPath evaluator with Jayway's conventions.

`$` and `$.` are the root; a missing path, an empty or null expression, or any evaluation
error give None; a definite path (names and indexes only) gives one value, an indefinite
one (`*`, `..`, slices, unions, filters) a list. Dotted names may contain spaces
(`$.user details.email`). The functions length(), size(), min(), max(), sum(), avg() and
keys() may end a path.
"""

from __future__ import annotations

import operator
import re
from collections.abc import Callable
from functools import lru_cache
from typing import Any

Selector = Callable[[Any], list[Any]]

_FUNCTIONS: dict[str, Callable[[Any], Any]] = {
    "length": lambda v: len(v) if isinstance(v, (list, dict, str)) else None,
    "size": lambda v: len(v) if isinstance(v, (list, dict, str)) else None,
    "min": lambda v: min(v) if isinstance(v, list) and v else None,
    "max": lambda v: max(v) if isinstance(v, list) and v else None,
    "sum": lambda v: sum(v) if isinstance(v, list) else None,
    "avg": lambda v: sum(v) / len(v) if isinstance(v, list) and v else None,
    "keys": lambda v: list(v) if isinstance(v, dict) else None,
}
_COMPARE: dict[str, Callable[[Any, Any], bool]] = {
    "==": operator.eq,
    "!=": operator.ne,
    "<": operator.lt,
    "<=": operator.le,
    ">": operator.gt,
    ">=": operator.ge,
    "=~": lambda a, b: isinstance(a, str) and re.search(b, a) is not None,
}
_FILTER_TERM = re.compile(
    r"^\s*@((?:\.[\w-]+|\[['\"][^'\"]+['\"]\])*)\s*(?:(==|!=|<=|>=|<|>|=~)\s*(.+?))?\s*$"
)


class JsonPathError(ValueError):
    pass


def query(root: Any, path: str | None) -> Any:
    """Evaluate `path` against `root`."""
    if path is None:
        return None
    path = path.strip()
    if not path:
        return None
    try:
        selectors, definite, function = _compile(path)
        nodes = [root]
        for select in selectors:
            nodes = [found for node in nodes for found in select(node)]
    except (JsonPathError, TypeError, ValueError, re.error):
        return None
    value = (nodes[0] if nodes else None) if definite else nodes
    if function is not None:
        return _FUNCTIONS[function](value)
    return value


def is_definite(path: str) -> bool:
    try:
        return _compile(path.strip())[1]
    except JsonPathError:
        return False


def steps(path: str | None) -> tuple[str | int | None, ...] | None:
    """The steps of a path made of names, indexes and wildcards (None), from the root; None
    for any other path (descendants, filters, unions, slices, functions)."""
    text = (path or "$").strip()
    text = text[1:] if text.startswith("$") else "." + text
    found: list[str | int | None] = []
    i = 0
    try:
        while i < len(text):
            if text.startswith("..", i):
                return None
            if text[i] == ".":
                name, i = _name(text, i + 1)
                if name.endswith("()"):
                    return None
                if name:
                    found.append(None if name == "*" else name)
                continue
            if text[i] != "[":
                return None
            inner, i = _bracket(text, i)
            inner = inner.strip()
            if inner == "*":
                found.append(None)
            elif inner[:1] in "'\"" and len(inner) >= 2 and inner[-1] == inner[0]:
                found.append(inner[1:-1])
            elif inner.isdigit():
                found.append(int(inner))
            else:
                return None
    except JsonPathError:
        return None
    return tuple(found)


@lru_cache(maxsize=4096)
def _compile(path: str) -> tuple[tuple[Selector, ...], bool, str | None]:
    if not path.startswith("$"):
        path = "$." + path
    text = path[1:]
    selectors: list[Selector] = []
    definite = True
    function: str | None = None
    i = 0
    while i < len(text):
        if text.startswith("..", i):
            i += 2
            if i < len(text) and text[i] == "[":
                inner, i = _bracket(text, i)
                selectors.append(_descend(_bracket_selector(inner)[0]))
            else:
                name, i = _name(text, i)
                selectors.append(_descend(_name_selector(name)))
            definite = False
        elif text[i] == ".":
            name, i = _name(text, i + 1)
            if name.endswith("()") and name[:-2] in _FUNCTIONS and i >= len(text):
                function = name[:-2]
            elif name:
                selectors.append(_name_selector(name))
                definite = definite and name != "*"
        elif text[i] == "[":
            inner, i = _bracket(text, i)
            select, single = _bracket_selector(inner)
            selectors.append(select)
            definite = definite and single
        else:
            raise JsonPathError(f"unexpected {text[i]!r} in {path!r}")
    return tuple(selectors), definite, function


def _name(text: str, i: int) -> tuple[str, int]:
    end = i
    while end < len(text) and text[end] not in ".[":
        end += 1
    name = text[i:end].strip()
    if name.endswith("(") and end < len(text):  # not expected; let the caller fail
        raise JsonPathError("bad function call")
    return name, end


def _bracket(text: str, i: int) -> tuple[str, int]:
    depth, quote, j = 0, "", i
    while j < len(text):
        ch = text[j]
        if quote:
            quote = "" if ch == quote else quote
        elif ch in "'\"":
            quote = ch
        elif ch == "[":
            depth += 1
        elif ch == "]":
            depth -= 1
            if depth == 0:
                return text[i + 1 : j], j + 1
        j += 1
    raise JsonPathError("unclosed [")


def _name_selector(name: str) -> Selector:
    if name == "*":
        return _wildcard

    def select(node: Any) -> list[Any]:
        if isinstance(node, dict) and name in node:
            return [node[name]]
        return []

    return select


def _wildcard(node: Any) -> list[Any]:
    if isinstance(node, dict):
        return list(node.values())
    if isinstance(node, list):
        return list(node)
    return []


def _bracket_selector(inner: str) -> tuple[Selector, bool]:
    inner = inner.strip()
    if inner == "*":
        return _wildcard, False
    if inner.startswith("?"):
        return _filter(inner[1:].strip()), False
    parts = _split_union(inner)
    if len(parts) > 1:
        selectors = [_bracket_selector(p)[0] for p in parts]
        return (lambda node: [v for s in selectors for v in s(node)]), False
    if inner[:1] in "'\"":
        return _name_selector(inner[1:-1]), True
    if ":" in inner:
        return _slice(inner), False
    index = int(inner)

    def select(node: Any) -> list[Any]:
        if isinstance(node, list) and -len(node) <= index < len(node):
            return [node[index]]
        return []

    return select, True


def _split_union(inner: str) -> list[str]:
    parts, quote, start = [], "", 0
    for j, ch in enumerate(inner):
        if quote:
            quote = "" if ch == quote else quote
        elif ch in "'\"":
            quote = ch
        elif ch == ",":
            parts.append(inner[start:j].strip())
            start = j + 1
    parts.append(inner[start:].strip())
    return parts


def _slice(inner: str) -> Selector:
    bounds = [int(p) if p.strip() else None for p in inner.split(":")]
    window = slice(*bounds[:3])

    def select(node: Any) -> list[Any]:
        return list(node[window]) if isinstance(node, list) else []

    return select


def _descend(select: Selector) -> Selector:
    def walk(node: Any) -> list[Any]:
        found = list(select(node))
        children = (
            node.values() if isinstance(node, dict) else node if isinstance(node, list) else ()
        )
        for child in children:
            found.extend(walk(child))
        return found

    return walk


def _filter(expression: str) -> Selector:
    if expression.startswith("(") and expression.endswith(")"):
        expression = expression[1:-1]
    alternatives = [
        [_filter_term(term) for term in re.split(r"\s*&&\s*", part)]
        for part in re.split(r"\s*\|\|\s*", expression)
    ]

    def select(node: Any) -> list[Any]:
        items = (
            node
            if isinstance(node, list)
            else list(node.values()) if isinstance(node, dict) else []
        )
        return [
            item for item in items if any(all(t(item) for t in terms) for terms in alternatives)
        ]

    return select


def _filter_term(term: str) -> Callable[[Any], bool]:
    match = _FILTER_TERM.match(term)
    if not match:
        raise JsonPathError(f"unsupported filter {term!r}")
    path, op, literal = match.groups()
    inner = "$" + (path or "")

    if op is None:
        return lambda item: query(item, inner) is not None
    expected = _literal(literal)
    compare = _COMPARE[op]

    def test(item: Any) -> bool:
        actual = query(item, inner)
        try:
            return actual is not None and bool(compare(actual, expected))
        except TypeError:
            return False

    return test


def _literal(text: str) -> Any:
    text = text.strip()
    if text[:1] in "'\"" and text[-1:] == text[:1]:
        return text[1:-1]
    if text.startswith("/") and text.rstrip("i").endswith("/"):
        return text.strip("/i")
    lowered = {"true": True, "false": False, "null": None}
    if text in lowered:
        return lowered[text]
    try:
        return int(text)
    except ValueError:
        return float(text)
