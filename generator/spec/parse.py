"""Validate loaded YAML data into spec models, reporting every problem with its location."""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TypeVar

from pydantic import BaseModel, ValidationError

from ..diagnostics import Diagnostics
from ..loader import Document as LoadedDocument
from ..loader import Locations, Pointer, load_document
from . import models as m

M = TypeVar("M", bound=m.SpecModel)

KNOWN_EXPOSES = ("rest", "mcp")
SKIPPED_EXPOSES = ("skill", "control", "agent-skill")


@dataclass
class Consumes:
    """An http consumes entry, with the file it was read from (imports come from other files)."""

    model: m.HttpConsumes
    locations: Locations


@dataclass
class Spec:
    path: Path
    locations: Locations
    text: str
    document: m.Document
    info: m.Info | None = None
    binds: list[m.Bind] = field(default_factory=list)
    consumes: list[Consumes] = field(default_factory=list)
    rest: list[m.RestExposes] = field(default_factory=list)
    mcp: list[m.McpExposes] = field(default_factory=list)
    aggregates: list[m.Aggregate] = field(default_factory=list)


class Validator:
    """Validates parts of one file and reports problems at their YAML location."""

    def __init__(
        self,
        locations: Locations,
        diagnostics: Diagnostics,
        unknown: dict[tuple[str, str], list[Pointer]],
    ):
        self.locations = locations
        self.diagnostics = diagnostics
        self.unknown = unknown

    def model(self, cls: type[M], data: Any, pointer: Pointer) -> M | None:
        if not isinstance(data, dict):
            self.diagnostics.error(
                "E013",
                f"expected a mapping for {_describe(pointer)}, got {_kind(data)}",
                self.locations.span(pointer),
            )
            return None
        try:
            model = cls.model_validate(data)
        except ValidationError as exc:
            for error in exc.errors():
                self._report(error, data, pointer)
            return None
        self._attach(model, pointer)
        return model

    def models(self, cls: type[M], data: Any, pointer: Pointer) -> list[M]:
        if data is None:
            return []
        if not isinstance(data, list):
            self.diagnostics.error(
                "E013",
                f"expected a list for {_describe(pointer)}, got {_kind(data)}",
                self.locations.span(pointer),
            )
            return []
        found = (self.model(cls, item, (*pointer, i)) for i, item in enumerate(data))
        return [item for item in found if item is not None]

    def _report(self, error: Any, data: Any, pointer: Pointer) -> None:
        loc = _data_loc(data, error["loc"])
        where = (*pointer, *loc)
        kind = error["type"]
        if kind == "missing":
            field_name = error["loc"][-1]
            self.diagnostics.error(
                "E012", f"{_describe(where)} needs `{field_name}`", self.locations.span(where)
            )
            return
        got = _kind(error.get("input"))
        self.diagnostics.error(
            "E013",
            f"{_describe(where)}: {error['msg'].lower()} (got {got})",
            self.locations.span(where),
        )

    def _attach(self, model: BaseModel, pointer: Pointer) -> None:
        if isinstance(model, m.SpecModel):
            model._pointer = pointer
        extra = model.model_extra or {}
        for key in extra:
            if key in m.SPELLINGS["name"] and extra[key] == getattr(model, "name", None):
                where = self.locations.key_span((*pointer, key))
                self.diagnostics.warning("W120", f"`{key}` read as `name`", where)
                continue
            self.unknown.setdefault((type(model).__name__, key), []).append((*pointer, key))
        for name, info in type(model).model_fields.items():
            value = getattr(model, name)
            key = info.alias or name
            if isinstance(value, BaseModel):
                self._attach(value, (*pointer, key))
            elif isinstance(value, list):
                for i, item in enumerate(value):
                    if isinstance(item, BaseModel):
                        self._attach(item, (*pointer, key, i))
            elif isinstance(value, dict):
                for k, item in value.items():
                    if isinstance(item, BaseModel):
                        self._attach(item, (*pointer, key, k))


