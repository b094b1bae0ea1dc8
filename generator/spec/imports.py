"""Reading a document of any era: its era, its alpha2-shaped data, and what it imports.

`{from, import, as}` (alpha2: `{location, import, as}`, consumes only) is replaced by a copy of
the entry whose `namespace` is `import` in the file `from` names (relative to the importing
file), renamed to `as` (SEMANTICS §3.10; the ikanos engine does the same in `consumes`,
`exposes`, `aggregates` and `binds`). The copy keeps the locations of the file it came from, so
diagnostics point there. A source file is a leaf: what it imports is not followed.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ..diagnostics import Diagnostics
from ..loader import Document, Pointer, load_document
from .eras import Era, detect
from .keys import rest_names
from .normalise import Mapped, Walk
from .shape import SECTIONS

_SECTION = {
    "consumes": "consumes",
    "exposes": "exposes",
    "aggregate": "aggregates",
    "bind": "binds",
}


@dataclass
class Normalised:
    """A document in the alpha2 shape, with the era it was written in."""

    document: Document
    era: Era


def normalise_document(document: Document, era: Era, diagnostics: Diagnostics) -> Normalised:
    """The document in the alpha2 shape; imports replaced by what they import."""
    target = Mapped(document.locations.file, era)
    importer = _Importer(document, target, diagnostics)
    walk = Walk(document.locations, target, era, diagnostics, importer)
    data = walk.value(document.data, "root", (), ())
    walk.finish()
    for key in ("naftiko", "ikanos"):
        data.pop(key, None)
    _name_rest(data, target)
    return Normalised(Document(document.path, data, target, document.text), era)


def _name_rest(data: dict[str, Any], target: Mapped) -> None:
    """Unnamed REST resources and operations get the names `capgen migrate` keys them by."""
    cap = data.get("capability")
    base: Pointer = ("capability",) if isinstance(cap, dict) else ()
    exposes = (cap if isinstance(cap, dict) else data).get("exposes")
    for i, adapter in enumerate(exposes if isinstance(exposes, list) else []):
        if not isinstance(adapter, dict) or adapter.get("type") != "rest":
            continue
        resources = adapter.get("resources")
        if not isinstance(resources, list):
            continue
        where = (*base, "exposes", i, "resources")
        for index, name, operations in rest_names(resources):
            at = (*where, index)
            _name(resources[index], name, at, target)
            for op_index, op_name in operations:
                op = resources[index]["operations"][op_index]
                _name(op, op_name, (*at, "operations", op_index), target)


def _name(entry: dict[str, Any], name: str | None, at: Pointer, target: Mapped) -> None:
    if name is None:
        return
    entry["name"] = name
    found = target.nodes.get(at)
    if found is not None:
        target.nodes[(*at, "name")] = found


class _Importer:
    def __init__(self, document: Document, target: Mapped, diagnostics: Diagnostics) -> None:
        self.document = document
        self.target = target
        self.diagnostics = diagnostics

    def __call__(self, entry: dict[str, Any], kind: str, user: Pointer, norm: Pointer) -> Any:
        section = _SECTION[kind]
        span = self.document.locations.span(user)
        source = entry.get("from", entry.get("location"))
        wanted = entry.get("import")
        if not isinstance(source, str) or not isinstance(wanted, str):
            key = "from" if self.target.era.maps else "location"
            self.diagnostics.error("E012", f"an import needs `{key}` and `import` (text)", span)
            return entry
        loaded = self._load(source, section, span)
        if loaded is None:
            return entry
        found = _find(loaded.data, section)
        if found is None or not any(_namespace(e) == wanted for e in found[0]):
            leaf = found is not None and any(
                isinstance(e, dict) and "import" in e for e in found[0]
            )
            why = " (it imports in turn: a source file is a leaf, its imports are not followed)"
            message = f"namespace {wanted!r} not found in {source}{why if leaf else ''}"
            self.diagnostics.error("E025", message, span)
            return entry
        items, pointer = found
        if pointer[0] == "capability":
            self.diagnostics.warning(
                "W120",
                f"{source}: shared {section} read from `capability.{section}` "
                f"(expected a root `{section}`)",
                span,
            )
        index = next(i for i, e in enumerate(items) if _namespace(e) == wanted)
        return self._copy(loaded, items[index], kind, (*pointer, index), entry, user, norm)

    def _copy(
        self,
        loaded: Document,
        item: Any,
        kind: str,
        at: Pointer,
        entry: dict[str, Any],
        user: Pointer,
        norm: Pointer,
    ) -> Any:
        era = detect(loaded.data) if isinstance(loaded.data, dict) else None
        self.target.mounts[norm] = loaded.locations.file
        walk = Walk(loaded.locations, self.target, era or self.target.era, self.diagnostics)
        copied = walk.entry(item, kind, at, norm)
        walk.finish()
        alias = entry.get("as")
        if isinstance(copied, dict) and isinstance(alias, str) and alias:
            copied = {**copied, "namespace": alias}
            here = self.document.locations.nodes.get((*user, "as"))
            if here is not None:
                self.target.nodes[(*norm, "namespace")] = here
                self.target.mounts[(*norm, "namespace")] = self.target.file
        return copied

    def _load(self, source: str, section: str, span: Any) -> Document | None:
        location = source.removeprefix("file://")
        spec_path = self.document.path
        path = Path(location)
        target = path if path.is_absolute() else (spec_path.parent / location).resolve()
        shared = Diagnostics()
        loaded = load_document(target, shared, display_name=_display(target, spec_path))
        if loaded is None or not isinstance(loaded.data, dict):
            unread = [d.message for d in shared.items if d.code == "E001"]
            reason = f": {unread[0]}" if unread else ""
            key = "from" if self.target.era.maps else "location"
            self.diagnostics.error(
                "E024",
                f"cannot import {section} from {source!r}{reason}",
                span,
                f"check `{key}` (relative to the spec)",
            )
            self.diagnostics.extend(
                d for d in shared.items if d.severity == "error" and d.code != "E001"
            )
            return None
        return loaded


def _find(data: dict[str, Any], section: str) -> tuple[list[Any], Pointer] | None:
    """The section's entries in a source file: at the root, else under `capability`."""
    items = data.get(section)
    if isinstance(items, list):
        return items, (section,)
    capability = data.get("capability")
    if isinstance(capability, dict) and isinstance(capability.get(section), list):
        return capability[section], ("capability", section)
    return None


def _namespace(entry: Any) -> Any:
    return entry.get("namespace") if isinstance(entry, dict) else None


def _display(target: Path, spec_path: Path) -> str:
    try:
        return str(target.relative_to(spec_path.parent.resolve()))
    except ValueError:
        return target.name


__all__ = ["SECTIONS", "Normalised", "normalise_document"]
