"""One era's document rewritten in another's shape, in place, on ruamel.yaml's round-trip nodes.

The structure comes from `spec/shape.py`, the table the reader uses too. Towards ikanos, named
lists become maps keyed by name and `label`/`functions`/`targetName`/`location` take their new
names; towards alpha2 the reverse, and whatever alpha2 cannot hold is an error (E072) located
where the document says it. Every choice the migration makes for the user (a key for an
unnamed entry, a moved section) is a note.
"""

from __future__ import annotations

from typing import Any

from ruamel.yaml.comments import CommentedMap, CommentedSeq
from ruamel.yaml.scalarstring import ScalarString

from ..diagnostics import Diagnostics, Span
from ..spec.eras import FEATURES, IKANOS, NAFTIKO, STANDALONE, Era
from ..spec.keys import given_name, rest_names, unique
from ..spec.shape import (
    FEATURE_KEYS,
    RENAMES,
    SHAPE,
    Child,
    entry_kind,
    outputs_named,
    single_output,
)

_WHAT = {
    "consumed-resource": "consumed resource",
    "consumed-operation": "consumed operation",
    "rest-resource": "REST resource",
    "rest-operation": "REST operation",
    "mcp-resource": "MCP resource",
    "param": "input",
    "orchestrated-output": "output",
    "consumed-output": "output",
}


