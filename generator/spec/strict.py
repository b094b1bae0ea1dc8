"""`--strict`: validate the spec against the published alpha2 JSON Schema as well."""

from __future__ import annotations

import json
from functools import lru_cache
from pathlib import Path
from typing import Any

from ..diagnostics import Diagnostics
from ..loader import Document

SCHEMA = Path(__file__).resolve().parent.parent / "data" / "naftiko-1.0.0-alpha2.schema.json"


@lru_cache(maxsize=1)
def _validator() -> Any:
    import jsonschema  # only --strict needs it

    schema = json.loads(SCHEMA.read_text(encoding="utf-8"))
    cls = jsonschema.validators.validator_for(schema)
    return cls(schema)


def check_schema(document: Document, diagnostics: Diagnostics) -> None:
    """One E052 per violation; inside `oneOf`/`anyOf`, those of the alternative meant."""
    found = [leaf for error in _validator().iter_errors(document.data) for leaf in _leaves(error)]
    for error in sorted(found, key=lambda e: [str(p) for p in e.absolute_path]):
        pointer = tuple(error.absolute_path)
        where = "/".join(str(p) for p in pointer) or "(root)"
        message = f"schema: {where}: {_short(error.message)}"
        diagnostics.error("E052", message, document.locations.span(pointer))


def _leaves(error: Any) -> list[Any]:
    """For a failed choice, the errors of the alternative the instance was meant to be:
    not one whose `type` differs, then the one missing fewest required keys."""
    if not error.context:
        return [error]
    alternatives: dict[Any, list[Any]] = {}
    for sub in error.context:
        alternatives.setdefault(sub.relative_schema_path[0], []).append(sub)
    chosen = min(alternatives.values(), key=_distance)
    return [leaf for sub in chosen for leaf in _leaves(sub)]


def _distance(errors: list[Any]) -> tuple[int, int, int]:
    top = [e for e in errors if not e.relative_path or list(e.relative_path) == ["type"]]
    mismatch = sum(
        1 for e in top if list(e.relative_path) == ["type"] and e.validator in ("const", "enum")
    )
    missing = sum(1 for e in top if e.validator == "required")
    return mismatch, missing, len(errors)


def _short(text: str) -> str:
    return text if len(text) <= 160 else text[:157] + "..."
