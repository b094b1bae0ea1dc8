"""Any era into the alpha2 shape the parser reads, remembering where each node was written.

An `ikanos` document's maps keyed by name become lists of entries with `name`, `display`
becomes `label`, `flows` `functions`, `target` `targetName`, an import's `from` `location`;
imports of any section are replaced by the entry they name (`imports.py`). Every node of the
result keeps the (line, column) and the path of the node the user wrote (`Mapped`), so
diagnostics point into that document, in the words of its era. Either era's spelling is read
in the other with a warning (W141, W142); a field newer than the document's version too (W140).
"""

from __future__ import annotations

import marshal
from collections.abc import Callable
from typing import Any

from ..diagnostics import Diagnostics, Span
from ..loader import Locations, Pointer
from ..loader import describe as describe_pointer
from .eras import FEATURES, Era
from .shape import FEATURE_KEYS, RENAMES, SHAPE, Child, entry_kind, single_output

# (entry, section kind, user pointer, normalised pointer) -> the entry an import brings
Importer = Callable[[dict[str, Any], str, Pointer, Pointer], Any]
_BACK = {kind: {new: old for old, new in renames.items()} for kind, renames in RENAMES.items()}


class Mapped(Locations):
    """The locations of a normalised document: each node's place in the file the user wrote,
    or in the file an import brought it from (`mounts`), and its path there (`origin`)."""

    def __init__(self, file: str, era: Era) -> None:
        super().__init__(file)
        self.era = era
        self.origin: dict[Pointer, Pointer] = {}
        self.mounts: dict[Pointer, str] = {}  # subtrees from another file (longest prefix wins)
        self.kinds: dict[Pointer, str] = {}  # nodes of a kind whose keys an era renames

    def _file(self, pointer: Pointer) -> str:
        if not self.mounts:
            return self.file
        best: Pointer | None = None
        for prefix in self.mounts:
            if pointer[: len(prefix)] == prefix and (best is None or len(prefix) > len(best)):
                best = prefix
        return self.file if best is None else self.mounts[best]

    def span(self, pointer: Pointer) -> Span:
        for end in range(len(pointer), -1, -1):
            found = self.nodes.get(pointer[:end])
            if found is not None:
                return Span(self._file(pointer[:end]), *found)
        return Span(self.file, 1, 1)

    def key_span(self, pointer: Pointer) -> Span:
        found = self.nodes.get((*pointer, "<key>"))
        return Span(self._file(pointer), *found) if found else self.span(pointer)

    def describe(self, pointer: Pointer) -> str:
        for end in range(len(pointer), -1, -1):
            origin = self.origin.get(pointer[:end])
            if origin is not None:
                rest = tuple(
                    self.term(p, pointer[: end + i]) if isinstance(p, str) else p
                    for i, p in enumerate(pointer[end:])
                )
                return describe_pointer((*origin, *rest))
        return describe_pointer(pointer)

    def term(self, key: str, owner: Pointer) -> str:
        kind = self.kinds.get(owner)
        return RENAMES.get(kind, {}).get(key, key) if kind and self.era.maps else key


