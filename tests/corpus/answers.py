"""From the spec text alone: the upstream answer a unit's outputs can map, the credentials its
callers present, and the variable that points a consumed namespace at the fake upstream.

Like reading.py, nothing here comes from capgen: the YAML is read as `yaml.safe_load` gives
it, with SEMANTICS §4 (output shapes), §6.7/§7.10 (inbound authentication), DEV-26 (`items`
written as named fields) and the README's rule for base-URL variables.
"""

from __future__ import annotations

import base64
import re
from typing import Any

from tests.corpus import reading

NOTHING: Any = object()
_SAMPLES = {"string": "sample-text", "integer": 7, "number": 1.5, "boolean": True}
_STEP = re.compile(
    r"\.([^.\[\]]+)|\[\s*'([^']*)'\s*\]|\[\s*\"([^\"]*)\"\s*\]|\[\s*(\d+)\s*\]|\[\s*\*\s*\]"
)


def base_url_env(namespace: str) -> str:
    """README: the namespace upper-cased, each character other than an ASCII letter or digit
    replaced by `_`, then `_BASE_URL`."""
    return re.sub(r"[^A-Za-z0-9]", "_", namespace).upper() + "_BASE_URL"


def credentials(auth: Any, binds: dict[str, Any], token: str) -> dict[str, str]:
    """The headers a caller presents: the adapter's declared authentication (bearer, apikey in
    a header, basic), else the package's own bearer `token` (README: kinds capgen cannot check
    fall back to it)."""
    scopes = [binds]
    if not isinstance(auth, dict):
        return {"Authorization": f"Bearer {token}"}
    kind = str(auth.get("type", "")).lower()

    def field(*names: str) -> str:
        value = next((auth[n] for n in names if auth.get(n) not in (None, "")), "")
        return reading.render(str(value), scopes)

    if kind == "bearer":
        return {"Authorization": "Bearer " + field("token", "value")}
    if kind in ("apikey", "api-key") and str(auth.get("placement") or "header").lower() == "header":
        return {field("key", "name") or "X-API-Key": field("value", "token")}
    if kind == "basic":
        pair = f"{field('username')}:{field('password')}".encode()
        return {"Authorization": "Basic " + base64.b64encode(pair).decode()}
    return {"Authorization": f"Bearer {token}"}


def shape(outputs: list[Any]) -> Any:
    """A JSON tree on which each output finds a value of its declared type (§4.2): NOTHING
    when none asks for anything."""
    tree = NOTHING
    for output in outputs:
        if isinstance(output, dict):
            tree = merge(tree, _tree(output))
    return tree


def _tree(output: dict[str, Any]) -> Any:
    value, mapping = output.get("value"), output.get("mapping")
    if output.get("name") and isinstance(value, str) and value.startswith("$") and mapping is None:
        value, mapping = None, value  # consumed-style `value: $.x` is a mapping (§4.1)
    if value is not None:
        return NOTHING  # a static value needs nothing from the upstream
    properties = _properties(output)
    if properties and str(output.get("type", "object")).lower() == "object":
        return shape(properties)
    return _at(mapping, _node(output))


def _properties(output: dict[str, Any]) -> list[Any]:
    found = output.get("properties")
    if isinstance(found, dict):
        return [{**p, "name": p.get("name") or k} for k, p in found.items() if isinstance(p, dict)]
    return list(found) if isinstance(found, list) else []


def _node(output: dict[str, Any]) -> Any:
    kind = str(output.get("type") or "string").lower()
    if kind == "array":
        return [_element(output.get("items"))]
    if kind == "object":
        values = output.get("values")
        return {"key": _element(values)} if isinstance(values, dict) else {}
    return _SAMPLES.get(kind, "sample-text")


def _element(items: Any) -> Any:
    """An array item (or an object's value) on which `items` maps, relative to it."""
    if isinstance(items, list):  # DEV-26: named fields are an object's properties
        named = all(isinstance(i, dict) and i.get("name") for i in items)
        items = {"type": "object", "properties": items} if named and items else (items or [None])[0]
    if not isinstance(items, dict):
        return "sample-text"
    if _properties(items) and str(items.get("type", "object")).lower() == "object":
        tree = shape(_properties(items))
        return {} if tree is NOTHING else tree
    return _tree(items) if items.get("mapping") else _node(items)


def _at(mapping: Any, node: Any) -> Any:
    """`node` placed where a JSONPath of names, indexes and `[*]` points: the whole body for
    `$` and `$.` (an array output's answer is an array); NOTHING for any other path."""
    if not isinstance(mapping, str) or node is NOTHING:
        return NOTHING
    text = mapping.strip()
    text = text[1:] if text.startswith("$") else "." + text
    if text in ("", "."):
        return node
    steps: list[Any] = []
    position = 0
    for match in _STEP.finditer(text):
        if match.start() != position:
            return NOTHING
        position = match.end()
        name = match.group(1) or match.group(2) or match.group(3)
        steps.append(
            name.strip() if name is not None else int(match.group(4)) if match.group(4) else None
        )
    if position != len(text):
        return NOTHING
    for step in reversed(steps):
        node = (
            [node] * (step + 1)
            if isinstance(step, int)
            else [node] if step is None else {step: node}
        )
    return node


def merge(first: Any, second: Any) -> Any:
    """Both trees together; where both hold a value that is not a container, the first wins."""
    if first is NOTHING:
        return second
    if second is NOTHING:
        return first
    if isinstance(first, dict) and isinstance(second, dict):
        merged = dict(first)
        for key, value in second.items():
            merged[key] = merge(merged[key], value) if key in merged else value
        return merged
    if isinstance(first, list) and isinstance(second, list):
        longer = first if len(first) >= len(second) else second
        return [
            merge(first[i], second[i]) if i < min(len(first), len(second)) else longer[i]
            for i in range(len(longer))
        ]
    return first