def parse(document: LoadedDocument, diagnostics: Diagnostics) -> Spec | None:
    """Validate a loaded spec; imports of shared consumes files are read here too."""
    locations = document.locations
    data = document.data
    if not isinstance(data, dict):
        diagnostics.error(
            "E010", f"the spec root must be a mapping, got {_kind(data)}", locations.span(())
        )
        return None
    other = _other_format(data)
    if other is not None:  # one clear error, not the structural errors of a different format
        key, version = other
        diagnostics.error(
            "E011",
            f"the document says `{key}: {version}`: it is not a Naftiko capability; capgen reads "
            "`naftiko: 1.0.0-alpha2` specs (alpha1 and alpha3 are read as alpha2)",
            locations.key_span((key,)),
        )
        return None
    unknown: dict[tuple[str, str], list[Pointer]] = {}
    check = Validator(locations, diagnostics, unknown)
    root = check.model(m.Document, data, ())
    if root is None:
        return None
    _check_version(root, locations, diagnostics)
    spec = Spec(document.path, locations, document.text, root)
    spec.info = check.model(m.Info, data["info"], ("info",)) if "info" in data else None
    if spec.info is None and "info" not in data:
        diagnostics.warning(
            "W102", "the spec has no `info` (label and description)", locations.span(())
        )
    spec.binds = check.models(m.Bind, data.get("binds"), ("binds",))
    capability = data.get("capability")
    if capability is None and data.get("consumes") is None:
        diagnostics.error(
            "E012", "the spec needs `capability` (or a root `consumes` list)", locations.span(())
        )
        return None
    if capability is not None and not isinstance(capability, dict):
        diagnostics.error(
            "E013",
            f"`capability` must be a mapping, got {_kind(capability)}",
            locations.span(("capability",)),
        )
        return None
    cap = capability or {}
    _capability_keys(cap, locations, diagnostics)
    consumes_data, consumes_pointer = (
        (cap.get("consumes"), ("capability", "consumes"))
        if capability
        else (data.get("consumes"), ("consumes",))
    )
    spec.consumes = _consumes(consumes_data, consumes_pointer, check, document.path, diagnostics)
    _exposes(cap.get("exposes"), spec, check)
    spec.aggregates = check.models(m.Aggregate, cap.get("aggregates"), ("capability", "aggregates"))
    _report_unknown(unknown, locations, diagnostics)
    return spec


_VERSION = re.compile(r"\d+\.\d+(\.\d+)?(-[\w.]+)?")
_ROOT_KEYS = frozenset({"naftiko", "info", "binds", "capability", "consumes", "exposes"})


def _other_format(data: dict[str, Any]) -> tuple[str, str] | None:
    """`ikanos: 1.0.0-beta5`, `openapi: 3.1.0`: a root key naming another format's version, in
    a document that does not say `naftiko`."""
    if "naftiko" in data:
        return None
    for key, value in data.items():
        given = str(value).strip() if isinstance(value, str | float) else ""
        if isinstance(key, str) and key not in _ROOT_KEYS and _VERSION.fullmatch(given):
            return key, given
    return None


def _check_version(root: m.Document, locations: Locations, diagnostics: Diagnostics) -> None:
    version = root.naftiko
    if version is None:
        diagnostics.warning(
            "W101", "the spec does not say `naftiko: 1.0.0-alpha2`", locations.span(())
        )
    elif not str(version).startswith("1.0.0-alpha"):
        diagnostics.error(
            "E011", f"unsupported naftiko version {version!r}", locations.span(("naftiko",))
        )
    elif version != "1.0.0-alpha2":
        diagnostics.warning(
            "W101", f"spec version {version} read as 1.0.0-alpha2", locations.span(("naftiko",))
        )


def _capability_keys(cap: dict[str, Any], locations: Locations, diagnostics: Diagnostics) -> None:
    for key in cap:
        if key == "binds":
            diagnostics.warning(
                "W100",
                "`capability.binds` is ignored; binds belong at the root",
                locations.key_span(("capability", key)),
            )
        elif key not in ("consumes", "exposes", "aggregates"):
            diagnostics.warning(
                "W100",
                f"unknown key `capability.{key}` ignored",
                locations.key_span(("capability", key)),
            )


def _consumes(
    data: Any, pointer: Pointer, check: Validator, spec_path: Path, diagnostics: Diagnostics
) -> list[Consumes]:
    if data is None:
        return []
    if not isinstance(data, list):
        diagnostics.error(
            "E013", f"`consumes` must be a list, got {_kind(data)}", check.locations.span(pointer)
        )
        return []
    found: list[Consumes] = []
    for i, entry in enumerate(data):
        where = (*pointer, i)
        if isinstance(entry, dict) and ("location" in entry or "import" in entry):
            imported = check.model(m.ImportedConsumes, entry, where)
            if imported is not None:
                found.extend(_import(imported, check.locations.span(where), spec_path, diagnostics))
            continue
        if isinstance(entry, dict) and entry.get("type", "http") != "http":
            diagnostics.warning(
                "W111",
                f"consumes type {entry.get('type')!r} is not supported; skipped",
                check.locations.span(where),
            )
            continue
        model = check.model(m.HttpConsumes, entry, where)
        if model is not None:
            found.append(Consumes(model, check.locations))
    return found


