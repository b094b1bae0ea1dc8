"""`--strict`: validate the spec against the published JSON Schema of its own era as well.

Two schemas ship in `generator/data/`: naftiko alpha2 and ikanos beta5. The other ikanos
versions differ from beta5 only in the version constant, except that the caching hints and
`info.version` came with beta4 and binary content with beta1 (FORMATS.md): their schemas are
beta5's with those fields taken out, so a beta3 document using `ttlMs` fails as it should.
"""

from __future__ import annotations

import copy
import json
from functools import lru_cache
from pathlib import Path
from typing import Any

from ..diagnostics import Diagnostics
from ..loader import Document
from .eras import ALPHA2, NAFTIKO, Era, detect

DATA = Path(__file__).resolve().parent.parent / "data"
SCHEMA = DATA / "naftiko-1.0.0-alpha2.schema.json"
IKANOS_SCHEMA = DATA / "ikanos-1.0.0-beta5.schema.json"

# feature -> the (definition, property) pairs it added
_ADDED = {
    "caching": [("ExposesMcp", "ttlMs"), ("ExposesMcp", "cacheScope")],
    "version": [("Info", "version")],
    "binary": [
        ("ExposesRest", "maxBinarySize"),
        ("ExposesMcp", "maxBinarySize"),
        ("ConsumedHttpOperation", "maxBinarySize"),
        ("ConsumedHttpOperation", "outputMediaType"),
        ("AggregateFlow", "outputMediaType"),
        ("ExposedOperation", "responses"),
        ("ExposedOperation", "responseBinary"),
        ("McpResource", "binary"),
    ],
}


def schema_for(era: Era) -> dict[str, Any]:
    """The JSON Schema of `era` (alpha2's for every naftiko version, with its own constant)."""
    if era.root == NAFTIKO:
        schema = copy.deepcopy(_load(SCHEMA))
        if era.known:
            schema["properties"]["naftiko"]["const"] = era.version
        return schema
    schema = copy.deepcopy(_load(IKANOS_SCHEMA))
    schema["properties"]["ikanos"]["const"] = era.version
    definitions = schema["$defs"]
    for feature, added in _ADDED.items():
        if not era.has(feature):
            for name, prop in added:
                definitions[name]["properties"].pop(prop, None)
    if not era.has("binary"):
        formats = definitions["ConsumedHttpOperation"]["properties"]["outputRawFormat"]["enum"]
        formats.remove("binary")
    return schema


@lru_cache(maxsize=1)
def _load(path: Path) -> dict[str, Any]:
    loaded: dict[str, Any] = json.loads(path.read_text(encoding="utf-8"))
    return loaded


@lru_cache(maxsize=16)
def _validator(era: Era) -> Any:
    import jsonschema  # only --strict needs it

    schema = schema_for(era)
    cls = jsonschema.validators.validator_for(schema)
    return cls(schema)


def check_schema(document: Document, diagnostics: Diagnostics) -> None:
    """One E052 per violation; inside `oneOf`/`anyOf`, those of the alternative meant."""
    data = document.data
    era = (detect(data) if isinstance(data, dict) else None) or ALPHA2
    found = [leaf for error in _validator(era).iter_errors(data) for leaf in leaves(error)]
    for error in sorted(found, key=lambda e: [str(p) for p in e.absolute_path]):
        pointer = tuple(error.absolute_path)
        where = "/".join(str(p) for p in pointer) or "(root)"
        message = f"schema: {where}: {_short(error.message)}"
        diagnostics.error("E052", message, document.locations.span(pointer))


def leaves(error: Any) -> list[Any]:
    """For a failed choice, the errors of the alternative the instance was meant to be:
    not one whose `type` differs, then the one missing fewest required keys."""
    if not error.context:
        return [error]
    alternatives: dict[Any, list[Any]] = {}
    for sub in error.context:
        alternatives.setdefault(sub.relative_schema_path[0], []).append(sub)
    chosen = min(alternatives.values(), key=_distance)
    return [leaf for sub in chosen for leaf in leaves(sub)]


def _distance(errors: list[Any]) -> tuple[int, int, int]:
    top = [e for e in errors if not e.relative_path or list(e.relative_path) == ["type"]]
    mismatch = sum(
        1 for e in top if list(e.relative_path) == ["type"] and e.validator in ("const", "enum")
    )
    missing = sum(1 for e in top if e.validator == "required")
    return mismatch, missing, len(errors)


def _short(text: str) -> str:
    return text if len(text) <= 160 else text[:157] + "..."
