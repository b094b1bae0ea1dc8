"""Load a YAML document into plain Python data, remembering where every node came from.

PyYAML's C composer builds the node tree (fast); this module turns it into dicts, lists and
scalars while filling a `Locations` table that maps JSON-pointer-like paths to (line, column).
Duplicate keys, which PyYAML silently accepts, are reported as errors.
"""

from __future__ import annotations

import datetime
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from . import ahead
from .diagnostics import Diagnostics, Span
from .reading import read, read_regular_file

try:  # libyaml is bundled in PyYAML wheels; fall back to the pure-Python composer if absent
    _Base: type[yaml.SafeLoader] = yaml.CSafeLoader  # type: ignore[assignment]
except AttributeError:  # pragma: no cover
    _Base = yaml.SafeLoader


class _Loader(_Base):  # type: ignore[misc,valid-type]
    """The safe loader, with each distinct scalar's implicit tag resolved once per document
    (keys and small values repeat thousands of times in a large spec). The safe loader has
    no path resolvers, so descending and ascending through the tree records nothing."""

    def __init__(self, stream: str) -> None:
        super().__init__(stream)
        self._tags: dict[str, str] = {}

    def resolve(self, kind: type[yaml.Node], value: Any, implicit: Any) -> str:
        if kind is not yaml.ScalarNode:
            return str(super().resolve(kind, value, implicit))
        if not implicit[0]:  # quoted or block: a string (no path resolvers, see the class)
            return str(self.DEFAULT_SCALAR_TAG)
        tag = self._tags.get(value)  # a plain scalar's tag depends on its text alone
        if tag is None:
            tag = self._tags[value] = super().resolve(kind, value, implicit)
        return tag

    def descend_resolver(self, current_node: Any, current_index: Any) -> None:
        return None

    def ascend_resolver(self) -> None:
        return None


Pointer = tuple[str | int, ...]

MAX_DEPTH = 64  # real specs nest about 12 deep
# Aliases may repeat a node, but a document may not expand to more than this many nodes per
# byte of text (plus a margin): a "billion laughs" of a few KB stops here, not at a MemoryError.
ALIAS_EXPANSION = 10
ALIAS_MARGIN = 10_000

_STR = "tag:yaml.org,2002:str"
_TIMESTAMP = "tag:yaml.org,2002:timestamp"
_CONSTRUCTOR = yaml.constructor.SafeConstructor()


@dataclass
class Locations:
    """Where each node of a loaded document starts (1-based line and column)."""

    file: str
    nodes: dict[Pointer, tuple[int, int]] = field(default_factory=dict)

    def span(self, pointer: Pointer) -> Span:
        """The span of `pointer`, or of its closest ancestor that has one."""
        for end in range(len(pointer), -1, -1):
            found = self.nodes.get(pointer[:end])
            if found is not None:
                return Span(self.file, *found)
        return Span(self.file, 1, 1)

    def key_span(self, pointer: Pointer) -> Span:
        """The span of the key that introduces `pointer` (falls back to the value)."""
        found = self.nodes.get((*pointer, "<key>"))
        return Span(self.file, *found) if found else self.span(pointer)

    def describe(self, pointer: Pointer) -> str:
        """`capability.exposes[0].tools[2]`: how messages name a node."""
        return describe(pointer)

    def term(self, key: str, owner: Pointer) -> str:
        """How the document spells the key `key` (alpha2 spelling) of the node at `owner`."""
        return key


def describe(pointer: Pointer) -> str:
    if not pointer:
        return "the spec"
    text = ""
    for part in pointer:
        text += f"[{part}]" if isinstance(part, int) else (f".{part}" if text else str(part))
    return f"`{text}`"


@dataclass
class Document:
    path: Path
    data: Any
    locations: Locations
    text: str


def load_document(
    path: Path, diagnostics: Diagnostics, display_name: str | None = None
) -> Document | None:
    """Read and parse one YAML file. Problems are reported to `diagnostics`; None means unusable."""
    name = display_name or str(path)
    try:
        raw = read_regular_file(path)
    except (OSError, ValueError) as exc:
        reason = exc.strerror if isinstance(exc, OSError) and exc.strerror else str(exc)
        diagnostics.error("E001", f"cannot read spec: {reason}", Span(name, 1, 1))
        return None
    read(path, raw)
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        line = raw[: exc.start].count(b"\n") + 1
        col = exc.start - (raw.rfind(b"\n", 0, exc.start) + 1) + 1
        diagnostics.error("E002", "spec is not valid UTF-8", Span(name, line, col))
        return None
    return parse_text(text, path, diagnostics, name)


def _char_at(text: str, line: int, column: int) -> str:
    lines = text.splitlines()
    return lines[line][column : column + 1] if line < len(lines) else ""