def _import(
    entry: m.ImportedConsumes, span: Any, spec_path: Path, diagnostics: Diagnostics
) -> list[Consumes]:
    """SEMANTICS §3.10: copy namespace `import` of a shared file, renamed to `as`."""
    location = entry.location.removeprefix("file://")
    target = (
        (spec_path.parent / location).resolve()
        if not Path(location).is_absolute()
        else Path(location)
    )
    shared = Diagnostics()
    loaded = load_document(target, shared, display_name=_display(target, spec_path))
    if loaded is None or not isinstance(loaded.data, dict):
        unread = [d.message for d in shared.items if d.code == "E001"]
        reason = f": {unread[0]}" if unread else ""
        diagnostics.error("E024", f"cannot import consumes from {entry.location!r}{reason}", span)
        diagnostics.extend(d for d in shared.items if d.severity == "error" and d.code != "E001")
        return []
    root = loaded.data
    pointer: Pointer = ("consumes",)
    items = root.get("consumes")
    if items is None and isinstance(root.get("capability"), dict):
        items, pointer = root["capability"].get("consumes"), ("capability", "consumes")
        diagnostics.warning(
            "W120",
            f"{entry.location}: shared consumes read from `capability.consumes` (expected a root `consumes`)",
            span,
        )
    check = Validator(loaded.locations, diagnostics, {})
    for i, item in enumerate(items if isinstance(items, list) else []):
        if isinstance(item, dict) and item.get("namespace") == entry.import_:
            model = check.model(m.HttpConsumes, item, (*pointer, i))
            if model is None:
                return []
            if entry.as_:
                model = model.model_copy(update={"namespace": entry.as_})
                model._pointer = (*pointer, i)
            return [Consumes(model, loaded.locations)]
    diagnostics.error("E025", f"namespace {entry.import_!r} not found in {entry.location}", span)
    return []


def _display(target: Path, spec_path: Path) -> str:
    try:
        return str(target.relative_to(spec_path.parent.resolve()))
    except ValueError:
        return target.name


def _exposes(data: Any, spec: Spec, check: Validator) -> None:
    pointer: Pointer = ("capability", "exposes")
    if data is None:
        return
    if not isinstance(data, list):
        check.diagnostics.error("E013", "`exposes` must be a list", check.locations.span(pointer))
        return
    for i, entry in enumerate(data):
        where = (*pointer, i)
        kind = entry.get("type") if isinstance(entry, dict) else None
        if kind == "rest":
            rest = check.model(m.RestExposes, entry, where)
            spec.rest.extend([rest] if rest else [])
        elif kind == "mcp":
            mcp = check.model(m.McpExposes, entry, where)
            spec.mcp.extend([mcp] if mcp else [])
        elif kind is None:
            check.diagnostics.error(
                "E012", "an exposes entry needs `type` (rest or mcp)", check.locations.span(where)
            )
        else:
            hint = (
                "every generated adapter serves /healthz, /readyz and /metrics itself"
                if kind == "control"
                else None
            )
            check.diagnostics.warning(
                "W110",
                f"expose type {kind!r} is not generated by capgen; skipped",
                check.locations.span(where),
                hint,
            )


def _report_unknown(
    unknown: dict[tuple[str, str], list[Pointer]], locations: Locations, diagnostics: Diagnostics
) -> None:
    for (model, key), pointers in unknown.items():
        more = f" ({len(pointers)} places)" if len(pointers) > 1 else ""
        diagnostics.warning(
            "W100",
            f"unknown key `{key}` in {_MODEL_NAMES.get(model, model)} ignored{more}",
            locations.key_span(pointers[0]),
        )


_MODEL_NAMES = {
    "ConsumedOperation": "a consumed operation",
    "ConsumedResource": "a consumed resource",
    "HttpConsumes": "a consumes entry",
    "ExposedOperation": "an exposed operation",
    "ExposedResource": "an exposed resource",
    "RestExposes": "a REST adapter",
    "McpExposes": "an MCP adapter",
    "InputParameter": "an input parameter",
    "OutputParameter": "an output parameter",
    "Authentication": "authentication",
    "Info": "info",
    "Document": "the spec root",
}


def _data_loc(data: Any, loc: Iterable[Any]) -> Pointer:
    """Keep only the parts of a pydantic error location that exist in the data."""
    found: list[str | int] = []
    node = data
    for part in loc:
        present = (isinstance(node, dict) and isinstance(part, str) and part in node) or (
            isinstance(node, list) and isinstance(part, int) and 0 <= part < len(node)
        )
        if present:
            node = node[part]
            found.append(part)
    return tuple(found)


def _describe(pointer: Pointer) -> str:
    if not pointer:
        return "the spec"
    text = ""
    for part in pointer:
        text += f"[{part}]" if isinstance(part, int) else (f".{part}" if text else str(part))
    return f"`{text}`"


def _kind(value: Any) -> str:
    if value is None:
        return "nothing"
    return {
        dict: "a mapping",
        list: "a list",
        str: "text",
        bool: "a boolean",
        int: "a number",
        float: "a number",
    }.get(type(value), type(value).__name__)
