"""The Starlette paths of a REST adapter's routes, in the order they are tried: variables
renamed to identifiers, a trailing variable taking slashes unless another route continues past
it, catch-all routes last."""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from ..diagnostics import Span
from ..ir import model as ir
from . import naming

_VARIABLE = re.compile(r"\{([^{}]+)\}")


@dataclass
class Draft:
    """A REST operation read from the spec, before its route path is settled."""

    const: str
    name: str
    method: str
    path: str
    variables: list[str]
    endpoint: ir.Endpoint
    summary: str | None
    description: str | None
    span: Span
    tags: tuple[str, ...]
    responses: tuple[ir.Response, ...] = ()
    described: tuple[tuple[str, str], ...] = ()  # path variables' descriptions (ir.Route)


def routes_of(drafts: list[Draft]) -> tuple[ir.Route, ...]:
    """Starlette paths: variables renamed to identifiers; a trailing variable takes slashes
    (`{x:path}`) unless another route continues past it; catch-all routes go last."""
    continued = _continued({tuple(_segments(d.path)) for d in drafts})
    built: list[tuple[bool, int, ir.Route]] = []
    for draft in drafts:
        segments = _segments(draft.path)
        catch_all = bool(segments) and segments[-1] is None and tuple(segments) not in continued
        route, variables = _route_path(draft.path, draft.variables, catch_all)
        built.append(
            (
                catch_all or "path" in draft.variables,
                -len(segments),
                ir.Route(
                    const=draft.const,
                    name=draft.name,
                    method=draft.method,
                    path=draft.path,
                    route=route,
                    variables=variables,
                    endpoint=draft.endpoint,
                    summary=draft.summary,
                    description=draft.description,
                    tags=draft.tags,
                    responses=draft.responses,
                    described=draft.described,
                    span=draft.span,
                ),
            )
        )
    # Literal segments before variables at the same position (`/a/_history` before `/a/{id}`);
    # catch-all routes last, longest first. The sort is stable: spec order breaks ties.
    ordered = sorted(built, key=lambda b: (b[0], b[1] if b[0] else 0, _specificity(b[2].path)))
    return tuple(route for _, _, route in ordered)


def _specificity(path: str) -> tuple[int, ...]:
    return tuple(1 if segment is None else 0 for segment in _segments(path))


def _segments(path: str) -> list[str | None]:
    return [None if s.startswith("{") else s for s in path.strip("/").split("/")]


def _continued(shapes: set[tuple[str | None, ...]]) -> set[tuple[str | None, ...]]:
    """The shapes ending in a variable that some longer shape continues past (a variable
    matches any segment on either side). The shapes are read into a trie, so a large API
    follows each path through its neighbours only."""
    trie: dict[str | None, Any] = {}
    for shape in shapes:
        node = trie
        for segment in shape:
            node = node.setdefault(segment, {})
    return {p for p in shapes if p and p[-1] is None and _continues(p, trie)}


def _continues(prefix: tuple[str | None, ...], trie: dict[str | None, Any]) -> bool:
    """Whether a shape of `trie` matches `prefix` and goes on past it."""
    level = [trie]
    for segment in prefix:
        if segment is None:
            level = [child for node in level for child in node.values()]
        else:
            level = [node[key] for node in level for key in (segment, None) if key in node]
        if not level:
            return False
    return any(level)


def _route_path(
    path: str, variables: list[str], catch_all: bool
) -> tuple[str, tuple[tuple[str, str], ...]]:
    """Each occurrence gets its own identifier (a name may repeat: `/a/{id}/b/{id}`)."""
    occurrences = list(_VARIABLE.finditer(path))
    identifiers = naming.unique(
        [naming.identifier(m.group(1), "var").rstrip("_") or "var" for m in occurrences]
    )
    parts, position = [], 0
    for index, (match, ident) in enumerate(zip(occurrences, identifiers, strict=True)):
        name = match.group(1)
        last = index == len(occurrences) - 1 and match.end() == len(path)
        greedy = name == "path" or (catch_all and last)
        parts.append(
            path[position : match.start()] + "{" + ident + (":path" if greedy else "") + "}"
        )
        position = match.end()
    route = "".join(parts) + path[position:]
    return route, tuple(
        (ident, m.group(1)) for ident, m in zip(identifiers, occurrences, strict=True)
    )