def parse_text(text: str, path: Path, diagnostics: Diagnostics, name: str) -> Document | None:
    loaded = ahead.document(text)  # read by the helper process, when this is its text
    if loaded is not None:
        return Document(path=path, data=loaded[0], locations=Locations(name, loaded[1]), text=text)
    locations = Locations(name)
    try:
        nodes = list(yaml.compose_all(text, Loader=_Loader))
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        span = Span(name, mark.line + 1, mark.column + 1) if mark else Span(name, 1, 1)
        problem = exc.problem or exc.context or "malformed YAML"
        hint = None
        if mark and _char_at(text, mark.line, mark.column) == "\t":
            hint = "YAML does not allow tabs for indentation; indent with spaces"
        diagnostics.error("E003", f"YAML syntax error: {problem}", span, hint)
        return None
    except yaml.YAMLError as exc:  # e.g. reader errors on control characters
        diagnostics.error("E003", f"YAML syntax error: {exc}", Span(name, 1, 1))
        return None
    if not nodes or nodes[0] is None:
        diagnostics.error("E004", "spec is empty", Span(name, 1, 1))
        return None
    if len(nodes) > 1:
        second = nodes[1].start_mark
        diagnostics.error(
            "E005",
            "spec holds several YAML documents; capgen reads exactly one",
            Span(name, second.line + 1, second.column + 1),
        )
        return None
    builder = _Builder(locations, diagnostics, ALIAS_EXPANSION * len(text) + ALIAS_MARGIN)
    try:
        data = builder.build(nodes[0], ())
    except _TooLarge as exc:
        diagnostics.error("E009", str(exc), exc.span)
        return None
    return Document(path=path, data=data, locations=locations, text=text)


class _TooLarge(Exception):
    def __init__(self, message: str, span: Span) -> None:
        super().__init__(message)
        self.span = span


class _Builder:
    def __init__(self, locations: Locations, diagnostics: Diagnostics, budget: int) -> None:
        self.locations = locations
        self.diagnostics = diagnostics
        self.active: set[int] = set()
        self.budget = budget
        self.nodes = locations.nodes

    def build(self, node: yaml.Node, pointer: Pointer) -> Any:
        mark = node.start_mark
        place = (mark.line + 1, mark.column + 1)
        self.nodes[pointer] = place
        self.budget -= 1
        if self.budget < 0 or len(pointer) > MAX_DEPTH:
            self._too_large(place, deep=len(pointer) > MAX_DEPTH)
        if type(node) is yaml.ScalarNode:  # most nodes: a string needs no constructor
            return node.value if node.tag == _STR else self._scalar(node)
        if id(node) in self.active:
            self.diagnostics.error("E006", "recursive YAML alias", self.locations.span(pointer))
            return None
        self.active.add(id(node))
        try:
            if type(node) is yaml.SequenceNode:
                return [self.build(item, (*pointer, i)) for i, item in enumerate(node.value)]
            assert isinstance(node, yaml.MappingNode)
            return self._mapping(node, pointer)
        finally:
            self.active.discard(id(node))

    def _too_large(self, place: tuple[int, int], *, deep: bool) -> None:
        span = Span(self.locations.file, *place)
        if deep:
            raise _TooLarge(f"the document nests deeper than {MAX_DEPTH} levels", span)
        raise _TooLarge(
            "the document expands to too many nodes (YAML aliases repeated over and over?)", span
        )

    def _mapping(self, node: yaml.MappingNode, pointer: Pointer) -> dict[str, Any]:
        result: dict[str, Any] = {}
        for key_node, value_node in node.value:
            if key_node.tag == "tag:yaml.org,2002:merge":
                merged = self.build(value_node, pointer)
                for source in merged if isinstance(merged, list) else [merged]:
                    if isinstance(source, dict):
                        for k, v in source.items():
                            result.setdefault(k, v)
                continue
            if type(key_node) is not yaml.ScalarNode:
                key = None
            else:
                key = key_node.value if key_node.tag == _STR else self._scalar(key_node)
            mark = key_node.start_mark
            if key is None or isinstance(key, (dict, list)):
                self.diagnostics.error(
                    "E007", "mapping keys must be plain scalars", self.locations.span(pointer)
                )
                continue
            key = key if isinstance(key, str) else _scalar_text(key)
            if key in result:
                self.diagnostics.error(
                    "E008",
                    f"duplicate key '{key}'",
                    self.locations.span(pointer)._replace(line=mark.line + 1, col=mark.column + 1),
                    hint="YAML keeps only the last value; remove or rename one of them",
                )
            child = (*pointer, key)
            self.nodes[(*child, "<key>")] = (mark.line + 1, mark.column + 1)
            result[key] = self.build(value_node, child)
        return result

    def _scalar(self, node: yaml.ScalarNode) -> Any:
        if node.tag == _STR:
            return node.value
        if node.tag == _TIMESTAMP:  # dates stay text: specs compare and print them verbatim
            return node.value
        try:
            value = _CONSTRUCTOR.construct_object(node, deep=True)
        except yaml.constructor.ConstructorError:
            return node.value
        except (ValueError, TypeError, KeyError, ArithmeticError):  # `!!int abc`, `!!bool maybe`
            mark = node.start_mark
            tag = node.tag.replace("tag:yaml.org,2002:", "!!")
            self.diagnostics.error(
                "E009",
                f"{node.value[:40]!r} is not a valid {tag}",
                Span(self.locations.file, mark.line + 1, mark.column + 1),
                hint="remove the tag, or give a value of that type",
            )
            return None
        if isinstance(value, (datetime.date, bytes, set)):
            return node.value
        return value


def _scalar_text(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    return "null" if value is None else str(value)
