"""Mustache rendering with the Naftiko rules.

- `{{name}}` looks `name` up whole first, then as a dotted path (`{{step.field}}`).
- A missing or null value renders as an empty string; templates never fail.
- Lists and dicts render as compact JSON, booleans as `true`/`false`.
- Nothing is escaped. Sections (`{{#x}}…{{/x}}`, `{{^x}}…{{/x}}`) and comments work.
- When every scope is empty the template is returned unchanged, placeholders included.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from functools import lru_cache
from typing import Any

from ..jsontext import compact

_TAG = re.compile(
    r"\{\{\{\s*(?P<raw>.*?)\s*\}\}\}|\{\{\s*(?P<sigil>[#^/!&]?)\s*(?P<name>.*?)\s*\}\}", re.DOTALL
)
_MISSING = object()

Token = tuple[
    str, str, tuple["Token", ...]
]  # (kind, name, children); kind: text|var|section|inverted


def render(template: str, *scopes: Mapping[str, Any]) -> str:
    """Render `template` against `scopes`, the first scope winning."""
    if "{{" not in template:
        return template
    if not any(scopes):
        return template
    return _render_tokens(_compile(template), list(scopes))


def fixed(template: str, scope: Mapping[str, Any]) -> str | None:
    """`template` over `scope` when no later scope can change what it renders (variables
    only, each found in `scope`, whole or by the head of a dotted name): `render(template,
    scope, *later)` is then this text whatever `later` holds. None otherwise."""
    if "{{" not in template:
        return template
    if not scope:
        return None
    tokens = _compile(template)
    for kind, name, _ in tokens:
        if kind == "text":
            continue
        if kind != "var" or not (name in scope or ("." in name and name.split(".")[0] in scope)):
            return None
    return _render_tokens(tokens, [scope])


def placeholders(template: str) -> tuple[str, ...]:
    """Names of the variables and sections used by `template`, in order of appearance."""
    names: list[str] = []

    def walk(tokens: tuple[Token, ...]) -> None:
        for kind, name, children in tokens:
            if kind != "text" and name not in names:
                names.append(name)
            walk(children)

    walk(_compile(template))
    return tuple(names)


def to_text(value: Any) -> str:
    """How a value is spliced into a template."""
    if value is None:
        return ""
    if value is True:
        return "true"
    if value is False:
        return "false"
    if isinstance(value, (dict, list, tuple)):
        return compact(value)
    return str(value)


def lookup(name: str, scopes: Sequence[Mapping[str, Any]]) -> Any:
    """Resolve `name` whole, then as a dotted path, in the first scope that has it.

    A dotted name belongs to the first scope holding its head: `{{env.X}}` with a bind
    namespace `env` is that namespace's X or nothing, never a later scope's `env`.
    """
    for scope in scopes:
        if name in scope:
            return scope[name]
    if "." in name:
        head, *rest = name.split(".")
        for scope in scopes:
            if head in scope:
                value = scope[head]
                for part in rest:
                    value = _child(value, part)
                    if value is _MISSING:
                        return None
                return value
    return None


def _child(value: Any, part: str) -> Any:
    if isinstance(value, Mapping):
        return value.get(part, _MISSING)
    if isinstance(value, list) and part.isdigit() and int(part) < len(value):
        return value[int(part)]
    return _MISSING


@lru_cache(maxsize=4096)
def _compile(template: str) -> tuple[Token, ...]:
    root: list[Token] = []
    stack: list[tuple[str, str, list[Token]]] = []
    current = root
    position = 0
    for match in _TAG.finditer(template):
        if match.start() > position:
            current.append(("text", template[position : match.start()], ()))
        position = match.end()
        if match.group("raw") is not None:
            sigil, name = "&", match.group("raw")
        else:
            sigil, name = match.group("sigil"), match.group("name")
        if sigil == "!":
            continue
        if sigil in ("#", "^"):
            stack.append(("section" if sigil == "#" else "inverted", name, current))
            current = []
        elif sigil == "/" and stack and stack[-1][1] == name:
            kind, opened, parent = stack.pop()
            parent.append((kind, opened, tuple(current)))
            current = parent
        elif sigil == "/":  # stray closing tag: keep it as text
            current.append(("text", match.group(0), ()))
        else:
            current.append(("var", name, ()))
    if position < len(template):
        current.append(("text", template[position:], ()))
    while stack:  # unclosed sections render their content as plain text
        kind, name, parent = stack.pop()
        parent.append(("text", "{{" + ("#" if kind == "section" else "^") + name + "}}", ()))
        parent.extend(current)
        current = parent
    return tuple(current)


def _render_tokens(tokens: tuple[Token, ...], scopes: list[Mapping[str, Any]]) -> str:
    out: list[str] = []
    for kind, name, children in tokens:
        if kind == "text":
            out.append(name)
            continue
        value = lookup(name, scopes)
        if kind == "var":
            out.append(to_text(value))
        elif kind == "inverted":
            if not value:
                out.append(_render_tokens(children, scopes))
        elif value:
            items = value if isinstance(value, list) else [value]
            for item in items:
                frame = item if isinstance(item, Mapping) else {".": item}
                out.append(_render_tokens(children, [frame, *scopes]))
    return "".join(out)