class Walk:
    """Copies one document (or one imported entry) into the alpha2 shape, node by node."""

    def __init__(
        self,
        source: Locations,
        target: Mapped,
        era: Era,
        diagnostics: Diagnostics,
        importer: Importer | None = None,
    ) -> None:
        self.source = source
        self.target = target
        self.era = era
        self.diagnostics = diagnostics
        self.importer = importer
        self._get = source.nodes.get
        self._nodes, self._origin = target.nodes, target.origin
        self._same = source.file == target.file  # every node so far kept its pointer
        self._kept: list[Pointer] = []  # the nodes met while `_same`, placed only if it ends
        self._plain_trees: list[tuple[Any, Pointer, Pointer]] = []

    def value(self, value: Any, kind: str | None, user: Pointer, norm: Pointer) -> Any:
        if kind is None:
            return self._plain(value, user, norm)
        self.place(user, norm)
        if isinstance(value, dict):
            return self._mapping(value, kind, user, norm)
        if isinstance(value, list):
            return [self._plain(v, (*user, i), (*norm, i)) for i, v in enumerate(value)]
        return value

    def _plain(self, value: Any, user: Pointer, norm: Pointer) -> Any:
        """A node of no kind (schemas, bodies, values; most of a large document): copied as it
        is. The places of the nodes below it are copied by `finish`."""
        self.place(user, norm)
        if not isinstance(value, (dict, list)):
            return value
        self._plain_trees.append((value, user, norm))
        try:
            return marshal.loads(marshal.dumps(value))  # a deep copy, in C
        except ValueError:  # a value marshal cannot write: copied node by node
            return _copy(value)

    def finish(self) -> None:
        """The places of the nodes below the plain nodes. When the walk kept every pointer it
        met (an alpha2 document that imports nothing and renames nothing), the source's places
        are the places of the result: they are copied whole."""
        if self._same:
            self._nodes.update(self.source.nodes)
            self._kept.clear()
        else:
            for value, user, norm in self._plain_trees:
                self._place_below(value, user, norm)
        self._plain_trees.clear()

    def _place_below(self, value: Any, user: Pointer, norm: Pointer) -> None:
        items = value.items() if isinstance(value, dict) else enumerate(value)
        for key, item in items:
            self.place((*user, key), (*norm, key))
            if isinstance(item, (dict, list)):
                self._place_below(item, (*user, key), (*norm, key))

    def place(self, user: Pointer, norm: Pointer) -> None:
        if self._same:
            if user == norm:  # placed by `finish`, or by `_diverge` if a later node moves
                self._kept.append(user)
                return
            self._diverge()
        found, key = self._get(user), self._get((*user, "<key>"))
        if found is not None:
            self._nodes[norm] = found
            self._origin[norm] = user
        if key is not None:
            self._nodes[(*norm, "<key>")] = key

    def _diverge(self) -> None:
        """A node's pointer differs from the user's: the nodes kept so far are placed one by
        one, as every node from here on is."""
        self._same = False
        for pointer in self._kept:
            self.place(pointer, pointer)
        self._kept.clear()

    def _mapping(self, value: dict[str, Any], kind: str, user: Pointer, norm: Pointer) -> Any:
        renames = RENAMES.get(kind, {})
        back = _BACK.get(kind, {})
        if renames:
            self.target.kinds[norm] = kind
        shape = SHAPE.get(kind, {})
        result: dict[str, Any] = {}
        for key, item in value.items():
            alpha = back.get(key, key)
            if (key in renames) if self.era.maps else (key in back):
                self._spelling(key, renames.get(key) or back[key], (*user, key))
            if alpha in result:
                continue  # both spellings: the first is read (W142 said which)
            if (kind, key) in FEATURE_KEYS:
                self._feature(kind, key, (*user, key))
            result[alpha] = self._child(item, shape.get(alpha), (*user, key), (*norm, alpha))
        return result

    def _child(self, item: Any, child: Child | None, user: Pointer, norm: Pointer) -> Any:
        if child is None or child.container == "one":
            return self.value(item, child.kind if child else None, user, norm)
        if child.container == "list" and isinstance(item, list):
            self.place(user, norm)
            return [self.entry(v, child.kind, (*user, i), (*norm, i)) for i, v in enumerate(item)]
        if child.container == "map" and isinstance(item, dict):
            self.place(user, norm)
            return {k: self.value(v, child.kind, (*user, k), (*norm, k)) for k, v in item.items()}
        named = child.container == "named" and not (
            child.kind == "orchestrated-output" and single_output(item)
        )
        if isinstance(item, dict) and (named or child.container == "outputs"):
            if not self.era.maps:
                self._shape(user, "a map keyed by name", "a list of entries with `name`")
            return self._named(item, child.kind, user, norm)
        if not isinstance(item, list) or not named:
            return self.value(item, None, user, norm)
        if self.era.maps:
            self._shape(user, "a list of entries with `name`", "a map keyed by name")
        self.place(user, norm)
        return [self.value(v, child.kind, (*user, i), (*norm, i)) for i, v in enumerate(item)]

    def entry(self, item: Any, section: str, user: Pointer, norm: Pointer) -> Any:
        kind = entry_kind(section, item)
        if kind == "import" and self.importer is not None:
            if self._same:  # the entry's nodes are placed from another file
                self._diverge()
            self.place(user, norm)
            return self.importer(item, section, user, norm)

        return self.value(item, None if kind == "other" else kind, user, norm)

    def _named(self, item: dict[str, Any], kind: str, user: Pointer, norm: Pointer) -> Any:
        self.place(user, norm)
        entries = []
        for i, (key, entry) in enumerate(item.items()):
            where, to = (*user, key), (*norm, i)
            converted = self.value({} if entry is None else entry, kind, where, to)
            if isinstance(converted, dict):
                if "name" in converted and converted["name"] != key:
                    self.diagnostics.warning(
                        "W142",
                        f"`name: {converted['name']}` in the entry keyed {key!r} is ignored: "
                        "the key is the name",
                        self.source.key_span((*where, "name")),
                    )
                converted = {"name": key, **{k: v for k, v in converted.items() if k != "name"}}
                found = self.source.nodes.get((*where, "<key>"))
                if found is not None:
                    self.target.nodes[(*to, "name")] = found
                    self.target.nodes[(*to, "name", "<key>")] = found
                    self.target.origin[(*to, "name")] = where
            entries.append(converted)
        return entries

    def _spelling(self, key: str, other: str, where: Pointer) -> None:
        era = "naftiko alpha2" if self.era.maps else "ikanos"
        self.diagnostics.warning(
            "W142",
            f"`{key}` is how {era} writes `{other}`; read as `{other}` in {self.era.name}",
            self.source.key_span(where),
        )

    def _shape(self, where: Pointer, given: str, expected: str) -> None:
        self.diagnostics.warning(
            "W141",
            f"{describe_pointer(where)} is {given}; {self.era.name} writes {expected} (read anyway)",
            self.source.key_span(where),
        )

    def _feature(self, kind: str, key: str, where: Pointer) -> None:
        feature = FEATURE_KEYS.get((kind, key))
        if feature is None or self.era.has(feature):
            return
        first = "ikanos" if feature == "ikanos" else f"ikanos {FEATURES[feature]}"
        self.diagnostics.warning(
            "W140",
            f"`{key}` came with {first}; this document says {self.era.name} (read anyway)",
            self.source.key_span(where),
        )


def _copy(value: Any) -> Any:
    if isinstance(value, dict):
        return {k: _copy(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_copy(v) for v in value]
    return value
