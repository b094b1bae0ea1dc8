"""Names for REST resources and operations that a spec leaves unnamed.

alpha2 lets a REST resource or operation go without `name`; ikanos keys them by name. Both
the reader (any era) and `capgen migrate` name them here, the same way: a resource after its
path, an operation after its method and path (an operation with a `ref` after the flow it
refers to, as its tool would be), made unique among the names its siblings already have. So a
spec builds the same package before and after migration.
"""

from __future__ import annotations

import re
from collections.abc import MutableMapping
from typing import Any

_OTHER = re.compile(r"[^a-zA-Z0-9]+")


def slug(text: str) -> str:
    """`get /v1/items/{id}` -> `get-v1-items-id` (what an ikanos key may hold)."""
    return _OTHER.sub("-", text).strip("-")


def unique(key: str, taken: set[str]) -> str:
    found, n = key, 2
    while found in taken:
        found, n = f"{key}-{n}", n + 1
    taken.add(found)
    return found


def given_name(entry: Any) -> str | None:
    """The name an entry gives itself (`name`, or `id` as people write it)."""
    if not isinstance(entry, MutableMapping):
        return None
    for key in ("name", "id"):
        value = entry.get(key)
        if isinstance(value, str | int) and not isinstance(value, bool) and str(value).strip():
            return str(value)
    return None


def rest_names(resources: list[Any]) -> list[tuple[int, str | None, list[tuple[int, str]]]]:
    """For each REST resource with no name or an unnamed operation: (its index, the name it
    gets or None when it has one, [(operation index, the name it gets)]). Changes nothing."""
    taken = {name for r in resources if (name := given_name(r)) is not None}
    found = []
    for index, resource in enumerate(resources):
        if not isinstance(resource, MutableMapping):
            continue
        name = None
        if given_name(resource) is None:
            name = unique(slug(str(resource.get("path") or "")) or "root", taken)
        operations = resource.get("operations")
        ops = operations if isinstance(operations, list) else []
        op_taken = {n for o in ops if (n := given_name(o)) is not None}
        named = [
            (i, unique(_operation_key(resource, op), op_taken))
            for i, op in enumerate(ops)
            if isinstance(op, MutableMapping) and given_name(op) is None
        ]
        if named or name is not None:
            found.append((index, name, named))
    return found


def _operation_key(resource: MutableMapping[str, Any], op: MutableMapping[str, Any]) -> str:
    ref = op.get("ref")
    if isinstance(ref, str) and "." in ref and slug(ref.split(".")[-1]):
        return slug(ref.split(".")[-1])
    path = f"{resource.get('path') or ''}{op.get('path') or ''}"
    return slug(f"{str(op.get('method') or 'GET').lower()} {path}") or "operation"