class Convert:
    def __init__(self, file: str, source: Era, target: Era, diagnostics: Diagnostics) -> None:
        self.file = file
        self.source = source
        self.target = target
        self.maps = target.maps
        self.diagnostics = diagnostics

    # -- locations and messages
    def span(self, node: Any, key: Any = None) -> Span:
        try:
            if key is None:
                line, col = node.lc.line, node.lc.col
            elif isinstance(node, CommentedSeq):
                line, col = node.lc.item(key)
            else:
                line, col = node.lc.key(key)
        except (AttributeError, KeyError, IndexError, TypeError):
            return Span(self.file, 1, 1)
        return Span(self.file, line + 1, col + 1)

    def cannot(self, message: str, span: Span) -> None:
        self.diagnostics.error("E072", f"{message}: {self.target.name} cannot express it", span)

    def note(self, message: str, span: Span) -> None:
        self.diagnostics.note(message, span)

    # -- the document
    def run(self, root: CommentedMap) -> None:
        self._version(root)
        self._sections(root)
        self.node(root, "root")

    def _version(self, root: CommentedMap) -> None:
        old = NAFTIKO if NAFTIKO in root else IKANOS if IKANOS in root else None
        given = root.get(old) if old else None
        value = self.target.version
        new_value = type(given)(value) if isinstance(given, ScalarString) else value
        if old is None:
            root.insert(0, self.target.root, new_value)
            return
        if old != self.target.root:
            rename(root, old, self.target.root)
        root[self.target.root] = new_value

    def _sections(self, root: CommentedMap) -> None:
        capability = root.get("capability")
        if self.maps:
            if (
                isinstance(capability, CommentedMap)
                and "binds" in capability
                and not self.source.maps
            ):
                self.cannot(
                    "`capability.binds` is ignored in alpha2 but read in ikanos; move it to the "
                    "root `binds` or delete it",
                    self.span(capability, "binds"),
                )
            return
        if capability is None:
            for section in STANDALONE[1:]:
                if section in root:
                    self.cannot(f"a standalone {section} document", self.span(root, section))
        elif isinstance(capability, CommentedMap) and "binds" in capability:
            moved = capability.pop("binds")
            if isinstance(root.get("binds"), CommentedSeq):
                root["binds"].extend(moved)
            else:
                root.insert(list(root.keys()).index("capability"), "binds", moved)
            self.note(
                "`capability.binds` moved to the root `binds` (alpha2 reads it there)",
                self.span(root, "binds"),
            )

    def node(self, node: Any, kind: str) -> None:
        if not isinstance(node, CommentedMap):
            return
        renames = RENAMES.get(kind, {})
        for old, new in renames.items():
            before, after = (old, new) if self.maps else (new, old)
            if before in node and after not in node:
                rename(node, before, after)
        if not self.maps:
            self._features(node, kind)
        back = {new: old for old, new in renames.items()}
        shape = SHAPE.get(kind, {})
        for key in list(node.keys()):
            child = shape.get(back.get(key, key) if self.maps else key)
            if child is not None:
                self._child(node, key, child)

    def _features(self, node: CommentedMap, kind: str) -> None:
        for key in list(node.keys()):
            feature = FEATURE_KEYS.get((kind, key))
            if kind == "rest-resource" and key == "tags" and self._resource_tags(node):
                continue
            if feature is not None and not self.target.has(feature):
                since = "ikanos" if feature == "ikanos" else f"ikanos {FEATURES[feature]}"
                self.cannot(f"`{key}` (from {since})", self.span(node, key))

    def _resource_tags(self, node: CommentedMap) -> bool:
        """alpha2 tags a REST resource's routes with its name: one tag becomes the name."""
        tags = node.get("tags")
        if not isinstance(tags, list) or len(tags) != 1 or "forward" in node:
            return False
        tag, key = str(tags[0]), node.get("name")
        if tag != key:
            self.note(
                f"REST resource {key!r} is named {tag!r} after its tag (alpha2 tags a "
                "resource's routes with its name)",
                self.span(node, "tags"),
            )
        node["name"] = tag
        del node["tags"]
        return True

    def _child(self, owner: CommentedMap, key: str, child: Child) -> None:
        value = owner[key]
        if child.container == "one":
            self.node(value, child.kind)
        elif child.container == "list" and isinstance(value, list):
            for item in value:
                kind = entry_kind(child.kind, item)
                if kind == "import" and not self.maps and child.kind != "consumes":
                    self.cannot(
                        f"an import in `{key}` (alpha2 imports consumes only)", self.span(item)
                    )
                self.node(item, kind)
        elif child.container == "map" and isinstance(value, dict):
            for item in value.values():
                self.node(item, child.kind)
        else:
            self._named(owner, key, child)

    def _named(self, owner: CommentedMap, key: str, child: Child) -> None:
        value = owner[key]
        wanted = child.container == "named" or outputs_named(owner)
        if child.kind == "orchestrated-output" and key == "items" and single_output(value):
            wanted = False
        if self.maps and wanted and isinstance(value, CommentedSeq):
            converted = self._to_map(owner, key, value, child.kind)
            if converted is not None:
                owner[key] = value = converted
        elif not self.maps and wanted and isinstance(value, CommentedMap):
            owner[key] = value = to_list(value)
        entries = list(value.values()) if isinstance(value, dict) else value
        for entry in entries if isinstance(entries, list) else []:
            self.node(entry, child.kind if wanted else "")

    def _to_map(
        self, owner: CommentedMap, key: str, items: CommentedSeq, kind: str
    ) -> CommentedMap | None:
        names = self._keys(owner, key, items, kind)
        if names is None:
            return None
        result = CommentedMap()
        if items.ca.comment:
            result.ca.comment = items.ca.comment
        for item, name in zip(items, names, strict=True):
            comment = None
            for spelled in ("name", "id"):
                if spelled in item and given_name({spelled: item[spelled]}) is not None:
                    comment = item.ca.items.pop(spelled, None) or comment
                    del item[spelled]
                    break
            result[name] = item
            if comment is not None and comment[2] is not None:
                result.ca.items[name] = [None, None, comment[2], None]
        return result

    def _keys(
        self, owner: CommentedMap, key: str, items: CommentedSeq, kind: str
    ) -> list[str] | None:
        """The key of each entry, or None (and E072) when one has none."""
        generated: dict[int, str] = {}
        if kind == "rest-resource":
            for index, name, _ in rest_names(list(items)):
                if name is not None:
                    generated[index] = name
        if kind == "rest-operation":
            for _, _, operations in rest_names([owner]):
                generated.update(dict(operations))
        names: list[str] = []
        taken: set[str] = set()
        ok = True
        for index, item in enumerate(items):
            if not isinstance(item, CommentedMap):
                self.cannot(f"a `{key}` entry that is not a mapping", self.span(items, index))
                ok = False
                continue
            name = self._name(item, kind, generated.get(index), items, index)
            if name is None:
                ok = False
                continue
            names.append(self._unique(item, name, kind, taken, items, index))
        return names if ok and len(names) == len(items) else None

    def _name(
        self, item: CommentedMap, kind: str, generated: str | None, items: Any, index: int
    ) -> str | None:
        name = given_name(item)
        what = _WHAT.get(kind, kind.replace("-", " "))
        if name is not None:
            if "name" not in item or given_name({"name": item["name"]}) is None:
                self.note(f"{what} keyed by its `id` {name!r}", self.span(item, "id"))
            return name
        ref = item.get("ref")
        if generated is None and kind == "tool" and isinstance(ref, str) and "." in ref:
            generated = ref.split(".")[-1]
        if generated is None:
            self.cannot(f"a {what} without a name", self.span(items, index))
            return None
        self.note(f"the unnamed {what} is keyed {generated!r}", self.span(items, index))
        return generated

    def _unique(
        self, item: CommentedMap, name: str, kind: str, taken: set[str], items: Any, index: int
    ) -> str:
        if name not in taken:
            taken.add(name)
            return name
        what = _WHAT.get(kind, kind.replace("-", " "))
        suffixed = unique(name, taken)
        if kind == "rest-resource" and "forward" not in item and "tags" not in item:
            item["tags"] = CommentedSeq([name])  # its routes keep their OpenAPI tag
        elif kind != "consumed-resource":  # a consumed resource's name is only metadata
            self.cannot(
                f"a second {what} named {name!r} (keys are unique)", self.span(items, index)
            )
            return suffixed
        self.note(
            f"the second {what} named {name!r} is keyed {suffixed!r}", self.span(items, index)
        )
        return suffixed


def rename(node: CommentedMap, old: str, new: str) -> None:
    """Rename a key where it stands, with its comments."""
    position = list(node.keys()).index(old)
    comment = node.ca.items.pop(old, None)
    value = node.pop(old)
    node.insert(position, new, value)
    if comment is not None:
        node.ca.items[new] = comment


def to_list(node: CommentedMap) -> CommentedSeq:
    """A map keyed by name as alpha2's list of entries with `name` first."""
    result = CommentedSeq()
    if node.ca.comment:
        result.ca.comment = node.ca.comment
    for key, value in node.items():
        entry = value if isinstance(value, CommentedMap) else CommentedMap()
        entry.insert(0, "name", key)
        comment = node.ca.items.get(key)
        if comment is not None and comment[2] is not None:
            entry.ca.items["name"] = [None, None, comment[2], None]
        result.append(entry)
    return result
