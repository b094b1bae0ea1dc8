"""Validate loaded YAML data into spec models, reporting every problem with its location."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, ForwardRef, TypeVar, get_args

from pydantic import BaseModel, ValidationError

from ..diagnostics import ADAPTER_KINDS, Diagnostics
from ..loader import Document as LoadedDocument
from ..loader import Locations, Pointer
from . import eras
from . import models as m
from . import unknown as unknown_keys
from .imports import normalise_document

M = TypeVar("M", bound=m.SpecModel)

EXPOSES_MODELS: dict[str, type[m.RestExposes | m.McpExposes]] = {
    "rest": m.RestExposes,
    "mcp": m.McpExposes,
}  # the spec model of each kind (tests/test_adapter_kinds.py: one per registered kind)


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
    era: eras.Era = eras.ALPHA2
    standalone: str | None = None  # a standalone consumes/exposes/aggregates/binds document
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
                f"expected a mapping for {self.locations.describe(pointer)}, got {_kind(data)}",
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
                f"expected a list for {self.locations.describe(pointer)}, got {_kind(data)}",
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
            field_name = self.locations.term(str(error["loc"][-1]), where)
            self.diagnostics.error(
                "E012",
                f"{self.locations.describe(where)} needs `{field_name}`",
                self.locations.span(where),
            )
            return
        got = _kind(error.get("input"))
        self.diagnostics.error(
            "E013",
            f"{self.locations.describe(where)}: {error['msg'].lower()} (got {got})",
            self.locations.span(where),
        )

    def _attach(self, model: BaseModel, pointer: Pointer) -> None:
        if isinstance(model, m.SpecModel):
            model.set_pointer(pointer)
        extra = model.model_extra or {}
        for key in extra:
            if key in m.SPELLINGS["name"] and extra[key] == getattr(model, "name", None):
                where = self.locations.key_span((*pointer, key))
                self.diagnostics.warning("W120", f"`{key}` read as `name`", where)
                continue
            self.unknown.setdefault((type(model).__name__, key), []).append((*pointer, key))
        for name, key in _nesting(type(model)):
            value = getattr(model, name)
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


_NESTING: dict[type[BaseModel], list[tuple[str, str]]] = {}


def _nesting(cls: type[BaseModel]) -> list[tuple[str, str]]:
    """(field, key) of the fields of `cls` whose type names a model: the only ones that can hold
    models to attach (an `Any` field keeps the YAML's plain data). Worked out once per class."""
    found = _NESTING.get(cls)
    if found is None:
        fields = cls.model_fields.items()
        found = [(n, i.alias or n) for n, i in fields if _names_model(i.annotation)]
        _NESTING[cls] = found
    return found


def _names_model(annotation: Any) -> bool:
    if isinstance(annotation, (str, ForwardRef)):  # unresolved: it may name one
        return True
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return True
    return any(_names_model(arg) for arg in get_args(annotation))


def parse(document: LoadedDocument, diagnostics: Diagnostics) -> Spec | None:
    """Validate a loaded spec of any era (read into the alpha2 shape, imports included)."""
    if not isinstance(document.data, dict):
        diagnostics.error(
            "E010",
            f"the spec root must be a mapping, got {_kind(document.data)}",
            document.locations.span(()),
        )
        return None
    era = eras.check(document.data, document.locations, diagnostics)
    if era is None:
        return None
    read = normalise_document(document, era, diagnostics).document
    locations, data = read.locations, read.data
    unknown: dict[tuple[str, str], list[Pointer]] = {}
    check = Validator(locations, diagnostics, unknown)
    root = check.model(m.Document, data, ())
    if root is None:
        return None
    spec = Spec(document.path, locations, document.text, root, era)
    spec.info = check.model(m.Info, data["info"], ("info",)) if "info" in data else None
    spec.binds = check.models(m.Bind, data.get("binds"), ("binds",))
    capability = data.get("capability")
    standalone = next((k for k in eras.STANDALONE if data.get(k) is not None), None)
    if spec.info is None and "info" not in data and capability is not None:
        label = "display" if era.maps else "label"
        diagnostics.warning(
            "W102", f"the spec has no `info` ({label} and description)", locations.span(())
        )
    if capability is None and standalone is None:
        sections = "consumes, exposes, aggregates or binds" if era.maps else "consumes"
        diagnostics.error(
            "E012", f"the spec needs `capability` (or a root {sections} list)", locations.span(())
        )
        return None
    if capability is not None and not isinstance(capability, dict):
        diagnostics.error(
            "E013",
            f"`capability` must be a mapping, got {_kind(capability)}",
            locations.span(("capability",)),
        )
        return None
    spec.standalone = None if capability is not None else standalone
    _sections(spec, data, check)
    unknown_keys.misplaced_sections(data, locations, diagnostics)
    unknown_keys.report(unknown, locations, diagnostics)
    return spec


def _sections(spec: Spec, data: dict[str, Any], check: Validator) -> None:
    """consumes, exposes and aggregates: under `capability`, or at the root of a standalone
    document; binds at the root (and, in ikanos, under `capability` too)."""
    given = data.get("capability")
    cap: dict[str, Any] = given if isinstance(given, dict) else {}
    base: Pointer = ("capability",) if isinstance(given, dict) else ()
    section = cap if isinstance(given, dict) else data
    unknown_keys.capability_keys(cap, spec.era, check.locations, check.diagnostics)
    spec.consumes = _consumes(section.get("consumes"), (*base, "consumes"), check)
    _exposes(section.get("exposes"), (*base, "exposes"), spec, check)
    spec.aggregates = check.models(m.Aggregate, section.get("aggregates"), (*base, "aggregates"))
    if base and spec.era.maps:
        spec.binds += check.models(m.Bind, cap.get("binds"), ("capability", "binds"))


def _consumes(data: Any, pointer: Pointer, check: Validator) -> list[Consumes]:
    if data is None:
        return []
    if not isinstance(data, list):
        check.diagnostics.error(
            "E013", f"`consumes` must be a list, got {_kind(data)}", check.locations.span(pointer)
        )
        return []
    found: list[Consumes] = []
    for i, entry in enumerate(data):
        where = (*pointer, i)
        if isinstance(entry, dict) and "import" in entry:
            continue  # an import that could not be read (reported where it was read)
        if isinstance(entry, dict) and entry.get("type", "http") != "http":
            check.diagnostics.warning(
                "W111",
                f"consumes type {entry.get('type')!r} is not supported; skipped",
                check.locations.span(where),
            )
            continue
        model = check.model(m.HttpConsumes, entry, where)
        if model is not None:
            found.append(Consumes(model, check.locations))
    return found


def _exposes(data: Any, pointer: Pointer, spec: Spec, check: Validator) -> None:
    if data is None:
        return
    if not isinstance(data, list):
        check.diagnostics.error("E013", "`exposes` must be a list", check.locations.span(pointer))
        return
    for i, entry in enumerate(data):
        where = (*pointer, i)
        kind = entry.get("type") if isinstance(entry, dict) else None
        if isinstance(entry, dict) and "import" in entry:
            continue  # an import that could not be read (reported where it was read)
        if kind in ADAPTER_KINDS:
            model = check.model(EXPOSES_MODELS[kind], entry, where)
            getattr(spec, kind).extend([model] if model else [])
        elif kind is None:
            kinds = " or ".join(ADAPTER_KINDS)
            check.diagnostics.error(
                "E012", f"an exposes entry needs `type` ({kinds})", check.locations.span(where)
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
